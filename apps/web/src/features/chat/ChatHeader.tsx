import type { RoomSummary, User } from "@parley/shared";
import { DEFAULT_ROOM_ID } from "@parley/shared";
import { Suspense, lazy, useState } from "react";
import { errorText, useT } from "../../i18n/index.js";
import { useChatClient } from "../../store/client-context.js";
import { UserMenu } from "../auth/UserMenu.js";
import { DoorIcon, HashIcon, MenuIcon, SettingsIcon, UsersIcon } from "../../ui/icons.js";
import { selectCanModerate, selectOpenReportCount } from "@parley/client";
import { UserAvatar } from "../profiles/UserAvatar.js";
import { NotifyLevelSelect } from "../profiles/NotifyLevelSelect.js";
import { useChat } from "../../store/hooks.js";
import { ConnectionPill } from "./ConnectionPill.js";
import { NotificationBell } from "./NotificationBell.js";
import { SearchBox } from "../search/SearchBox.js";
import type { ActiveSearch } from "../search/SearchPanel.js";

/** Only owners, moderators and admins ever open it: loaded on first use, not in every user's bundle. */
const RoomSettingsDialog = lazy(() => import("../moderation/RoomSettingsDialog.js").then((m) => ({ default: m.RoomSettingsDialog })));

/** Room name and member count, connection state, and the user's controls. */
export function ChatHeader({
  room,
  user,
  membersOpen,
  onToggleMembers,
  onOpenSidebar,
  onSearch,
}: {
  room: RoomSummary | undefined;
  user: User;
  membersOpen: boolean;
  onToggleMembers: () => void;
  onOpenSidebar: () => void;
  onSearch: (search: Omit<ActiveSearch, "nonce">) => void;
}) {
  const t = useT();
  const client = useChatClient();
  const peerOnline = useChat((s) => (room?.peerId ? s.online[room.peerId] === true : false));
  const [leaveError, setLeaveError] = useState<string | null>(null);
  const canLeave = room !== undefined && room.kind === "public" && room.id !== DEFAULT_ROOM_ID;
  const moderates = useChat((s) => (room ? selectCanModerate(s, room.id) : false));
  const openReports = useChat((s) => (room && moderates ? selectOpenReportCount(s, room.id) : 0));
  const [settingsOpen, setSettingsOpen] = useState(false);

  async function leave() {
    if (!room || !window.confirm(t("rooms.leaveConfirm", { name: room.name }))) return;
    setLeaveError(null);
    try {
      const result = await client.leaveRoom(room.id);
      if (result.ok) client.setActiveRoom(DEFAULT_ROOM_ID);
      else setLeaveError(errorText(result.error.code));
    } catch {
      setLeaveError(errorText("TIMEOUT"));
    }
  }

  return (
    <header className="chat-header">
      <button type="button" className="icon-button menu-button" aria-label={t("rooms.openMenu")} onClick={onOpenSidebar}>
        <MenuIcon />
      </button>
      <div className="chat-title">
        {room && (
          <>
            <div className="chat-title-line">
              <h1 className="room-title">
                {room.kind === "dm" && room.peerId ? (
                  <UserAvatar userId={room.peerId} nickname={room.name} size={24} online={peerOnline} />
                ) : (
                  <HashIcon size={18} />
                )}
                <span data-testid="room-title">{room.name}</span>
              </h1>
              <span className="muted small member-count">{t("rooms.memberCount", { count: room.memberCount })}</span>
            </div>
            {room.topic !== "" && (
              <p className="room-topic" data-testid="room-topic" title={room.topic}>
                {room.topic}
              </p>
            )}
          </>
        )}
      </div>
      {leaveError && (
        <span className="form-error small" role="alert">
          {leaveError}
        </span>
      )}
      <SearchBox onSearch={onSearch} />
      <div className="header-actions">
        <ConnectionPill />
        {room && <NotifyLevelSelect room={room} />}
        {room && moderates && (
          // Named by its content, not aria-label: the badge's number is visible text, and a name
          // that does not contain it fails WCAG 2.5.3 (label in name).
          <button
            type="button"
            className="icon-button badged"
            title={t("moderation.settings")}
            aria-haspopup="dialog"
            onClick={() => setSettingsOpen(true)}
            data-testid="room-settings-button"
          >
            <SettingsIcon />
            <span className="visually-hidden">{t("moderation.settings")}</span>
            {openReports > 0 && (
              <>
                <span className="visually-hidden">, </span>
                <span className="icon-badge" data-testid="reports-badge">
                  {openReports}
                </span>
                <span className="visually-hidden"> {t("moderation.openReports", { count: openReports })}</span>
              </>
            )}
          </button>
        )}
        {canLeave && (
          <button type="button" className="icon-button" aria-label={t("rooms.leave")} title={t("rooms.leave")} onClick={() => void leave()}>
            <DoorIcon />
          </button>
        )}
        <button
          type="button"
          className={`icon-button${membersOpen ? " on" : ""}`}
          aria-label={membersOpen ? t("presence.hideMembers") : t("presence.showMembers")}
          aria-pressed={membersOpen}
          title={t("presence.members")}
          onClick={onToggleMembers}
        >
          <UsersIcon />
        </button>
        <NotificationBell />
        <UserMenu user={user} />
      </div>
      {settingsOpen && room && (
        // Opens on the reports when there are open ones: that is what the badge asked to look at.
        <Suspense fallback={null}>
          <RoomSettingsDialog room={room} initialTab={openReports > 0 ? "reports" : "general"} onClose={() => setSettingsOpen(false)} />
        </Suspense>
      )}
    </header>
  );
}
