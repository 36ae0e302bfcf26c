import { randomUUID } from "node:crypto";
import {
  LIMITS,
  type Attachment,
  type AuditEntry,
  type Ban,
  type Message,
  type Reaction,
  type ReplyPreview,
  type RoomHead,
  type RoomListing,
  type RoomRole,
  type RoomSummary,
  type User,
} from "@parley/shared";
import { nameKey } from "./keys.js";
import type { AttachmentRecord, MemberRecord, NewAttachment, ReportRecord, RoomRecord, SessionRecord, UserRecord } from "./storage.js";

/**
 * Row shapes and their mapping to domain objects, shared by the SQLite and PostgreSQL storages:
 * both schemas use the same column names, so each mapping is written once.
 */

export interface UserRow {
  id: string;
  nickname: string;
  created_at: number;
}

export interface RoomRow {
  id: string;
  kind: "public" | "dm";
  name: string;
  created_at: number;
  last_seq: number;
  last_version: number;
  topic: string;
  invite_only: number;
}

/**
 * A message row as {@link MESSAGE_SELECT} reads it: the message's own columns, with `mentions`
 * already decoded (SQLite stores it as JSON text, PostgreSQL as an array), and the `reply_*`
 * columns of the message it replies to (all null when it is not a reply, or the original is gone).
 */
export interface MessageRow {
  id: string;
  room_id: string;
  seq: number;
  kind: Message["kind"];
  author_id: string;
  author_nickname: string;
  client_id: string | null;
  body: string;
  created_at: number;
  mentions: string[];
  version: number;
  edited_at: number | null;
  deleted_at: number | null;
  /** Who deleted it (its author or a moderator); null if not deleted, or deleted before migration 6. */
  deleted_by: string | null;
  reply_to_id: string | null;
  /** JSON of the message's Attachment[] as claimed when it was stored; null without files. */
  attachments: string | null;
  reply_id: string | null;
  reply_seq: number | null;
  reply_author_id: string | null;
  reply_author_nickname: string | null;
  /** At most the first LIMITS.replyExcerptMax characters of the original's body (see REPLY_BODY_SQL). */
  reply_body: string | null;
  reply_deleted_at: number | null;
}

/** What a change to a message decides on: the message's stored state, with its body version. */
export interface ChangeTargetRow {
  id: string;
  room_id: string;
  seq: number;
  body: string;
  deleted_at: number | null;
  body_version: number;
}

/** The columns of {@link ChangeTargetRow}. */
export const CHANGE_TARGET_COLUMNS = "id, room_id, seq, body, deleted_at, body_version";

/** One user's reaction, as the page reactions query reads it: by message, then in the order given. */
export interface ReactionRow {
  seq: number;
  emoji: string;
  user_id: string;
  nickname: string;
}

/** One user's view of a room, as both backends' summary query selects it. */
export interface SummaryRow {
  id: string;
  kind: "public" | "dm";
  name: string;
  last_seq: number;
  last_version: number;
  last_activity_at: number;
  last_read_seq: number;
  notify_level: RoomSummary["notifyLevel"];
  member_count: number;
  peer_id: string | null;
  peer_nickname: string | null;
  unread_count: number;
  mention_count: number;
  role: RoomRole;
  topic: string;
  invite_only: number;
}

export const toUser = (r: UserRow): User => ({ id: r.id, nickname: r.nickname, createdAt: r.created_at });

export const toRoom = (r: RoomRow): RoomRecord => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  createdAt: r.created_at,
  lastSeq: r.last_seq,
  lastVersion: r.last_version,
  topic: r.topic,
  inviteOnly: r.invite_only === 1,
});

/**
 * The first line of a body, cut to LIMITS.replyExcerptMax UTF-16 code units (the unit of every
 * other length limit in the protocol). A cut that would split a surrogate pair drops its first
 * half instead, so the excerpt is always well-formed text.
 */
