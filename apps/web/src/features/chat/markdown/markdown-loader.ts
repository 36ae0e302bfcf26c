import { useSyncExternalStore } from "react";
import type { MarkdownBody } from "./MarkdownBody.js";

/**
 * Loads the Markdown renderer once, on demand, and tells rows when it is there. Not `React.lazy`:
 * a lazy component suspends on its first render even when its chunk already arrived, and a row
 * that suspends shows its fallback for a frame and changes height, which the list's scroll anchor
 * would then correct for nothing. Here a row renders the formatted body synchronously as soon as
 * the module is loaded, plain text before that (the same text, the markup characters visible).
 */
let renderer: typeof MarkdownBody | null = null;
let loading: Promise<void> | null = null;
const listeners = new Set<() => void>();

export function loadMarkdown(): Promise<void> {
  loading ??= import("./MarkdownBody.js").then(
    (m) => {
      renderer = m.MarkdownBody;
      for (const l of listeners) l();
    },
    () => {
      // A failed chunk load (offline, a deploy replaced the chunk): plain text stays, try again later.
      loading = null;
    },
  );
  return loading;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The renderer once loaded (starting the load on first use), null until then. */
export function useMarkdownRenderer(wanted: boolean): typeof MarkdownBody | null {
  const current = useSyncExternalStore(subscribe, () => renderer, () => null);
  if (wanted && current === null) void loadMarkdown();
  return current;
}
