import { DEFAULT_ROOM_ID, countsAsUnread, countsAsUnreadMention, type MutedUsers, type Attachment, type ClientReplies, type Message, type MessagePage, type PresenceUpdate, type RoomHead, type RoomSummary, type TypingUpdate } from "@parley/shared";
import { replaceProfiles } from "./profiles.js";
import type { ChatState, Notice, PendingChange, PendingMessage, RoomTimeline, UploadJob } from "./state.js";

/**
 * Pure reconciliation of the client's chat state. Every function takes the state and returns the
 * next one (new objects only where something changed), so the same input always converges to the
 * same state whatever order pages, live messages, duplicates and acks arrive in.
 *
 * The invariant: each room's timeline is one contiguous window of seqs [firstSeq, lastSeq]. Seqs are
 * gap-free on the server, so a message that would leave a hole is not inserted; the room is marked
 * as behind instead and the client fills the hole with a catch-up fetch.
 *
 * Messages change (ADR 0009): every copy carries the room `version` of its latest change, and
 * wherever a copy enters (live, pages, catch-up, acks) a held message is replaced only by a copy
 * with a higher version. The second invariant: every held message reflects every change of the
 * room up to its timeline's `version`; the reducers below only ever raise that number when it stays
 * true, and lower it when a page brings copies older than it.
 */

/**
 * Messages kept per room. Why 1000: about 10 screens of history around what is on screen, a few
 * hundred KB per room; scrolling further back trims the far end and refetches it on the way down.
 */
export const DEFAULT_WINDOW_SIZE = 1000;

export function emptyTimeline(): RoomTimeline {
  return {
    ids: [],
    firstSeq: 0,
    lastSeq: 0,
    hasOlder: false,
    hasNewer: false,
    loaded: false,
    loadingOlder: false,
    loadingNewer: false,
    following: true,
    version: 0,
  };
}

/**
 * Where a batch of messages came from; decides which end of the window gives way when it is full.
 * `around` is the page around a message the user jumps to: it always replaces the window.
 */
export type MergeSource = "latest" | "older" | "newer" | "live" | "around";

/** A deleted message keeps its seq; only `deletedAt` says so (a typeof check, so a copy without the field counts as not deleted). */
export const isDeleted = (m: Message): boolean => typeof m.deletedAt === "number";

/**
 * Of two copies of one message, the one to keep: a higher version wins; an equal one keeps the held
 * copy (the same state, and keeping it keeps its object identity, so nothing re-renders).
 */
export function newerCopy(held: Message | undefined, incoming: Message): Message {
  return held !== undefined && !(incoming.version > held.version) ? held : incoming;
}

/**
 * The room's counts after a held copy is replaced by a newer one. Only a delete changes them (an
 * edit or a reaction is not a new message): deleting an unread message of someone else lowers the
 * unread count, and the mention count if it mentioned me. A delete at or below the summary's
 * `lastVersion` is already reflected in the summary's counts (it came from the server after the
 * delete, e.g. at a resync), so it is not subtracted twice.
 */
function countReplaced(room: RoomSummary | undefined, held: Message, incoming: Message, meId: string | undefined, muted: MutedUsers): RoomSummary | undefined {
  if (!room || isDeleted(held) || !isDeleted(incoming)) return room;
  if (incoming.version <= room.lastVersion) return room;
  // The held copy was not deleted (checked above): whether it counted is the shared rule's answer.
  if (!countsAsUnread(held, meId, muted) || held.seq <= room.lastReadSeq || held.seq > room.lastSeq) return room;
  const mentioned = countsAsUnreadMention(held, meId, muted);
  return {
    ...room,
    unreadCount: Math.max(0, room.unreadCount - 1),
    mentionCount: mentioned ? Math.max(0, room.mentionCount - 1) : room.mentionCount,
  };
}

/** A page's version when it carries a usable one (a server from before issue 11 sends none). */
const pageVersionOf = (version: number | null | undefined): number | null => (typeof version === "number" && Number.isFinite(version) ? version : null);

/** Highest seq the client knows exists in a room (from the summary or from what it holds). */
function knownLastSeq(state: ChatState, roomId: string, timeline: RoomTimeline): number {
  return Math.max(state.rooms[roomId]?.lastSeq ?? 0, timeline.lastSeq);
}

