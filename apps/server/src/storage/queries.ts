import type { PageQuery } from "./storage.js";
import { ATTACHMENT_COLUMNS, MESSAGE_FROM, MESSAGE_SELECT, ROOM_COLUMNS, SESSION_COLUMNS, USER_COLUMNS, USER_RECORD_COLUMNS } from "./rows.js";

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
  /**
   * `expr` is one of a list of seqs given as the n-th parameter, and that parameter's value. One
   * parameter for the whole list keeps one prepared statement whatever the page size: SQLite reads
   * a JSON array with `json_each`, PostgreSQL takes a BIGINT array.
   */
  inSeqList(expr: string, n: number): string;
  seqList(seqs: readonly number[]): unknown;
  /** Like inSeqList, for a list of ids (text). */
  inTextList(expr: string, n: number): string;
  textList(values: readonly string[]): unknown;
}

export const SQLITE_DIALECT: Dialect = {
  param: () => "?",
  byteOrder: (expr) => expr,
  inSeqList: (expr) => `${expr} IN (SELECT value FROM json_each(?))`,
  seqList: (seqs) => JSON.stringify(seqs),
  inTextList: (expr) => `${expr} IN (SELECT value FROM json_each(?))`,
  textList: (values) => JSON.stringify(values),
};
export const POSTGRES_DIALECT: Dialect = {
  param: (n) => `$${n}`,
  byteOrder: (expr) => `${expr} COLLATE "C"`,
  inSeqList: (expr, n) => `${expr} = ANY($${n}::bigint[])`,
  seqList: (seqs) => seqs,
  inTextList: (expr, n) => `${expr} = ANY($${n}::text[])`,
  textList: (values) => values,
};

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
  /** (id) -> MessageRow */
  messageById: string;
  /** (room_id) -> { last_version } */
  roomVersion: string;
  /**
   * (room_id, seq list) -> ReactionRow[]: the reactions of a page of messages, one query for the
   * page, ordered by message and then by the version each reaction was set at (see groupReactions).
   */
  reactionsOf: string;
  /** (room_id, seq) -> { emoji }[]: the distinct emoji on one message, for the limit check */
  emojiOf: string;
  /** (room_id, seq, emoji, user_id) -> 1 if that reaction is set */
  hasReaction: string;
  // The writes of a change, one statement each. SQLite runs them as they are; PostgreSQL writes a
  // change in one statement with its version instead (a round trip per statement would be spent
  // holding the room's row lock; see `versioned` in postgres-storage.ts).
  /** (room_id, seq, emoji, user_id, created_at, version) */
  insertReaction: string;
  /** (room_id, seq, emoji, user_id) */
  deleteReaction: string;
  /** (room_id, seq) */
  deleteReactionsOf: string;
  /** (room_id, seq) */
  deleteMentionsOf: string;
  /**
   * (room_id) -> { last_version }: takes the room's next version, in the transaction of the change
   * it versions, so a change that rolls back gives its version back (no gap).
   */
  nextVersion: string;
  /** (version, room_id, seq): a reaction change is the message's latest change */
  touchMessage: string;
  /**
   * (every ATTACHMENT_COLUMNS but message_id, in order, see attachmentInsertValues): a new upload,
   * not on a message yet; nothing when its (uploader_id, upload_id) is stored already
   */
  insertAttachment: string;
  /** (uploader_id, upload_id) -> AttachmentRow with message_deleted_at */
  attachmentByUpload: string;
  /** (id) -> AttachmentRow with message_deleted_at */
  attachmentById: string;
  /**
   * (message_id, id, uploader_id, room_id) -> AttachmentRow, or no row when the attachment is not
   * that uploader's, not of that room, or already on a message: a send claims its files with it.
   */
  claimAttachment: string;
  /** (uploader_id, since, uploader_id, since) -> { bytes }: what a user uploaded (files and avatars) since a time, for the daily quota */
  uploadedBytesSince: string;
  // Moderation (ADR 0016).
  /** (room_id, user_id) -> { role } */
  roleOf: string;
  /** (role, room_id, user_id) */
  setRole: string;
  /** (room_id) -> { user_id }[]: owners and moderators */
  staffOf: string;
  /** (user_id) -> { room_id }[]: rooms the user owns or moderates */
  moderatedRoomIds: string;
  /**
   * (name or null, name_key or null, topic or null, invite_only or null, id) -> RoomRow: what is
   * not null changes; public rooms only
   */
  updateRoom: string;
  /** (room_id, user_id) -> 1 if banned */
  isBanned: string;
  /** (room_id, user_id) */
  unban: string;
  /** (room_id) -> BanRow[], newest first */
  listBans: string;
  /** (user_id, muted_id, created_at): nothing if muted already */
  insertMute: string;
  /** (user_id, muted_id) */
  deleteMute: string;
  /** (user_id) -> { muted_id }[] */
  mutedIds: string;
  /** (id, room_id, message_id, reporter_id, reason, created_at): nothing if this reporter reported it already */
  insertReport: string;
  /** (message_id, reporter_id) -> ReportRow */
  reportByReporter: string;
  /** (id) -> ReportRow */
  reportById: string;
  /** (resolved_at, resolved_by, id): only an open report */
  resolveReport: string;
  /** (room_id, actor_id, action, target_id, message_id, detail, created_at) */
  insertAudit: string;
  /** (room_id, limit) -> AuditRow[], newest first */
  listAudit: string;
  /** (deactivated_at, id) */
  setDeactivated: string;
}

