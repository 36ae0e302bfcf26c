import { randomUUID } from "node:crypto";
import { newMessageId } from "../message-id.js";
import { DatabaseError, Pool, TypeOverrides, type PoolClient, type QueryResultRow } from "pg";
import {
  termMode,
  type Message,
  type NotifyLevel,
  type Profile,
  type RoomHead,
  type RoomListing,
  type AuditEntry,
  type Ban,
  type RoomRole,
  type RoomSummary,
  type User,
} from "@parley/shared";
import { consoleLogger, type Logger } from "../../logger.js";
import { NAME_KEY_PREFIX, likePattern, nameKey } from "../keys.js";
import { POSTGRES_DIALECT, pageStatement, reportsQuery, sharedQueries } from "../queries.js";
import { profileQueries, toProfile, updateProfileParams, type AvatarRecord, type ProfilePatch, type ProfileRow } from "../profile-queries.js";
import {
  type RoomHeadRow,
  toRoomHead,
  attachmentInsertValues,
  toAttachment,
  toAttachmentRecord,
  type AttachmentRow,
  CHANGE_TARGET_COLUMNS,
  MESSAGE_COLUMNS,
  MESSAGE_FROM,
  MESSAGE_INSERT_COLUMNS,
  MESSAGE_SELECT,
  newUserRecord,
  toListing,
  toMessages,
  toRoom,
  toSession,
  toSummary,
  toUser,
  toUserRecord,
  userInsertValues,
  toAuditEntry,
  toBan,
  toMemberRecord,
  toReportRecord,
  type AuditRow,
  type BanRow,
  type MemberRow,
  type ReportRow,
  type ChangeTargetRow,
  type ListingRow,
  type MessageRow,
  type ReactionRow,
  type RoomRow,
  type SessionRow,
  type SummaryRow,
  type UserRecordRow,
  type UserRow,
} from "../rows.js";
import {
  AttachmentClaimError,
  StorageConflictError,
  type AttachmentRecord,
  type ChangeResult,
  type MemberRecord,
  type NewAuditEntry,
  type ReportRecord,
  type NewAttachment,
  type NewMessage,
  type PageQuery,
  type RoomRecord,
  type SearchQuery,
  type SessionRecord,
  type Storage,
  type UserRecord,
} from "../storage.js";
import { cursorBound, likeContains, regexLiteral, searchPage, wordCharClass, wordLead } from "../search.js";
import { POSTGRES_MIGRATIONS } from "./migrations.js";

/**
 * Name keys written before they were confusable skeletons (no NAME_KEY_PREFIX) are rewritten once,
 * under the migration lock; later starts find none. Of two old names that turn out to look alike,
 * the second keeps its old key (see the SQLite storage).
 */
async function rekeyNames(client: PoolClient): Promise<void> {
  const { rows } = await client.query<{ id: string; name: string; tbl: "users" | "rooms" }>(
    `SELECT id, nickname AS name, 'users' AS tbl FROM users WHERE left(nickname_key, 3) <> $1
     UNION ALL
     SELECT id, name, 'rooms' AS tbl FROM rooms WHERE kind = 'public' AND left(name_key, 3) <> $1`,
    [NAME_KEY_PREFIX],
  );
  for (const { id, name, tbl } of rows) {
    const sql = tbl === "users" ? "UPDATE users SET nickname_key = $1 WHERE id = $2" : "UPDATE rooms SET name_key = $1 WHERE id = $2";
    try {
      // Outside a transaction: a refused update (unique key) leaves the connection usable.
      await client.query(sql, [nameKey(name), id]);
    } catch (e) {
      if (!(e instanceof DatabaseError && e.code === "23505")) throw e;
    }
  }
}

export interface PostgresStorageOptions {
  /** Clock for commit times and creation times; tests may pin it. */
  now?: () => number;
  /** Where errors of idle pooled connections go (a restarted database, a dropped connection). */
  logger?: Logger;
  /**
   * Connections per node. 10 (pg's default) keeps N nodes well under PostgreSQL's default
   * max_connections of 100 while letting that many appends to different rooms commit in parallel.
   */
  poolSize?: number;
}

/** SQLSTATE of a broken unique constraint. */
const UNIQUE_VIOLATION = "23505";
const INT8_OID = 20;
/**
 * Key of the advisory lock that serialises migrations: any constant that no other code in the same
 * database uses as a lock key. This one is "parley" in ASCII.
 */
const MIGRATION_LOCK_KEY = 0x7061726c6579;

const isUniqueViolation = (e: unknown, constraint?: string): boolean =>
  e instanceof DatabaseError && e.code === UNIQUE_VIOLATION && (constraint === undefined || e.constraint === constraint);

/**
 * BIGINT (and COUNT(*)) arrive as strings by default, because they may exceed 2^53. Seqs, counts
 * and ms timestamps never come near that, so they are parsed as numbers, on this pool only (not
 * through pg's global `types`, which would change every other user of pg in the process).
 */
function typeOverrides(): TypeOverrides {
  const types = new TypeOverrides();
  types.setTypeParser(INT8_OID, (value: string) => Number(value));
  return types;
}

const Q = sharedQueries(POSTGRES_DIALECT);
const PQ = profileQueries({ ...POSTGRES_DIALECT, inTextList: (expr, n) => `${expr} = ANY($${n}::text[])` });

