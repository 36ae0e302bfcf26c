import type {
  Attachment,
  AuditAction,
  AuditEntry,
  Ban,
  Message,
  MessageKind,
  NotifyLevel,
  Profile,
  RoomHead,
  RoomKind,
  RoomListing,
  RoomRole,
  RoomSummary,
  User,
  UserRef,
} from "@parley/shared";
import type { AvatarRecord, ProfilePatch } from "./profile-queries.js";

export type { AvatarRecord, ProfilePatch } from "./profile-queries.js";

/**
 * The one storage interface of the server. Services talk only to this; SQLite (embedded default)
 * and PostgreSQL (scale-out) implement it, and both run through the same contract suite
 * (`test/storage.contract.ts`). Every method is async so that a networked backend fits unchanged.
 */
export interface Storage {
  /** Create or migrate the schema. Idempotent. (Which rooms must exist is the domain's: setup.ts.) */
  init(): Promise<void>;
  /** Create a public room with a fixed id and name unless a room with that id exists. Idempotent. */
  ensurePublicRoom(input: { id: string; name: string }): Promise<void>;
  /** Resolves when the backend answers a trivial query; used by /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Create an account. Throws {@link StorageConflictError} if the nickname is taken (any case). */
  createUser(input: { nickname: string; passwordHash: string }): Promise<UserRecord>;
  /** Find an account by nickname, case-insensitively. */
  findUserByNickname(nickname: string): Promise<UserRecord | null>;
  getUser(id: string): Promise<User | null>;
  /** Replace an account's password hash (a re-hash with new parameters at sign-in). */
  updatePasswordHash(userId: string, passwordHash: string): Promise<void>;
  /** Users whose nickname contains `query` (case-insensitive), by nickname, at most `limit`. */
  searchUsers(query: string, limit: number): Promise<User[]>;

  createSession(input: { id: string; userId: string; tokenHash: string; expiresAt: number }): Promise<void>;
  /** A live (not expired) session by the hash of its token. */
  findSession(tokenHash: string, now: number): Promise<SessionRecord | null>;
  deleteSession(tokenHash: string): Promise<SessionRecord | null>;
  /** Delete every session of a user ("sign out everywhere"); returns how many were deleted. */
  deleteUserSessions(userId: string): Promise<number>;
  /** Delete the sessions that expired at or before `now`; returns how many were deleted. */
  deleteExpiredSessions(now: number): Promise<number>;

  /** Create a public room. Throws {@link StorageConflictError} if the name is taken (any case). */
  createRoom(input: { name: string; createdBy: string }): Promise<RoomRecord>;
  getRoom(id: string): Promise<RoomRecord | null>;
  /** The last seq and version of each of these rooms that exists (any order). */
  getRoomHeads(roomIds: readonly string[]): Promise<RoomHead[]>;
  /**
   * The DM room `id` of two users, created with both as members on first use (one transaction:
   * the room and its memberships appear together). The id scheme is the domain's (RoomService).
   */
  getOrCreateDmRoom(id: string, members: readonly [string, string]): Promise<RoomRecord>;
  /** Public rooms whose name contains `query` (case-insensitive), with member counts. */
  listPublicRooms(query: string, userId: string, limit: number): Promise<RoomListing[]>;

  /** Add a member (with `role`, `member` by default); returns false if they already were one. */
  addMember(roomId: string, userId: string, role?: RoomRole): Promise<boolean>;
  /** Remove a member; returns false if they were not one. */
  removeMember(roomId: string, userId: string): Promise<boolean>;
  isMember(roomId: string, userId: string): Promise<boolean>;
  /** A room's members with their roles, by nickname. */
  listMembers(roomId: string): Promise<MemberRecord[]>;
  listRoomIdsForUser(userId: string): Promise<string[]>;
  /** The user's view of every room they are a member of (read position, unread and mention counts). */
  listRoomSummaries(userId: string): Promise<RoomSummary[]>;
  getRoomSummary(roomId: string, userId: string): Promise<RoomSummary | null>;