/** A report with its room's and users' names (ReportRow). */
const REPORT_SELECT = `SELECT r.id, r.room_id, rm.name AS room_name, rm.kind AS room_kind, r.message_id, r.reporter_id,
    ru.nickname AS reporter_nickname, r.reason, r.created_at, r.resolved_at, r.resolved_by, vu.nickname AS resolver_nickname
  FROM reports r JOIN rooms rm ON rm.id = r.room_id JOIN users ru ON ru.id = r.reporter_id LEFT JOIN users vu ON vu.id = r.resolved_by`;

/**
 * `listReports`: newest first, of some rooms (`byRooms`: the first parameter is the list) or all,
 * open, resolved or both; the limit is the last parameter.
 */
export function reportsQuery(d: Dialect, filter: { byRooms: boolean; resolved: boolean | undefined }): string {
  const where: string[] = [];
  let n = 1;
  if (filter.byRooms) where.push(d.inTextList("r.room_id", n++));
  if (filter.resolved !== undefined) where.push(filter.resolved ? "r.resolved_at IS NOT NULL" : "r.resolved_at IS NULL");
  return `${REPORT_SELECT} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY r.created_at DESC, r.id LIMIT ${d.param(n)}`;
}

/**
 * One user's view of rooms. The unread columns are the SQL of the shared rule `countsAsUnread`
 * (packages/shared/src/domain/unread.ts: others' text messages, not deleted, not by someone the
 * reader muted), which the contract suite checks them against; a deleted message's mentions rows
 * are removed with it, so the mention count follows `countsAsUnreadMention`.
 */
function summarySelect(d: Dialect): string {
  return `
  SELECT r.id, r.kind, r.name, r.last_seq, r.last_version, r.last_activity_at, m.last_read_seq, m.role, r.topic, r.invite_only, m.notify_level,
    (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id) AS member_count,
    p.id AS peer_id, p.nickname AS peer_nickname,
    (SELECT COUNT(*) FROM messages x WHERE x.room_id = r.id AND x.seq > m.last_read_seq
       AND x.author_id <> m.user_id AND x.kind = 'text' AND x.deleted_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM mutes mu WHERE mu.user_id = m.user_id AND mu.muted_id = x.author_id)) AS unread_count,
    (SELECT COUNT(*) FROM mentions n WHERE n.user_id = m.user_id AND n.room_id = r.id
       AND n.seq > m.last_read_seq
       AND NOT EXISTS (SELECT 1 FROM messages y JOIN mutes mu ON mu.muted_id = y.author_id
         WHERE y.room_id = n.room_id AND y.seq = n.seq AND mu.user_id = n.user_id)) AS mention_count
  FROM members m
  JOIN rooms r ON r.id = m.room_id
  LEFT JOIN members pm ON r.kind = 'dm' AND pm.room_id = r.id AND pm.user_id <> m.user_id
  LEFT JOIN users p ON p.id = pm.user_id
  WHERE m.user_id = ${d.param(1)}`;
}