/**
 * One append is one statement, so one implicit transaction (all of it commits or none of it):
 *
 * 1. `existing`: the message already stored under (author, clientId), if any: a retry.
 * 2. `room`: allocates the seq and the version (a new message is a change like any other, ADR 0009)
 *    with `UPDATE rooms SET last_seq = last_seq + 1, last_version = last_version + 1 ... RETURNING`.
 *    The row lock it takes serialises appends and every other change to one room across every
 *    node until commit, so seqs and versions are gap-free and commit in order; changes to
 *    different rooms do not wait for each other. It only runs when the author exists and this is
 *    not a retry, so neither burns a seq or a version.
 *    `last_activity_at` only moves forward (GREATEST): the nodes' clocks differ by a little.
 * 3. `inserted`, `mentioned`, `author_read`: the message (its body version is its creation), its
 *    mentions, and the author's read position (the author has read everything up to their own
 *    message).
 * 4. The message in the shape of MESSAGE_SELECT, with its reply preview: the new one, or the stored
 *    one of a retry (whose reactions `appendOne` then reads, as a retry may come after some).
 *
 * Two nodes inserting the same (author, clientId) at once both miss `existing`; the second one
 * then fails on the unique index `messages_by_client_id` (its seq and version increments are
 * rolled back with it), and `appendMessage` returns the first one's row instead.
 *
 * Parameters: $1 room, $2 author, $3 client id, $4 message id, $5 kind, $6 body, $7 time,
 * $8 mentions, $9 reply-to id, $10 attachments (JSON, claimed by the caller; see appendWithFiles).
 */
const APPEND_SQL = `
  WITH existing AS (
    SELECT id FROM messages
    WHERE $3::text IS NOT NULL AND author_id = $2::text AND client_id = $3::text
  ), author AS (
    SELECT nickname FROM users WHERE id = $2::text
  ), room AS (
    UPDATE rooms SET last_seq = last_seq + 1, last_version = last_version + 1,
      last_activity_at = GREATEST(last_activity_at, $7::bigint)
    WHERE id = $1::text AND EXISTS (SELECT 1 FROM author) AND NOT EXISTS (SELECT 1 FROM existing)
    RETURNING last_seq, last_version
  ), inserted AS (
    INSERT INTO messages (${MESSAGE_INSERT_COLUMNS})
    SELECT $4::text, $1::text, room.last_seq, $5::text, $2::text, author.nickname, $3::text, $6::text, $7::bigint, $8::text[],
      room.last_version, room.last_version, $9::text, $10::text
    FROM room, author
    RETURNING ${MESSAGE_COLUMNS}
  ), mentioned AS (
    INSERT INTO mentions (user_id, room_id, seq)
    SELECT DISTINCT u, i.room_id, i.seq FROM inserted i, unnest(i.mentions) AS u
    ON CONFLICT DO NOTHING
  ), author_read AS (
    UPDATE members SET last_read_seq = GREATEST(members.last_read_seq, i.seq)
    FROM inserted i WHERE members.room_id = i.room_id AND members.user_id = i.author_id
  )
  SELECT ${MESSAGE_SELECT}, true AS created FROM inserted m LEFT JOIN messages q ON q.id = m.reply_to_id
  UNION ALL
  SELECT ${MESSAGE_SELECT}, false AS created FROM ${MESSAGE_FROM} WHERE m.id IN (SELECT id FROM existing)`;

/** APPEND_SQL's parameters. */
function appendParams(input: NewMessage, id: string, now: number, attachments: string | null): unknown[] {
  return [input.roomId, input.authorId, input.clientId, id, input.kind, input.body, now, input.mentions, input.replyToId ?? null, attachments];
}

/**
 * A change's write: the CTEs that make it and their parameters from $3 on ($1 is the room, $2 the
 * message's seq). They run in one statement with the version they take (see {@link versioned}).
 */
interface ChangeWrite {
  writes: string;
  params: unknown[];
}

/** A change's decision: an outcome that writes nothing, or the write at commit time `now`. */
type Decision = Exclude<ChangeResult["outcome"], "changed"> | ((now: number) => ChangeWrite);

/**
 * One statement for a change's write and the room version it takes (CTE `v`, which the writes
 * read as `v.last_version`): one round trip while the room row is locked instead of one per table,
 * since every append and change to the room waits for that lock. This is why the writes are not the
 * shared statements SQLite runs one by one (where a statement costs no round trip). The writes
 * that touch one message's rows are disjoint, as CTEs of one statement must be.
 */
const versioned = (writes: string) => `
  WITH v AS (UPDATE rooms SET last_version = last_version + 1 WHERE id = $1::text RETURNING last_version),
  ${writes}
  SELECT last_version FROM v`;

/** The message's row at the version taken: a change to it is its latest change. */
const TOUCH = "touched AS (UPDATE messages SET version = v.last_version FROM v WHERE room_id = $1::text AND seq = $2::bigint)";

/** Page reads: one snapshot for the rows, their reactions and the room's version, writing nothing. */
const SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/**
 * PostgreSQL storage (node-postgres Pool), for running several server nodes on one database. It
 * keeps exactly the semantics of `SqliteStorage`; both run through `test/storage.contract.ts`.
 *
 * Appends are not group-committed here as they are in SQLite: each append is one statement on its
 * own pooled connection (one round trip). PostgreSQL already batches the WAL flushes of commits
 * that arrive together from different connections, and appends to one room serialise on the room's
 * row lock anyway, so a client-side batch would add latency and a second failure mode (one bad
 * message aborting a shared transaction) without saving a flush. The promise resolves when the
 * statement's implicit transaction has committed, so a message is acked only once durable.
 */