function withDerivedFlags(state: ChatState, roomId: string, t: RoomTimeline): RoomTimeline {
  return {
    ...t,
    // Seqs start at 1 and have no gaps, so "is there anything older" needs no server flag.
    hasOlder: t.ids.length > 0 && t.firstSeq > 1,
    hasNewer: t.lastSeq < knownLastSeq(state, roomId, t),
  };
}

/**
 * Merges an ascending, contiguous batch of one room's messages into its window. A message already
 * held keeps the copy with the higher version (an equal one keeps the held copy). A batch that does
 * not touch the window is dropped, except a `latest` page, which replaces it (the window jumps to
 * the end of the room), and an `around` page, which always does.
 *
 * `keepFromSeq`: the oldest message the reader has on screen, if they are reading back. When the
 * window overflows at the newest end (catch-up, live messages) it would normally drop its oldest
 * messages; those from `keepFromSeq` on are never dropped: the newest give way instead and the
 * window stops following (the UI offers "Jump to latest"). A `latest` page ignores it (the reader
 * asked for the end of the room).
 *
 * `pageVersion`: the page's `version` (the room's last version when it was read; null for a live
 * message). A page that replaces the window sets the timeline's version to it: every copy in the
 * page reflects the changes up to it. A page merged into the window lowers the version to it when
 * it is older: the copies it brought may miss changes the held ones have (the broadcasts of those
 * changes were dropped while the messages were not held), and the lower version makes the next
 * change catch-up fetch them.
 */
export function mergeMessages(
  state: ChatState,
  roomId: string,
  batch: readonly Message[],
  source: MergeSource,
  windowSize: number = DEFAULT_WINDOW_SIZE,
  keepFromSeq: number | null = null,
  pageVersion: number | null = null,
): ChatState {
  const current = state.timelines[roomId] ?? emptyTimeline();
  const held = state.messages[roomId] ?? {};
  const pv = pageVersionOf(pageVersion);
  const sorted = [...batch].filter((m) => m.roomId === roomId).sort((a, b) => a.seq - b.seq);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (!first || !last) {
    if (source !== "latest" || current.loaded) return state;
    const loaded: RoomTimeline = { ...current, loaded: true, version: pv ?? current.version };
    return { ...state, timelines: { ...state.timelines, [roomId]: withDerivedFlags(state, roomId, loaded) } };
  }

  const meId = state.me?.id;
  let room = state.rooms[roomId];
  const empty = current.ids.length === 0;
  const touches = !empty && first.seq <= current.lastSeq + 1 && last.seq >= current.firstSeq - 1;
  const replace = empty || source === "around" || (!touches && source === "latest");
  if (!replace && !touches) return state;

  // The window's messages are collected here and the room's record is built once, at the end, from
  // the final ids: copying a 1,000-key record and deleting the trimmed keys cost ~5 ms per page
  // of scrolling (V8 keeps a record that large as a hash table, and every delete rehashes it).
  const fresh = new Map<string, Message>();
  let ids: string[];
  let firstSeq: number;
  let lastSeq: number;
  let version: number;
  let updated = false;
  if (replace) {
    ids = [];
    firstSeq = first.seq;
    lastSeq = first.seq - 1;
    for (const m of sorted) {
      if (m.seq !== lastSeq + 1) continue; // a duplicate within the batch
      const h = held[m.id];
      const copy = newerCopy(h, m);
      if (h && copy !== h) room = countReplaced(room, h, copy, meId, state.muted);
      ids.push(m.id);
      fresh.set(m.id, copy);
      lastSeq = m.seq;
    }
    // A live message into an empty window carries no page version: what was held stays reflected.
    version = pv ?? current.version;
  } else {
    // Copies of messages already in the window: the newer state wins.
    for (const m of sorted) {
      if (m.seq < current.firstSeq || m.seq > current.lastSeq) continue;
      const h = held[m.id];
      if (!h || !(m.version > h.version)) continue;
      fresh.set(m.id, m);
      room = countReplaced(room, h, m, meId, state.muted);
      updated = true;
    }
    version = pv === null ? current.version : Math.min(current.version, pv);
    const before = sorted.filter((m) => m.seq < current.firstSeq);
    const after = sorted.filter((m) => m.seq > current.lastSeq);
    if (before.length === 0 && after.length === 0) {
      if (!updated && version === current.version && (current.loaded || source !== "latest")) return state;
      const rooms = room && room !== state.rooms[roomId] ? { ...state.rooms, [roomId]: room } : state.rooms;
      const messages = updated ? { ...held, ...Object.fromEntries(fresh) } : held;
      const next: ChatState = { ...state, rooms, messages: updated ? { ...state.messages, [roomId]: messages } : state.messages };
      return { ...next, timelines: { ...state.timelines, [roomId]: withDerivedFlags(next, roomId, { ...current, loaded: true, version }) } };
    }
    const head = dedupeContiguous(before, current.firstSeq - 1, "down");
    const tail = dedupeContiguous(after, current.lastSeq + 1, "up");
    for (const m of head) fresh.set(m.id, m);
    for (const m of tail) fresh.set(m.id, m);
    ids = [...head.map((m) => m.id), ...current.ids, ...tail.map((m) => m.id)];
    firstSeq = current.firstSeq - head.length;
    lastSeq = current.lastSeq + tail.length;
  }

  let following = source === "latest" ? true : source === "around" ? false : current.following;
  if (ids.length > windowSize) {
    const excess = ids.length - windowSize;
    if (source === "older") {
      // Scrolling back: the newest end gives way, and the window no longer follows live messages.
      ids = ids.slice(0, ids.length - excess);
      lastSeq -= excess;
      following = false;
    } else {
      // How many of the oldest can go without touching what the reader is looking at.
      const droppable = source === "latest" || keepFromSeq === null ? excess : Math.max(0, Math.min(excess, keepFromSeq - firstSeq));
      ids = ids.slice(droppable);
      firstSeq += droppable;
      const rest = excess - droppable;
      if (rest > 0) {
        ids = ids.slice(0, ids.length - rest);
        lastSeq -= rest;
        following = false;
      }
    }
  }
  const messages: Record<string, Message> = {};
  for (const id of ids) messages[id] = fresh.get(id) ?? held[id]!;
  // Messages newer than any the room knew of are counted here (last seq, unread, mentions), even
  // when the window lets them go again: a gap fetched after a lost broadcast counts like live
  // messages would have. Anything at or below the room's last seq was counted already (live, or
  // by the server in the last sync).
  if (room) for (const m of sorted) if (m.seq > room.lastSeq) room = countNewMessage(room, m, meId, state.muted);
  const rooms = room && room !== state.rooms[roomId] ? { ...state.rooms, [roomId]: room } : state.rooms;
  // Authors seen in history become known nicknames (for @mention highlighting).
  let users = state.users;
  for (const m of sorted) {
    if (users[m.authorId] === undefined) {
      if (users === state.users) users = { ...users };
      users[m.authorId] = m.authorNickname;
    }
  }
  const next: ChatState = { ...state, rooms, messages: { ...state.messages, [roomId]: messages }, users };
  const timeline: RoomTimeline = { ...current, ids, firstSeq, lastSeq, loaded: true, following, version };
  if (source === "newer" && lastSeq >= knownLastSeq(next, roomId, timeline)) timeline.following = true;
  return { ...next, timelines: { ...state.timelines, [roomId]: withDerivedFlags(next, roomId, timeline) } };
}

