import type { Attachment, Message, Profile, Report, RoomSummary, UploadLimits, User } from "@parley/shared";

/**
 * The client's whole chat state: normalised (messages by id, ordered ids per room, pending sends by
 * client id) so that a message delivered twice (live and in a catch-up, or by two paths) is stored
 * once, and every write produces new objects only where something changed.
 */

export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "offline";

export interface ConnectionState {
  status: ConnectionStatus;
  /** Reconnection attempts since the connection was lost; 0 while connected. */
  attempt: number;
  /** Why the last connection attempt failed (e.g. `UNAUTHENTICATED`), if it did. */
  error: string | null;
  /** True while the client is fetching what it missed after a (re)connect. */
  catchingUp: boolean;
  /**
   * Set when the server answered a send with RATE_LIMITED: local time until which the outbox waits
   * before its next send. Stays set (moving with each further wait) until the outbox has nothing
   * left to send, so the UI can say "slow down" once per burst rather than once per message.
   */
  rateLimitedUntil: number | null;
}

/** A message the user wrote that the server has not acknowledged yet. */
export interface PendingMessage {
  clientId: string;
  roomId: string;
  body: string;
  /** The message this one replies to, if any. */
  replyToId: string | null;
  /** Local time the user pressed Enter; shown until the server's timestamp replaces it. */
  createdAt: number;
  status: "sending" | "failed";
  /** Send attempts made while connected. */
  attempts: number;
  /** Error code of the last failure, if any (e.g. `MESSAGE_TOO_LONG`, `TIMEOUT`). */
  error: string | null;
  /**
   * The message's files, in the order attached: ids of upload jobs (`uploads`). The message goes
   * out once every one of them is `done`, with their attachments' ids.
   */
  uploadIds: string[];
}

/**
 * Where an upload is. `uploading`: bytes on their way (progress moves). `retrying`: it broke off
 * (network, a disconnect, a server hiccup) and starts again from the first byte after a backoff or
 * on the next connect, under the same upload id. `done`: the server stored it (`attachment`).
 * `failed`: refused for good (`error`: FILE_TOO_LARGE, UPLOAD_QUOTA_EXCEEDED, ...), or its bytes
 * are gone (`UPLOAD_LOST`: the page was reloaded before it finished; a page cannot keep a file).
 */
export type UploadStatus = "uploading" | "retrying" | "done" | "failed";

/** One file being uploaded: in the composer (`clientId` null) or for a pending message. */
export interface UploadJob {
  /** The idempotency key sent as `X-Upload-Id`: the same for every attempt of this file. */
  uploadId: string;
  roomId: string;
  name: string;
  /** Bytes, as the browser reports the file (the stored copy of an image may differ). */
  size: number;
  /** The type the browser guessed (for the preview); the server sniffs its own. */
  type: string;
  /** Share of the bytes sent, 0..1 (1 while the server stores it). */
  progress: number;
  status: UploadStatus;
  attachment: Attachment | null;
  error: string | null;
  /** Attempts that broke off while connected (attempts while disconnected do not count). */
  attempts: number;
  /** The pending message it belongs to; null while it is only attached in the composer. */
  clientId: string | null;
}

/**
 * An edit, delete or reaction the server has not acknowledged (or refused: `failed`). The message
 * shows it at once: selectors lay pending changes over the stored copy (selectMessageView), so the
 * stored copy itself is only ever the server's state and reconciles by version alone.
 */
/**
 * What an edit, delete or reaction asks for: the fields the outbox entry (ChangeEntry) and the
 * pending change in the store share.
 */
export interface ChangeCommand {
  kind: "edit" | "delete" | "react";
  roomId: string;
  messageId: string;
  /** edit: the new body and the message version it was made from. */
  body?: string;
  baseVersion?: number;
  /** react: which emoji, and set (true) or cleared (false). */
  emoji?: string;
  on?: boolean;
}

export interface PendingChange extends ChangeCommand {
  /** The change's own id (the outbox key). */
  changeId: string;
  createdAt: number;
  status: "sending" | "failed";
  attempts: number;
  /** e.g. `EDIT_CONFLICT` (another edit won), `MESSAGE_DELETED`, `TOO_MANY_REACTIONS`, `TIMEOUT`. */
  error: string | null;
}

/** What the client holds of one room's timeline: a contiguous window of seqs. */
export interface RoomTimeline {
  /** Message ids in ascending seq order, contiguous (no gaps) inside the window. */
  ids: string[];
  /** Seq of the first and last message in the window (0 when empty). */
  firstSeq: number;
  lastSeq: number;
  /** Older messages exist before the window on the server. */
  hasOlder: boolean;
  /** Newer messages exist after the window (the window was trimmed, or catch-up is pending). */
  hasNewer: boolean;
  /** The latest page has been loaded at least once. */
  loaded: boolean;
  loadingOlder: boolean;
  loadingNewer: boolean;
  /**
   * The window ends at the room's live end and grows with live messages. False after scrolling
   * back trimmed the newest messages; true again once `loadNewer` reaches the end.
   */
  following: boolean;
  /**
   * The room's change version up to which every change is applied to the held messages (ADR
   * 0009): from the room summary when the window was first loaded, then advanced by each
   * contiguous live change and each completed `changedSince` catch-up. A live change more than one
   * above it reveals a missed one and starts that catch-up.
   */
  version: number;
}

