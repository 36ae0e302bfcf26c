import type { RoomSummary } from "@parley/shared";
import { memo } from "react";
import { useT } from "../../i18n/index.js";
import { UserAvatar } from "../profiles/UserAvatar.js";
import { HashIcon } from "../../ui/icons.js";

/** One room or DM in the sidebar, with its unread and mention badges. */
export const RoomItem = memo(function RoomItem({
  room,
  active,
  online,
  onSelect,
}: {
  room: RoomSummary;
  active: boolean;
  /** DMs: whether the other person is online. */
  online: boolean;
  onSelect: (roomId: string) => void;
}) {
  const t = useT();
  const unread = room.unreadCount > 0 && !active;
  // The name a screen reader hears is the visible name plus the counts in words (the badges are
  // hidden from it): built from content, not aria-label, so that it contains the visible text.
  const counts = [
    room.mentionCount > 0 ? t("rooms.mentions", { count: room.mentionCount }) : null,
    room.unreadCount > 0 ? t("rooms.unread", { count: room.unreadCount }) : null,
  ].filter(Boolean);
  return (
    <li>
      <button
        type="button"
        className={`room-item${active ? " active" : ""}${unread ? " unread" : ""}`}
        data-testid="room-item"
        data-room-id={room.id}
        aria-current={active ? "page" : undefined}
        onClick={() => onSelect(room.id)}
      >
        {room.kind === "dm" && room.peerId ? (
          <UserAvatar userId={room.peerId} nickname={room.name} size={22} online={online} />
        ) : (
          <span className="room-icon">
            <HashIcon size={16} />
          </span>
        )}
        <span className="room-name">{room.name}</span>
        {counts.length > 0 && <span className="visually-hidden">{`, ${counts.join(", ")}`}</span>}
        {room.mentionCount > 0 && (
          <span className="badge mention" data-testid="mention-badge" aria-hidden="true">
            @{room.mentionCount}
          </span>
        )}
        {room.unreadCount > 0 && (
          <span className="badge" data-testid="unread-badge" aria-hidden="true">
            {room.unreadCount > 99 ? "99+" : room.unreadCount}
          </span>
        )}
      </button>
    </li>
  );
});