/** Keeps the run of messages that continues the window from `start` without a hole. */
function dedupeContiguous(messages: Message[], start: number, direction: "up" | "down"): Message[] {
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  const run: Message[] = [];
  for (let seq = start; ; seq += direction === "up" ? 1 : -1) {
    const m = bySeq.get(seq);
    if (!m) break;
    run.push(m);
  }
  return direction === "down" ? run.reverse() : run;
}

/**
 * A message that arrived live. Updates the room's counts once per seq (a duplicate delivery
 * changes nothing), confirms the matching pending send, and appends it to the window when it
 * continues it. Returns `behind: true` when it revealed a gap in seqs the client must fetch, and
 * `changesBehind: true` when its version revealed missed changes (see `trackLiveVersion`).
 */
export function applyLiveMessage(
  state: ChatState,
  message: Message,
  windowSize: number = DEFAULT_WINDOW_SIZE,
  keepFromSeq: number | null = null,
): { state: ChatState; behind: boolean; changesBehind: boolean } {
  let next = state;
  const meId = state.me?.id;
  if (message.clientId !== null && message.authorId === meId && state.pending[message.clientId]) {
    next = removePending(next, message.clientId);
  }
  if (message.authorId && !next.users[message.authorId]) {
    next = { ...next, users: { ...next.users, [message.authorId]: message.authorNickname } };
  }
  const timeline = next.timelines[message.roomId];
  // An empty loaded window means the room had nothing when it was read: its lastSeq really is 0,
  // so seq 3 arriving first still means 1 and 2 are missing.
  const following = timeline?.loaded === true && timeline.following;
  if (following && message.seq > timeline.lastSeq + 1) {
    // A gap: the catch-up fetch brings the missed messages and this one, and counts them all in
    // order (mergeMessages). Counting this one now would leave the missed ones uncounted.
    const t = withDerivedFlags(next, message.roomId, { ...timeline, hasNewer: true });
    next = { ...next, timelines: { ...next.timelines, [message.roomId]: { ...t, hasNewer: true } } };
    return { ...trackLiveVersion(next, message.roomId, message.version), behind: true };
  }
  const room = next.rooms[message.roomId];
  if (room && message.seq > room.lastSeq) {
    next = { ...next, rooms: { ...next.rooms, [message.roomId]: countNewMessage(room, message, meId, next.muted) } };
  }
  if (following) {
    next = mergeMessages(next, message.roomId, [message], "live", windowSize, keepFromSeq);
  } else {
    // Not appended (the window ends before the live end), but a copy of a held message still
    // counts, and the window now has something newer to load.
    next = applyHeldCopies(next, message.roomId, [message]);
    const t = next.timelines[message.roomId];
    if (t?.loaded && !t.hasNewer && message.seq > t.lastSeq) next = { ...next, timelines: { ...next.timelines, [message.roomId]: { ...t, hasNewer: true } } };
  }
  return { ...trackLiveVersion(next, message.roomId, message.version), behind: false };
}

