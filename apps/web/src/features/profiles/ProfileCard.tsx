import { useEffect, useState, type ReactNode } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { formatRelative } from "../../lib/time.js";
import { useNow } from "../../lib/use-now.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat } from "../../store/hooks.js";
import { Popover } from "../../ui/Popover.js";
import { UserAvatar } from "./UserAvatar.js";

/**
 * A person's card (issue 14), opened from their name or avatar on a message or in the members
 * panel: picture, display name, @nickname, availability (or when they were last seen), status, and
 * a button that opens the DM with them. The profile is fetched again on opening, so last seen and
 * anything missed are current.
 */
export function ProfileCard({ userId, nickname, anchor, onClose }: { userId: string; nickname: string; anchor: HTMLElement; onClose: () => void }) {
  const t = useT();
  const locale = useLocale();
  const now = useNow();
  const client = useChatClient();
  const profile = useChat((s) => s.profiles[userId]);
  const online = useChat((s) => s.online[userId] === true);
  const myId = useChat((s) => s.me?.id ?? null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void client.fetchProfiles([userId]).catch(() => {});
  }, [client, userId]);

  const name = profile?.displayName ?? nickname;
  const availability = profile?.availability ?? "online";
  let presence: ReactNode;
  if (online) presence = t(`availability.${availability}`);
  else if (profile?.lastSeenAt) presence = t("profile.lastSeen", { time: formatRelative(profile.lastSeenAt, now, locale) });
  else presence = t("availability.offline");

  async function message() {
    setError(null);
    try {
      const result = await client.openDm(userId);
      if (!result.ok) return setError(errorText(result.error.code));
      client.setActiveRoom(result.data.id);
      onClose();
    } catch {
      setError(errorText("TIMEOUT"));
    }
  }

  return (
    <Popover anchor={anchor} label={t("profile.cardLabel", { name })} onClose={onClose} className="profile-card">
      <div className="profile-card-body" data-testid="profile-card">
        <UserAvatar userId={userId} nickname={nickname} size={72} online={online} />
        <div className="profile-card-names">
          <span className="profile-card-name" data-testid="profile-card-name">
            {name}
          </span>
          <span className="profile-card-handle muted">@{nickname}</span>
          <span className={`profile-card-presence ${online ? availability : "offline"}`} data-testid="profile-card-presence">
            <span className={`availability-dot ${online ? availability : "offline"}`} aria-hidden="true" />
            {presence}
          </span>
        </div>
      </div>
      {profile?.statusText && (
        <p className="profile-card-status" data-testid="profile-card-status">
          {profile.statusText}
        </p>
      )}
      {error && (
        <p className="form-error small" role="alert">
          {error}
        </p>
      )}
      {userId === myId ? (
        <p className="muted small profile-card-you">{t("profile.you")}</p>
      ) : (
        <button type="button" className="button primary wide" onClick={() => void message()}>
          {t("profile.message")}
        </button>
      )}
    </Popover>
  );
}
