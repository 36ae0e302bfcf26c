import { useState } from "react";
import { errorText, useT } from "../../i18n/index.js";
import { Dialog } from "../../ui/Dialog.js";
import type { AckResult } from "@parley/shared";

/**
 * "Remove bob from #plans?": a confirmation whose action goes to the server. Cancel has the focus
 * (the safe choice); a refusal stays in the dialog with the server's reason.
 */
export function ConfirmDialog({
  title,
  body,
  confirmLabel,
  onConfirm,
  onDone,
  onClose,
}: {
  title: string;
  body: string;
  confirmLabel: string;
  onConfirm: () => Promise<AckResult<unknown>>;
  onDone?: () => void;
  onClose: () => void;
}) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      const r = await onConfirm();
      if (r.ok) {
        onClose();
        onDone?.();
        return;
      }
      setError(errorText(r.error.code));
    } catch {
      setError(errorText("TIMEOUT"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={title} onClose={onClose}>
      <div className="dialog-form">
        <p className="muted">{body}</p>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose} data-autofocus>
            {t("dialog.cancel")}
          </button>
          <button type="button" className="button danger" disabled={busy} onClick={() => void confirm()}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