/**
 * Moves a room's timeline version after a live change (a new message, an update, or the reply to
 * one of my commands) with `version`: the next one advances it (that change is now applied, or
 * concerns a message not held, which needs nothing); an older or equal one changes nothing; one
 * further on reveals missed changes (`changesBehind`: the caller starts a `changedSince` catch-up).
 * Versions are gap-free per room (ADR 0009), so "the next one" is exact.
 */
export function trackLiveVersion(state: ChatState, roomId: string, version: number): { state: ChatState; changesBehind: boolean } {
  const t = state.timelines[roomId];
  if (!t?.loaded || pageVersionOf(version) === null || version <= t.version) return { state, changesBehind: false };
  if (version > t.version + 1) return { state, changesBehind: true };
  return { state: { ...state, timelines: { ...state.timelines, [roomId]: { ...t, version } } }, changesBehind: false };
}

/**
 * Replaces held messages by newer copies (higher version); copies of messages not held are
 * dropped (the window will bring their current state when it reaches them). Used for live
 * updates, change catch-up pages and the replies to my changes.
 */
export function applyHeldCopies(state: ChatState, roomId: string, copies: readonly Message[]): ChatState {
  const held = state.messages[roomId];
  if (!held) return state;
  const meId = state.me?.id;
  let room = state.rooms[roomId];
  let messages: Record<string, Message> | null = null;
  for (const m of copies) {
    const h = (messages ?? held)[m.id];
    if (!h || m.roomId !== roomId || !(m.version > h.version)) continue;
    messages ??= { ...held };
    messages[m.id] = m;
    room = countReplaced(room, h, m, meId, state.muted);
  }
  if (!messages) return state;
  const rooms = room && room !== state.rooms[roomId] ? { ...state.rooms, [roomId]: room } : state.rooms;
  return { ...state, rooms, messages: { ...state.messages, [roomId]: messages } };
}

/**
 * `message:updated` (or the reply to my edit, delete or reaction): the whole new state of one
 * message. Kept only if the message is held and the copy is newer; the version moves as for any
 * live change.
 */
export function applyMessageUpdate(state: ChatState, message: Message): { state: ChatState; changesBehind: boolean } {
  return trackLiveVersion(applyHeldCopies(state, message.roomId, [message]), message.roomId, message.version);
}

/**
 * A `changedSince` catch-up ran to its end (`hasMore: false`) and applied every row to the held
 * messages. `maxSeen`: the highest version among its rows (null: there were none, nothing moves).
 * `floor`: the lowest version of any page merged into the window while it ran (Infinity if none):
 * such a page may have brought a copy older than a row the run had already dropped (the message was
 * not held then), so the run vouches only for versions up to it; the rest is fetched by the next
 * run. The current version is kept when it is higher (live changes advanced it meanwhile).
 */
