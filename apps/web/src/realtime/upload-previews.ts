import type { ChatClient, ChatState } from "@parley/client";
import { useStore } from "zustand";
import { createStore } from "zustand/vanilla";

/**
 * Previews of the images being uploaded, by upload id: the tray's and the pending row's picture.
 *
 * Why a small data: URL drawn from the decoded file rather than an object URL of the file: the
 * app's Content-Security-Policy allows images from 'self' and data: only (apps/server
 * security.ts), so a blob: URL would be refused (and log a console error); and a 12-megapixel
 * photo shown through its own URL is decoded whole (~48 MB) for a 56 px chip. The preview is at
 * most PREVIEW_PX a side, a few KB, and nothing needs revoking.
 */
const PREVIEW_PX = 160;

const previews = createStore<Record<string, string>>(() => ({}));

/** The preview of an upload (undefined until it is drawn, or when the file is not an image). */
export function usePreview(uploadId: string): string | undefined {
  return useStore(previews, (s) => s[uploadId]);
}

/** Draws a preview of `file` for an upload; a file the browser cannot decode gets none. */
export function rememberPreview(uploadId: string, file: Blob): void {
  void drawPreview(file).then(
    (url) => {
      if (url) previews.setState({ [uploadId]: url });
    },
    () => {
      // Not decodable here (a HEIC in Chrome, a damaged file): the chip shows the file tile.
    },
  );
}

async function drawPreview(file: Blob): Promise<string | null> {
  if (typeof createImageBitmap !== "function") return null;
  const bitmap = await createImageBitmap(file);
  try {
    const scale = Math.min(1, PREVIEW_PX / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const context = canvas.getContext("2d");
    if (!context) return null;
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    // WebP where the browser writes it (PNG elsewhere): a photo's preview stays a few KB.
    return canvas.toDataURL("image/webp", 0.85);
  } finally {
    bitmap.close();
  }
}

/**
 * Drops the preview of every upload that left the store (sent, removed, discarded). Returns the
 * unsubscribe function, which drops the rest (sign-out).
 */
export function installPreviewSweeper(client: ChatClient): () => void {
  let last: ChatState["uploads"] = client.store.getState().uploads;
  const unsubscribe = client.store.subscribe((state) => {
    if (state.uploads === last) return;
    last = state.uploads;
    const held = previews.getState();
    const kept = Object.fromEntries(Object.entries(held).filter(([id]) => state.uploads[id] !== undefined));
    if (Object.keys(kept).length !== Object.keys(held).length) previews.setState(kept, true);
  });
  return () => {
    unsubscribe();
    previews.setState({}, true);
  };
}