  /**
   * Store a message, assigning the room's next seq and the commit time. Idempotent on
   * (authorId, clientId): if that pair is stored already, returns the stored message with
   * `created: false` and stores nothing. Resolves only after the message is durable.
   */
  appendMessage(input: NewMessage): Promise<{ message: Message; created: boolean }>;
  /**
   * A page of a room's history (see `messages:fetch`): ascending by seq, or by version for
   * `changedSince`. `version` is the room's `last_version` read in the same snapshot as the page.
   */
  getMessages(roomId: string, query: PageQuery): Promise<{ messages: Message[]; hasMore: boolean; version: number }>;
  /** One message by id, in its current state (reactions, reply preview), or null. */
  getMessage(messageId: string): Promise<Message | null>;
  /**
   * Replace a message's body and mentions, as one change (next room version, `edited_at` = commit
   * time) — unless the body was changed by an edit after `baseVersion` (`conflict`), the message is
   * deleted (`deleted`), or the body is already `body` (`unchanged`: the retry of an applied edit).
   * The check and the write are one transaction, so two concurrent edits from the same base cannot
   * both apply. Null if no such message.
   */
  editMessage(input: { messageId: string; body: string; mentions: string[]; baseVersion: number }): Promise<ChangeResult | null>;
  /**
   * Delete a message as one change: body "" and mentions and reactions removed, `deleted_at` set,
   * `deletedBy` recorded (a moderator other than the author makes it `removedByModerator`), the seq
   * kept. `unchanged` if it was deleted already. Null if no such message.
   */
  deleteMessage(messageId: string, deletedBy: string): Promise<ChangeResult | null>;
  /**
   * Set or clear `userId`'s reaction `emoji` as one change. `unchanged` when it already was so
   * (clearing one on a deleted message included), `deleted` when setting one on a deleted message,
   * `limit` when setting a new emoji would exceed `maxDistinct` distinct emoji on the message.
   * Emoji come in the order of their first use among the reactions still set, users in the order
   * they reacted. Null if no such message.
   */
  setReaction(input: { messageId: string; userId: string; emoji: string; on: boolean; maxDistinct: number }): Promise<ChangeResult | null>;
  /** Move a member's read position forward to `seq` (never back, never past lastSeq); returns it. */
  setLastRead(roomId: string, userId: string, seq: number): Promise<number>;

  /**
   * Text messages, not deleted, of the rooms `userId` is a member of, whose current body matches
   * every term (`matchesAll` in @parley/shared: the reference both backends must agree with), and
   * the filters; newest first by commit order (an edit keeps a message's place); at most `limit`.
   * `nextCursor` (opaque, digits) continues after the last one; null when there are no more.
   */
  searchMessages(query: SearchQuery): Promise<{ messages: Message[]; nextCursor: string | null }>;

  /**
   * Record an upload (ADR 0014). Idempotent on (uploaderId, uploadId): if that pair is stored
   * already, returns the stored one with `created: false` and stores nothing.
   */
  createAttachment(input: NewAttachment): Promise<{ attachment: AttachmentRecord; created: boolean }>;
  /** An upload by its idempotency key, or null. */
  findUpload(uploaderId: string, uploadId: string): Promise<AttachmentRecord | null>;
  getAttachment(id: string): Promise<AttachmentRecord | null>;
  /** Bytes `uploaderId` uploaded after `since` (ms), files and avatars, for the daily quota. */
  uploadedBytesSince(uploaderId: string, since: number): Promise<number>;