/** An attachment with whether the message that claimed it was deleted since. */
const attachmentSelect = `SELECT ${ATTACHMENT_COLUMNS.split(", ")
  .map((c) => `a.${c}`)
  .join(", ")}, m.deleted_at AS message_deleted_at FROM attachments a LEFT JOIN messages m ON m.id = a.message_id`;

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
    // A deactivated account's sessions stop working at once, even one created in a race with the
    // deactivation (ADR 0016).
    liveSession: `SELECT ${SESSION_COLUMNS.split(", ")
      .map((c) => `s.${c}`)
      .join(", ")} FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ${p(1)} AND s.expires_at > ${p(2)} AND u.deactivated_at IS NULL`,
    deleteSession: `DELETE FROM sessions WHERE token_hash = ${p(1)} RETURNING ${SESSION_COLUMNS}`,
    deleteUserSessions: `DELETE FROM sessions WHERE user_id = ${p(1)}`,
    deleteExpiredSessions: `DELETE FROM sessions WHERE expires_at <= ${p(1)}`,
    insertPublicRoom: `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_activity_at)
       VALUES (${p(1)}, 'public', ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)})`,
    roomById: `SELECT ${ROOM_COLUMNS} FROM rooms WHERE id = ${p(1)}`,
    // Invite-only rooms are listed only to their members.
    listPublicRooms: `SELECT * FROM (SELECT r.id, r.name, r.invite_only,
         (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id) AS member_count,
         EXISTS (SELECT 1 FROM members m WHERE m.room_id = r.id AND m.user_id = ${p(1)}) AS is_member
       FROM rooms r WHERE r.kind = 'public' AND r.name_key LIKE ${p(2)} ESCAPE '\\') AS r
       WHERE r.invite_only = 0 OR r.is_member
       ORDER BY member_count DESC, ${d.byteOrder("lower(r.name)")}, ${d.byteOrder("r.name")} LIMIT ${p(3)}`,
    removeMember: `DELETE FROM members WHERE room_id = ${p(1)} AND user_id = ${p(2)}`,
    isMember: `SELECT 1 FROM members WHERE room_id = ${p(1)} AND user_id = ${p(2)}`,
    listMembers: `SELECT u.id, u.nickname, u.created_at, m.role FROM members m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = ${p(1)} ORDER BY ${d.byteOrder("lower(u.nickname)")}, ${d.byteOrder("u.nickname")}`,
    roomIdsForUser: `SELECT room_id FROM members WHERE user_id = ${p(1)}`,
    summaries: `${summary} ORDER BY r.last_activity_at DESC`,
    summaryOfRoom: `${summary} AND r.id = ${p(2)}`,
    messageByClientId: `SELECT ${MESSAGE_SELECT} FROM ${MESSAGE_FROM} WHERE m.author_id = ${p(1)} AND m.client_id = ${p(2)}`,
    messageById: `SELECT ${MESSAGE_SELECT} FROM ${MESSAGE_FROM} WHERE m.id = ${p(1)}`,
    roomVersion: `SELECT last_version FROM rooms WHERE id = ${p(1)}`,
    reactionsOf: `SELECT x.seq, x.emoji, x.user_id, u.nickname FROM reactions x JOIN users u ON u.id = x.user_id
       WHERE x.room_id = ${p(1)} AND ${d.inSeqList("x.seq", 2)} ORDER BY x.seq, x.version`,
    emojiOf: `SELECT DISTINCT emoji FROM reactions WHERE room_id = ${p(1)} AND seq = ${p(2)}`,
    hasReaction: `SELECT 1 FROM reactions WHERE room_id = ${p(1)} AND seq = ${p(2)} AND emoji = ${p(3)} AND user_id = ${p(4)}`,
    insertReaction: `INSERT INTO reactions (room_id, seq, emoji, user_id, created_at, version)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)})`,
    deleteReaction: `DELETE FROM reactions WHERE room_id = ${p(1)} AND seq = ${p(2)} AND emoji = ${p(3)} AND user_id = ${p(4)}`,
    deleteReactionsOf: `DELETE FROM reactions WHERE room_id = ${p(1)} AND seq = ${p(2)}`,
    deleteMentionsOf: `DELETE FROM mentions WHERE room_id = ${p(1)} AND seq = ${p(2)}`,
    nextVersion: `UPDATE rooms SET last_version = last_version + 1 WHERE id = ${p(1)} RETURNING last_version`,
    touchMessage: `UPDATE messages SET version = ${p(1)} WHERE room_id = ${p(2)} AND seq = ${p(3)}`,
    insertAttachment: `INSERT INTO attachments (${ATTACHMENT_COLUMNS.replace(", message_id", "")})
       VALUES (${Array.from({ length: 14 }, (_, i) => p(i + 1)).join(", ")}) ON CONFLICT DO NOTHING`,
    attachmentByUpload: `${attachmentSelect} WHERE a.uploader_id = ${p(1)} AND a.upload_id = ${p(2)}`,
    attachmentById: `${attachmentSelect} WHERE a.id = ${p(1)}`,
    claimAttachment: `UPDATE attachments SET message_id = ${p(1)}
       WHERE id = ${p(2)} AND uploader_id = ${p(3)} AND room_id = ${p(4)} AND message_id IS NULL RETURNING ${ATTACHMENT_COLUMNS}`,
    // Avatars (issue 14) count against the same daily quota as files.
    uploadedBytesSince: `SELECT (SELECT COALESCE(SUM(upload_bytes), 0) FROM attachments WHERE uploader_id = ${p(1)} AND created_at > ${p(2)})
       + (SELECT COALESCE(SUM(upload_bytes), 0) FROM avatar_uploads WHERE user_id = ${p(3)} AND created_at > ${p(4)}) AS bytes`,
    roleOf: `SELECT role FROM members WHERE room_id = ${p(1)} AND user_id = ${p(2)}`,
    setRole: `UPDATE members SET role = ${p(1)} WHERE room_id = ${p(2)} AND user_id = ${p(3)}`,
    staffOf: `SELECT user_id FROM members WHERE room_id = ${p(1)} AND role <> 'member'`,
    moderatedRoomIds: `SELECT room_id FROM members WHERE user_id = ${p(1)} AND role <> 'member'`,
    updateRoom: `UPDATE rooms SET name = COALESCE(${p(1)}, name), name_key = COALESCE(${p(2)}, name_key),
         topic = COALESCE(${p(3)}, topic), invite_only = COALESCE(${p(4)}, invite_only)
       WHERE id = ${p(5)} AND kind = 'public' RETURNING ${ROOM_COLUMNS}`,
    isBanned: `SELECT 1 FROM bans WHERE room_id = ${p(1)} AND user_id = ${p(2)}`,
    unban: `DELETE FROM bans WHERE room_id = ${p(1)} AND user_id = ${p(2)}`,
    listBans: `SELECT b.user_id, u.nickname, b.banned_by, a.nickname AS by_nickname, b.reason, b.created_at
       FROM bans b JOIN users u ON u.id = b.user_id JOIN users a ON a.id = b.banned_by
       WHERE b.room_id = ${p(1)} ORDER BY b.created_at DESC, ${d.byteOrder("u.nickname")}`,
    insertMute: `INSERT INTO mutes (user_id, muted_id, created_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}) ON CONFLICT DO NOTHING`,
    deleteMute: `DELETE FROM mutes WHERE user_id = ${p(1)} AND muted_id = ${p(2)}`,
    mutedIds: `SELECT muted_id FROM mutes WHERE user_id = ${p(1)} ORDER BY created_at, muted_id`,
    insertReport: `INSERT INTO reports (id, room_id, message_id, reporter_id, reason, created_at)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}) ON CONFLICT DO NOTHING`,
    reportByReporter: `${REPORT_SELECT} WHERE r.message_id = ${p(1)} AND r.reporter_id = ${p(2)}`,
    reportById: `${REPORT_SELECT} WHERE r.id = ${p(1)}`,
    resolveReport: `UPDATE reports SET resolved_at = ${p(1)}, resolved_by = ${p(2)} WHERE id = ${p(3)} AND resolved_at IS NULL`,
    insertAudit: `INSERT INTO audit_log (room_id, actor_id, action, target_id, message_id, detail, created_at)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)})`,
    listAudit: `SELECT a.n, a.room_id, a.actor_id, au.nickname AS actor_nickname, a.action, a.target_id,
         tu.nickname AS target_nickname, a.message_id, a.detail, a.created_at
       FROM audit_log a JOIN users au ON au.id = a.actor_id LEFT JOIN users tu ON tu.id = a.target_id
       WHERE a.room_id = ${p(1)} ORDER BY a.n DESC LIMIT ${p(2)}`,
    setDeactivated: `UPDATE users SET deactivated_at = ${p(1)} WHERE id = ${p(2)}`,
  };
}