export function completeChangeCatchUp(state: ChatState, roomId: string, maxSeen: number | null, floor: number = Infinity): ChatState {
  const t = state.timelines[roomId];
  if (!t || maxSeen === null) return state;
  const version = Math.max(t.version, Math.min(maxSeen, floor));
  if (version === t.version) return state;
  return { ...state, timelines: { ...state.timelines, [roomId]: { ...t, version } } };
}

/**
 * The page around a message the user jumps to replaces the window: it no longer follows the live
 * end (the reader is in history), older messages exist iff its first seq is above 1, and newer ones
 * iff the server said so (or the room's last seq says so).
 */
export function replaceWindowAround(state: ChatState, roomId: string, page: MessagePage, windowSize: number = DEFAULT_WINDOW_SIZE): ChatState {
  const next = mergeMessages(state, roomId, page.messages, "around", windowSize, null, page.version);
  const t = next.timelines[roomId];
  if (next === state || !t || !page.hasMore || t.hasNewer) return next;
  return { ...next, timelines: { ...next.timelines, [roomId]: { ...t, hasNewer: true } } };
}

/** The room after one new message: last seq, and unread/mention counts for others' messages. */
export function countNewMessage(room: RoomSummary, message: Message, meId: string | undefined, muted: MutedUsers = {}): RoomSummary {
  const next: RoomSummary = { ...room, lastSeq: message.seq, lastActivityAt: Math.max(room.lastActivityAt, message.createdAt) };
  if (message.authorId === meId) {
    // Writing in a room reads it (the server moves the read position the same way).
    return { ...next, lastReadSeq: message.seq, unreadCount: 0, mentionCount: 0 };
  }
  // A message already deleted when it first arrives (fetched after the delete) is not unread.
  if (countsAsUnread(message, meId, muted) && message.seq > room.lastReadSeq) {
    next.unreadCount = room.unreadCount + 1;
    if (countsAsUnreadMention(message, meId, muted)) next.mentionCount = room.mentionCount + 1;
  }
  return next;
}

/**
 * A room summary from the server (sync, join, read in another tab). Facts that only grow (last
 * seq, read position) never move back, so a stale update arriving late cannot undo a newer one.
 */
export function reconcileRoom(current: RoomSummary | undefined, incoming: RoomSummary): RoomSummary {
  if (!current) return incoming;
  const readIsStale = incoming.lastReadSeq < current.lastReadSeq;
  const seqIsStale = incoming.lastSeq < current.lastSeq;
  return {
    ...incoming,
    lastSeq: Math.max(current.lastSeq, incoming.lastSeq),
    lastVersion: Math.max(current.lastVersion, incoming.lastVersion),
    lastReadSeq: Math.max(current.lastReadSeq, incoming.lastReadSeq),
    // Counts belong to the newer of the two read positions; when the incoming one is older, keep ours.
    unreadCount: readIsStale || (seqIsStale && incoming.lastReadSeq === current.lastReadSeq) ? current.unreadCount : incoming.unreadCount,
    mentionCount: readIsStale || (seqIsStale && incoming.lastReadSeq === current.lastReadSeq) ? current.mentionCount : incoming.mentionCount,
    lastActivityAt: Math.max(current.lastActivityAt, incoming.lastActivityAt),
  };
}

/** Marks a room read up to `seq` locally (the server's answer then settles the counts). */
export function markReadLocally(state: ChatState, roomId: string, seq: number): ChatState {
  const room = state.rooms[roomId];
  if (!room || seq <= room.lastReadSeq) return state;
  const all = seq >= room.lastSeq;
  return {
    ...state,
    rooms: {
      ...state.rooms,
      [roomId]: {
        ...room,
        lastReadSeq: seq,
        unreadCount: all ? 0 : room.unreadCount,
        mentionCount: all ? 0 : room.mentionCount,
      },
    },
  };
}

export function addPending(state: ChatState, pending: PendingMessage): ChatState {
  if (state.pending[pending.clientId]) return state;
  return {
    ...state,
    pending: { ...state.pending, [pending.clientId]: pending },
    pendingOrder: [...state.pendingOrder, pending.clientId],
  };
}

export function updatePending(state: ChatState, clientId: string, patch: Partial<Omit<PendingMessage, "clientId">>): ChatState {
  const current = state.pending[clientId];
  if (!current) return state;
  return { ...state, pending: { ...state.pending, [clientId]: { ...current, ...patch } } };
}