  // Moderation (ADR 0016). The rules (who may do what) are the domain's; these only store.
  /** A member's role in a room, or null when not a member. */
  getRole(roomId: string, userId: string): Promise<RoomRole | null>;
  /** Set a member's role; false when not a member. */
  setRole(roomId: string, userId: string, role: RoomRole): Promise<boolean>;
  /** Owners and moderators of a room (user ids). */
  listStaffIds(roomId: string): Promise<string[]>;
  /** Rooms where the user is an owner or moderator. */
  listModeratedRoomIds(userId: string): Promise<string[]>;
  /**
   * Change a public room's name, topic or invite-only flag (what is given). Throws
   * {@link StorageConflictError} when the new name is taken. Null if no such public room.
   */
  updateRoom(roomId: string, patch: { name?: string; topic?: string; inviteOnly?: boolean }): Promise<RoomRecord | null>;
  /**
   * Ban a user from a room and end their membership, in one transaction. Idempotent: `created` is
   * false when they were banned already (the first ban and its reason stay). `wasMember`: a
   * membership ended.
   */
  banUser(input: { roomId: string; userId: string; bannedBy: string; reason: string }): Promise<{ created: boolean; wasMember: boolean }>;
  /** Lift a ban; false when there was none. */
  unbanUser(roomId: string, userId: string): Promise<boolean>;
  isBanned(roomId: string, userId: string): Promise<boolean>;
  /** A room's bans, newest first. */
  listBans(roomId: string): Promise<Ban[]>;
  /** `userId` hides (`on`) or shows again `mutedId`'s messages, for themselves. Idempotent. */
  setMute(userId: string, mutedId: string, on: boolean): Promise<void>;
  /** Whom `userId` muted, in the order they did. */
  listMutedIds(userId: string): Promise<string[]>;
  /**
   * File a report. Idempotent on (messageId, reporterId): a repeat returns the first report with
   * `created: false`.
   */
  createReport(input: { roomId: string; messageId: string; reporterId: string; reason: string }): Promise<{ report: ReportRecord; created: boolean }>;
  getReport(id: string): Promise<ReportRecord | null>;
  /** Reports newest first: of these rooms (null: every room), open or resolved (undefined: both). */
  listReports(filter: { roomIds: readonly string[] | null; resolved?: boolean; limit: number }): Promise<ReportRecord[]>;
  /** Mark a report resolved (the first resolution stays). Null if no such report. */
  resolveReport(id: string, resolvedBy: string): Promise<ReportRecord | null>;
  /** Record a moderation action. */
  appendAudit(entry: NewAuditEntry): Promise<void>;
  /** A room's audit entries, newest first. */
  listAudit(roomId: string, limit: number): Promise<AuditEntry[]>;
  /** The first account ever created (an admin, ADR 0016), or null when there is none. */
  firstUserId(): Promise<string | null>;
  /**
   * Deactivate (`at`) or reactivate (null) an account. A deactivated account's sessions stop
   * authenticating at once (findSession skips them). False if no such user.
   */
  setDeactivated(userId: string, at: number | null): Promise<boolean>;

  // ---- Profiles, last seen, notification levels (issue 14) ---------------------------------
  /** The profiles of these users that exist (any order). */
  getProfiles(userIds: readonly string[]): Promise<Profile[]>;
  /**
   * `userId`'s own profile and, at most `limit` in all, the profiles of users sharing a room with
   * them who set anything: a display name, a status, an avatar or an availability other than online.
   */
  listProfilesForSync(userId: string, limit: number): Promise<Profile[]>;
  /** Apply a patch (undefined keeps a field, null clears a text); the new profile, null if no such user. */
  updateProfile(userId: string, patch: ProfilePatch): Promise<Profile | null>;
  /**
   * Replace (or with null remove) a user's avatar. A new one's upload is counted for the daily
   * quota (`uploadBytes` at `at`). The new profile, null if no such user.
   */
  setAvatar(userId: string, avatar: (AvatarRecord & { uploadBytes: number; at: number }) | null): Promise<Profile | null>;
  /** A user's current avatar, null without one (or no such user). */
  getAvatar(userId: string): Promise<AvatarRecord | null>;
  /** Record when the user was last seen (their last socket went away). */
  setLastSeen(userId: string, at: number): Promise<void>;
  /** Set a member's notification level in a room; false if they are not a member. */
  setNotifyLevel(roomId: string, userId: string, level: NotifyLevel): Promise<boolean>;
}

/** A member of a room and their role. */
export interface MemberRecord extends User {
  role: RoomRole;
}

/** A report as stored: the domain adds the message (in its current state). */
export interface ReportRecord {
  id: string;
  roomId: string;
  /** "" for a DM. */
  roomName: string;
  messageId: string;
  reporter: UserRef;
  reason: string;
  createdAt: number;
  resolvedAt: number | null;
  resolvedBy: UserRef | null;
}

