import type { RoomSummary } from "@parley/shared";
import { useEffect, useState } from "react";
import { useT } from "../../i18n/index.js";
import { TypingIndicator } from "../presence/TypingIndicator.js";
import { ChatUiContext, createChatUiStore } from "./chat-ui.js";
import { DropZone } from "./attachments/DropZone.js";
import { Composer } from "./Composer.js";
import { loadMarkdown } from "./markdown/markdown-loader.js";
import { SlowDownNotice } from "./SlowDownNotice.js";
import { MessageList } from "./MessageList.js";

/** The active room: messages, who is typing, and the composer. Keyed by room id by the shell. */
export function ChatView({ room, jump }: { room: RoomSummary | undefined; jump: { seq: number; nonce: number } | null }) {
  const t = useT();
  // One UI store per room view (edit, reply, jump): this component is keyed by room.
  const [ui] = useState(createChatUiStore);
  // A search result opened this room at a message (or another result of the same room was opened).
  const jumpSeq = jump?.seq;
  const jumpNonce = jump?.nonce;
  useEffect(() => {
    if (jumpSeq !== undefined) ui.getState().jumpTo(jumpSeq);
  }, [ui, jumpSeq, jumpNonce]);
  // Fetch the formatter as soon as a room is shown, so formatted rows rarely show their plain text first.
  useEffect(() => void loadMarkdown(), []);
  if (!room) return <div className="chat-empty muted">{t("chat.noRoom")}</div>;
  const roomLabel = room.kind === "dm" ? room.name : `#${room.name}`;
  return (
    <ChatUiContext value={ui}>
      <DropZone roomId={room.id} roomLabel={roomLabel}>
        <MessageList key={`list:${room.id}`} room={room} />
        <div className="composer-area">
          <SlowDownNotice />
          <Composer key={`composer:${room.id}`} roomId={room.id} roomLabel={roomLabel} />
          <TypingIndicator roomId={room.id} />
        </div>
      </DropZone>
    </ChatUiContext>
  );
}
