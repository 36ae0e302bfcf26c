import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import {
  DEFAULT_ROOM_ID,
  DEFAULT_ROOM_NAME,
  type Message,
  type RoomListing,
  type RoomSummary,
  type User,
} from "@parley/shared";
import { NAME_KEY_PREFIX, likePattern, nameKey } from "../keys.js";
import { SQLITE_DIALECT, pageStatement, sharedQueries, toPage } from "../queries.js";
import {
  MESSAGE_COLUMNS,
  newUserRecord,
  toListing,
  toMessage,
  toRoom,
  toSession,
  toSummary,
  toUser,
  toUserRecord,
  userInsertValues,
  type ListingRow,
  type MessageRow,
  type RoomRow,
  type SessionRow,
  type SummaryRow,
  type UserRecordRow,
  type UserRow,
} from "../rows.js";
import {
  StorageConflictError,
  dmRoomId,
  type NewMessage,
  type PageQuery,
  type RoomRecord,
  type SessionRecord,
  type Storage,
  type UserRecord,
} from "../storage.js";
import { SQLITE_MIGRATIONS } from "./migrations.js";

interface StaleName {
  id: string;
  name: string;
  tbl: "users" | "rooms";
}

/** SQLite keeps `mentions` as JSON text. */
type SqliteMessageRow = Omit<MessageRow, "mentions"> & { mentions: string };

interface PendingAppend {
  input: NewMessage;
  resolve: (r: { message: Message; created: boolean }) => void;
  reject: (e: unknown) => void;
}

const fromSqlite = (r: SqliteMessageRow): Message => toMessage({ ...r, mentions: JSON.parse(r.mentions) as string[] });

const isUniqueViolation = (e: unknown): boolean =>
  e instanceof Error && "code" in e && (e as { code: string }).code.startsWith("SQLITE_CONSTRAINT");

const Q = sharedQueries(SQLITE_DIALECT);

/**
 * SQLite storage (better-sqlite3, WAL). better-sqlite3 is synchronous, so each call runs to
 * completion on the event loop; the async signatures keep it interchangeable with PostgreSQL.
 *
 * Message appends use group commit: appends arriving in one event-loop turn are written in one
 * transaction (one WAL fsync for the batch instead of one per message), and each promise resolves
 * only after that transaction committed, so an ack is never sent for a message that could be lost.
 */
