import { useEffect, useId, useRef, type ReactNode } from "react";
import { useT } from "../i18n/index.js";
import { CloseIcon } from "./icons.js";

/**
 * A modal built on the native <dialog>: focus trapping, Escape and the top layer come from the
 * browser. Mounted only while open; closing (Escape, backdrop, the X) calls `onClose`. The control
 * marked `data-autofocus` gets the focus when it opens.
 */
export function Dialog({ title, onClose, className, children }: { title: string; onClose: () => void; className?: string; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const t = useT();

  useEffect(() => {
    const dialog = ref.current;
    // No close() in a cleanup: removing the element leaves the top layer anyway, and a close
    // event fired by StrictMode's simulated unmount would call onClose on the re-mounted dialog.
    if (dialog && !dialog.open) dialog.showModal();
    // React's `autoFocus` fires while the <dialog> is still closed (so it is lost), and showModal()
    // looks for the `autofocus` attribute, which React never renders: a dialog marks the control
    // that should get the focus with `data-autofocus` instead.
    dialog?.querySelector<HTMLElement>("[data-autofocus]")?.focus();
  }, []);

  return (
    <dialog
      ref={ref}
      className={className ? `dialog ${className}` : "dialog"}
      aria-labelledby={titleId}
      onClose={onClose}
      onClick={(e) => {
        // A click on the backdrop lands on the <dialog> itself, not on its content.
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div className="dialog-body">
        <header className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label={t("dialog.close")} onClick={onClose}>
            <CloseIcon />
          </button>
        </header>
        {children}
      </div>
    </dialog>
  );
}
