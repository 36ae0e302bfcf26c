import { memberActions, selectViewer, type MemberActions } from "@parley/client";
import type { Member, RoomSummary } from "@parley/shared";
import { useEffect, useMemo, useRef, useState } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { compareNames } from "../../lib/collate.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat, useChatShallow } from "../../store/hooks.js";
import { CloseIcon, MoreIcon } from "../../ui/icons.js";
import { Popover } from "../../ui/Popover.js";
import { showToast } from "../../ui/toasts.js";
import { ConfirmDialog } from "../moderation/ConfirmDialog.js";
import { ReasonDialog } from "../moderation/ReasonDialog.js";
import { ProfileTrigger } from "../profiles/ProfileTrigger.js";
import { UserAvatar, useDisplayName } from "../profiles/UserAvatar.js";

/**
 * The room's members with online dots, role badges and, per member, the actions the viewer's role
 * allows (moderation, mute). The list is fetched when the room, its member count or its roster
 * changes (a join, leave or moderation line: `rosterVersion`); who is online comes live from the
 * store's presence map, so dots update without a refetch.
 */
export function MembersPanel({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const t = useT();
  const locale = useLocale();
  const client = useChatClient();
  const room = useChat((s) => s.rooms[roomId]);
  const memberCount = room?.memberCount ?? 0;
  const roster = useChat((s) => s.rosterVersion[roomId] ?? 0);
  const myRole = room?.role;
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
    // `myRole`: made a moderator, the list is read again (roles I may now act on).
  }, [client, roomId, memberCount, roster, myRole, connected]);

  const members = fetched?.roomId === roomId ? fetched.members : null;
  const { on, off } = useMemo(() => {
    const on: Member[] = [];
    const off: Member[] = [];
    for (const m of members ?? []) (online[m.id] || m.id === myId ? on : off).push(m);
    on.sort((a, b) => compareNames(a.nickname, b.nickname, locale));
    off.sort((a, b) => compareNames(a.nickname, b.nickname, locale));
    return { on, off };
  }, [members, online, myId, locale]);

  // A member whose role the viewer changed shows it at once (the roster refetch then agrees).
  const replace = (m: Member) => setFetched((f) => (f ? { ...f, members: f.members.map((x) => (x.id === m.id ? m : x)) } : f));

  return (
    <aside className="members-panel" aria-label={t("presence.members")}>
      <header className="panel-header">
        <h2>{t("presence.members")}</h2>
        <button type="button" className="icon-button" aria-label={t("presence.hideMembers")} onClick={onClose}>
          <CloseIcon />
        </button>
      </header>
      {members === null || !room ? (
        <p className="muted panel-empty">{fetched?.error ? errorText(fetched.error) : t("presence.loading")}</p>
      ) : (
        // Focusable so that a long list can be scrolled from the keyboard (axe: scrollable-region-focusable).
        <div className="members-scroll" tabIndex={0}>
          <MemberGroup title={t("presence.onlineCount", { count: on.length })} members={on} online room={room} onRoleChanged={replace} />
          <MemberGroup title={t("presence.offlineCount", { count: off.length })} members={off} online={false} room={room} onRoleChanged={replace} />
        </div>
      )}
    </aside>
  );
}

interface GroupProps {
  title: string;
  members: Member[];
  online: boolean;
  room: RoomSummary;
  onRoleChanged: (m: Member) => void;
}

