import type { PageQuery } from "./storage.js";
import { MESSAGE_COLUMNS, ROOM_COLUMNS, SESSION_COLUMNS, USER_COLUMNS, USER_RECORD_COLUMNS } from "./rows.js";

/**
 * What differs between the SQL of the two backends in the queries they share. Everything else
 * (tables, columns, the shape of each query) is written once below.
 */
export interface Dialect {
  /**
   * The placeholder of the n-th parameter (1-based): `?` in SQLite, `$n` in PostgreSQL. SQLite's
   * `?` binds by position, so every shared query uses each parameter once and in order.
   */
  param(n: number): string;
  /**
   * A text sort key in byte order. PostgreSQL sorts text by the database's locale unless told
   * `COLLATE "C"`; SQLite's default (BINARY) already is byte order. So both backends list users and
   * rooms in the same order whatever the locale.
   */
  byteOrder(expr: string): string;
}

export const SQLITE_DIALECT: Dialect = { param: () => "?", byteOrder: (expr) => expr };
export const POSTGRES_DIALECT: Dialect = { param: (n) => `$${n}`, byteOrder: (expr) => `${expr} COLLATE "C"` };

/** The statements both backends run as they are, with the dialect's placeholders and sort keys. */
export interface SharedQueries {
  /** (id, nickname, nickname_key, password_hash, created_at) */
  insertUser: string;
  /** (nickname_key) -> UserRecordRow */
  userByNameKey: string;
  /** (id) -> UserRow */
  userById: string;
  /** (password_hash, id) */
  updatePasswordHash: string;
  /** (LIKE pattern, limit) -> UserRow[] */
  searchUsers: string;
  /** (id, user_id, token_hash, expires_at) */
  insertSession: string;
  /** (token_hash, now) -> SessionRow */
  liveSession: string;
  /** (token_hash) -> SessionRow */
  deleteSession: string;
  /** (user_id) */
  deleteUserSessions: string;
  /** (now) */
  deleteExpiredSessions: string;
  /** (id, name, name_key, created_by, created_at, last_activity_at) */
  insertPublicRoom: string;
  /** (id) -> RoomRow */
  roomById: string;
  /** (user id, LIKE pattern, limit) -> ListingRow[] */
  listPublicRooms: string;
  /** (room_id, user_id) */
  removeMember: string;
  /** (room_id, user_id) */
  isMember: string;
  /** (room_id) -> UserRow[] */
  listMembers: string;
  /** (user_id) -> { room_id }[] */
  roomIdsForUser: string;
  /** (user_id) -> SummaryRow[], most recent activity first */
  summaries: string;
  /** (user_id, room id) -> SummaryRow */
  summaryOfRoom: string;
  /** (author_id, client_id) -> MessageRow: a stored send, found by its idempotency key */
  messageByClientId: string;
}

/**
 * One user's view of rooms. Unread counts only what others wrote: your own messages (in any tab)
 * are read by definition.
 */
function summarySelect(d: Dialect): string {
  return `
  SELECT r.id, r.kind, r.name, r.last_seq, r.last_activity_at, m.last_read_seq,
    (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id) AS member_count,
    p.id AS peer_id, p.nickname AS peer_nickname,
    (SELECT COUNT(*) FROM messages x WHERE x.room_id = r.id AND x.seq > m.last_read_seq
       AND x.author_id <> m.user_id AND x.kind = 'text') AS unread_count,
    (SELECT COUNT(*) FROM mentions n WHERE n.user_id = m.user_id AND n.room_id = r.id
       AND n.seq > m.last_read_seq) AS mention_count
  FROM members m
  JOIN rooms r ON r.id = m.room_id
  LEFT JOIN members pm ON r.kind = 'dm' AND pm.room_id = r.id AND pm.user_id <> m.user_id
  LEFT JOIN users p ON p.id = pm.user_id
  WHERE m.user_id = ${d.param(1)}`;
}

