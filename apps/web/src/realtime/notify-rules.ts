import type { Availability, Message, RoomSummary } from "@parley/shared";

/**
 * When a new message deserves a desktop notification. Pure, so the rules are table-tested:
 * someone else's text message (never a system line), from someone the user has not muted, while
 * the page is hidden, that is in the room the user has open, in a DM, or mentions the user —
 * filtered by the room's notification level (issue 14: `all` keeps those rules, `mentions` lets
 * only mentions through, `none` nothing) and by my availability (do not disturb silences
 * everything, whatever the room says).
 */
export function shouldNotify(args: {
  message: Pick<Message, "kind" | "authorId" | "roomId" | "mentions" | "createdAt">;
  room: Pick<RoomSummary, "kind"> & Partial<Pick<RoomSummary, "notifyLevel">> | undefined;
  myId: string;
  activeRoomId: string | null;
  hidden: boolean;
  now: number;
  /** Users I muted: never a notification for them (not even a mention or a DM). */
  muted?: Readonly<Record<string, true>>;
  /** My own availability; `dnd` overrides every room's level. Absent: online. */
  availability?: Availability;
}): boolean {
  const { message, room, myId, activeRoomId, hidden, now, muted, availability } = args;
  if (availability === "dnd") return false;
  if (!hidden || message.kind !== "text" || message.authorId === myId) return false;
  if (muted?.[message.authorId]) return false;
  // Catch-up after a long disconnect replays old messages; a burst of stale popups helps no one.
  if (now - message.createdAt > MAX_NOTIFY_AGE_MS) return false;
  const mentionsMe = message.mentions.includes(myId);
  switch (room?.notifyLevel ?? "all") {
    case "none":
      return false;
    case "mentions":
      return mentionsMe;
    default:
      return message.roomId === activeRoomId || room?.kind === "dm" || mentionsMe;
  }
}

/** Messages older than this when they reach the client are not notified (they came from a catch-up). */
export const MAX_NOTIFY_AGE_MS = 60_000;
