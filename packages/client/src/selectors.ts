import type { Message, RoomSummary } from "@parley/shared";
import type { ChatState, Notice, PendingMessage } from "./state.js";

/**
 * Selectors over the chat state. They return stored objects (stable identities), so React can use
 * them with `useShallow` for arrays and skip renders when nothing they read changed.
 */

/** The room's held messages, ascending by seq. */
export function selectRoomMessages(state: ChatState, roomId: string): Message[] {
  const ids = state.timelines[roomId]?.ids ?? [];
  const byId = state.messages[roomId] ?? {};
  const out: Message[] = [];
  for (const id of ids) {
    const m = byId[id];
    if (m) out.push(m);
  }
  return out;
}

/** Unacknowledged sends of a room, in the order the user wrote them. */
export function selectPendingForRoom(state: ChatState, roomId: string): PendingMessage[] {
  const out: PendingMessage[] = [];
  for (const id of state.pendingOrder) {
    const p = state.pending[id];
    if (p && p.roomId === roomId) out.push(p);
  }
  return out;
}

/** Shared so that a room without notices selects the same array every time (no re-render). */
const NO_NOTICES: readonly Notice[] = Object.freeze([]);

export function selectNotices(state: ChatState, roomId: string): readonly Notice[] {
  return state.notices[roomId] ?? NO_NOTICES;
}

/** Public rooms by name, then DMs by latest activity. */
export function selectSortedRooms(state: ChatState): { publicRooms: RoomSummary[]; dms: RoomSummary[] } {
  const all = Object.values(state.rooms);
  return {
    publicRooms: all.filter((r) => r.kind === "public").sort((a, b) => a.name.localeCompare(b.name)),
    dms: all.filter((r) => r.kind === "dm").sort((a, b) => b.lastActivityAt - a.lastActivityAt),
  };
}

/** Nicknames of people typing in a room (never the user themself). */
export function selectTypingNames(state: ChatState, roomId: string): string[] {
  const entries = state.typing[roomId] ?? {};
  return Object.entries(entries)
    .filter(([userId]) => userId !== state.me?.id)
    .map(([, e]) => e.nickname)
    .sort();
}

export function selectTotalUnread(state: ChatState): number {
  let total = 0;
  for (const room of Object.values(state.rooms)) total += room.unreadCount;
  return total;
}

export function selectIsOnline(state: ChatState, userId: string): boolean {
  return state.online[userId] === true;
}
