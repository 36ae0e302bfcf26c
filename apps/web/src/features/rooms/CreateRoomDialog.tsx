import { LIMITS } from "@parley/shared";
import { useState, type FormEvent } from "react";
import { errorText, useT } from "../../i18n/index.js";
import { useChatClient } from "../../store/client-context.js";
import { Dialog } from "../../ui/Dialog.js";
import { useImeSafeEnter } from "../../lib/ime.js";

/** Create a public room (names are unique regardless of case) and open it. */
export function CreateRoomDialog({ onClose, onDone }: { onClose: () => void; onDone: (roomId: string) => void }) {
  const t = useT();
  // Enter that picks a Chinese (IME) candidate must not submit the form.
  const imeSafe = useImeSafeEnter();
  const client = useChatClient();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy) return;
    if (name.trim().length === 0) {
      setError(errorText("ROOM_NAME_INVALID"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await client.createRoom(name.trim());
      if (result.ok) {
        onClose();
        onDone(result.data.id);
        return;
      }
      setError(errorText(result.error.code));
    } catch {
      setError(errorText("TIMEOUT"));
    }
    setBusy(false);
  }

  return (
    <Dialog title={t("rooms.create")} onClose={onClose}>
      <form className="dialog-form" onSubmit={(e) => void onSubmit(e)} {...imeSafe}>
        <label className="field">
          <span>{t("rooms.nameLabel")}</span>
          <input
            value={name}
            maxLength={LIMITS.roomNameMax}
            placeholder={t("rooms.namePlaceholder")}
            onChange={(e) => setName(e.target.value)}
            data-autofocus
          />
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
          <button type="submit" className="button primary" disabled={busy}>
            {t("rooms.createSubmit")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
