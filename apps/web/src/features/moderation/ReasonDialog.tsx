import { LIMITS, type AckResult } from "@parley/shared";
import { useState, type ReactNode } from "react";
import { errorText, useT } from "../../i18n/index.js";
import { Dialog } from "../../ui/Dialog.js";

/**
 * A dialog asking for an optional reason, then doing something with it (report a message, ban
 * someone). It stays open on a refusal and shows the server's reason in the user's language;
 * on success it closes and calls `onDone`.
 */
export function ReasonDialog({
  title,
  body,
  label,
  submitLabel,
  danger = false,
  quote,
  onSubmit,
  onDone,
  onClose,
}: {
  title: string;
  body: string;
  label: string;
  submitLabel: string;
  danger?: boolean;
  /** Shown under the explanation (the message being reported). */
  quote?: ReactNode;
  onSubmit: (reason: string) => Promise<AckResult<unknown>>;
  onDone?: () => void;
  onClose: () => void;
}) {
  const t = useT();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const result = await onSubmit(reason.trim());
      if (result.ok) {
        onClose();
        onDone?.();
        return;
      }
      setError(errorText(result.error.code));
    } catch {
      setError(errorText("TIMEOUT"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={title} onClose={onClose}>
      <form
        className="dialog-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <p className="muted">{body}</p>
        {quote}
        <label className="field">
          <span>{label}</span>
          <textarea rows={3} maxLength={LIMITS.reasonMax} value={reason} onChange={(e) => setReason(e.target.value)} data-autofocus />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t("dialog.cancel")}
          </button>
          <button type="submit" className={`button ${danger ? "danger" : "primary"}`} disabled={busy}>
            {submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
