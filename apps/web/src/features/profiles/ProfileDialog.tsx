import { LIMITS, type Availability } from "@parley/shared";
import { useId, useRef, useState, type FormEvent } from "react";
import { errorText, useT } from "../../i18n/index.js";
import { AVATAR_ACCEPT, removeAvatar, uploadAvatar } from "../../realtime/avatar-api.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat } from "../../store/hooks.js";
import { Dialog } from "../../ui/Dialog.js";
import { UserAvatar } from "./UserAvatar.js";

const AVAILABILITIES: readonly Availability[] = ["online", "away", "dnd"];

/** "8 MB": the avatar limit for the hint. */
const avatarLimit = `${Math.round(LIMITS.avatarMaxBytes / (1024 * 1024))} MB`;

/**
 * Edit my profile (issue 14): display name, status, availability and picture. The picture goes up
 * at once when chosen (it is its own HTTP request); the texts and availability on Save.
 */
export function ProfileDialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  const client = useChatClient();
  const me = useChat((s) => s.me);
  const profile = useChat((s) => (s.me ? s.profiles[s.me.id] : undefined));
  const [displayName, setDisplayName] = useState(profile?.displayName ?? "");
  const [statusText, setStatusText] = useState(profile?.statusText ?? "");
  const [availability, setAvailability] = useState<Availability>(profile?.availability ?? "online");
  const [busy, setBusy] = useState(false);
  const [avatarBusy, setAvatarBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const hintId = useId();
  if (!me) return null;

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const result = await client.updateProfile({ displayName: displayName.trim(), statusText: statusText.trim(), availability });
      if (result.ok) return onClose();
      setError(errorText(result.error.code));
    } catch {
      setError(errorText("TIMEOUT"));
    }
    setBusy(false);
  }

  async function onAvatar(run: () => Promise<Awaited<ReturnType<typeof removeAvatar>>>) {
    setAvatarBusy(true);
    setError(null);
    const result = await run();
    setAvatarBusy(false);
    if (result.ok) client.applyProfile(result.profile);
    else setError(errorText(result.code));
  }

  return (
    <Dialog title={t("profile.dialogTitle")} onClose={onClose}>
      <form className="dialog-form profile-form" onSubmit={(e) => void onSubmit(e)}>
        <div className="profile-avatar-row">
          <UserAvatar userId={me.id} nickname={me.nickname} size={72} />
          <div className="profile-avatar-actions">
            <span className="field-label">{t("profile.avatar")}</span>
            <div className="profile-avatar-buttons">
              <button type="button" className="button" disabled={avatarBusy} onClick={() => fileInput.current?.click()}>
                {avatarBusy ? t("profile.avatarUploading") : t("profile.avatarUpload")}
              </button>
              {profile?.avatarId && (
                <button type="button" className="link-button danger" disabled={avatarBusy} onClick={() => void onAvatar(removeAvatar)}>
                  {t("profile.avatarRemove")}
                </button>
              )}
            </div>
            <small className="muted">{t("profile.avatarHint", { size: avatarLimit })}</small>
            <input
              ref={fileInput}
              type="file"
              accept={AVATAR_ACCEPT}
              hidden
              data-testid="avatar-input"
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                e.currentTarget.value = "";
                if (file) void onAvatar(() => uploadAvatar(file));
              }}
            />
          </div>
        </div>
        <label className="field">
          <span>{t("profile.displayName")}</span>
          <input value={displayName} maxLength={LIMITS.displayNameMax} placeholder={me.nickname} onChange={(e) => setDisplayName(e.target.value)} aria-describedby={hintId} data-autofocus />
          <small id={hintId} className="muted">
            {t("profile.displayNameHint", { nickname: me.nickname })}
          </small>
        </label>
        <label className="field">
          <span>{t("profile.status")}</span>
          <input value={statusText} maxLength={LIMITS.statusTextMax} placeholder={t("profile.statusPlaceholder")} onChange={(e) => setStatusText(e.target.value)} />
        </label>
        <fieldset className="field availability-field">
          <legend>{t("profile.availability")}</legend>
          {AVAILABILITIES.map((a) => (
            <label key={a} className="availability-option">
              <input type="radio" name="availability" value={a} checked={availability === a} onChange={() => setAvailability(a)} />
              <span className={`availability-dot ${a}`} aria-hidden="true" />
              <span>{t(`availability.${a}`)}</span>
              {a === "dnd" && <small className="muted">{t("availability.dndHint")}</small>}
            </label>
          ))}
        </fieldset>
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
            {busy ? t("profile.saving") : t("profile.save")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