/** Builds the shared statements once per backend. */
export function sharedQueries(d: Dialect): SharedQueries {
  const p = d.param;
  const summary = summarySelect(d);
  return {
    insertUser: `INSERT INTO users (id, nickname, nickname_key, password_hash, created_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})`,
    userByNameKey: `SELECT ${USER_RECORD_COLUMNS} FROM users WHERE nickname_key = ${p(1)}`,
    userById: `SELECT ${USER_COLUMNS} FROM users WHERE id = ${p(1)}`,
    updatePasswordHash: `UPDATE users SET password_hash = ${p(1)} WHERE id = ${p(2)}`,
    searchUsers: `SELECT ${USER_COLUMNS} FROM users WHERE nickname_key LIKE ${p(1)} ESCAPE '\\'
       ORDER BY ${d.byteOrder("lower(nickname)")}, ${d.byteOrder("nickname")} LIMIT ${p(2)}`,
    insertSession: `INSERT INTO sessions (id, user_id, token_hash, expires_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
    liveSession: `SELECT ${SESSION_COLUMNS} FROM sessions WHERE token_hash = ${p(1)} AND expires_at > ${p(2)}`,
    deleteSession: `DELETE FROM sessions WHERE token_hash = ${p(1)} RETURNING ${SESSION_COLUMNS}`,
    deleteUserSessions: `DELETE FROM sessions WHERE user_id = ${p(1)}`,
    deleteExpiredSessions: `DELETE FROM sessions WHERE expires_at <= ${p(1)}`,
    insertPublicRoom: `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_activity_at)
       VALUES (${p(1)}, 'public', ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)})`,
    roomById: `SELECT ${ROOM_COLUMNS} FROM rooms WHERE id = ${p(1)}`,
    listPublicRooms: `SELECT r.id, r.name,
         (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id) AS member_count,
         EXISTS (SELECT 1 FROM members m WHERE m.room_id = r.id AND m.user_id = ${p(1)}) AS is_member
       FROM rooms r WHERE r.kind = 'public' AND r.name_key LIKE ${p(2)} ESCAPE '\\'
       ORDER BY member_count DESC, ${d.byteOrder("lower(r.name)")}, ${d.byteOrder("r.name")} LIMIT ${p(3)}`,
    removeMember: `DELETE FROM members WHERE room_id = ${p(1)} AND user_id = ${p(2)}`,
    isMember: `SELECT 1 FROM members WHERE room_id = ${p(1)} AND user_id = ${p(2)}`,
    listMembers: `SELECT u.id, u.nickname, u.created_at FROM members m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = ${p(1)} ORDER BY ${d.byteOrder("lower(u.nickname)")}, ${d.byteOrder("u.nickname")}`,
    roomIdsForUser: `SELECT room_id FROM members WHERE user_id = ${p(1)}`,
    summaries: `${summary} ORDER BY r.last_activity_at DESC`,
    summaryOfRoom: `${summary} AND r.id = ${p(2)}`,
    messageByClientId: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE author_id = ${p(1)} AND client_id = ${p(2)}`,
  };
}

/** A `getMessages` query: its SQL and parameters, and whether its rows come newest first. */
export interface PageStatement {
  sql: string;
  params: (string | number)[];
  newestFirst: boolean;
}

/**
 * The query for one page of a room's history. It asks for one row more than the page holds: that
 * row tells whether there is more in that direction (see {@link toPage}).
 */
export function pageStatement(d: Dialect, roomId: string, query: PageQuery): PageStatement {
  const n = query.limit + 1;
  const from = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = ${d.param(1)}`;
  if ("afterSeq" in query) {
    return {
      sql: `${from} AND seq > ${d.param(2)} ORDER BY seq ASC LIMIT ${d.param(3)}`,
      params: [roomId, query.afterSeq, n],
      newestFirst: false,
    };
  }
  if ("beforeSeq" in query) {
    return {
      sql: `${from} AND seq < ${d.param(2)} ORDER BY seq DESC LIMIT ${d.param(3)}`,
      params: [roomId, query.beforeSeq, n],
      newestFirst: true,
    };
  }
  return { sql: `${from} ORDER BY seq DESC LIMIT ${d.param(2)}`, params: [roomId, n], newestFirst: true };
}

/** Turns the rows of a {@link pageStatement} into the page, ascending by seq, and `hasMore`. */
export function toPage<R, M>(rows: R[], limit: number, newestFirst: boolean, map: (row: R) => M): { messages: M[]; hasMore: boolean } {
  const page = rows.slice(0, limit);
  if (newestFirst) page.reverse();
  return { messages: page.map(map), hasMore: rows.length > limit };
}
