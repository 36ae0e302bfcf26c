import { randomUUID } from "node:crypto";
import { newMessageId } from "../message-id.js";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { consoleLogger, type Logger } from "../../logger.js";
import { startCheckpointer, type Checkpointer, type CheckpointerOptions } from "./checkpointer.js";
import {
  matchesTerm,
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
import { NAME_KEY_PREFIX, likePattern, nameKey } from "../keys.js";
import { SQLITE_DIALECT, pageStatement, reportsQuery, sharedQueries } from "../queries.js";
import {
  type RoomHeadRow,
  toRoomHead,
  attachmentInsertValues,
  toAttachment,
  toAttachmentRecord,
  type AttachmentRow,
  CHANGE_TARGET_COLUMNS,
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
import { cursorBound, searchPage } from "../search.js";
import { ftsString, indexText, termTrigrams } from "./search-index.js";
import { SQLITE_MIGRATIONS } from "./migrations.js";
import { profileQueries, toProfile, updateProfileParams, type AvatarRecord, type ProfilePatch, type ProfileRow } from "../profile-queries.js";

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

const decode = (r: SqliteMessageRow): MessageRow => ({ ...r, mentions: JSON.parse(r.mentions) as string[] });

const isUniqueViolation = (e: unknown): boolean =>
  e instanceof Error && "code" in e && (e as { code: string }).code.startsWith("SQLITE_CONSTRAINT");

const Q = sharedQueries(SQLITE_DIALECT);
const PQ = profileQueries({ ...SQLITE_DIALECT, inTextList: (expr) => `${expr} IN (SELECT value FROM json_each(?))` });

/**
 * Documents the search index takes per statement when it catches up: a batch is one group commit,
 * at most a few thousand; a database migrated from before search is indexed in steps of this many.
 */
const INDEX_CHUNK = 10_000;

/**
 * New messages the group commits leave out of the search index until this many wait (or a search,
 * an edit or a delete comes first), and then index in the commit that got there. Why: FTS5 writes a
 * segment of its own per transaction, and a group commit at a few hundred sends a second carries two
 * to five messages: indexing them there cost ~38 µs more per message at four per commit (~130
 * against ~94, `SqliteStorage` alone), ~17 µs at sixteen, so a few hundred at once cost far less
 * per message and write fewer pages to the WAL. Nothing is ever unsearchable: every search first
 * indexes what waits (see searchMessages), and a restart indexes it in init.
 */
const SEARCH_INDEX_BATCH = 256;

/** SQLite's default autocheckpoint (pages), restored when the checkpoint thread fails. */
const SQLITE_AUTOCHECKPOINT = 1000;

/** A searchable message as the search index takes it (see indexSearchDocs). */
export interface SearchDoc {
  docid: number;
  roomId: string;
  seq: number;
  body: string;
}

/** A document and its message, for the columns of both (`d.`, `m.`). */
const SEARCH_DOC_MESSAGE = "search_docs d CROSS JOIN messages m ON m.room_id = d.room_id AND m.seq = d.seq";

/** A search hit: the message's row and its place in commit order (the cursor). */
type SearchRow = SqliteMessageRow & { search_docid: number };

/**
 * The SQL function that is the search rule itself (`matchesTerm`), which decides every term on the
 * rows the index narrowed down: exactly the shared rule, where a LIKE would fold only ASCII and
 * differ on bodies whose lower case is longer ("İ"), on which the rule matches nothing. It exists on
 * this storage's connection only: nothing in the schema (no trigger, no index) calls it, so the
 * file stays usable from any other SQLite client.
 */
const MATCHES_TERM_FN = "parley_matches_term";

export interface SqliteStorageOptions {
  /** The clock of created_at and the like (tests move it). */
  now?: () => number;
  /**
   * WAL checkpoints on a thread of their own (checkpointer.ts; the default for a file), or
   * `false`: SQLite's autocheckpoint inside the commits, on the event loop.
   */
  checkpointer?: CheckpointerOptions | false;
  /** Where a failed checkpoint thread is reported. */
  logger?: Logger;
}

/**
 * SQLite storage (better-sqlite3, WAL). better-sqlite3 is synchronous, so each call runs to
 * completion on the event loop; the async signatures keep it interchangeable with PostgreSQL.
 *
 * Message appends use group commit: appends arriving in one event-loop turn are written in one
 * transaction (one commit for the batch instead of one per message), and each promise resolves
 * only after that transaction committed, so an ack is never sent for a message that could be lost.
 */
export class SqliteStorage implements Storage {
  private readonly db: Database.Database;
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  /**
   * The search_docid the next text message of the batch being written gets (see migration 4): one
   * above every docid used so far, read when a batch starts.
   */
  private nextSearchDocid = 0;
  /** The searchable messages the batch being written has stored so far (see indexSearchDocs). */
  private batchDocs: SearchDoc[] = [];
  /**
   * About how many stored messages wait for the search index (SEARCH_INDEX_BATCH): it only paces
   * the group commits' indexing (a rolled-back batch may leave it off by that batch); correctness
   * never depends on it, as a search indexes whatever waits first.
   */
  private searchBacklog = 0;
  /** `search_state`'s newest created_at and clock slack, as the batch being written moves them. */
  private searchClock = { newestAt: 0, slack: 0 };
  private readonly statements = new Map<string, Database.Statement>();
  private readonly now: () => number;
  /** The checkpoint thread, from init() on (a file database, unless turned off). */
  checkpointer: Checkpointer | null = null;
  /** Group commits wait while the checkpoint thread finishes the WAL (see checkpointer.ts). */
  private commitsHeld = false;

  constructor(
    readonly path: string,
    private readonly options: SqliteStorageOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // NORMAL in WAL mode: a committed transaction survives a process crash (SIGKILL); only an OS
    // crash or power loss can lose the last transactions. FULL would fsync on every commit.
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.appendNew = this.db.transaction((input: NewMessage) => this.writeNew(input));
    this.db.function(MATCHES_TERM_FN, { deterministic: true }, (body: unknown, term: unknown) =>
      matchesTerm(String(body), String(term)) ? 1 : 0,
    );
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
    this.rekeyNames();
    // Whatever is not in the search index yet: everything after migration 4, otherwise nothing
    // (or what another SQLite client wrote). In steps, so no transaction grows without bound.
    while (this.db.transaction(() => this.indexSearchDocs(INDEX_CHUNK))() === INDEX_CHUNK);
    if (this.path !== ":memory:" && this.options.checkpointer !== false && !this.checkpointer && !this.closed) this.startCheckpointer(this.options.checkpointer ?? {});
  }

  /** Hands the WAL checkpoints to a thread (see checkpointer.ts); back to SQLite if it fails. */
  private startCheckpointer(options: CheckpointerOptions): void {
    this.db.pragma("wal_autocheckpoint = 0");
    this.checkpointer = startCheckpointer(
      this.path,
      {
        hold: () => {
          this.commitsHeld = true;
        },
        release: () => {
          this.commitsHeld = false;
          if (this.queue.length > 0 && !this.flushScheduled && !this.closed) {
            this.flushScheduled = true;
            setImmediate(() => this.flush());
          }
        },
        failed: (error) => {
          if (this.closed) return;
          (this.options.logger ?? consoleLogger).error(`SQLite checkpoint thread failed, checkpointing inside commits again: ${error.message}`);
          this.db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT}`);
        },
      },
      options,
    );
  }

  async ensurePublicRoom(input: { id: string; name: string }): Promise<void> {
    const t = this.now();
    this.sql(
        `INSERT OR IGNORE INTO rooms (id, kind, name, name_key, created_at, last_activity_at)
         VALUES (?, 'public', ?, ?, ?, ?)`,
      )
      .run(input.id, input.name, nameKey(input.name), t, t);
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
    this.commitsHeld = false;
    this.flush();
    this.closed = true;
    // The thread's connection first: the last connection to close checkpoints and removes the WAL.
    await this.checkpointer?.stop();
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
    return { id, kind: "public", name: input.name, createdAt: t, lastSeq: 0, lastVersion: 0, topic: "", inviteOnly: false };
  }

  async getRoomHeads(roomIds: readonly string[]): Promise<RoomHead[]> {
    if (roomIds.length === 0) return [];
    // One statement for any number of rooms: the ids travel as one JSON array.
    const rows = this.sql(`SELECT id, last_seq, last_version FROM rooms WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(roomIds)) as RoomHeadRow[];
    return rows.map(toRoomHead);
  }

  async getRoom(id: string): Promise<RoomRecord | null> {
    const row = this.sql(Q.roomById).get(id) as RoomRow | undefined;
    return row ? toRoom(row) : null;
  }

  async getOrCreateDmRoom(id: string, [userA, userB]: readonly [string, string]): Promise<RoomRecord> {
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

  async addMember(roomId: string, userId: string, role: RoomRole = "member"): Promise<boolean> {
    // A new member has read nothing before joining: their read position starts at the room's end,
    // so joining a busy room does not greet them with thousands of "unread" messages.
    const r = this.sql(
        `INSERT OR IGNORE INTO members (room_id, user_id, joined_at, last_read_seq, role)
         SELECT ?, ?, ?, last_seq, ? FROM rooms WHERE id = ?`,
      )
      .run(roomId, userId, this.now(), role, roomId);
    return r.changes > 0;
  }

  async removeMember(roomId: string, userId: string): Promise<boolean> {
    return this.sql(Q.removeMember).run(roomId, userId).changes > 0;
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return this.sql(Q.isMember).get(roomId, userId) !== undefined;
  }

  async listMembers(roomId: string): Promise<MemberRecord[]> {
    const rows = this.sql(Q.listMembers).all(roomId) as MemberRow[];
    return rows.map(toMemberRecord);
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
    // The sends stay queued; the release schedules the flush again.
    if (this.commitsHeld) return;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0 || this.closed) return;
    const results: ({ ok: true; value: { message: Message; created: boolean } } | { ok: false; error: unknown })[] = [];
    try {
      this.db.transaction(() => {
        // Above the indexed ones too: a deleted document's docid must not come back.
        const state = this.sql(
          `SELECT MAX(indexed_docid, (SELECT COALESCE(MAX(docid), 0) FROM search_docs)) AS docid, newest_at, clock_slack
           FROM search_state WHERE id = 1`,
        ).get() as { docid: number; newest_at: number; clock_slack: number };
        // Never below what this process gave out: a message stored and deleted before the index
        // took it leaves no search_docs row (see indexSearchDocs' watermark).
        this.nextSearchDocid = Math.max(this.nextSearchDocid, state.docid + 1);
        this.searchClock = { newestAt: state.newest_at, slack: state.clock_slack };
        this.batchDocs = [];
        for (const item of batch) {
          try {
            // Nested transaction = SAVEPOINT: one bad item fails alone, the batch still commits.
            results.push({ ok: true, value: this.appendOne(item.input) });
          } catch (error) {
            results.push({ ok: false, error });
          }
        }
        // Outside the items' savepoints, once for the batch (see migration 4 for why). The documents
        // are recorded now; the index takes them a few hundred at a time (SEARCH_INDEX_BATCH).
        this.recordSearchDocs(this.batchDocs);
        this.batchDocs = [];
        if (this.searchBacklog >= SEARCH_INDEX_BATCH) this.indexSearchDocs(Number.POSITIVE_INFINITY);
        this.sql("UPDATE search_state SET newest_at = ?, clock_slack = ? WHERE id = 1").run(this.searchClock.newestAt, this.searchClock.slack);
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

  /**
   * One send, in its own savepoint. Written first, looked up only when that fails: a retry of a
   * stored send is refused by the unique (author, client id) index, or earlier by the claim of its
   * files (already on the stored message), and then gets the stored message, in its current state
   * (it may have been edited or reacted to since). Why not look first, as a retry is answered: the
   * lookup was a query per send on the hot path for what is a rare case (issue 15).
   */
  private readonly appendOne = (input: NewMessage): { message: Message; created: boolean } => {
    try {
      return this.appendNew(input);
    } catch (error) {
      if (input.clientId !== null && (isUniqueViolation(error) || error instanceof AttachmentClaimError)) {
        const existing = this.sql(Q.messageByClientId).get(input.authorId, input.clientId) as SqliteMessageRow | undefined;
        if (existing) return { message: this.withReactions([existing])[0]!, created: false };
      }
      throw error;
    }
  };

  /**
   * writeNew in its own savepoint. The transaction function is made once: better-sqlite3's
   * `db.transaction(fn)` builds four wrappers each time it is called, which per send was 1.5 % of
   * the server's time at 1,000 sends/s (issue 15, cpu profile).
   */
  private readonly appendNew: (input: NewMessage) => { message: Message; created: boolean };

  private writeNew(input: NewMessage): { message: Message; created: boolean } {
    const t = this.now();
    // The seq and the version of a new message come from the same room row update, so a new
    // message is one change like any other (ADR 0009), still inside the batch's transaction.
    const room = this.sql(
        `UPDATE rooms SET last_seq = last_seq + 1, last_version = last_version + 1, last_activity_at = ?
         WHERE id = ? RETURNING last_seq, last_version`,
      )
      .get(t, input.roomId) as { last_seq: number; last_version: number } | undefined;
    if (!room) throw new Error(`room ${input.roomId} not found`);
    const author = this.sql("SELECT nickname FROM users WHERE id = ?").get(input.authorId) as
      | { nickname: string }
      | undefined;
    if (!author) throw new Error(`user ${input.authorId} not found`);
    const id = newMessageId(t);
    // Inside the item's savepoint: a file that cannot be claimed undoes the seq taken above too.
    const attachments = (input.attachmentIds ?? []).map((attachmentId) => {
      const row = this.sql(Q.claimAttachment).get(id, attachmentId, input.authorId, input.roomId) as AttachmentRow | undefined;
      if (!row) throw new AttachmentClaimError(attachmentId);
      return toAttachment(row);
    });
    // Only text is searched (see Storage.searchMessages).
    const docid = input.kind === "text" ? this.nextSearchDocid++ : null;
    this.sql(`INSERT INTO messages (${MESSAGE_INSERT_COLUMNS}, search_docid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        id,
        input.roomId,
        room.last_seq,
        input.kind,
        input.authorId,
        author.nickname,
        input.clientId,
        input.body,
        t,
        JSON.stringify(input.mentions),
        room.last_version,
        room.last_version,
        input.replyToId ?? null,
        attachments.length > 0 ? JSON.stringify(attachments) : null,
        docid,
      );
    if (input.mentions.length > 0) {
      const mention = this.sql("INSERT OR IGNORE INTO mentions (user_id, room_id, seq) VALUES (?, ?, ?)");
      for (const userId of input.mentions) mention.run(userId, input.roomId, room.last_seq);
    }
    // The author has read everything up to their own message.
    this.sql("UPDATE members SET last_read_seq = MAX(last_read_seq, ?) WHERE room_id = ? AND user_id = ?")
      .run(room.last_seq, input.roomId, input.authorId);
    // A reply is read back through the shared select, for its preview of the original. Anything
    // else is the row just written, as the select would return it: one query less per send on the
    // hot path (issue 15: half the statements' time of a send was its two reads). A new message
    // has no reactions, no edit, no delete.
    const row: MessageRow = input.replyToId
      ? decode(this.sql(Q.messageById).get(id) as SqliteMessageRow)
      : {
          id,
          room_id: input.roomId,
          seq: room.last_seq,
          kind: input.kind,
          author_id: input.authorId,
          author_nickname: author.nickname,
          client_id: input.clientId,
          body: input.body,
          created_at: t,
          mentions: [...input.mentions],
          version: room.last_version,
          edited_at: null,
          deleted_at: null,
          deleted_by: null,
          reply_to_id: null,
          attachments: attachments.length > 0 ? JSON.stringify(attachments) : null,
          reply_id: null,
          reply_seq: null,
          reply_author_id: null,
          reply_author_nickname: null,
          reply_body: null,
          reply_deleted_at: null,
        };
    // Last, so that only a message whose savepoint holds is indexed with the batch. (The clock
    // may count one that then fails: a slack too large only makes date searches read more.)
    if (docid !== null) {
      this.batchDocs.push({ docid, roomId: input.roomId, seq: room.last_seq, body: input.body });
      const clock = this.searchClock;
      if (t < clock.newestAt) clock.slack = Math.max(clock.slack, clock.newestAt - t);
      else clock.newestAt = t;
    }
    return { message: toMessages([row], [])[0]!, created: true };
  }

  /** Messages of one room with their reactions, read by one query for all of them. */
  private withReactions(rows: SqliteMessageRow[]): Message[] {
    const first = rows[0];
    if (!first) return [];
    const reactions = this.sql(Q.reactionsOf).all(first.room_id, SQLITE_DIALECT.seqList(rows.map((r) => r.seq))) as ReactionRow[];
    return toMessages(rows.map(decode), reactions);
  }

  async getMessages(roomId: string, query: PageQuery): Promise<{ messages: Message[]; hasMore: boolean; version: number }> {
    // One synchronous run: no other write can come between the page, its reactions and the
    // version, so they are one snapshot.
    const page = pageStatement(SQLITE_DIALECT, roomId, query);
    const { rows, hasMore } = page.arrange(this.sql(page.sql).all(...page.params) as SqliteMessageRow[]);
    const room = this.sql(Q.roomVersion).get(roomId) as { last_version: number } | undefined;
    return { messages: this.withReactions(rows), hasMore, version: room?.last_version ?? 0 };
  }

  async getMessage(messageId: string): Promise<Message | null> {
    return this.readMessage(messageId);
  }

  private readMessage(messageId: string): Message | null {
    const row = this.sql(Q.messageById).get(messageId) as SqliteMessageRow | undefined;
    return row ? this.withReactions([row])[0]! : null;
  }

  /**
   * Runs one change to a message in a transaction: `decide` looks at the stored message and either
   * names an outcome that changes nothing, or writes the change with the room's next version. The
   * result carries the message as stored afterwards. Unknown message: null.
   */
  private change(
    messageId: string,
    decide: (target: ChangeTargetRow) => Exclude<ChangeResult["outcome"], "changed"> | ((version: number, now: number) => void),
  ): ChangeResult | null {
    return this.db.transaction((): ChangeResult | null => {
      const target = this.sql(`SELECT ${CHANGE_TARGET_COLUMNS} FROM messages WHERE id = ?`).get(messageId) as ChangeTargetRow | undefined;
      if (!target) return null;
      const decision = decide(target);
      let outcome: ChangeResult["outcome"] = "changed";
      if (typeof decision === "string") {
        outcome = decision;
      } else {
        const { last_version } = this.sql(Q.nextVersion).get(target.room_id) as { last_version: number };
        decision(last_version, this.now());
      }
      // An edit or a delete changed a document the search index holds (see migration 4).
      if (outcome === "changed") this.indexSearchDocs(Number.POSITIVE_INFINITY);
      return { outcome, message: this.readMessage(messageId)! };
    })();
  }

  /**
   * Records the documents of messages just appended (all above every docid used before) for the
   * search index to take later (indexSearchDocs' backlog): what a group commit does per batch.
   */
  private recordSearchDocs(docs: readonly SearchDoc[]): void {
    const addDoc = this.sql("INSERT INTO search_docs (docid, room_id, seq) VALUES (?, ?, ?)");
    for (const doc of docs) addDoc.run(doc.docid, doc.roomId, doc.seq);
    this.searchBacklog += docs.length;
  }

  /**
   * Brings `search_index` up to date, in the caller's transaction: first the messages whose body
   * changed or that went since they were indexed (`search_changed`), then the documents above the
   * watermark that are not indexed yet, at most `max` of them: the group commits' recent messages
   * (recordSearchDocs), or a database migrated to search. Returns how many of the second kind it
   * indexed. Protected for bench:search alone, which measures what appends cost without it.
   */
  protected indexSearchDocs(max: number): number {
    const insert = this.sql("INSERT INTO search_index (rowid, text) VALUES (?, ?)");
    const changed = this.sql("SELECT docid FROM search_changed").all() as { docid: number }[];
    for (const { docid } of changed) {
      this.sql("DELETE FROM search_index WHERE rowid = ?").run(docid);
      const current = this.sql(`SELECT m.body FROM ${SEARCH_DOC_MESSAGE} WHERE d.docid = ?`).get(docid) as { body: string } | undefined;
      if (current) insert.run(docid, indexText(current.body));
    }
    if (changed.length > 0) this.sql("DELETE FROM search_changed").run();
    const { docid: indexed } = this.sql("SELECT indexed_docid AS docid FROM search_state WHERE id = 1").get() as { docid: number };
    const backlog = this.sql(`SELECT d.docid, m.body FROM ${SEARCH_DOC_MESSAGE} WHERE d.docid > ? ORDER BY d.docid LIMIT ?`).all(
      indexed,
      Number.isFinite(max) ? max : -1,
    ) as { docid: number; body: string }[];
    for (const doc of backlog) insert.run(doc.docid, indexText(doc.body));
    this.searchBacklog = Math.max(0, this.searchBacklog - backlog.length);
    // With the whole backlog indexed, the watermark goes up to the last docid this storage gave out
    // even if that message went meanwhile (a delete takes its search_docs row): a docid is never
    // reused, and the first batch after a restart starts above the watermark.
    const last = Math.max(backlog[backlog.length - 1]?.docid ?? 0, backlog.length < max ? this.nextSearchDocid - 1 : 0);
    if (last > indexed) this.sql("UPDATE search_state SET indexed_docid = ? WHERE id = 1").run(last);
    return backlog.length;
  }

  async editMessage(input: { messageId: string; body: string; mentions: string[]; baseVersion: number }): Promise<ChangeResult | null> {
    return this.change(input.messageId, (m) => {
      if (m.deleted_at !== null) return "deleted";
      // Checked before the conflict: the retry of an applied edit finds its own body, newer than
      // its base, and must hear "unchanged", not "conflict".
      if (m.body === input.body) return "unchanged";
      if (m.body_version > input.baseVersion) return "conflict";
      return (version, now) => {
        this.sql("UPDATE messages SET body = ?, mentions = ?, edited_at = ?, body_version = ?, version = ? WHERE id = ?")
          .run(input.body, JSON.stringify(input.mentions), now, version, version, m.id);
        this.replaceMentions(m.room_id, m.seq, input.mentions);
      };
    });
  }

  async deleteMessage(messageId: string, deletedBy: string): Promise<ChangeResult | null> {
    return this.change(messageId, (m) => {
      if (m.deleted_at !== null) return "unchanged";
      return (version, now) => {
        this.sql("UPDATE messages SET body = '', mentions = '[]', deleted_at = ?, deleted_by = ?, body_version = ?, version = ? WHERE id = ?")
          .run(now, deletedBy, version, version, m.id);
        this.replaceMentions(m.room_id, m.seq, []);
        this.sql(Q.deleteReactionsOf).run(m.room_id, m.seq);
      };
    });
  }

  async setReaction(input: { messageId: string; userId: string; emoji: string; on: boolean; maxDistinct: number }): Promise<ChangeResult | null> {
    return this.change(input.messageId, (m) => {
      // A deleted message has no reactions: setting one is refused, clearing one is a no-op, so a
      // retried "off" never fails (ADR 0009).
      if (m.deleted_at !== null) return input.on ? "deleted" : "unchanged";
      const isSet = this.sql(Q.hasReaction).get(m.room_id, m.seq, input.emoji, input.userId) !== undefined;
      if (isSet === input.on) return "unchanged";
      if (input.on) {
        const emoji = (this.sql(Q.emojiOf).all(m.room_id, m.seq) as { emoji: string }[]).map((r) => r.emoji);
        if (!emoji.includes(input.emoji) && emoji.length >= input.maxDistinct) return "limit";
      }
      return (version, now) => {
        if (input.on) this.sql(Q.insertReaction).run(m.room_id, m.seq, input.emoji, input.userId, now, version);
        else this.sql(Q.deleteReaction).run(m.room_id, m.seq, input.emoji, input.userId);
        this.sql(Q.touchMessage).run(version, m.room_id, m.seq);
      };
    });
  }

  /** The mentions rows of a message follow its `mentions` column (they feed the mention counts). */
  private replaceMentions(roomId: string, seq: number, mentions: readonly string[]): void {
    this.sql(Q.deleteMentionsOf).run(roomId, seq);
    const mention = this.sql("INSERT OR IGNORE INTO mentions (user_id, room_id, seq) VALUES (?, ?, ?)");
    for (const userId of mentions) mention.run(userId, roomId, seq);
  }

  async createAttachment(input: NewAttachment): Promise<{ attachment: AttachmentRecord; created: boolean }> {
    const { changes } = this.sql(Q.insertAttachment).run(...attachmentInsertValues(input));
    const stored = await this.findUpload(input.uploaderId, input.uploadId);
    if (!stored) throw new Error(`attachment ${input.id} was not stored`);
    return { attachment: stored, created: changes > 0 };
  }

  async findUpload(uploaderId: string, uploadId: string): Promise<AttachmentRecord | null> {
    const row = this.sql(Q.attachmentByUpload).get(uploaderId, uploadId) as AttachmentRow | undefined;
    return row ? toAttachmentRecord(row) : null;
  }

  async getAttachment(id: string): Promise<AttachmentRecord | null> {
    const row = this.sql(Q.attachmentById).get(id) as AttachmentRow | undefined;
    return row ? toAttachmentRecord(row) : null;
  }

  async uploadedBytesSince(uploaderId: string, since: number): Promise<number> {
    const row = this.sql(Q.uploadedBytesSince).get(uploaderId, since, uploaderId, since) as { bytes: number };
    return Number(row.bytes);
  }

  async getRole(roomId: string, userId: string): Promise<RoomRole | null> {
    const row = this.sql(Q.roleOf).get(roomId, userId) as { role: RoomRole } | undefined;
    return row?.role ?? null;
  }

  async setRole(roomId: string, userId: string, role: RoomRole): Promise<boolean> {
    return this.sql(Q.setRole).run(role, roomId, userId).changes > 0;
  }

  async listStaffIds(roomId: string): Promise<string[]> {
    return (this.sql(Q.staffOf).all(roomId) as { user_id: string }[]).map((r) => r.user_id);
  }

  async listModeratedRoomIds(userId: string): Promise<string[]> {
    return (this.sql(Q.moderatedRoomIds).all(userId) as { room_id: string }[]).map((r) => r.room_id);
  }

  async updateRoom(roomId: string, patch: { name?: string; topic?: string; inviteOnly?: boolean }): Promise<RoomRecord | null> {
    try {
      const row = this.sql(Q.updateRoom).get(
        patch.name ?? null,
        patch.name === undefined ? null : nameKey(patch.name),
        patch.topic ?? null,
        patch.inviteOnly === undefined ? null : Number(patch.inviteOnly),
        roomId,
      ) as RoomRow | undefined;
      return row ? toRoom(row) : null;
    } catch (e) {
      if (isUniqueViolation(e)) throw new StorageConflictError("room_name");
      throw e;
    }
  }

  async banUser(input: { roomId: string; userId: string; bannedBy: string; reason: string }): Promise<{ created: boolean; wasMember: boolean }> {
    return this.db.transaction(() => {
      const created =
        this.sql("INSERT OR IGNORE INTO bans (room_id, user_id, banned_by, reason, created_at) VALUES (?, ?, ?, ?, ?)")
          .run(input.roomId, input.userId, input.bannedBy, input.reason, this.now()).changes > 0;
      const wasMember = this.sql(Q.removeMember).run(input.roomId, input.userId).changes > 0;
      return { created, wasMember };
    })();
  }

  async unbanUser(roomId: string, userId: string): Promise<boolean> {
    return this.sql(Q.unban).run(roomId, userId).changes > 0;
  }

  async isBanned(roomId: string, userId: string): Promise<boolean> {
    return this.sql(Q.isBanned).get(roomId, userId) !== undefined;
  }

  async listBans(roomId: string): Promise<Ban[]> {
    return (this.sql(Q.listBans).all(roomId) as BanRow[]).map(toBan);
  }

  async setMute(userId: string, mutedId: string, on: boolean): Promise<void> {
    if (on) this.sql(Q.insertMute).run(userId, mutedId, this.now());
    else this.sql(Q.deleteMute).run(userId, mutedId);
  }

  async listMutedIds(userId: string): Promise<string[]> {
    return (this.sql(Q.mutedIds).all(userId) as { muted_id: string }[]).map((r) => r.muted_id);
  }

  async createReport(input: { roomId: string; messageId: string; reporterId: string; reason: string }): Promise<{ report: ReportRecord; created: boolean }> {
    const created =
      this.sql(Q.insertReport).run(randomUUID(), input.roomId, input.messageId, input.reporterId, input.reason, this.now()).changes > 0;
    const row = this.sql(Q.reportByReporter).get(input.messageId, input.reporterId) as ReportRow;
    return { report: toReportRecord(row), created };
  }

  async getReport(id: string): Promise<ReportRecord | null> {
    const row = this.sql(Q.reportById).get(id) as ReportRow | undefined;
    return row ? toReportRecord(row) : null;
  }

  async listReports(filter: { roomIds: readonly string[] | null; resolved?: boolean; limit: number }): Promise<ReportRecord[]> {
    const sql = reportsQuery(SQLITE_DIALECT, { byRooms: filter.roomIds !== null, resolved: filter.resolved });
    const params: unknown[] = filter.roomIds === null ? [] : [SQLITE_DIALECT.textList(filter.roomIds)];
    return (this.sql(sql).all(...params, filter.limit) as ReportRow[]).map(toReportRecord);
  }

  async resolveReport(id: string, resolvedBy: string): Promise<ReportRecord | null> {
    this.sql(Q.resolveReport).run(this.now(), resolvedBy, id);
    return this.getReport(id);
  }

  async appendAudit(entry: NewAuditEntry): Promise<void> {
    this.sql(Q.insertAudit).run(entry.roomId, entry.actorId, entry.action, entry.targetId, entry.messageId, entry.detail, this.now());
  }

  async listAudit(roomId: string, limit: number): Promise<AuditEntry[]> {
    return (this.sql(Q.listAudit).all(roomId, limit) as AuditRow[]).map(toAuditEntry);
  }

  async firstUserId(): Promise<string | null> {
    // rowid: the order of the inserts (two sign-ups can share a created_at millisecond).
    return (this.sql("SELECT id FROM users ORDER BY rowid LIMIT 1").get() as { id: string } | undefined)?.id ?? null;
  }

  async setDeactivated(userId: string, at: number | null): Promise<boolean> {
    return this.sql(Q.setDeactivated).run(at, userId).changes > 0;
  }

  async getProfiles(userIds: readonly string[]): Promise<Profile[]> {
    if (userIds.length === 0) return [];
    return (this.sql(PQ.profilesByIds).all(JSON.stringify(userIds)) as ProfileRow[]).map(toProfile);
  }

  async listProfilesForSync(userId: string, limit: number): Promise<Profile[]> {
    return (this.sql(PQ.profilesForSync).all(userId, userId, limit) as ProfileRow[]).map(toProfile);
  }

  async updateProfile(userId: string, patch: ProfilePatch): Promise<Profile | null> {
    const row = this.sql(PQ.updateProfile).get(...updateProfileParams(userId, patch)) as ProfileRow | undefined;
    return row ? toProfile(row) : null;
  }

  async setAvatar(userId: string, avatar: (AvatarRecord & { uploadBytes: number; at: number }) | null): Promise<Profile | null> {
    return this.db.transaction(() => {
      const row = this.sql(PQ.setAvatar).get(avatar?.avatarId ?? null, avatar?.blobHash ?? null, userId) as ProfileRow | undefined;
      if (row && avatar) this.sql(PQ.insertAvatarUpload).run(userId, avatar.uploadBytes, avatar.at);
      return row ? toProfile(row) : null;
    })();
  }

  async getAvatar(userId: string): Promise<AvatarRecord | null> {
    const row = this.sql(PQ.avatarOf).get(userId) as { avatar_id: string | null; avatar_hash: string | null } | undefined;
    return row?.avatar_id && row.avatar_hash ? { avatarId: row.avatar_id, blobHash: row.avatar_hash } : null;
  }

  async setLastSeen(userId: string, at: number): Promise<void> {
    this.sql(PQ.setLastSeen).run(at, userId);
  }

  async setNotifyLevel(roomId: string, userId: string, level: NotifyLevel): Promise<boolean> {
    return this.sql(PQ.setNotifyLevel).run(level, roomId, userId).changes > 0;
  }

  async searchMessages(query: SearchQuery): Promise<{ messages: Message[]; nextCursor: string | null }> {
    // Whatever the group commits left for the index (SEARCH_INDEX_BATCH) first: a message is
    // found as soon as its send was acked. With nothing waiting this is three reads and no write.
    this.db.transaction(() => this.indexSearchDocs(Number.POSITIVE_INFINITY))();
    const { sql, params } = searchStatement(query, this.searchRange(query));
    const rows = this.sql(sql).all(...params) as SearchRow[];
    const page = searchPage(rows, query.limit, (r) => r.search_docid);
    return { messages: this.withReactionsOfRooms(page.rows), nextCursor: page.nextCursor };
  }

  /**
   * The docids a search can find anything in: below the cursor, and for a date filter, the docids
   * between which the dates lie. created_at grows with docid but for a clock that stepped back, by
   * at most `clock_slack` (search_state): so every document after one at or past `before + slack`
   * is at or past `before`, and every document before one earlier than `after - slack` is earlier
   * than `after`. Any such document will do as a bound, so a binary search over docids (each step
   * one primary-key read) finds one near the edge of the dates. Without this, a search for a common
   * word in an old week read every newer message with the word, to look at its date.
   */
  private searchRange(query: SearchQuery): DocidRange {
    const range = { above: 0, below: cursorBound(query.cursor) };
    if (query.after === null && query.before === null) return range;
    const { clock_slack: slack, newest } = this.sql(
      "SELECT clock_slack, (SELECT COALESCE(MAX(docid), 0) FROM search_docs) AS newest FROM search_state WHERE id = 1",
    ).get() as { clock_slack: number; newest: number };
    const at = this.sql(`SELECT d.docid, m.created_at FROM ${SEARCH_DOC_MESSAGE} WHERE d.docid >= ? ORDER BY d.docid LIMIT 1`);
    /** The first document from `docid` on, if any. */
    const doc = (docid: number) => at.get(docid) as { docid: number; created_at: number } | undefined;
    if (query.before !== null) {
      const limit = query.before + slack;
      // The smallest docid found whose document is at or past `limit`.
      let [lo, hi] = [1, newest];
      while (lo <= hi) {
        const mid = Math.floor((lo + hi) / 2);
        const d = doc(mid);
        if (!d || d.docid > hi) {
          hi = mid - 1;
        } else if (d.created_at >= limit) {
          range.below = Math.min(range.below, d.docid);
          hi = d.docid - 1;
        } else {
          lo = d.docid + 1;
        }
      }
    }
    if (query.after !== null) {
      const limit = query.after - slack;
      // The largest docid found whose document is earlier than `limit`.
      let [lo, hi] = [1, newest];
      while (lo <= hi) {
        const mid = Math.floor((lo + hi) / 2);
        const d = doc(mid);
        if (!d || d.docid > hi) {
          hi = mid - 1;
        } else if (d.created_at < limit) {
          range.above = Math.max(range.above, d.docid);
          lo = d.docid + 1;
        } else {
          hi = mid - 1;
        }
      }
    }
    return range;
  }

  /** Messages of any rooms with their reactions, in the order given: one reactions query per room. */
  private withReactionsOfRooms(rows: SqliteMessageRow[]): Message[] {
    const byRoom = new Map<string, SqliteMessageRow[]>();
    for (const r of rows) {
      const group = byRoom.get(r.room_id);
      if (group) group.push(r);
      else byRoom.set(r.room_id, [r]);
    }
    const byId = new Map<string, Message>();
    for (const group of byRoom.values()) for (const m of this.withReactions(group)) byId.set(m.id, m);
    return rows.map((r) => byId.get(r.id)!);
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

/**
 * The one statement of a search: the hits newest first (one more than `limit`, to tell whether more
 * exist), as message rows with their search_docid.
 *
 * Every term that the index can narrow down adds its trigrams (search-index.ts) to one FTS5 query,
 * read by descending rowid (= docid: FTS5 walks its doclists backwards and consumes the ORDER BY),
 * so the search stops after `limit + 1` hits instead of collecting and sorting every match, and
 * FTS5 itself intersects the terms. CROSS JOIN keeps SQLite from reordering the loops (it would
 * otherwise start from the member's rooms and sort all their messages). Each candidate is then
 * checked against every term by the rule itself (MATCHES_TERM_FN), a microsecond or two for each
 * row found. Without a term the index serves, the scan is of the messages themselves: backwards by
 * docid, for `has:file` along the partial index of messages with files, or for one room backwards
 * by seq along the primary key (the same order within a room).
 */
function searchStatement(query: SearchQuery, range: DocidRange): { sql: string; params: unknown[] } {
  const trigrams = [...new Set(query.terms.flatMap(termTrigrams))];
  const checks: Clause[] = query.terms.map((term) => ({ sql: `${MATCHES_TERM_FN}(m.body, ?)`, params: [term] }));

  const messagesOfDocs = "CROSS JOIN messages m ON m.room_id = d.room_id AND m.seq = d.seq";
  let driver: { from: string; where: Clause; order: string };
  if (trigrams.length > 0) {
    driver = {
      from: `search_index f CROSS JOIN search_docs d ON d.docid = f.rowid ${messagesOfDocs}`,
      where: { sql: "f.search_index MATCH ? AND f.rowid < ? AND f.rowid > ?", params: [trigrams.map(ftsString).join(" AND "), range.below, range.above] },
      order: "f.rowid DESC",
    };
  } else if (query.hasFile && query.roomId === null) {
    // Messages with files, newest first, from their partial index (migration 5).
    driver = {
      from: "messages m",
      where: {
        sql: "m.attachments IS NOT NULL AND m.kind = 'text' AND m.deleted_at IS NULL AND m.search_docid < ? AND m.search_docid > ?",
        params: [range.below, range.above],
      },
      order: "m.search_docid DESC",
    };
  } else if (query.roomId !== null) {
    driver = {
      from: "messages m",
      where: {
        sql: "m.room_id = ? AND m.search_docid < ? AND m.search_docid > ? AND m.kind = 'text' AND m.deleted_at IS NULL",
        params: [query.roomId, range.below, range.above],
      },
      order: "m.seq DESC",
    };
  } else {
    driver = {
      from: `search_docs d ${messagesOfDocs}`,
      where: { sql: "d.docid < ? AND d.docid > ?", params: [range.below, range.above] },
      order: "d.docid DESC",
    };
  }

  // The unary + keeps SQLite from serving the membership test from an index on the room: that
  // would read every message of the member's rooms and sort them, instead of stopping at `limit`.
  const filters: Clause[] = [{ sql: "+m.room_id IN (SELECT room_id FROM members WHERE user_id = ?)", params: [query.userId] }];
  if (query.roomId !== null) filters.push({ sql: "m.room_id = ?", params: [query.roomId] });
  if (query.authorId !== null) filters.push({ sql: "m.author_id = ?", params: [query.authorId] });
  if (query.after !== null) filters.push({ sql: "m.created_at >= ?", params: [query.after] });
  if (query.before !== null) filters.push({ sql: "m.created_at < ?", params: [query.before] });
  if (query.hasFile) filters.push({ sql: "m.attachments IS NOT NULL", params: [] });

  // SQLite's `?` bind by position: the parameters are collected in the order the clauses are written.
  const where = [driver.where, ...filters, ...checks];
  return {
    sql: `SELECT m.search_docid, ${MESSAGE_SELECT}
      FROM ${driver.from}
      LEFT JOIN messages q ON q.id = m.reply_to_id
      WHERE ${where.map((c) => c.sql).join(" AND ")}
      ORDER BY ${driver.order} LIMIT ?`,
    params: [...where.flatMap((c) => c.params), query.limit + 1],
  };
}

/** Docids strictly between `above` and `below`. */
interface DocidRange {
  above: number;
  below: number;
}

/** A piece of a WHERE clause and its parameters. */
interface Clause {
  sql: string;
  params: unknown[];
}