/** The rows of one page and whether there is more in the direction asked. */
export interface PageRows<R> {
  rows: R[];
  hasMore: boolean;
}

/**
 * A `getMessages` query: its SQL and parameters, and how its rows become the page. Each asks for
 * one row more than the page holds in the direction of `hasMore`: that row says whether there is
 * more.
 */
export interface PageStatement {
  sql: string;
  params: (string | number)[];
  arrange<R extends { seq: number }>(rows: R[]): PageRows<R>;
}

/** Rows newest first (ORDER BY seq DESC), one more than `limit` if more exist: the page ascending. */
const newestFirst =
  (limit: number) =>
  <R>(rows: R[]): PageRows<R> => ({ rows: rows.slice(0, limit).reverse(), hasMore: rows.length > limit });
/** Rows in page order, one more than `limit` if more exist. */
const inOrder =
  (limit: number) =>
  <R>(rows: R[]): PageRows<R> => ({ rows: rows.slice(0, limit), hasMore: rows.length > limit });

/** The query for one page of a room's history (see {@link PageStatement}). */
export function pageStatement(d: Dialect, roomId: string, query: PageQuery): PageStatement {
  const p = d.param;
  const n = query.limit + 1;
  const from = `SELECT ${MESSAGE_SELECT} FROM ${MESSAGE_FROM} WHERE m.room_id = ${p(1)}`;
  if ("afterSeq" in query) {
    return {
      sql: `${from} AND m.seq > ${p(2)} ORDER BY m.seq ASC LIMIT ${p(3)}`,
      params: [roomId, query.afterSeq, n],
      arrange: inOrder(query.limit),
    };
  }
  if ("beforeSeq" in query) {
    return {
      sql: `${from} AND m.seq < ${p(2)} ORDER BY m.seq DESC LIMIT ${p(3)}`,
      params: [roomId, query.beforeSeq, n],
      arrange: newestFirst(query.limit),
    };
  }
  if ("changedSince" in query) {
    // Served by the (room_id, version) index: a catch-up reads only what changed.
    return {
      sql: `${from} AND m.version > ${p(2)} ORDER BY m.version ASC LIMIT ${p(3)}`,
      params: [roomId, query.changedSince, n],
      arrange: inOrder(query.limit),
    };
  }
  if ("aroundSeq" in query) {
    // Two index range scans in one statement: the `before` messages older than aroundSeq (newest
    // first), and the rest from aroundSeq on plus one to tell whether newer ones exist.
    const before = Math.floor(query.limit / 2);
    const rest = query.limit - before;
    const around = query.aroundSeq;
    return {
      sql: `SELECT * FROM (${from} AND m.seq < ${p(2)} ORDER BY m.seq DESC LIMIT ${p(3)}) older
        UNION ALL
        SELECT * FROM (SELECT ${MESSAGE_SELECT} FROM ${MESSAGE_FROM} WHERE m.room_id = ${p(4)} AND m.seq >= ${p(5)}
          ORDER BY m.seq ASC LIMIT ${p(6)}) newer`,
      params: [roomId, around, before, roomId, around, rest + 1],
      arrange: <R extends { seq: number }>(rows: R[]) => {
        const older = rows.filter((r) => r.seq < around).sort((a, b) => a.seq - b.seq);
        const newer = rows.filter((r) => r.seq >= around).sort((a, b) => a.seq - b.seq);
        return { rows: [...older, ...newer.slice(0, rest)], hasMore: newer.length > rest };
      },
    };
  }
  return { sql: `${from} ORDER BY m.seq DESC LIMIT ${p(2)}`, params: [roomId, n], arrange: newestFirst(query.limit) };
}
