import type { ChatClient } from "@parley/client";
import type { Message, User } from "@parley/shared";
import { DEFAULT_ROOM_ID } from "@parley/shared";
import { useCallback, useEffect, useState } from "react";
import { useT } from "../../i18n/index.js";
import { ChatClientContext } from "../../store/client-context.js";
import { useChat } from "../../store/hooks.js";
import { MembersPanel } from "../presence/MembersPanel.js";
import { Sidebar } from "../rooms/Sidebar.js";
import { ChatHeader } from "./ChatHeader.js";
import { ChatView } from "./ChatView.js";
import { OrphanedSends } from "./OrphanedSends.js";
import { SearchPanel, type ActiveSearch } from "../search/SearchPanel.js";
import { RemovalNotices } from "../moderation/RemovalNotices.js";
import { Toasts } from "../../ui/toasts.js";

/** The signed-in app: sidebar, chat, members panel. Provides the session's ChatClient. */
export function ChatShell({ client, user }: { client: ChatClient; user: User }) {
  return (
    <ChatClientContext value={client}>
      <Layout client={client} user={user} />
    </ChatClientContext>
  );
}

/** Phones get the members panel closed by default; it would cover the conversation. */
const wideScreen = () => typeof window !== "undefined" && window.matchMedia("(min-width: 1024px)").matches;

function Layout({ client, user }: { client: ChatClient; user: User }) {
  const t = useT();
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(wideScreen);
  const activeRoomId = useChat((s) => s.activeRoomId);
  const room = useChat((s) => (s.activeRoomId ? s.rooms[s.activeRoomId] : undefined));
  const roomsLoaded = useChat((s) => Object.keys(s.rooms).length > 0);

  // The active room went away (left in another tab, or never existed): fall back to the default.
  useEffect(() => {
    if (roomsLoaded && (activeRoomId === null || room === undefined) && activeRoomId !== DEFAULT_ROOM_ID) {
      client.setActiveRoom(DEFAULT_ROOM_ID);
    }
  }, [client, roomsLoaded, activeRoomId, room]);

  const closeSidebar = useCallback(() => setSidebarOpen(false), []);

  // Search results take the right-hand column (the members panel comes back when they close). A
  // result opens its room at that message: the room view, keyed by room, picks up the jump.
  const [search, setSearch] = useState<ActiveSearch | null>(null);
  const [jump, setJump] = useState<{ roomId: string; seq: number; nonce: number } | null>(null);
  const openHit = useCallback(
    (hit: Message) => {
      setJump((j) => ({ roomId: hit.roomId, seq: hit.seq, nonce: (j?.nonce ?? 0) + 1 }));
      client.setActiveRoom(hit.roomId);
      // On narrow screens the panel covers the conversation: get out of the way.
      if (!wideScreen()) setSearch(null);
    },
    [client],
  );
  const rightPanel = search !== null || (membersOpen && room !== undefined);

  return (
    <div className={`app-shell${sidebarOpen ? " sidebar-open" : ""}${rightPanel ? " members-open" : ""}${search ? " search-open" : ""}`}>
      <div className="sidebar-wrap">
        <Sidebar onNavigate={closeSidebar} />
      </div>
      {sidebarOpen && (
        <button type="button" className="scrim" aria-label={t("rooms.closeMenu")} onClick={closeSidebar} tabIndex={-1} />
      )}
      <main className="chat-main">
        <ChatHeader
          room={room}
          user={user}
          membersOpen={membersOpen}
          onToggleMembers={() => setMembersOpen((v) => !v)}
          onOpenSidebar={() => setSidebarOpen(true)}
          onSearch={(next) => setSearch((s) => ({ ...next, nonce: (s?.nonce ?? 0) + 1 }))}
        />
        <OrphanedSends />
        <ChatView key={room?.id ?? "none"} room={room} jump={jump && jump.roomId === room?.id ? jump : null} />
      </main>
      {search ? (
        <SearchPanel search={search} onOpen={openHit} onClose={() => setSearch(null)} />
      ) : (
        membersOpen && room && <MembersPanel key={room.id} roomId={room.id} onClose={() => setMembersOpen(false)} />
      )}
      <Toasts>
        <RemovalNotices />
      </Toasts>
    </div>
  );
}