/** Drops a pending message (sent, discarded, or confirmed by another tab) with its upload jobs. */
export function removePending(state: ChatState, clientId: string): ChatState {
  const current = state.pending[clientId];
  if (!current) return state;
  const pending = { ...state.pending };
  delete pending[clientId];
  const next: ChatState = { ...state, pending, pendingOrder: state.pendingOrder.filter((id) => id !== clientId) };
  return dropUploads(next, new Set(current.uploadIds.filter((id) => state.uploads[id]?.clientId === clientId)));
}

function dropUploads(state: ChatState, ids: ReadonlySet<string>): ChatState {
  if (ids.size === 0) return state;
  const uploads = { ...state.uploads };
  for (const id of ids) delete uploads[id];
  return { ...state, uploads, uploadOrder: state.uploadOrder.filter((id) => !ids.has(id)) };
}

// ---- uploads (ADR 0014) -------------------------------------------------------------------------

/**
 * Upload progress is stored in steps of this much (1 %): an XHR reports progress every few
 * milliseconds, and each store write re-renders the tray and the pending row.
 */
const PROGRESS_STEP = 0.01;

/** A file joins the uploads (attached in the composer, or rebuilt from the outbox on reload). */
export function addUpload(state: ChatState, job: UploadJob): ChatState {
  if (state.uploads[job.uploadId]) return state;
  return { ...state, uploads: { ...state.uploads, [job.uploadId]: job }, uploadOrder: [...state.uploadOrder, job.uploadId] };
}

export function updateUpload(state: ChatState, uploadId: string, patch: Partial<Omit<UploadJob, "uploadId">>): ChatState {
  const current = state.uploads[uploadId];
  if (!current) return state;
  return { ...state, uploads: { ...state.uploads, [uploadId]: { ...current, ...patch } } };
}

/**
 * Bytes sent so far, as a share (0..1). Moves the stored progress only by whole steps (see
 * PROGRESS_STEP) or to the end, and only while the upload runs: a late progress event of an
 * attempt that already ended changes nothing.
 */
export function setUploadProgress(state: ChatState, uploadId: string, progress: number): ChatState {
  const current = state.uploads[uploadId];
  if (!current || current.status !== "uploading") return state;
  const p = Math.min(1, Math.max(0, Number.isFinite(progress) ? progress : 0));
  if (p < 1 && Math.abs(p - current.progress) < PROGRESS_STEP) return state;
  if (p === current.progress) return state;
  return updateUpload(state, uploadId, { progress: p });
}

/** The server stored the file: the job holds its attachment (the message can go once all are). */
export function completeUpload(state: ChatState, uploadId: string, attachment: Attachment): ChatState {
  if (!state.uploads[uploadId]) return state;
  return updateUpload(state, uploadId, { status: "done", progress: 1, attachment, error: null });
}

/**
 * An upload failed for good (`code`). The message it belongs to, if any, cannot go as the user
 * wrote it: it shows failed with the upload's reason (retry sends it without the file).
 */
export function failUpload(state: ChatState, uploadId: string, code: string): ChatState {
  const job = state.uploads[uploadId];
  if (!job) return state;
  let next = updateUpload(state, uploadId, { status: "failed", error: code });
  const owner = job.clientId === null ? undefined : next.pending[job.clientId];
  if (owner && owner.status === "sending") next = updatePending(next, owner.clientId, { status: "failed", error: code });
  return next;
}

/**
 * The user removed a file (from the composer, or from a pending message). A pending message left
 * with a blank body and no files is discarded (`discarded` is its client id: the caller drops it
 * from the outbox). A message that had failed only because of this file goes out again.
 */
export function removeUpload(state: ChatState, uploadId: string): { state: ChatState; discarded: string | null; resumed: string | null } {
  const job = state.uploads[uploadId];
  if (!job) return { state, discarded: null, resumed: null };
  let next = dropUploads(state, new Set([uploadId]));
  const owner = job.clientId === null ? undefined : next.pending[job.clientId];
  if (!owner) return { state: next, discarded: null, resumed: null };
  const uploadIds = owner.uploadIds.filter((id) => id !== uploadId);
  if (uploadIds.length === 0 && owner.body.trim().length === 0) return { state: removePending(next, owner.clientId), discarded: owner.clientId, resumed: null };
  next = updatePending(next, owner.clientId, { uploadIds });
  const stillFailed = uploadIds.some((id) => next.uploads[id]?.status === "failed");
  if (owner.status === "failed" && job.status === "failed" && owner.error === job.error && !stillFailed) {
    next = updatePending(next, owner.clientId, { status: "sending", attempts: 0, error: null });
    return { state: next, discarded: null, resumed: owner.clientId };
  }
  return { state: next, discarded: null, resumed: null };
}