function MemberGroup({ title, members, online, room, onRoleChanged }: GroupProps) {
  const t = useT();
  const viewer = useChatShallow((s) => selectViewer(s, room.id));
  const muted = useChat((s) => s.muted);
  if (members.length === 0) return null;
  return (
    <section>
      <h3 className="members-heading">{title}</h3>
      <ul className="member-list">
        {members.map((m) => {
          const actions = viewer ? memberActions(viewer, m, room) : null;
          const any = actions && (actions.setRole !== null || actions.kick || actions.ban || actions.mute || actions.deactivate);
          return (
            <li
              key={m.id}
              className={online ? "member" : "member offline"}
              data-testid="member"
              data-online={online}
              data-user-id={m.id}
              data-nickname={m.nickname}
              data-role={m.role}
            >
              <ProfileTrigger userId={m.id} nickname={m.nickname} className="member-trigger" showsName>
                <UserAvatar userId={m.id} nickname={m.nickname} size={28} online={online} />
                <MemberName id={m.id} nickname={m.nickname} />
              </ProfileTrigger>
              {m.role !== "member" && (
                <span className={`role-badge ${m.role}`} data-testid="role-badge">
                  {t(m.role === "owner" ? "roles.owner" : "roles.moderator")}
                </span>
              )}
              {muted[m.id] && <span className="role-badge muted-badge">{t("members.mutedBadge")}</span>}
              <span className="visually-hidden">{online ? t("presence.online") : t("presence.offline")}</span>
              {any && viewer && actions && <MemberMenu member={m} room={room} actions={actions} muted={muted[m.id] === true} onRoleChanged={onRoleChanged} />}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

type Pending = "kick" | "ban" | "deactivate" | null;

/** The "⋯" button of one member and its popover of actions. */
function MemberMenu({
  member,
  room,
  actions,
  muted,
  onRoleChanged,
}: {
  member: Member;
  room: RoomSummary;
  actions: MemberActions;
  muted: boolean;
  onRoleChanged: (m: Member) => void;
}) {
  const t = useT();
  const client = useChatClient();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const [confirm, setConfirm] = useState<Pending>(null);
  const [error, setError] = useState<string | null>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const name = member.nickname;

  // The first action gets the focus when the menu opens, as in any menu.
  useEffect(() => {
    if (anchor) menuRef.current?.querySelector<HTMLButtonElement>("button")?.focus();
  }, [anchor]);

  const close = () => setAnchor(null);
  const then = (open: Pending) => {
    close();
    setConfirm(open);
  };

  async function run<T>(action: () => Promise<{ ok: true; data: T } | { ok: false; error: { code: string } }>, done: (data: T) => void) {
    setError(null);
    try {
      const r = await action();
      if (r.ok) {
        close();
        done(r.data);
      } else setError(errorText(r.error.code));
    } catch {
      setError(errorText("TIMEOUT"));
    }
  }

  return (
    <>
      <button
        type="button"
        className="icon-button small member-menu-button"
        aria-label={t("members.actionsFor", { name })}
        aria-haspopup="dialog"
        aria-expanded={anchor !== null}
        onClick={(e) => setAnchor(anchor ? null : e.currentTarget)}
      >
        <MoreIcon size={16} />
      </button>
      {anchor && (
        <Popover anchor={anchor} label={t("members.actionsFor", { name })} onClose={close} className="member-menu">
          <div ref={menuRef} className="menu-list" data-testid="member-menu">
            {actions.setRole !== null && (
              <button
                type="button"
                className="menu-item"
                onClick={() =>
                  void run(
                    () => client.setRole(room.id, member.id, actions.setRole ?? "member"),
                    (m) => onRoleChanged(m),
                  )
                }
              >
                {t(actions.setRole === "moderator" ? "members.makeModerator" : "members.removeModerator")}
              </button>
            )}
            {actions.mute && (
              <button
                type="button"
                className="menu-item"
                onClick={() => void run(() => client.mute(member.id, !muted), () => showToast(t(muted ? "members.done.unmute" : "members.done.mute", { name })))}
              >
                {t(muted ? "members.unmute" : "members.mute")}
              </button>
            )}
            {actions.kick && (
              <button type="button" className="menu-item danger" onClick={() => then("kick")}>
                {t("members.kick")}
              </button>
            )}
            {actions.ban && (
              <button type="button" className="menu-item danger" onClick={() => then("ban")}>
                {t("members.ban")}
              </button>
            )}
            {actions.deactivate && (
              <button type="button" className="menu-item danger" onClick={() => then("deactivate")}>
                {t("members.deactivate")}
              </button>
            )}
            {error && (
              <p className="form-error small" role="alert">
                {error}
              </p>
            )}
          </div>
        </Popover>
      )}
      {confirm === "kick" && (
        <ConfirmDialog
          title={t("members.kickTitle", { name, room: room.name })}
          body={t("members.kickBody")}
          confirmLabel={t("members.kick")}
          onConfirm={() => client.kick(room.id, member.id)}
          onDone={() => showToast(t("members.done.kick", { name }))}
          onClose={() => setConfirm(null)}
        />
      )}
      {confirm === "ban" && (
        <ReasonDialog
          title={t("members.banTitle", { name, room: room.name })}
          body={t("members.banBody")}
          label={t("members.banReason")}
          submitLabel={t("members.banSubmit")}
          danger
          onSubmit={(reason) => client.ban(room.id, member.id, reason)}
          onDone={() => showToast(t("members.done.ban", { name }))}
          onClose={() => setConfirm(null)}
        />
      )}
      {confirm === "deactivate" && (
        <ConfirmDialog
          title={t("members.deactivateTitle", { name })}
          body={t("members.deactivateBody")}
          confirmLabel={t("members.deactivateSubmit")}
          onConfirm={() => client.setAccountActive(member.id, false)}
          onDone={() => showToast(t("members.done.deactivate", { name }))}
          onClose={() => setConfirm(null)}
        />
      )}
    </>
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