export class PostgresStorage implements Storage {
  private readonly pool: Pool;
  private readonly now: () => number;
  private closed = false;
  /** Appends in flight; close() waits for them so that none is cut off between commit and ack. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Open connections; close() waits until each has really ended (see there). */
  private readonly connections = new Set<PoolClient>();

  constructor(
    readonly url: string,
    options: PostgresStorageOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    const logger = options.logger ?? consoleLogger;
    this.pool = new Pool({ connectionString: url, max: options.poolSize ?? 10, types: typeOverrides() });
    // An idle connection that dies (database restart, network) emits here; without a listener the
    // 'error' event would crash the process. The pool replaces the connection on next use.
    this.pool.on("error", (error) => logger.error("postgres: idle connection failed", error));
    this.pool.on("connect", (client) => {
      this.connections.add(client);
      client.once("end", () => this.connections.delete(client));
    });
  }

  private async query<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  /**
   * Applies the pending migrations. A session-level advisory lock makes nodes that start together
   * take turns: the first migrates, the others then find nothing left to do (without the lock two
   * of them could both see version 0 and both run migration 1).
   */
  async init(): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("SELECT pg_advisory_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
      try {
        await client.query(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
        );
        const { rows } = await client.query<{ version: number }>("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations");
        const current = rows[0]?.version ?? 0;
        for (const [i, sql] of POSTGRES_MIGRATIONS.entries()) {
          const version = i + 1;
          if (version <= current) continue;
          await inTransaction(client, async () => {
            await client.query(sql);
            await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [version, this.now()]);
          });
        }
        await rekeyNames(client);
      } finally {
        await client.query("SELECT pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK_KEY]);
      }
    } catch (e) {
      // A connection in an unknown state (it may still hold the lock) is discarded, not reused;
      // closing it releases the lock.
      broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    await this.pool.query("SELECT 1");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.pending]);
    // pool.end() resolves once it has asked every connection to end, not once they have ended;
    // waiting for each 'end' means that after close() no session of ours is left on the server
    // (a restart or a DROP DATABASE right after would otherwise cut them off mid-goodbye).
    const ending = [...this.connections].map((c) => new Promise<void>((resolve) => c.once("end", () => resolve())));
    await this.pool.end();
    await Promise.all(ending);
  }

  async createUser(input: { nickname: string; passwordHash: string }): Promise<UserRecord> {
    const user = newUserRecord(input, this.now());
    try {
      await this.query(Q.insertUser, userInsertValues(user));
    } catch (e) {
      if (isUniqueViolation(e, "users_nickname_key_key")) throw new StorageConflictError("nickname");
      throw e;
    }
    return user;
  }

  async findUserByNickname(nickname: string): Promise<UserRecord | null> {
    const [row] = await this.query<UserRecordRow>(Q.userByNameKey, [nameKey(nickname)]);
    return row ? toUserRecord(row) : null;
  }

  async getUser(id: string): Promise<User | null> {
    const [row] = await this.query<UserRow>(Q.userById, [id]);
    return row ? toUser(row) : null;
  }

  async updatePasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.query(Q.updatePasswordHash, [passwordHash, userId]);
  }

  async searchUsers(query: string, limit: number): Promise<User[]> {
    const rows = await this.query<UserRow>(Q.searchUsers, [likePattern(query), limit]);
    return rows.map(toUser);
  }

  async createSession(input: { id: string; userId: string; tokenHash: string; expiresAt: number }): Promise<void> {
    await this.query(Q.insertSession, [input.id, input.userId, input.tokenHash, input.expiresAt]);
  }

  async findSession(tokenHash: string, now: number): Promise<SessionRecord | null> {
    const [row] = await this.query<SessionRow>(Q.liveSession, [tokenHash, now]);
    return row ? toSession(row) : null;
  }

  async deleteSession(tokenHash: string): Promise<SessionRecord | null> {
    const [row] = await this.query<SessionRow>(Q.deleteSession, [tokenHash]);
    return row ? toSession(row) : null;
  }

  async deleteUserSessions(userId: string): Promise<number> {
    return (await this.pool.query(Q.deleteUserSessions, [userId])).rowCount ?? 0;
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    return (await this.pool.query(Q.deleteExpiredSessions, [now])).rowCount ?? 0;
  }

  async createRoom(input: { name: string; createdBy: string }): Promise<RoomRecord> {
    const t = this.now();
    const id = randomUUID();
    try {
      await this.query(Q.insertPublicRoom, [id, input.name, nameKey(input.name), input.createdBy, t, t]);
    } catch (e) {
      if (isUniqueViolation(e, "rooms_public_name")) throw new StorageConflictError("room_name");
      throw e;
    }
    return { id, kind: "public", name: input.name, createdAt: t, lastSeq: 0, lastVersion: 0, topic: "", inviteOnly: false };
  }

  async getRoomHeads(roomIds: readonly string[]): Promise<RoomHead[]> {
    if (roomIds.length === 0) return [];
    const rows = await this.query<RoomHeadRow>(`SELECT id, last_seq, last_version FROM rooms WHERE id = ANY($1::text[])`, [roomIds]);
    return rows.map(toRoomHead);
  }

  async getRoom(id: string): Promise<RoomRecord | null> {
    const [row] = await this.query<RoomRow>(Q.roomById, [id]);
    return row ? toRoom(row) : null;
  }

  async ensurePublicRoom(input: { id: string; name: string }): Promise<void> {
    await this.query(
      `INSERT INTO rooms (id, kind, name, name_key, created_at, last_activity_at)
       VALUES ($1, 'public', $2, $3, $4, $4) ON CONFLICT DO NOTHING`,
      [input.id, input.name, nameKey(input.name), this.now()],
    );
  }

  async getOrCreateDmRoom(id: string, [userA, userB]: readonly [string, string]): Promise<RoomRecord> {
    const t = this.now();
    // One statement: the room and both memberships appear together or not at all. When two nodes
    // open the same DM at once, the second insert waits for the first to commit, then does nothing.
    await this.query(
      `WITH created AS (
         INSERT INTO rooms (id, kind, name, created_at, last_activity_at) VALUES ($1, 'dm', '', $2, $2)
         ON CONFLICT (id) DO NOTHING RETURNING id
       )
       INSERT INTO members (room_id, user_id, joined_at)
       SELECT DISTINCT created.id, u, $2::bigint FROM created, unnest(ARRAY[$3::text, $4::text]) AS u
       ON CONFLICT DO NOTHING`,
      [id, t, userA, userB],
    );
    const room = await this.getRoom(id);
    if (!room) throw new Error(`DM room ${id} vanished`);
    return room;
  }

  async listPublicRooms(query: string, userId: string, limit: number): Promise<RoomListing[]> {
    const rows = await this.query<ListingRow>(Q.listPublicRooms, [userId, likePattern(query), limit]);
    return rows.map(toListing);
  }

  async addMember(roomId: string, userId: string, role: RoomRole = "member"): Promise<boolean> {
    // A new member has read nothing before joining: their read position starts at the room's end,
    // so joining a busy room does not greet them with thousands of "unread" messages.
    const result = await this.pool.query(
      `INSERT INTO members (room_id, user_id, joined_at, last_read_seq, role)
       SELECT $1::text, $2::text, $3::bigint, last_seq, $4::text FROM rooms WHERE id = $1::text
       ON CONFLICT DO NOTHING`,
      [roomId, userId, this.now(), role],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async removeMember(roomId: string, userId: string): Promise<boolean> {
    const result = await this.pool.query(Q.removeMember, [roomId, userId]);
    return (result.rowCount ?? 0) > 0;
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    const rows = await this.query(Q.isMember, [roomId, userId]);
    return rows.length > 0;
  }

  async listMembers(roomId: string): Promise<MemberRecord[]> {
    const rows = await this.query<MemberRow>(Q.listMembers, [roomId]);
    return rows.map(toMemberRecord);
  }

  async listRoomIdsForUser(userId: string): Promise<string[]> {
    const rows = await this.query<{ room_id: string }>(Q.roomIdsForUser, [userId]);
    return rows.map((r) => r.room_id);
  }

  async listRoomSummaries(userId: string): Promise<RoomSummary[]> {
    const rows = await this.query<SummaryRow>(Q.summaries, [userId]);
    return rows.map(toSummary);
  }

  async getRoomSummary(roomId: string, userId: string): Promise<RoomSummary | null> {
    const [row] = await this.query<SummaryRow>(Q.summaryOfRoom, [userId, roomId]);
    return row ? toSummary(row) : null;
  }

  appendMessage(input: NewMessage): Promise<{ message: Message; created: boolean }> {
    if (this.closed) return Promise.reject(new Error("storage closed"));
    return this.track(this.appendOne(input));
  }

  /** Keeps a write in `pending` until it settles, so close() lets it finish (see there). */
  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const forget = () => this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private async appendOne(input: NewMessage): Promise<{ message: Message; created: boolean }> {
    const id = newMessageId();
    let rows: (MessageRow & { created: boolean })[];
    try {
      const ids = input.attachmentIds ?? [];
      rows = ids.length === 0 ? await this.query(APPEND_SQL, appendParams(input, id, this.now(), null)) : await this.appendWithFiles(input, id, ids);
    } catch (e) {
      // Another node (or connection) committed the same (author, clientId) while this statement ran
      // (with files: it claimed them first, and this one then found them taken).
      if (input.clientId !== null && (isUniqueViolation(e, "messages_by_client_id") || e instanceof AttachmentClaimError)) {
        const [existing] = await this.query<MessageRow>(Q.messageByClientId, [input.authorId, input.clientId]);
        if (existing) return { message: (await this.withReactions(this.pool, [existing]))[0]!, created: false };
      }
      throw e;
    }
    const [row] = rows;
    if (row) {
      const { created, ...message } = row;
      // A new message has no reactions yet; a retry's message may have some by now.
      const [stored] = created ? toMessages([message], []) : await this.withReactions(this.pool, [message]);
      return { message: stored!, created };
    }
    // Nothing stored and nothing found: the room or the author does not exist.
    const [found] = await this.query<{ room: boolean; author: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM rooms WHERE id = $1) AS room, EXISTS (SELECT 1 FROM users WHERE id = $2) AS author",
      [input.roomId, input.authorId],
    );
    if (!found?.room) throw new Error(`room ${input.roomId} not found`);
    throw new Error(`user ${input.authorId} not found`);
  }

  /**
   * An append that claims files: the claims and APPEND_SQL in one transaction, so a file that
   * cannot be claimed stores nothing. Rarer than plain sends, so it may cost the extra round trips.
   * A retry is found first: its files are claimed by the stored message already.
   */
  private appendWithFiles(input: NewMessage, id: string, ids: readonly string[]): Promise<(MessageRow & { created: boolean })[]> {
    return this.transaction("BEGIN", async (client) => {
      if (input.clientId !== null) {
        const existing = (await client.query<MessageRow>(Q.messageByClientId, [input.authorId, input.clientId])).rows;
        if (existing.length > 0) return existing.map((r) => ({ ...r, created: false }));
      }
      const attachments = [];
      for (const attachmentId of ids) {
        const [row] = (await client.query<AttachmentRow>(Q.claimAttachment, [id, attachmentId, input.authorId, input.roomId])).rows;
        if (!row) throw new AttachmentClaimError(attachmentId);
        attachments.push(toAttachment(row));
      }
      return (await client.query<MessageRow & { created: boolean }>(APPEND_SQL, appendParams(input, id, this.now(), JSON.stringify(attachments)))).rows;
    });
  }

  async getRole(roomId: string, userId: string): Promise<RoomRole | null> {
    const [row] = await this.query<{ role: RoomRole }>(Q.roleOf, [roomId, userId]);
    return row?.role ?? null;
  }

  async setRole(roomId: string, userId: string, role: RoomRole): Promise<boolean> {
    return ((await this.pool.query(Q.setRole, [role, roomId, userId])).rowCount ?? 0) > 0;
  }

  async listStaffIds(roomId: string): Promise<string[]> {
    return (await this.query<{ user_id: string }>(Q.staffOf, [roomId])).map((r) => r.user_id);
  }

  async listModeratedRoomIds(userId: string): Promise<string[]> {
    return (await this.query<{ room_id: string }>(Q.moderatedRoomIds, [userId])).map((r) => r.room_id);
  }

  async updateRoom(roomId: string, patch: { name?: string; topic?: string; inviteOnly?: boolean }): Promise<RoomRecord | null> {
    try {
      const [row] = await this.query<RoomRow>(Q.updateRoom, [
        patch.name ?? null,
        patch.name === undefined ? null : nameKey(patch.name),
        patch.topic ?? null,
        patch.inviteOnly === undefined ? null : Number(patch.inviteOnly),
        roomId,
      ]);
      return row ? toRoom(row) : null;
    } catch (e) {
      if (isUniqueViolation(e, "rooms_public_name")) throw new StorageConflictError("room_name");
      throw e;
    }
  }

  async banUser(input: { roomId: string; userId: string; bannedBy: string; reason: string }): Promise<{ created: boolean; wasMember: boolean }> {
    // One statement: the ban and the end of the membership commit together.
    const [row] = await this.query<{ created: number; was_member: number }>(
      `WITH banned AS (
         INSERT INTO bans (room_id, user_id, banned_by, reason, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING RETURNING 1
       ), removed AS (
         DELETE FROM members WHERE room_id = $1 AND user_id = $2 RETURNING 1
       )
       SELECT (SELECT COUNT(*) FROM banned) AS created, (SELECT COUNT(*) FROM removed) AS was_member`,
      [input.roomId, input.userId, input.bannedBy, input.reason, this.now()],
    );
    return { created: Number(row?.created) > 0, wasMember: Number(row?.was_member) > 0 };
  }

  async unbanUser(roomId: string, userId: string): Promise<boolean> {
    return ((await this.pool.query(Q.unban, [roomId, userId])).rowCount ?? 0) > 0;
  }

  async isBanned(roomId: string, userId: string): Promise<boolean> {
    return (await this.query(Q.isBanned, [roomId, userId])).length > 0;
  }

  async listBans(roomId: string): Promise<Ban[]> {
    return (await this.query<BanRow>(Q.listBans, [roomId])).map(toBan);
  }

  async setMute(userId: string, mutedId: string, on: boolean): Promise<void> {
    if (on) await this.pool.query(Q.insertMute, [userId, mutedId, this.now()]);
    else await this.pool.query(Q.deleteMute, [userId, mutedId]);
  }

  async listMutedIds(userId: string): Promise<string[]> {
    return (await this.query<{ muted_id: string }>(Q.mutedIds, [userId])).map((r) => r.muted_id);
  }

  async createReport(input: { roomId: string; messageId: string; reporterId: string; reason: string }): Promise<{ report: ReportRecord; created: boolean }> {
    const result = await this.pool.query(Q.insertReport, [randomUUID(), input.roomId, input.messageId, input.reporterId, input.reason, this.now()]);
    const [row] = await this.query<ReportRow>(Q.reportByReporter, [input.messageId, input.reporterId]);
    if (!row) throw new Error(`report of ${input.messageId} by ${input.reporterId} was not stored`);
    return { report: toReportRecord(row), created: (result.rowCount ?? 0) > 0 };
  }

  async getReport(id: string): Promise<ReportRecord | null> {
    const [row] = await this.query<ReportRow>(Q.reportById, [id]);
    return row ? toReportRecord(row) : null;
  }

  async listReports(filter: { roomIds: readonly string[] | null; resolved?: boolean; limit: number }): Promise<ReportRecord[]> {
    const sql = reportsQuery(POSTGRES_DIALECT, { byRooms: filter.roomIds !== null, resolved: filter.resolved });
    const params: unknown[] = filter.roomIds === null ? [] : [POSTGRES_DIALECT.textList(filter.roomIds)];
    return (await this.query<ReportRow>(sql, [...params, filter.limit])).map(toReportRecord);
  }

  async resolveReport(id: string, resolvedBy: string): Promise<ReportRecord | null> {
    await this.pool.query(Q.resolveReport, [this.now(), resolvedBy, id]);
    return this.getReport(id);
  }

  async appendAudit(entry: NewAuditEntry): Promise<void> {
    await this.pool.query(Q.insertAudit, [entry.roomId, entry.actorId, entry.action, entry.targetId, entry.messageId, entry.detail, this.now()]);
  }

  async listAudit(roomId: string, limit: number): Promise<AuditEntry[]> {
    return (await this.query<AuditRow>(Q.listAudit, [roomId, limit])).map(toAuditEntry);
  }

  async firstUserId(): Promise<string | null> {
    // created_order (migration 6): the order of the inserts; created_at can tie.
    const [row] = await this.query<{ id: string }>("SELECT id FROM users ORDER BY created_order LIMIT 1");
    return row?.id ?? null;
  }

  async setDeactivated(userId: string, at: number | null): Promise<boolean> {
    return ((await this.pool.query(Q.setDeactivated, [at, userId])).rowCount ?? 0) > 0;
  }

  async createAttachment(input: NewAttachment): Promise<{ attachment: AttachmentRecord; created: boolean }> {
    const result = await this.pool.query(Q.insertAttachment, attachmentInsertValues(input));
    const stored = await this.findUpload(input.uploaderId, input.uploadId);
    if (!stored) throw new Error(`attachment ${input.id} was not stored`);
    return { attachment: stored, created: (result.rowCount ?? 0) > 0 };
  }

  async findUpload(uploaderId: string, uploadId: string): Promise<AttachmentRecord | null> {
    const [row] = await this.query<AttachmentRow>(Q.attachmentByUpload, [uploaderId, uploadId]);
    return row ? toAttachmentRecord(row) : null;
  }

  async getAttachment(id: string): Promise<AttachmentRecord | null> {
    const [row] = await this.query<AttachmentRow>(Q.attachmentById, [id]);
    return row ? toAttachmentRecord(row) : null;
  }

  async uploadedBytesSince(uploaderId: string, since: number): Promise<number> {
    const [row] = await this.query<{ bytes: number | string }>(Q.uploadedBytesSince, [uploaderId, since, uploaderId, since]);
    return Number(row?.bytes ?? 0);
  }

  async getProfiles(userIds: readonly string[]): Promise<Profile[]> {
    if (userIds.length === 0) return [];
    return (await this.query<ProfileRow>(PQ.profilesByIds, [userIds])).map(toProfile);
  }

  async listProfilesForSync(userId: string, limit: number): Promise<Profile[]> {
    return (await this.query<ProfileRow>(PQ.profilesForSync, [userId, userId, limit])).map(toProfile);
  }

  async updateProfile(userId: string, patch: ProfilePatch): Promise<Profile | null> {
    const [row] = await this.query<ProfileRow>(PQ.updateProfile, updateProfileParams(userId, patch));
    return row ? toProfile(row) : null;
  }

  async setAvatar(userId: string, avatar: (AvatarRecord & { uploadBytes: number; at: number }) | null): Promise<Profile | null> {
    // One statement: the avatar and, for a new one, its bytes for the quota, together or not at all.
    const [row] = avatar
      ? await this.query<ProfileRow>(
          `WITH u AS (${PQ.setAvatar}), q AS (INSERT INTO avatar_uploads (user_id, upload_bytes, created_at) SELECT id, $4, $5 FROM u)
           SELECT * FROM u`,
          [avatar.avatarId, avatar.blobHash, userId, avatar.uploadBytes, avatar.at],
        )
      : await this.query<ProfileRow>(PQ.setAvatar, [null, null, userId]);
    return row ? toProfile(row) : null;
  }

  async getAvatar(userId: string): Promise<AvatarRecord | null> {
    const [row] = await this.query<{ avatar_id: string | null; avatar_hash: string | null }>(PQ.avatarOf, [userId]);
    return row?.avatar_id && row.avatar_hash ? { avatarId: row.avatar_id, blobHash: row.avatar_hash } : null;
  }

  async setLastSeen(userId: string, at: number): Promise<void> {
    await this.query(PQ.setLastSeen, [at, userId]);
  }

  async setNotifyLevel(roomId: string, userId: string, level: NotifyLevel): Promise<boolean> {
    return (await this.query<{ ok: number }>(`${PQ.setNotifyLevel} RETURNING 1 AS ok`, [level, roomId, userId])).length > 0;
  }

  /** Messages of one room with their reactions, read by one query for all of them. */
  private async withReactions(on: Pool | PoolClient, rows: MessageRow[]): Promise<Message[]> {
    const first = rows[0];
    if (!first) return [];
    const reactions = await on.query<ReactionRow>(Q.reactionsOf, [first.room_id, POSTGRES_DIALECT.seqList(rows.map((r) => r.seq))]);
    return toMessages(rows, reactions.rows);
  }

  async getMessages(roomId: string, query: PageQuery): Promise<{ messages: Message[]; hasMore: boolean; version: number }> {
    return this.transaction(SNAPSHOT, async (client) => {
      const page = pageStatement(POSTGRES_DIALECT, roomId, query);
      const { rows, hasMore } = page.arrange((await client.query<MessageRow>(page.sql, page.params)).rows);
      const [room] = (await client.query<{ last_version: number }>(Q.roomVersion, [roomId])).rows;
      return { messages: await this.withReactions(client, rows), hasMore, version: room?.last_version ?? 0 };
    });
  }

  async getMessage(messageId: string): Promise<Message | null> {
    return this.transaction(SNAPSHOT, (client) => this.readMessage(client, messageId));
  }

  private async readMessage(client: PoolClient, messageId: string): Promise<Message | null> {
    const rows = (await client.query<MessageRow>(Q.messageById, [messageId])).rows;
    return (await this.withReactions(client, rows))[0] ?? null;
  }

  /**
   * Runs one change to a message in a transaction. It first locks the message's row, which every
   * change to that message takes first, so the message (and its reactions) cannot change under the
   * decision; a row locked after a wait is read in its latest committed state. `decide` then
   * chooses. A decision that writes takes the room's next version in this transaction — the room
   * row lock, which serialises appends and changes to the room until commit, so versions commit
   * in order without gaps — and one that does not writes nothing and takes no version. The room is
   * locked only for the write and the read of the result, not while deciding, so changes to
   * different messages of a busy room wait for each other as little as possible. The lock order
   * (message, then room; appends take only the room, and whoever holds a room never waits for a
   * message) cannot deadlock. The result carries the message as this transaction leaves it.
   */
  private change(messageId: string, decide: (client: PoolClient, target: ChangeTargetRow) => Promise<Decision>): Promise<ChangeResult | null> {
    if (this.closed) return Promise.reject(new Error("storage closed"));
    return this.track(
      this.transaction("BEGIN", async (client): Promise<ChangeResult | null> => {
        const [target] = (
          await client.query<ChangeTargetRow>(`SELECT ${CHANGE_TARGET_COLUMNS} FROM messages WHERE id = $1 FOR UPDATE`, [messageId])
        ).rows;
        if (!target) return null;
        const decision = await decide(client, target);
        let outcome: ChangeResult["outcome"] = "changed";
        if (typeof decision === "string") {
          outcome = decision;
        } else {
          const write = decision(this.now());
          await client.query(versioned(write.writes), [target.room_id, target.seq, ...write.params]);
        }
        return { outcome, message: (await this.readMessage(client, messageId))! };
      }),
    );
  }

  async editMessage(input: { messageId: string; body: string; mentions: string[]; baseVersion: number }): Promise<ChangeResult | null> {
    return this.change(input.messageId, async (_, m) => {
      if (m.deleted_at !== null) return "deleted";
      // Checked before the conflict: the retry of an applied edit finds its own body, newer than
      // its base, and must hear "unchanged", not "conflict".
      if (m.body === input.body) return "unchanged";
      if (m.body_version > input.baseVersion) return "conflict";
      // The mentions rows follow the new mentions (they feed the mention counts): the ones no longer
      // mentioned go, the new ones come, the kept ones stay (disjoint rows, so one statement).
      return (now) => ({
        writes: `edited AS (
            UPDATE messages SET body = $3::text, mentions = $4::text[], edited_at = $5::bigint,
              body_version = v.last_version, version = v.last_version
            FROM v WHERE room_id = $1::text AND seq = $2::bigint
          ), unmentioned AS (
            DELETE FROM mentions WHERE room_id = $1::text AND seq = $2::bigint AND user_id <> ALL($4::text[])
          ), mentioned AS (
            INSERT INTO mentions (user_id, room_id, seq) SELECT DISTINCT u, $1::text, $2::bigint FROM unnest($4::text[]) AS u
            ON CONFLICT DO NOTHING
          )`,
        params: [input.body, input.mentions, now],
      });
    });
  }

  async deleteMessage(messageId: string, deletedBy: string): Promise<ChangeResult | null> {
    return this.change(messageId, async (_, m) => {
      if (m.deleted_at !== null) return "unchanged";
      return (now) => ({
        writes: `deleted AS (
            UPDATE messages SET body = '', mentions = '{}', deleted_at = $3::bigint, deleted_by = $4::text, body_version = v.last_version, version = v.last_version
            FROM v WHERE room_id = $1::text AND seq = $2::bigint
          ), unmentioned AS (
            DELETE FROM mentions WHERE room_id = $1::text AND seq = $2::bigint
          ), unreacted AS (
            DELETE FROM reactions WHERE room_id = $1::text AND seq = $2::bigint
          )`,
        params: [now, deletedBy],
      });
    });
  }

  async setReaction(input: { messageId: string; userId: string; emoji: string; on: boolean; maxDistinct: number }): Promise<ChangeResult | null> {
    return this.change(input.messageId, async (client, m) => {
      // A deleted message has no reactions: setting one is refused, clearing one is a no-op, so a
      // retried "off" never fails (ADR 0009).
      if (m.deleted_at !== null) return input.on ? "deleted" : "unchanged";
      const isSet = ((await client.query(Q.hasReaction, [m.room_id, m.seq, input.emoji, input.userId])).rowCount ?? 0) > 0;
      if (isSet === input.on) return "unchanged";
      if (input.on) {
        const emoji = (await client.query<{ emoji: string }>(Q.emojiOf, [m.room_id, m.seq])).rows.map((r) => r.emoji);
        if (!emoji.includes(input.emoji) && emoji.length >= input.maxDistinct) return "limit";
        return (now) => ({
          writes: `reacted AS (
              INSERT INTO reactions (room_id, seq, emoji, user_id, created_at, version)
              SELECT $1::text, $2::bigint, $3::text, $4::text, $5::bigint, v.last_version FROM v
            ), ${TOUCH}`,
          params: [input.emoji, input.userId, now],
        });
      }
      return () => ({
        writes: `unreacted AS (
            DELETE FROM reactions WHERE room_id = $1::text AND seq = $2::bigint AND emoji = $3::text AND user_id = $4::text
          ), ${TOUCH}`,
        params: [input.emoji, input.userId],
      });
    });
  }

  async searchMessages(query: SearchQuery): Promise<{ messages: Message[]; nextCursor: string | null }> {
    const { sql, params } = searchStatement(query);
    return this.transaction(SNAPSHOT, async (client) => {
      const rows = (await client.query<MessageRow & { search_order: number }>(sql, params)).rows;
      const page = searchPage(rows, query.limit, (r) => r.search_order);
      return { messages: await this.withReactionsOfRooms(client, page.rows), nextCursor: page.nextCursor };
    });
  }

  /** Messages of any rooms with their reactions, in the order given: one reactions query per room. */
  private async withReactionsOfRooms(client: PoolClient, rows: MessageRow[]): Promise<Message[]> {
    const byRoom = new Map<string, MessageRow[]>();
    for (const r of rows) {
      const group = byRoom.get(r.room_id);
      if (group) group.push(r);
      else byRoom.set(r.room_id, [r]);
    }
    const byId = new Map<string, Message>();
    for (const group of byRoom.values()) for (const m of await this.withReactions(client, group)) byId.set(m.id, m);
    return rows.map((r) => byId.get(r.id)!);
  }

  /**
   * Runs `work` in a transaction begun by `begin` on a pooled connection: COMMIT if it resolves,
   * ROLLBACK if it throws. A connection whose ROLLBACK failed is in an unknown state: it is
   * discarded, not returned to the pool.
   */
  private async transaction<T>(begin: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(begin).catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
        throw e;
      });
      try {
        const result = await work(client);
        await client.query("COMMIT");
        return result;
      } catch (e) {
        await client.query("ROLLBACK").catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw e;
      }
    } finally {
      client.release(broken);
    }
  }

  async setLastRead(roomId: string, userId: string, seq: number): Promise<number> {
    const [row] = await this.query<{ last_read_seq: number }>(
      `UPDATE members SET last_read_seq = GREATEST(last_read_seq, LEAST($1::bigint, (SELECT last_seq FROM rooms WHERE id = $2)))
       WHERE room_id = $2 AND user_id = $3 RETURNING last_read_seq`,
      [seq, roomId, userId],
    );
    return row?.last_read_seq ?? 0;
  }
}