/**
 * A new pending message takes the files attached in its room's composer (`uploadIds`): they now
 * belong to it and leave the composer's tray.
 */
export function addPendingWithUploads(state: ChatState, pending: PendingMessage): ChatState {
  let next = addPending(state, pending);
  if (next === state) return state;
  for (const id of pending.uploadIds) next = updateUpload(next, id, { clientId: pending.clientId });
  return next;
}

/**
 * Whether a pending message's files allow it to go: `ready` (all uploaded, or none), `waiting`
 * (some still on their way), `failed` (one failed for good, or is missing).
 */
export function uploadsState(state: ChatState, pending: PendingMessage): "ready" | "waiting" | "failed" {
  let waiting = false;
  for (const id of pending.uploadIds) {
    const job = state.uploads[id];
    if (!job || job.status === "failed") return "failed";
    if (job.status !== "done") waiting = true;
  }
  return waiting ? "waiting" : "ready";
}

/** The attachment ids a pending message is sent with, in the order the files were attached. */
export function attachmentIdsOf(state: ChatState, pending: PendingMessage): string[] {
  const ids: string[] = [];
  for (const id of pending.uploadIds) {
    const a = state.uploads[id]?.attachment;
    if (a) ids.push(a.id);
  }
  return ids;
}

/** A change (edit, delete, reaction) joins the outbox; shown at once through selectMessageView. */
export function addChange(state: ChatState, change: PendingChange): ChatState {
  if (state.changes[change.changeId]) return state;
  return {
    ...state,
    changes: { ...state.changes, [change.changeId]: change },
    changeOrder: [...state.changeOrder, change.changeId],
  };
}

export function updateChange(state: ChatState, changeId: string, patch: Partial<Omit<PendingChange, "changeId">>): ChatState {
  const current = state.changes[changeId];
  if (!current) return state;
  return { ...state, changes: { ...state.changes, [changeId]: { ...current, ...patch } } };
}

export function removeChange(state: ChatState, changeId: string): ChatState {
  if (!state.changes[changeId]) return state;
  const changes = { ...state.changes };
  delete changes[changeId];
  return { ...state, changes, changeOrder: state.changeOrder.filter((id) => id !== changeId) };
}

/** The server acknowledged a send: the pending entry becomes the stored message. */
export function confirmPending(
  state: ChatState,
  clientId: string,
  message: Message,
  windowSize: number = DEFAULT_WINDOW_SIZE,
  keepFromSeq: number | null = null,
): { state: ChatState; behind: boolean; changesBehind: boolean } {
  return applyLiveMessage(removePending(state, clientId), message, windowSize, keepFromSeq);
}

/** Drops a room and everything held for it (left in this or another tab). */
export function removeRoom(state: ChatState, roomId: string): ChatState {
  const rooms = { ...state.rooms };
  delete rooms[roomId];
  const timelines = { ...state.timelines };
  const messages = { ...state.messages };
  delete messages[roomId];
  delete timelines[roomId];
  const typing = { ...state.typing };
  delete typing[roomId];
  return { ...state, rooms, timelines, messages, typing };
}

/** Drops a room the user left (here or in another tab); if it was shown, the default room is shown instead. */
export function leaveRoomLocally(state: ChatState, roomId: string): ChatState {
  const next = removeRoom(state, roomId);
  return next.activeRoomId === roomId ? { ...next, activeRoomId: DEFAULT_ROOM_ID } : next;
}

/** A room summary from the server (upsert broadcast, join/create/DM reply, read answer). */
export function upsertRoom(state: ChatState, room: RoomSummary): ChatState {
  return { ...state, rooms: { ...state.rooms, [room.id]: reconcileRoom(state.rooms[room.id], room) } };
}

/**
 * The `session:sync` answer after a (re)connect: who I am, who is online, and the rooms I am a
 * member of. Rooms missing from it were left meanwhile and are dropped with what is held for them;
 * the shown room falls back to the default room (or the first one) when it is gone.
 */
