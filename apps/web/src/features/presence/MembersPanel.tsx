import type { Member } from "@parley/shared";
import { useEffect, useMemo, useState } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { compareNames } from "../../lib/collate.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat } from "../../store/hooks.js";
import { ProfileTrigger } from "../profiles/ProfileCard.js";
import { UserAvatar, useDisplayName } from "../profiles/UserAvatar.js";
import { CloseIcon } from "../../ui/icons.js";

/**
 * The room's members with online dots. The list is fetched when the room (or its member count)
 * changes; who is online comes live from the store's presence map, so dots update without a refetch.
 */
export function MembersPanel({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const t = useT();
  const locale = useLocale();
  const client = useChatClient();
  const memberCount = useChat((s) => s.rooms[roomId]?.memberCount ?? 0);
  const connected = useChat((s) => s.connection.status === "connected");
  const online = useChat((s) => s.online);
  const myId = useChat((s) => s.me?.id ?? null);
  const [fetched, setFetched] = useState<{ roomId: string; members: Member[]; error: string | null } | null>(null);

  useEffect(() => {
    if (!connected) return;
    let current = true;
    client.listMembers(roomId).then(
      (result) => {
        if (!current) return;
        setFetched(result.ok ? { roomId, members: result.data, error: null } : { roomId, members: [], error: result.error.code });
      },
      () => {
        if (current) setFetched({ roomId, members: [], error: "TIMEOUT" });
      },
    );
    return () => {
      current = false;
    };
  }, [client, roomId, memberCount, connected]);

  const members = fetched?.roomId === roomId ? fetched.members : null;
  const { on, off } = useMemo(() => {
    const on: Member[] = [];
    const off: Member[] = [];
    for (const m of members ?? []) (online[m.id] || m.id === myId ? on : off).push(m);
    on.sort((a, b) => compareNames(a.nickname, b.nickname, locale));
    off.sort((a, b) => compareNames(a.nickname, b.nickname, locale));
    return { on, off };
  }, [members, online, myId, locale]);

  return (
    <aside className="members-panel" aria-label={t("presence.members")}>
      <header className="panel-header">
        <h2>{t("presence.members")}</h2>
        <button type="button" className="icon-button" aria-label={t("presence.hideMembers")} onClick={onClose}>
          <CloseIcon />
        </button>
      </header>
      {members === null ? (
        <p className="muted panel-empty">{fetched?.error ? errorText(fetched.error) : t("presence.loading")}</p>
      ) : (
        // Focusable so that a long list can be scrolled from the keyboard (axe: scrollable-region-focusable).
        <div className="members-scroll" tabIndex={0}>
          <MemberGroup title={t("presence.onlineCount", { count: on.length })} members={on} online />
          <MemberGroup title={t("presence.offlineCount", { count: off.length })} members={off} online={false} />
        </div>
      )}
    </aside>
  );
}

function MemberGroup({ title, members, online }: { title: string; members: Member[]; online: boolean }) {
  const t = useT();
  if (members.length === 0) return null;
  return (
    <section>
      <h3 className="members-heading">{title}</h3>
      <ul className="member-list">
        {members.map((m) => (
          <li key={m.id} className={online ? "member" : "member offline"} data-testid="member" data-online={online} data-user-id={m.id}>
            <ProfileTrigger userId={m.id} nickname={m.nickname} className="member-trigger">
              <UserAvatar userId={m.id} nickname={m.nickname} size={28} online={online} />
              <MemberName id={m.id} nickname={m.nickname} />
              <span className="visually-hidden">{online ? t("presence.online") : t("presence.offline")}</span>
            </ProfileTrigger>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The display name (issue 14), else the nickname; the nickname beside a display name. */
function MemberName({ id, nickname }: { id: string; nickname: string }) {
  const name = useDisplayName(id, nickname);
  return (
    <span className="member-name">
      {name}
      {name !== nickname && <span className="member-handle"> @{nickname}</span>}
    </span>
  );
}
