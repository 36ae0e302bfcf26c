import type { RoomSummary } from "@parley/shared";
import { useT } from "../../i18n/index.js";
import { TypingIndicator } from "../presence/TypingIndicator.js";
import { Composer } from "./Composer.js";
import { SlowDownNotice } from "./SlowDownNotice.js";
import { MessageList } from "./MessageList.js";

/** The active room: messages, who is typing, and the composer. Keyed by room id by the shell. */
export function ChatView({ room }: { room: RoomSummary | undefined }) {
  const t = useT();
  if (!room) return <div className="chat-empty muted">{t("chat.noRoom")}</div>;
  const roomLabel = room.kind === "dm" ? room.name : `#${room.name}`;
  return (
    <>
      <MessageList key={`list:${room.id}`} room={room} />
      <div className="composer-area">
        <SlowDownNotice />
        <Composer key={`composer:${room.id}`} roomId={room.id} roomLabel={roomLabel} />
        <TypingIndicator roomId={room.id} />
      </div>
    </>
  );
}