export class SqliteStorage implements Storage {
  private readonly db: Database.Database;
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // NORMAL in WAL mode: a committed transaction survives a process crash (SIGKILL); only an OS
    // crash or power loss can lose the last transactions. FULL would fsync on every commit.
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
  }

  /** Prepared statements are compiled once and reused: preparing costs more than most queries here. */
  private sql(source: string): Database.Statement {
    let stmt = this.statements.get(source);
    if (!stmt) {
      stmt = this.db.prepare(source);
      this.statements.set(source, stmt);
    }
    return stmt;
  }

  async init(): Promise<void> {
    const current = this.db.pragma("user_version", { simple: true }) as number;
    SQLITE_MIGRATIONS.forEach((sql, i) => {
      const version = i + 1;
      if (version <= current) return;
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.pragma(`user_version = ${version}`);
      })();
    });
    const t = this.now();
    this.sql(
        `INSERT OR IGNORE INTO rooms (id, kind, name, name_key, created_at, last_activity_at)
         VALUES (?, 'public', ?, ?, ?, ?)`,
      )
      .run(DEFAULT_ROOM_ID, DEFAULT_ROOM_NAME, nameKey(DEFAULT_ROOM_NAME), t, t);
    this.rekeyNames();
  }

  /**
   * Name keys written before they were confusable skeletons (no NAME_KEY_PREFIX) are rewritten
   * once; later starts find none. Two old names that turn out to look alike cannot both have the
   * new key: the first keeps the name, the other keeps its old key (it can no longer be signed in
   * to by a look-alike, which is the point) — rare enough to leave to an operator.
   */
  private rekeyNames(): void {
    const stale = [
      ...(this.sql("SELECT id, nickname AS name, 'users' AS tbl FROM users WHERE substr(nickname_key, 1, 3) <> ?").all(NAME_KEY_PREFIX) as StaleName[]),
      ...(this.sql("SELECT id, name, 'rooms' AS tbl FROM rooms WHERE kind = 'public' AND substr(name_key, 1, 3) <> ?").all(NAME_KEY_PREFIX) as StaleName[]),
    ];
    for (const { id, name, tbl } of stale) {
      const sql = tbl === "users" ? "UPDATE users SET nickname_key = ? WHERE id = ?" : "UPDATE rooms SET name_key = ? WHERE id = ?";
      try {
        this.sql(sql).run(nameKey(name), id);
      } catch (e) {
        if (!(e instanceof Database.SqliteError && e.code.startsWith("SQLITE_CONSTRAINT"))) throw e;
      }
    }
  }

  async ping(): Promise<void> {
    this.sql("SELECT 1").get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }

  async createUser(input: { nickname: string; passwordHash: string }): Promise<UserRecord> {
    const user = newUserRecord(input, this.now());
    try {
      this.sql(Q.insertUser).run(...userInsertValues(user));
    } catch (e) {
      if (isUniqueViolation(e)) throw new StorageConflictError("nickname");
      throw e;
    }
    return user;
  }

  async findUserByNickname(nickname: string): Promise<UserRecord | null> {
    const row = this.sql(Q.userByNameKey).get(nameKey(nickname)) as UserRecordRow | undefined;
    return row ? toUserRecord(row) : null;
  }

  async getUser(id: string): Promise<User | null> {
    const row = this.sql(Q.userById).get(id) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async updatePasswordHash(userId: string, passwordHash: string): Promise<void> {
    this.sql(Q.updatePasswordHash).run(passwordHash, userId);
  }

  async searchUsers(query: string, limit: number): Promise<User[]> {
    const rows = this.sql(Q.searchUsers).all(likePattern(query), limit) as UserRow[];
    return rows.map(toUser);
  }

  async createSession(input: { id: string; userId: string; tokenHash: string; expiresAt: number }): Promise<void> {
    this.sql(Q.insertSession).run(input.id, input.userId, input.tokenHash, input.expiresAt);
  }

  async findSession(tokenHash: string, now: number): Promise<SessionRecord | null> {
    const row = this.sql(Q.liveSession).get(tokenHash, now) as SessionRow | undefined;
    return row ? toSession(row) : null;
  }

  async deleteSession(tokenHash: string): Promise<SessionRecord | null> {
    const row = this.sql(Q.deleteSession).get(tokenHash) as SessionRow | undefined;
    return row ? toSession(row) : null;
  }

  async deleteUserSessions(userId: string): Promise<number> {
    return this.sql(Q.deleteUserSessions).run(userId).changes;
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    return this.sql(Q.deleteExpiredSessions).run(now).changes;
  }

  async createRoom(input: { name: string; createdBy: string }): Promise<RoomRecord> {
    const t = this.now();
    const id = randomUUID();
    try {
      this.sql(Q.insertPublicRoom).run(id, input.name, nameKey(input.name), input.createdBy, t, t);
    } catch (e) {
      if (isUniqueViolation(e)) throw new StorageConflictError("room_name");
      throw e;
    }
    return { id, kind: "public", name: input.name, createdAt: t, lastSeq: 0 };
  }

  async getRoom(id: string): Promise<RoomRecord | null> {
    const row = this.sql(Q.roomById).get(id) as RoomRow | undefined;
    return row ? toRoom(row) : null;
  }

  async getOrCreateDmRoom(userA: string, userB: string): Promise<RoomRecord> {
    const id = dmRoomId(userA, userB);
    const t = this.now();
    this.db.transaction(() => {
      const inserted = this.sql(
          `INSERT OR IGNORE INTO rooms (id, kind, name, created_at, last_activity_at) VALUES (?, 'dm', '', ?, ?)`,
        )
        .run(id, t, t);
      if (inserted.changes > 0) {
        const add = this.sql("INSERT OR IGNORE INTO members (room_id, user_id, joined_at) VALUES (?, ?, ?)");
        add.run(id, userA, t);
        add.run(id, userB, t);
      }
    })();
    return (await this.getRoom(id))!;
  }

  async listPublicRooms(query: string, userId: string, limit: number): Promise<RoomListing[]> {
    const rows = this.sql(Q.listPublicRooms).all(userId, likePattern(query), limit) as ListingRow[];
    return rows.map(toListing);
  }

  async addMember(roomId: string, userId: string): Promise<boolean> {
    // A new member has read nothing before joining: their read position starts at the room's end,
    // so joining a busy room does not greet them with thousands of "unread" messages.
    const r = this.sql(
        `INSERT OR IGNORE INTO members (room_id, user_id, joined_at, last_read_seq)
         SELECT ?, ?, ?, last_seq FROM rooms WHERE id = ?`,
      )
      .run(roomId, userId, this.now(), roomId);
    return r.changes > 0;
  }

  async removeMember(roomId: string, userId: string): Promise<boolean> {
    return this.sql(Q.removeMember).run(roomId, userId).changes > 0;
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return this.sql(Q.isMember).get(roomId, userId) !== undefined;
  }

  async listMembers(roomId: string): Promise<User[]> {
    const rows = this.sql(Q.listMembers).all(roomId) as UserRow[];
    return rows.map(toUser);
  }

  async listRoomIdsForUser(userId: string): Promise<string[]> {
    return (this.sql(Q.roomIdsForUser).all(userId) as { room_id: string }[]).map((r) => r.room_id);
  }

  async listRoomSummaries(userId: string): Promise<RoomSummary[]> {
    const rows = this.sql(Q.summaries).all(userId) as SummaryRow[];
    return rows.map(toSummary);
  }

  async getRoomSummary(roomId: string, userId: string): Promise<RoomSummary | null> {
    const row = this.sql(Q.summaryOfRoom).get(userId, roomId) as SummaryRow | undefined;
    return row ? toSummary(row) : null;
  }

  appendMessage(input: NewMessage): Promise<{ message: Message; created: boolean }> {
    if (this.closed) return Promise.reject(new Error("storage closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate: after the I/O callbacks of this turn, so every send that arrived in the
        // same batch of socket reads joins one transaction.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0 || this.closed) return;
    const results: ({ ok: true; value: { message: Message; created: boolean } } | { ok: false; error: unknown })[] = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          try {
            // Nested transaction = SAVEPOINT: one bad item fails alone, the batch still commits.
            results.push({ ok: true, value: this.appendOne(item.input) });
          } catch (error) {
            results.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
      // The commit itself failed: nothing of the batch is stored, so nothing is acked.
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const r = results[i]!;
      if (r.ok) item.resolve(r.value);
      else item.reject(r.error);
    });
  }

  private readonly appendOne = (input: NewMessage): { message: Message; created: boolean } =>
    this.db.transaction(() => {
      if (input.clientId !== null) {
        const existing = this.sql(Q.messageByClientId).get(input.authorId, input.clientId) as SqliteMessageRow | undefined;
        if (existing) return { message: fromSqlite(existing), created: false };
      }
      const t = this.now();
      const room = this.sql("UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = ? WHERE id = ? RETURNING last_seq")
        .get(t, input.roomId) as { last_seq: number } | undefined;
      if (!room) throw new Error(`room ${input.roomId} not found`);
      const author = this.sql("SELECT nickname FROM users WHERE id = ?").get(input.authorId) as
        | { nickname: string }
        | undefined;
      if (!author) throw new Error(`user ${input.authorId} not found`);
      const message: Message = {
        id: randomUUID(),
        roomId: input.roomId,
        seq: room.last_seq,
        kind: input.kind,
        authorId: input.authorId,
        authorNickname: author.nickname,
        clientId: input.clientId,
        body: input.body,
        createdAt: t,
        mentions: input.mentions,
      };
      this.sql(`INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(
          message.id,
          message.roomId,
          message.seq,
          message.kind,
          message.authorId,
          message.authorNickname,
          message.clientId,
          message.body,
          message.createdAt,
          JSON.stringify(message.mentions),
        );
      if (message.mentions.length > 0) {
        const mention = this.sql("INSERT OR IGNORE INTO mentions (user_id, room_id, seq) VALUES (?, ?, ?)");
        for (const userId of message.mentions) mention.run(userId, message.roomId, message.seq);
      }
      // The author has read everything up to their own message.
      this.sql("UPDATE members SET last_read_seq = MAX(last_read_seq, ?) WHERE room_id = ? AND user_id = ?")
        .run(message.seq, message.roomId, message.authorId);
      return { message, created: true };
    })();

  async getMessages(roomId: string, query: PageQuery): Promise<{ messages: Message[]; hasMore: boolean }> {
    const page = pageStatement(SQLITE_DIALECT, roomId, query);
    const rows = this.sql(page.sql).all(...page.params) as SqliteMessageRow[];
    return toPage(rows, query.limit, page.newestFirst, fromSqlite);
  }

  async setLastRead(roomId: string, userId: string, seq: number): Promise<number> {
    const row = this.sql(
        `UPDATE members SET last_read_seq = MAX(last_read_seq, MIN(?, (SELECT last_seq FROM rooms WHERE id = ?)))
         WHERE room_id = ? AND user_id = ? RETURNING last_read_seq`,
      )
      .get(seq, roomId, roomId, userId) as { last_read_seq: number } | undefined;
    return row?.last_read_seq ?? 0;
  }
}