/**
 * The regular expression that starts a word-prefix term: the start of the body or a character that
 * is not a word character (WORD_CHAR). Made once, on the first search that needs it.
 */
let wordStartPattern: string | undefined;
const wordStart = (): string => (wordStartPattern ??= `(^|[^${wordCharClass()}])`);

/**
 * The one statement of a search: the hits newest first (one more than `limit`, to tell whether more
 * exist), as message rows with their search_order. Every term is decided exactly by one condition
 * on the body: substrings by ILIKE, word prefixes by a regular expression that is the rule itself
 * (lower-cased on both sides, as ILIKE does, so it needs no case-insensitive mode, which would
 * expand every range of the word class into both cases at each compile). Terms of one or two
 * characters add a containment in `search_keys` (see migration 4), which only its GIN index serves
 * well: the planner then picks between walking `messages_search_order` backwards (a common term:
 * it stops after `limit + 1` hits, checking each row by the cheap condition first) and the GIN
 * indexes (a rare one), the trigram index serving ILIKE from three characters on. User text only
 * ever travels as a parameter.
 */
function searchStatement(query: SearchQuery): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown, type: string) => {
    params.push(value);
    return `$${params.length}::${type}`;
  };
  const where = [
    "m.kind = 'text'",
    "m.deleted_at IS NULL",
    `m.search_order < ${param(cursorBound(query.cursor), "bigint")}`,
    `m.room_id IN (SELECT room_id FROM members WHERE user_id = ${param(query.userId, "text")})`,
  ];
  if (query.roomId !== null) where.push(`m.room_id = ${param(query.roomId, "text")}`);
  if (query.authorId !== null) where.push(`m.author_id = ${param(query.authorId, "text")}`);
  if (query.after !== null) where.push(`m.created_at >= ${param(query.after, "bigint")}`);
  if (query.before !== null) where.push(`m.created_at < ${param(query.before, "bigint")}`);
  if (query.hasFile) where.push("m.attachments IS NOT NULL");
  const keys = (key: string) => `search_keys(m.body) @> ARRAY[lower(${param(key, "text")})]`;
  for (const term of query.terms) {
    if (termMode(term) === "substring") {
      where.push(`m.body ILIKE ${param(likeContains(term), "text")} ESCAPE '\\'`);
      if ([...term].length < 3) where.push(keys(term));
      continue;
    }
    where.push(`lower(m.body) ~ (${param(wordStart(), "text")} || lower(${param(regexLiteral(term), "text")}))`);
    const lead = wordLead(term);
    if (lead !== "") where.push(keys(lead));
  }
  return {
    sql: `SELECT m.search_order, ${MESSAGE_SELECT} FROM ${MESSAGE_FROM}
      WHERE ${where.join(" AND ")}
      ORDER BY m.search_order DESC LIMIT ${param(query.limit + 1, "int")}`,
    params,
  };
}

/** Runs `work` in a transaction on `client`: COMMIT if it resolves, ROLLBACK if it throws. */
async function inTransaction(client: PoolClient, work: () => Promise<void>): Promise<void> {
  await client.query("BEGIN");
  try {
    await work();
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  }
}

