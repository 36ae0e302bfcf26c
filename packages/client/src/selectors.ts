import type { Message, Reaction, RoomSummary, User } from "@parley/shared";
import type { ChatState, Notice, PendingChange, PendingMessage, UploadJob } from "./state.js";

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

/**
 * The files attached in a room's composer (not yet part of a message), in the order attached. A
 * new array: select it with `useShallow`.
 */
export function selectComposerUploads(state: ChatState, roomId: string): UploadJob[] {
  const out: UploadJob[] = [];
  for (const id of state.uploadOrder) {
    const u = state.uploads[id];
    if (u && u.roomId === roomId && u.clientId === null) out.push(u);
  }
  return out;
}

/** A pending message's files, in its order (jobs missing from the store are skipped). */
export function selectUploadsOf(state: ChatState, pending: Pick<PendingMessage, "uploadIds">): UploadJob[] {
  const out: UploadJob[] = [];
  for (const id of pending.uploadIds) {
    const u = state.uploads[id];
    if (u) out.push(u);
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

/**
 * A message as the user sees it: the stored copy (the server's state) with my unacknowledged edits,
 * deletes and reactions laid over it. `pending`: a change of mine to it is still on its way.
 */
export type MessageView = Message & { pending: boolean };

/** Shared so that a message without changes selects the same array every time (frozen: never to be written). */
const NO_CHANGES = Object.freeze([]) as unknown as PendingChange[];

/**
 * The changes per message id, built once per `changes`/`changeOrder` pair. Arrays equal to the
 * previous index's (same change objects) are reused, so a change to one message leaves every other
 * message's array, and therefore its view, untouched.
 */
interface ChangeIndex {
  changes: ChatState["changes"];
  changeOrder: string[];
  byMessage: Map<string, PendingChange[]>;
}
let lastIndex: ChangeIndex | null = null;

function changeIndex(state: ChatState): ChangeIndex {
  if (lastIndex && lastIndex.changes === state.changes && lastIndex.changeOrder === state.changeOrder) return lastIndex;
  const byMessage = new Map<string, PendingChange[]>();
  for (const id of state.changeOrder) {
    const c = state.changes[id];
    if (!c) continue;
    const list = byMessage.get(c.messageId);
    if (list) list.push(c);
    else byMessage.set(c.messageId, [c]);
  }
  if (lastIndex) {
    for (const [messageId, list] of byMessage) {
      const previous = lastIndex.byMessage.get(messageId);
      if (previous && previous.length === list.length && previous.every((c, i) => c === list[i])) byMessage.set(messageId, previous);
    }
  }
  lastIndex = { changes: state.changes, changeOrder: state.changeOrder, byMessage };
  return lastIndex;
}

/**
 * My unacknowledged (or failed) changes to one message, oldest first. The same array while they
 * stay the same, so it can be selected directly in React.
 */
export function selectChangesForMessage(state: ChatState, messageId: string): PendingChange[] {
  if (state.changeOrder.length === 0) return NO_CHANGES;
  return changeIndex(state).byMessage.get(messageId) ?? NO_CHANGES;
}

/**
 * One view per stored copy, remembered with what it was built from. Keyed weakly by the stored
 * message, so views of messages the window dropped are collected with them.
 */
const views = new WeakMap<Message, { changes: readonly PendingChange[]; me: User | null; view: MessageView }>();

/**
 * A held message as the user sees it (see MessageView), or undefined when it is not held. Changes
 * still `sending` are laid over the stored copy in the order they were made: an edit shows its body
 * (edited at the time it was made), a delete shows the message deleted (body and reactions gone), a
 * reaction adds or removes me under that emoji. Failed changes are not shown on the message (an
 * edit that lost to a newer one shows the winner); `selectChangesForMessage` lists them for the UI.
 *
 * Returns the same object while neither the stored copy nor its changes changed: components
 * subscribe with it directly, and a new object on every call would re-render them on every update
 * of the store (or loop forever with React's useSyncExternalStore).
 */
export function selectMessageView(state: ChatState, roomId: string, messageId: string): MessageView | undefined {
  const stored = state.messages[roomId]?.[messageId];
  if (!stored) return undefined;
  const changes = selectChangesForMessage(state, messageId);
  const cached = views.get(stored);
  if (cached && cached.changes === changes && (changes.length === 0 || cached.me === state.me)) return cached.view;
  const view = overlay(stored, changes, state.me);
  views.set(stored, { changes, me: state.me, view });
  return view;
}

function overlay(stored: Message, changes: readonly PendingChange[], me: User | null): MessageView {
  const view: MessageView = { ...stored, pending: false };
  for (const c of changes) {
    if (c.status !== "sending") continue;
    view.pending = true;
    if (view.deletedAt !== null) continue; // nothing shows on a deleted message
    if (c.kind === "delete") {
      view.deletedAt = c.createdAt;
      // Someone else's message that I delete, I delete as a moderator: it shows as the server will.
      if (me !== null && stored.authorId !== me.id) view.removedByModerator = true;
      view.body = "";
      view.reactions = [];
    } else if (c.kind === "edit" && c.body !== undefined) {
      view.body = c.body;
      view.editedAt = c.createdAt;
    } else if (c.kind === "react" && c.emoji !== undefined && c.on !== undefined && me) {
      view.reactions = withMyReaction(view.reactions, c.emoji, c.on, me);
    }
  }
  return view;
}

/** Reactions with me added under (or removed from) `emoji`: a new emoji goes last, an emptied one goes. */
function withMyReaction(reactions: Reaction[], emoji: string, on: boolean, me: User): Reaction[] {
  const index = reactions.findIndex((r) => r.emoji === emoji);
  const current = reactions[index];
  if (!current) return on ? [...reactions, { emoji, users: [{ id: me.id, nickname: me.nickname }] }] : reactions;
  const mine = current.users.some((u) => u.id === me.id);
  if (on === mine) return reactions;
  const users = on ? [...current.users, { id: me.id, nickname: me.nickname }] : current.users.filter((u) => u.id !== me.id);
  if (users.length === 0) return reactions.filter((_, i) => i !== index);
  return reactions.map((r, i) => (i === index ? { emoji, users } : r));
}