export function applySync(state: ChatState, { me, rooms, onlineUserIds, uploadLimits, isAdmin, mutedUserIds, profiles }: ClientReplies["session:sync"]): ChatState {
  let next: ChatState = {
    ...state,
    me,
    online: Object.fromEntries(onlineUserIds.map((id) => [id, true as const])),
    // A server from before issue 13 sends none: the server's own checks then decide.
    uploadLimits: uploadLimits ?? state.uploadLimits,
    // A server from before issue 14 sends neither: no admin powers shown, nobody muted.
    isAdmin: isAdmin ?? false,
    muted: Object.fromEntries((mutedUserIds ?? []).map((id) => [id, true as const])),
  };
  const fresh: ChatState["rooms"] = {};
  for (const room of rooms) fresh[room.id] = reconcileRoom(state.rooms[room.id], room);
  for (const id of Object.keys(state.rooms)) if (!fresh[id]) next = removeRoom(next, id);
  next = { ...next, rooms: fresh, users: { ...next.users, [me.id]: me.nickname } };
  if (!next.activeRoomId || !fresh[next.activeRoomId]) next = { ...next, activeRoomId: fresh[DEFAULT_ROOM_ID] ? DEFAULT_ROOM_ID : (rooms[0]?.id ?? null) };
  // A server from before issue 14 sends none: the profiles held stay.
  return profiles ? replaceProfiles(next, profiles) : next;
}

/** Someone started (or refreshed) typing until `expiresAt`, or stopped. */
export function applyTyping(state: ChatState, { roomId, userId, nickname, typing }: TypingUpdate, expiresAt: number): ChatState {
  const room = { ...state.typing[roomId] };
  if (typing) room[userId] = { nickname, expiresAt };
  else delete room[userId];
  return { ...state, typing: { ...state.typing, [roomId]: room } };
}

/**
 * Drops typing entries that expired by `now` (no refresh or stop arrived). `active` says whether
 * any entry is left, i.e. whether another sweep is needed.
 */
export function expireTyping(state: ChatState, now: number): { state: ChatState; active: boolean } {
  const typing: ChatState["typing"] = {};
  let active = false;
  for (const [roomId, entries] of Object.entries(state.typing)) {
    const kept = Object.fromEntries(Object.entries(entries).filter(([, e]) => e.expiresAt > now));
    typing[roomId] = kept;
    if (Object.keys(kept).length > 0) active = true;
  }
  return { state: { ...state, typing }, active };
}

/** Join/leave notices kept per room; older ones scroll away. */
export const NOTICES_PER_ROOM = 50;

/**
 * Someone came online or went offline. Someone else's change also shows as a notice in the
 * default room (which everyone is a member of), after its last message. `stamp` gives the
 * notice's id and time; it is called only when a notice is added, so no id is drawn otherwise.
 */
export function applyPresence(
  state: ChatState,
  { userId, nickname, online }: PresenceUpdate,
  stamp: () => { id: string; at: number },
): ChatState {
  const onlineMap = { ...state.online };
  if (online) onlineMap[userId] = true;
  else delete onlineMap[userId];
  let next: ChatState = { ...state, online: onlineMap, users: { ...state.users, [userId]: nickname } };
  const general = next.rooms[DEFAULT_ROOM_ID];
  if (userId !== state.me?.id && general) {
    const { id, at } = stamp();
    const notice: Notice = { id, roomId: DEFAULT_ROOM_ID, afterSeq: general.lastSeq, kind: online ? "online" : "offline", nickname, at };
    const list = [...(state.notices[DEFAULT_ROOM_ID] ?? []), notice].slice(-NOTICES_PER_ROOM);
    next = { ...next, notices: { ...next.notices, [DEFAULT_ROOM_ID]: list } };
  }
  return next;
}

/**
 * What a room head (the tail guard, ADR 0010) says this client missed. `messages`: the room has
 * messages past the last one the client counted (a broadcast never reached it: the last message of
 * a room can be missed without any later one revealing the gap). `changes`: the loaded window's
 * version is behind (an edit, delete or reaction missed). A room the client does not hold says
 * nothing: joining it brings it whole.
 */
export function behindHead(state: ChatState, head: RoomHead): { messages: boolean; changes: boolean } {
  const room = state.rooms[head.roomId];
  if (!room) return { messages: false, changes: false };
  const t = state.timelines[head.roomId];
  return { messages: head.seq > room.lastSeq, changes: t?.loaded === true && head.version > t.version };
}