export function replyExcerpt(body: string): string {
  const line = body.split("\n", 1)[0]!.replace(/\r$/, "");
  if (line.length <= LIMITS.replyExcerptMax) return line;
  const cut = line.slice(0, LIMITS.replyExcerptMax);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

function toReplyPreview(r: MessageRow): ReplyPreview | null {
  if (r.reply_id === null) return null;
  const deleted = r.reply_deleted_at !== null;
  return {
    id: r.reply_id,
    seq: r.reply_seq!,
    authorId: r.reply_author_id!,
    authorNickname: r.reply_author_nickname!,
    excerpt: deleted ? "" : replyExcerpt(r.reply_body ?? ""),
    deleted,
  };
}

/** A message from its row and its reactions (see {@link groupReactions}). */
export const toMessage = (r: MessageRow, reactions: Reaction[] = []): Message => ({
  id: r.id,
  roomId: r.room_id,
  seq: r.seq,
  kind: r.kind,
  authorId: r.author_id,
  authorNickname: r.author_nickname,
  clientId: r.client_id,
  body: r.body,
  createdAt: r.created_at,
  mentions: r.mentions,
  version: r.version,
  editedAt: r.edited_at,
  deletedAt: r.deleted_at,
  removedByModerator: r.deleted_at !== null && r.deleted_by !== null && r.deleted_by !== r.author_id,
  reactions,
  replyTo: toReplyPreview(r),
  // A deleted message's files are no longer served (file.service.ts), so they are not shown either.
  attachments: r.attachments === null || r.deleted_at !== null ? [] : (JSON.parse(r.attachments) as Attachment[]),
});

/**
 * Reactions by message seq, from rows ordered by seq and then by the version each reaction was
 * set at. An emoji's group is created when its first row is seen, so the groups come in the order
 * each emoji was first used (among the reactions still set), and each group's users in the order
 * they reacted.
 */
export function groupReactions(rows: readonly ReactionRow[]): Map<number, Reaction[]> {
  const bySeq = new Map<number, Map<string, Reaction>>();
  for (const r of rows) {
    let groups = bySeq.get(r.seq);
    if (!groups) bySeq.set(r.seq, (groups = new Map()));
    let group = groups.get(r.emoji);
    if (!group) groups.set(r.emoji, (group = { emoji: r.emoji, users: [] }));
    group.users.push({ id: r.user_id, nickname: r.nickname });
  }
  return new Map([...bySeq].map(([seq, groups]) => [seq, [...groups.values()]]));
}

/** Messages from their rows and the rows of their reactions (one query for the whole page). */
export const toMessages = (rows: readonly MessageRow[], reactions: readonly ReactionRow[]): Message[] => {
  const grouped = groupReactions(reactions);
  return rows.map((r) => toMessage(r, grouped.get(r.seq) ?? []));
};

export function toSummary(r: SummaryRow): RoomSummary {
  return {
    id: r.id,
    kind: r.kind,
    name: r.kind === "dm" ? (r.peer_nickname ?? "") : r.name,
    peerId: r.kind === "dm" ? r.peer_id : null,
    memberCount: r.member_count,
    lastSeq: r.last_seq,
    lastVersion: r.last_version,
    lastReadSeq: r.last_read_seq,
    unreadCount: r.unread_count,
    mentionCount: r.mention_count,
    lastActivityAt: r.last_activity_at,
    role: r.role,
    topic: r.kind === "dm" ? "" : r.topic,
    inviteOnly: r.invite_only === 1,
    notifyLevel: r.notify_level,
  };
}

/** Columns selected for each row shape; both backends name them identically (see the migrations). */
export const USER_COLUMNS = "id, nickname, created_at";
export const USER_RECORD_COLUMNS = "id, nickname, password_hash, created_at, deactivated_at";
export const SESSION_COLUMNS = "id, user_id, expires_at";
export const ROOM_COLUMNS = "id, kind, name, created_at, last_seq, last_version, topic, invite_only";
/**
 * The column order of both backends' message INSERT. `body_version` (the version of the last body
 * change, for edit conflicts) is written but never read into a Message.
 */
export const MESSAGE_INSERT_COLUMNS =
  "id, room_id, seq, kind, author_id, author_nickname, client_id, body, created_at, mentions, version, body_version, reply_to_id, attachments";
/** A message's own columns of {@link MessageRow}, unqualified (for RETURNING). */
export const MESSAGE_COLUMNS =
  "id, room_id, seq, kind, author_id, author_nickname, client_id, body, created_at, mentions, version, edited_at, deleted_at, deleted_by, reply_to_id, attachments";
/**
 * How much of the original's body a reply reads: its excerpt is at most LIMITS.replyExcerptMax
 * UTF-16 units of the first line, which lie within as many characters (code points, the unit of
 * SQL's substr in both backends), so a 4000-character original costs no more than a short one.
 */
const REPLY_BODY_SQL = `substr(q.body, 1, ${LIMITS.replyExcerptMax})`;
/**
 * Every column of {@link MessageRow}, over {@link MESSAGE_FROM}: the message as `m`, the message it
 * replies to as `q` (a LEFT JOIN on the unique id, so a page costs one join, not a query per reply).
 */
export const MESSAGE_SELECT = `${MESSAGE_COLUMNS.split(", ")
  .map((c) => `m.${c}`)
  .join(", ")}, q.id AS reply_id, q.seq AS reply_seq, q.author_id AS reply_author_id,
  q.author_nickname AS reply_author_nickname, ${REPLY_BODY_SQL} AS reply_body, q.deleted_at AS reply_deleted_at`;
export const MESSAGE_FROM = "messages m LEFT JOIN messages q ON q.id = m.reply_to_id";

export interface UserRecordRow extends UserRow {
  password_hash: string;
  deactivated_at: number | null;
}

export interface SessionRow {
  id: string;
  user_id: string;
  expires_at: number;
}

export interface ListingRow {
  id: string;
  name: string;
  member_count: number;
  /** A boolean in PostgreSQL, 0 or 1 in SQLite. */
  is_member: boolean | number;
}

export const toUserRecord = (r: UserRecordRow): UserRecord => ({
  id: r.id,
  nickname: r.nickname,
  passwordHash: r.password_hash,
  createdAt: r.created_at,
  deactivatedAt: r.deactivated_at,
});

export const toSession = (r: SessionRow): SessionRecord => ({ id: r.id, userId: r.user_id, expiresAt: r.expires_at });

export const toListing = (r: ListingRow): RoomListing => ({
  id: r.id,
  name: r.name,
  memberCount: r.member_count,
  isMember: r.is_member === true || r.is_member === 1,
});

/** A new account, not yet stored: a fresh id, created at `createdAt`. */
export const newUserRecord = (input: { nickname: string; passwordHash: string }, createdAt: number): UserRecord => ({
  id: randomUUID(),
  nickname: input.nickname,
  passwordHash: input.passwordHash,
  createdAt,
  deactivatedAt: null,
});

/** The parameters of the shared `insertUser` statement, in its column order. */
export const userInsertValues = (u: UserRecord): [string, string, string, string, number] => [
  u.id,
  u.nickname,
  nameKey(u.nickname),
  u.passwordHash,
  u.createdAt,
];

/** A room's head (`getRoomHeads`): the same columns on both backends. */
export interface RoomHeadRow {
  id: string;
  last_seq: number | string;
  last_version: number | string;
}
export const toRoomHead = (r: RoomHeadRow): RoomHead => ({ roomId: r.id, seq: Number(r.last_seq), version: Number(r.last_version) });

/** Columns of an attachments row (both backends), read by {@link toAttachmentRecord}. */
export const ATTACHMENT_COLUMNS =
  "id, uploader_id, upload_id, room_id, name, size, content_type, kind, width, height, blob_hash, thumb_hash, upload_bytes, created_at, message_id";

export interface AttachmentRow {
  id: string;
  uploader_id: string;
  upload_id: string;
  room_id: string;
  name: string;
  size: number;
  content_type: string;
  kind: Attachment["kind"];
  width: number | null;
  height: number | null;
  blob_hash: string;
  thumb_hash: string | null;
  upload_bytes: number;
  created_at: number;
  message_id: string | null;
  /** Only where the query joins the claiming message: its deleted_at. */
  message_deleted_at?: number | null;
}

/** The part every reader of a message sees (what messages.attachments holds, in claim order). */
export const toAttachment = (r: AttachmentRow): Attachment => ({
  id: r.id,
  name: r.name,
  size: Number(r.size),
  contentType: r.content_type,
  kind: r.kind,
  width: r.width,
  height: r.height,
});

export const toAttachmentRecord = (r: AttachmentRow): AttachmentRecord => ({
  ...toAttachment(r),
  uploaderId: r.uploader_id,
  uploadId: r.upload_id,
  roomId: r.room_id,
  blobHash: r.blob_hash,
  thumbHash: r.thumb_hash,
  uploadBytes: Number(r.upload_bytes),
  createdAt: Number(r.created_at),
  messageId: r.message_id,
  messageDeleted: r.message_deleted_at !== null && r.message_deleted_at !== undefined,
});

/** The parameters of the shared `insertAttachment`, in ATTACHMENT_COLUMNS order. */
export const attachmentInsertValues = (a: NewAttachment): (string | number | null)[] => [
  a.id,
  a.uploaderId,
  a.uploadId,
  a.roomId,
  a.name,
  a.size,
  a.contentType,
  a.kind,
  a.width,
  a.height,
  a.blobHash,
  a.thumbHash,
  a.uploadBytes,
  a.createdAt,
];

/** A member of a room with their role (`listMembers`). */
export interface MemberRow extends UserRow {
  role: RoomRole;
}
export const toMemberRecord = (r: MemberRow): MemberRecord => ({ ...toUser(r), role: r.role });

/** A ban with both users' nicknames (`listBans`). */
export interface BanRow {
  user_id: string;
  nickname: string;
  banned_by: string;
  by_nickname: string;
  reason: string;
  created_at: number;
}
export const toBan = (r: BanRow): Ban => ({
  user: { id: r.user_id, nickname: r.nickname },
  bannedBy: { id: r.banned_by, nickname: r.by_nickname },
  reason: r.reason,
  createdAt: r.created_at,
});

/** A report with the names it shows (REPORT_SELECT in queries.ts). */
export interface ReportRow {
  id: string;
  room_id: string;
  room_name: string;
  room_kind: "public" | "dm";
  message_id: string;
  reporter_id: string;
  reporter_nickname: string;
  reason: string;
  created_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
  resolver_nickname: string | null;
}
export const toReportRecord = (r: ReportRow): ReportRecord => ({
  id: r.id,
  roomId: r.room_id,
  roomName: r.room_kind === "dm" ? "" : r.room_name,
  messageId: r.message_id,
  reporter: { id: r.reporter_id, nickname: r.reporter_nickname },
  reason: r.reason,
  createdAt: r.created_at,
  resolvedAt: r.resolved_at,
  resolvedBy: r.resolved_by === null ? null : { id: r.resolved_by, nickname: r.resolver_nickname ?? "" },
});

/** An audit row with the actor's and target's nicknames (`listAudit`). */
export interface AuditRow {
  n: number;
  room_id: string | null;
  actor_id: string;
  actor_nickname: string;
  action: string;
  target_id: string | null;
  target_nickname: string | null;
  message_id: string | null;
  detail: string;
  created_at: number;
}
export const toAuditEntry = (r: AuditRow): AuditEntry => ({
  id: String(r.n),
  roomId: r.room_id,
  actor: { id: r.actor_id, nickname: r.actor_nickname },
  // Written only by appendAudit, whose type is one of AUDIT_ACTIONS.
  action: r.action as AuditEntry["action"],
  target: r.target_id === null ? null : { id: r.target_id, nickname: r.target_nickname ?? "" },
  messageId: r.message_id,
  detail: r.detail,
  createdAt: r.created_at,
});
