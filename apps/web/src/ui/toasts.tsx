import { useEffect, type ReactNode } from "react";
import { useStore } from "zustand";
import { createStore } from "zustand/vanilla";
import { useT } from "../i18n/index.js";
import { CloseIcon } from "./icons.js";

/** A short confirmation ("Thanks — the moderators were told."), shown a few seconds. */
interface Toast {
  id: number;
  text: string;
}

/**
 * Long enough to read two short sentences. A toast only confirms what the user just did (it never
 * carries the only copy of anything) and the live region announces it, so a timeout is enough.
 */
const TOAST_MS = 5_000;

const toasts = createStore<{ list: Toast[] }>(() => ({ list: [] }));
let nextId = 1;

/** Shows a toast; callable from anywhere (no hook). */
export function showToast(text: string): void {
  const id = nextId++;
  toasts.setState((s) => ({ list: [...s.list, { id, text }].slice(-3) }));
}

function dismiss(id: number): void {
  toasts.setState((s) => ({ list: s.list.filter((x) => x.id !== id) }));
}

/**
 * The toasts, bottom centre, in a polite live region so screen readers hear them once. `children`
 * go above them (notices that stay until closed, with their own live region).
 */
export function Toasts({ children }: { children?: ReactNode }) {
  const list = useStore(toasts, (s) => s.list);
  return (
    <div className="toasts">
      {children}
      <div className="toast-list" role="status" aria-live="polite">
        {list.map((toast) => (
          <ToastItem key={toast.id} toast={toast} />
        ))}
      </div>
    </div>
  );
}

function ToastItem({ toast }: { toast: Toast }) {
  const t = useT();
  useEffect(() => {
    const timer = setTimeout(() => dismiss(toast.id), TOAST_MS);
    return () => clearTimeout(timer);
  }, [toast.id]);
  return (
    <div className="toast" data-testid="toast">
      <span>{toast.text}</span>
      <button type="button" className="icon-button small" aria-label={t("moderation.dismiss")} onClick={() => dismiss(toast.id)}>
        <CloseIcon size={14} />
      </button>
    </div>
  );
}