export interface NewAuditEntry {
  roomId: string | null;
  actorId: string;
  action: AuditAction;
  targetId: string | null;
  messageId: string | null;
  /** Details as JSON text ("{}" when none). */
  detail: string;
}

/** An upload as the storage keeps it: what readers see, and what the file routes need. */
export interface AttachmentRecord extends Attachment {
  uploaderId: string;
  /** The client's idempotency key of the upload. */
  uploadId: string;
  /** The room it was uploaded into; only a message of that room can carry it. */
  roomId: string;
  /** The stored file's blob (an image's metadata-free copy). */
  blobHash: string;
  /** An image's thumbnail blob; null for other files. */
  thumbHash: string | null;
  /** Bytes the uploader sent (what the daily quota counts). */
  uploadBytes: number;
  createdAt: number;
  /** The message that carries it; null until a send claims it. */
  messageId: string | null;
  /** The message that carries it was deleted (its files are no longer served). */
  messageDeleted: boolean;
}

export type NewAttachment = Omit<AttachmentRecord, "messageId" | "messageDeleted">;

export interface SearchQuery {
  userId: string;
  /** Trimmed, non-empty, at most SEARCH_TERMS_MAX; may be empty when a filter is given. */
  terms: readonly string[];
  /** Only this room (the caller checked membership). */
  roomId: string | null;
  /** Only messages by this author. */
  authorId: string | null;
  /** created_at >= after (ms). */
  after: number | null;
  /** created_at < before (ms). */
  before: number | null;
  /** Only messages carrying files. */
  hasFile: boolean;
  /** A `nextCursor` from the previous page. */
  cursor: string | null;
  limit: number;
}

export interface UserRecord extends User {
  passwordHash: string;
  /** When an admin deactivated the account; null while active. */
  deactivatedAt: number | null;
}

export interface SessionRecord {
  id: string;
  userId: string;
  expiresAt: number;
}

export interface RoomRecord {
  id: string;
  kind: RoomKind;
  name: string;
  createdAt: number;
  lastSeq: number;
  lastVersion: number;
  /** "" when none (always for DMs). */
  topic: string;
  inviteOnly: boolean;
}

/**
 * The outcome of a change to a message and the message as stored afterwards (its new state when
 * `changed`, its current state otherwise). Only `changed` took a version.
 */
export interface ChangeResult {
  outcome: "changed" | "unchanged" | "conflict" | "deleted" | "limit";
  message: Message;
}

export interface NewMessage {
  roomId: string;
  authorId: string;
  /** Null for server-written notices (join/leave), which are not idempotent sends. */
  clientId: string | null;
  kind: MessageKind;
  body: string;
  mentions: string[];
  /** The message this one replies to (same room; checked by the domain). */
  replyToId?: string | null;
  /**
   * Uploads this message carries, in order: each must be the author's, of this room, and on no
   * message yet; they are claimed in the message's own transaction, so a file is on one message
   * only. Otherwise nothing is stored and appendMessage throws {@link AttachmentClaimError}. A
   * retry of a stored send returns the stored message without claiming anything.
   */
  attachmentIds?: readonly string[];
}

export type PageQuery =
  | { afterSeq: number; limit: number }
  | { beforeSeq: number; limit: number }
  /** About `limit` messages centred on `aroundSeq` (half before, the rest from it on); hasMore = newer exist. */
  | { aroundSeq: number; limit: number }
  /** Messages with version > changedSince, ascending by version. */
  | { changedSince: number; limit: number }
  | { latest: true; limit: number };

/** An attachment of a new message could not be claimed (see NewMessage.attachmentIds). */
export class AttachmentClaimError extends Error {
  constructor(readonly attachmentId: string) {
    super(`attachment ${attachmentId} is not an unclaimed upload of the author into this room`);
    this.name = "AttachmentClaimError";
  }
}

/** A uniqueness rule was broken (nickname, room name). */
export class StorageConflictError extends Error {
  constructor(readonly what: "nickname" | "room_name") {
    super(`${what} already exists`);
    this.name = "StorageConflictError";
  }
}
