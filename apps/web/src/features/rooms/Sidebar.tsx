import { useCallback, useState } from "react";
import { useT } from "../../i18n/index.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat, useRoomSections } from "../../store/hooks.js";
import { MessageIcon, PlusIcon, SearchIcon } from "../../ui/icons.js";
import { BrowseRoomsDialog } from "./BrowseRoomsDialog.js";
import { CreateRoomDialog } from "./CreateRoomDialog.js";
import { NewDmDialog } from "./NewDmDialog.js";
import { RoomItem } from "./RoomItem.js";
import { UserMenu } from "../auth/UserMenu.js";

type OpenDialog = "create" | "browse" | "dm" | null;

/** Rooms and DMs with badges, and the create / browse / new-DM dialogs. */
export function Sidebar({ onNavigate }: { onNavigate: () => void }) {
  const t = useT();
  const client = useChatClient();
  const { rooms, dms } = useRoomSections();
  const activeRoomId = useChat((s) => s.activeRoomId);
  const online = useChat((s) => s.online);
  const me = useChat((s) => s.me);
  const [dialog, setDialog] = useState<OpenDialog>(null);

  const select = useCallback(
    (roomId: string) => {
      client.setActiveRoom(roomId);
      onNavigate();
    },
    [client, onNavigate],
  );
  const close = useCallback(() => setDialog(null), []);

  return (
    <nav className="sidebar" aria-label={t("rooms.title")}>
      <div className="sidebar-brand">
        <span className="brand-mark" aria-hidden="true" />
        <span>{t("app.name")}</span>
      </div>
      <div className="sidebar-scroll">
        <section className="sidebar-section">
          <header className="sidebar-heading">
            <h2>{t("rooms.title")}</h2>
            <div className="sidebar-actions">
              <button type="button" className="icon-button small" aria-label={t("rooms.browse")} title={t("rooms.browse")} onClick={() => setDialog("browse")}>
                <SearchIcon size={16} />
              </button>
              <button type="button" className="icon-button small" aria-label={t("rooms.create")} title={t("rooms.create")} onClick={() => setDialog("create")}>
                <PlusIcon size={16} />
              </button>
            </div>
          </header>
          {rooms.length === 0 ? (
            <p className="sidebar-empty">{t("rooms.empty")}</p>
          ) : (
            <ul className="room-list">
              {rooms.map((room) => (
                <RoomItem key={room.id} room={room} active={room.id === activeRoomId} online={false} onSelect={select} />
              ))}
            </ul>
          )}
        </section>
        <section className="sidebar-section">
          <header className="sidebar-heading">
            <h2>{t("rooms.dms")}</h2>
            <div className="sidebar-actions">
              <button type="button" className="icon-button small" aria-label={t("rooms.newDm")} title={t("rooms.newDm")} onClick={() => setDialog("dm")}>
                <MessageIcon size={16} />
              </button>
            </div>
          </header>
          {dms.length === 0 ? (
            <p className="sidebar-empty">{t("rooms.noDms")}</p>
          ) : (
            <ul className="room-list">
              {dms.map((room) => (
                <RoomItem
                  key={room.id}
                  room={room}
                  active={room.id === activeRoomId}
                  online={room.peerId !== null && online[room.peerId] === true}
                  onSelect={select}
                />
              ))}
            </ul>
          )}
        </section>
      </div>
      {me && (
        <div className="sidebar-footer">
          <UserMenu user={me} placement="sidebar" />
        </div>
      )}
      {dialog === "create" && <CreateRoomDialog onClose={close} onDone={select} />}
      {dialog === "browse" && <BrowseRoomsDialog onClose={close} onDone={select} />}
      {dialog === "dm" && <NewDmDialog onClose={close} onDone={select} />}
    </nav>
  );
}