/** A transient notice shown in a room's timeline ("Ana joined", "Ana left"); not stored anywhere. */
export interface Notice {
  id: string;
  roomId: string;
  /** Shown after the message with this seq (the last one the client had when it happened). */
  afterSeq: number;
  kind: "online" | "offline";
  nickname: string;
  at: number;
}

export interface TypingEntry {
  nickname: string;
  /** Local time after which the entry is dropped even if no stop arrives. */
  expiresAt: number;
}

/** Who I am and how the connection is doing. */
export interface SessionSlice {
  me: User | null;
  connection: ConnectionState;
  /** The server's upload limits (from `session:sync`); null until the first sync. */
  uploadLimits: UploadLimits | null;
}

export interface RoomsSlice {
  /** Rooms the user is a member of, by id (public rooms and DMs). */
  rooms: Record<string, RoomSummary>;
  /** The room shown in the UI. */
  activeRoomId: string | null;
}

export interface TimelinesSlice {
  /**
   * Messages by room, then by id. Only each room's window is kept (see RoomTimeline). Per room, so
   * a new message copies one room's map, not everything the client holds.
   */
  messages: Record<string, Record<string, Message>>;
  timelines: Record<string, RoomTimeline>;
}

/** The outbox as the UI sees it. */
export interface OutboxSlice {
  /** Unacknowledged sends by client id, in the order the user wrote them. */
  pending: Record<string, PendingMessage>;
  /** Client ids in send order (the outbox order). */
  pendingOrder: string[];
  /** Unacknowledged (or failed) edits, deletes and reactions by change id. */
  changes: Record<string, PendingChange>;
  /** Change ids in the order the user made them. */
  changeOrder: string[];
  /** Files being uploaded (or uploaded, for messages not yet sent), by upload id. */
  uploads: Record<string, UploadJob>;
  /** Upload ids in the order the files were attached. */
  uploadOrder: string[];
}

/** Who is around: online users, typists, and the join/leave notices. */
export interface PresenceSlice {
  /** Who is typing, per room, per user id. */
  typing: Record<string, Record<string, TypingEntry>>;
  /** Ids of online users. */
  online: Record<string, true>;
  /** Nicknames of users the client has seen, by id. */
  users: Record<string, string>;
  notices: Record<string, Notice[]>;
  /**
   * Profiles by user id (issue 14): the set ones of everyone sharing a room (from the sync), and
   * any asked for since. A user without one here shows as their nickname.
   */
  profiles: Record<string, Profile>;
}

/** A room taken from me by a moderator: the UI says so once ("You were banned from #x"). */
export interface RoomRemoval {
  /** Local id, for dismissing it. */
  id: string;
  roomId: string;
  /** The room's name as I last held it (the room itself is gone from the store). */
  roomName: string;
  reason: "kicked" | "banned";
  at: number;
}

/** What moderation adds to my state: my powers, whom I muted, the reports I moderate. */
export interface ModerationSlice {
  /** I am a server admin (from `session:sync`). */
  isAdmin: boolean;
  /** Users whose messages I hide (mine only; every tab follows through `mutes:updated`). */
  muted: Record<string, true>;
  /**
   * Reports of rooms I moderate, by id, as last heard: open ones from `reports:list` after each
   * sync, then `report:updated` live. Counting the open ones gives the moderators' badge.
   */
  reports: Record<string, Report>;
  /** Rooms a moderator removed me from (kick or ban), oldest first, until the UI dismisses them. */
  removals: RoomRemoval[];
  /**
   * Per room, bumped by every live line that may change its member list or roles (join, leave,
   * a moderation line): the members panel fetches the list again when it moves.
   */
  rosterVersion: Record<string, number>;
}

/**
 * The one store's state: the slices side by side (zustand's slices pattern). Reducers in
 * reconcile.ts take and return the whole state, since one event can touch several slices (a live
 * message confirms a pending send, counts in its room and appends to its timeline) in one update.
 */
export type ChatState = SessionSlice & RoomsSlice & TimelinesSlice & OutboxSlice & PresenceSlice & ModerationSlice;

export const initialConnection: ConnectionState = {
  status: "connecting",
  attempt: 0,
  error: null,
  catchingUp: false,
  rateLimitedUntil: null,
};

export const createSessionSlice = (): SessionSlice => ({ me: null, connection: initialConnection, uploadLimits: null });
export const createRoomsSlice = (): RoomsSlice => ({ rooms: {}, activeRoomId: null });
export const createTimelinesSlice = (): TimelinesSlice => ({ messages: {}, timelines: {} });
export const createOutboxSlice = (): OutboxSlice => ({ pending: {}, pendingOrder: [], changes: {}, changeOrder: [], uploads: {}, uploadOrder: [] });
export const createPresenceSlice = (): PresenceSlice => ({ typing: {}, online: {}, users: {}, notices: {}, profiles: {} });
export const createModerationSlice = (): ModerationSlice => ({ isAdmin: false, muted: {}, reports: {}, removals: [], rosterVersion: {} });

export function createInitialState(): ChatState {
  return {
    ...createSessionSlice(),
    ...createRoomsSlice(),
    ...createTimelinesSlice(),
    ...createOutboxSlice(),
    ...createPresenceSlice(),
    ...createModerationSlice(),
  };
}
