import { randomUUID } from "node:crypto";
import type { Message, RoomListing, RoomSummary, User } from "@parley/shared";
import { nameKey } from "./keys.js";
import type { RoomRecord, SessionRecord, UserRecord } from "./storage.js";

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
}

/** A message row with `mentions` already decoded (SQLite stores it as JSON text, PostgreSQL as an array). */
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
}

/** One user's view of a room, as both backends' summary query selects it. */
export interface SummaryRow {
  id: string;
  kind: "public" | "dm";
  name: string;
  last_seq: number;
  last_activity_at: number;
  last_read_seq: number;
  member_count: number;
  peer_id: string | null;
  peer_nickname: string | null;
  unread_count: number;
  mention_count: number;
}

export const toUser = (r: UserRow): User => ({ id: r.id, nickname: r.nickname, createdAt: r.created_at });

export const toRoom = (r: RoomRow): RoomRecord => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  createdAt: r.created_at,
  lastSeq: r.last_seq,
});

export const toMessage = (r: MessageRow): Message => ({
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
});

export function toSummary(r: SummaryRow): RoomSummary {
  return {
    id: r.id,
    kind: r.kind,
    name: r.kind === "dm" ? (r.peer_nickname ?? "") : r.name,
    peerId: r.kind === "dm" ? r.peer_id : null,
    memberCount: r.member_count,
    lastSeq: r.last_seq,
    lastReadSeq: r.last_read_seq,
    unreadCount: r.unread_count,
    mentionCount: r.mention_count,
    lastActivityAt: r.last_activity_at,
  };
}

/** Columns selected for each row shape; both backends name them identically (see the migrations). */
export const USER_COLUMNS = "id, nickname, created_at";
export const USER_RECORD_COLUMNS = "id, nickname, password_hash, created_at";
export const SESSION_COLUMNS = "id, user_id, expires_at";
export const ROOM_COLUMNS = "id, kind, name, created_at, last_seq";
/** Also the column order of both backends' message INSERT. */
export const MESSAGE_COLUMNS = "id, room_id, seq, kind, author_id, author_nickname, client_id, body, created_at, mentions";

export interface UserRecordRow extends UserRow {
  password_hash: string;
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
});

/** The parameters of the shared `insertUser` statement, in its column order. */
export const userInsertValues = (u: UserRecord): [string, string, string, string, number] => [
  u.id,
  u.nickname,
  nameKey(u.nickname),
  u.passwordHash,
  u.createdAt,
];
