import { dmRoomId } from "../src/domain/room.service.js";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID, DEFAULT_ROOM_NAME, type Message } from "@parley/shared";
import { nameKey } from "../src/storage/keys.js";
import { POSTGRES_MIGRATIONS } from "../src/storage/postgres/migrations.js";
import { PostgresStorage } from "../src/storage/postgres/postgres-storage.js";
import { SQLITE_MIGRATIONS } from "../src/storage/sqlite/migrations.js";
import { SqliteStorage } from "../src/storage/sqlite/sqlite-storage.js";
import { StorageConflictError, type NewMessage, type Storage } from "../src/storage/storage.js";
import { TEST_PG_URL, createTestDatabase, describeWithServices, type TestDatabase, type TestSchema } from "./helpers/pg.js";
import { storageContractSuite } from "./storage.contract.js";
import { prepareStorage } from "../src/domain/setup.js";

storageContractSuite("SQLite in memory", async () => {
  const storage = await prepareStorage(new SqliteStorage(":memory:"));
  return { storage, cleanup: () => storage.close() };
});

storageContractSuite("SQLite file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-storage-"));
  const path = join(dir, "parley.sqlite");
  const opened: Storage[] = [];
  const open = async () => {
    const storage = new SqliteStorage(path);
    opened.push(storage);
    await prepareStorage(storage);
    return storage;
  };
  return {
    storage: await open(),
    reopen: open,
    async cleanup() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** A PostgresStorage on a fresh schema of its own; cleanup closes it and drops the schema. */
async function openPostgres(db: TestDatabase) {
  const schema = await db.createSchema();
  const opened: Storage[] = [];
  const open = async () => {
    const storage = new PostgresStorage(schema.url);
    opened.push(storage);
    await prepareStorage(storage);
    return storage;
  };
  return {
    storage: await open(),
    reopen: open,
    async cleanup() {
      for (const s of opened) await s.close();
      await schema.drop();
    },
  };
}

describeWithServices(["PARLEY_TEST_PG_URL"], "PostgreSQL", () => {
  const adminUrl = TEST_PG_URL!;
  // One fresh database for this run, dropped at the end; each storage under test gets a schema.
  let runDb: TestDatabase;
  beforeAll(async () => {
    runDb = await createTestDatabase(adminUrl);
  });
  afterAll(async () => {
    await runDb.drop();
  });

  storageContractSuite("PostgreSQL", () => openPostgres(runDb));

  // What only a shared database has: several server nodes (pools) on the same rows at once.
  describe("several nodes on one database", () => {
    let db: TestSchema;
    let nodes: PostgresStorage[];

    beforeEach(async () => {
      db = await runDb.createSchema();
      nodes = [];
    });
    afterEach(async () => {
      for (const n of nodes) await n.close();
      await db.drop();
    });

    const startNodes = async (count: number) => {
      nodes = Array.from({ length: count }, () => new PostgresStorage(db.url));
      await Promise.all(nodes.map((n) => prepareStorage(n)));
      return nodes;
    };

    it("migrates once when nodes start at the same time", async () => {
      await startNodes(4);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
        // Each migration once: versions 1..n, no duplicates from the racing nodes.
        expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
        const rooms = await client.query("SELECT id FROM rooms");
        expect(rooms.rows).toEqual([{ id: DEFAULT_ROOM_ID }]);
      } finally {
        await client.end();
      }
    });

    it("allocates gap-free seqs and stores each client id once across nodes", async () => {
      const [a, b, c] = await startNodes(3);
      const alice = await a!.createUser({ nickname: "alice", passwordHash: "x" });
      const bob = await b!.createUser({ nickname: "bob", passwordHash: "x" });
      for (const u of [alice, bob]) await c!.addMember(DEFAULT_ROOM_ID, u.id);
      const sends: NewMessage[] = Array.from({ length: 90 }, (_, i) => ({
        roomId: DEFAULT_ROOM_ID,
        authorId: i % 2 ? alice.id : bob.id,
        clientId: randomUUID(),
        kind: "text",
        body: `m${i}`,
        mentions: [],
      }));
      // Every send goes to every node at once, as a client retrying through another node would.
      const results = await Promise.all(sends.flatMap((m) => nodes.map((n) => n.appendMessage(m))));
      expect(results.filter((r) => r.created)).toHaveLength(90);
      for (let i = 0; i < sends.length; i++) {
        const copies = results.slice(i * 3, i * 3 + 3).map((r) => r.message);
        expect(new Set(copies.map((m) => m.id)).size).toBe(1);
      }
      const page = await c!.getMessages(DEFAULT_ROOM_ID, { afterSeq: 0, limit: 200 });
      expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
      expect(await a!.getRoom(DEFAULT_ROOM_ID)).toMatchObject({ lastSeq: 90 });
      expect(await b!.getRoomSummary(DEFAULT_ROOM_ID, alice.id)).toMatchObject({ lastSeq: 90 });
    });

    it("gives every change in a room its own version across nodes, gap-free", async () => {
      const [a, b, c] = await startNodes(3);
      const users = [await a!.createUser({ nickname: "alice", passwordHash: "x" }), await b!.createUser({ nickname: "bob", passwordHash: "x" })];
      for (const u of users) await c!.addMember(DEFAULT_ROOM_ID, u.id);
      const say = (n: PostgresStorage, i: number) =>
        n.appendMessage({ roomId: DEFAULT_ROOM_ID, authorId: users[i % 2]!.id, clientId: randomUUID(), kind: "text", body: `m${i}`, mentions: [] });
      const seeded = await Promise.all(nodes.map((n, i) => say(n, i)));
      const target = seeded[0]!.message;
      // Every node at once: appends, edits of one message from one base (one wins), and the same
      // reactions set through every node (each applied once, the copies unchanged).
      const results = await Promise.all(
        nodes.flatMap((n, ni) => [
          ...Array.from({ length: 10 }, (_, i) => say(n, i).then((r) => ({ outcome: "changed", message: r.message }))),
          n.editMessage({ messageId: target.id, body: `node ${ni} wins`, mentions: [], baseVersion: target.version }),
          ...users.map((u) => n.setReaction({ messageId: target.id, userId: u.id, emoji: "👍", on: true, maxDistinct: 20 })),
        ]),
      );
      const outcomes = results.map((r) => r!.outcome);
      expect(outcomes.filter((o) => o === "conflict")).toHaveLength(2);
      expect(outcomes.filter((o) => o === "unchanged")).toHaveLength(4);
      const taken = results.filter((r) => r!.outcome === "changed").map((r) => r!.message.version);
      const last = (await a!.getRoom(DEFAULT_ROOM_ID))!.lastVersion;
      expect(taken.sort((x, y) => x - y)).toEqual(Array.from({ length: last - 3 }, (_, i) => i + 4));
      expect(last).toBe(3 + 30 + 1 + 2);
      const final = await b!.getMessage(target.id);
      expect(final!.reactions).toEqual([{ emoji: "👍", users: expect.any(Array) }]);
      expect(final!.reactions[0]!.users).toHaveLength(2);
    });

    it("creates one DM when both users open it on different nodes at once", async () => {
      const [a, b] = await startNodes(2);
      const alice = await a!.createUser({ nickname: "alice", passwordHash: "x" });
      const bob = await a!.createUser({ nickname: "bob", passwordHash: "x" });
      const rooms = await Promise.all([a!.getOrCreateDmRoom(dmRoomId(alice.id, bob.id), [alice.id, bob.id]), b!.getOrCreateDmRoom(dmRoomId(bob.id, alice.id), [bob.id, alice.id])]);
      expect(rooms[0]).toEqual(rooms[1]);
      expect((await b!.listMembers(rooms[0].id)).map((u) => u.nickname)).toEqual(["alice", "bob"]);
    });
  });
});

/**
 * Name keys written before they became confusable skeletons (issue 10) are rewritten at start-up,
 * so accounts and rooms made by an older version are still found, and look-alikes of them refused.
 */
async function expectRekeyed(open: () => Promise<Storage>, downgrade: (userId: string) => Promise<void>) {
  let storage = await open();
  const user = await storage.createUser({ nickname: "Admin", passwordHash: "x" });
  await storage.close();
  await downgrade(user.id);
  storage = await open();
  try {
    expect((await storage.findUserByNickname("admin"))?.id).toBe(user.id);
    // Found by a look-alike too: the service then refuses it as one (NICKNAME_TAKEN).
    expect((await storage.findUserByNickname("\u0430dmin"))?.id).toBe(user.id);
    // The default room's old key was rewritten too: a look-alike of its name is taken.
    await expect(storage.createRoom({ name: "GEN\u0415RAL", createdBy: user.id })).rejects.toBeInstanceOf(StorageConflictError);
  } finally {
    await storage.close();
  }
}

describe("legacy name keys (SQLite)", () => {
  it("are rewritten as skeleton keys when the storage opens", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-rekey-"));
    const path = join(dir, "parley.sqlite");
    try {
      await expectRekeyed(
        () => prepareStorage(new SqliteStorage(path)),
        async (userId) => {
          const { default: Database } = await import("better-sqlite3");
          const db = new Database(path);
          db.prepare("UPDATE users SET nickname_key = lower(nickname) WHERE id = ?").run(userId);
          db.prepare("UPDATE rooms SET name_key = lower(name) WHERE kind = 'public'").run();
          db.close();
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithServices(["PARLEY_TEST_PG_URL"], "legacy name keys (PostgreSQL)", () => {
  it("are rewritten as skeleton keys when the storage opens", async () => {
    const db = await createTestDatabase(TEST_PG_URL!);
    const schema = await db.createSchema();
    try {
      await expectRekeyed(
        () => prepareStorage(new PostgresStorage(schema.url)),
        async (userId) => {
          const client = new pg.Client({ connectionString: schema.url });
          await client.connect();
          await client.query("UPDATE users SET nickname_key = lower(nickname) WHERE id = $1", [userId]);
          await client.query("UPDATE rooms SET name_key = lower(name) WHERE kind = 'public'");
          await client.end();
        },
      );
    } finally {
      await schema.drop();
      await db.drop();
    }
  });
});

/**
 * Issue 11's migration (3) on data written by the schema before it (migrations 1 and 2): nothing is
 * lost, every stored message counts as one change (version = seq), each room's last_version is its
 * last_seq, and the changes of issue 11 work on the old rows.
 */
const MIGRATED_FROM = 2;

/** Old-schema rows, as literal SQL both backends run; `mentions` is written as each stores it. */
function legacyRows(mentions: (ids: string[]) => string): string {
  const key = nameKey;
  return `
    INSERT INTO users (id, nickname, nickname_key, password_hash, created_at) VALUES
      ('u-alice', 'alice', '${key("alice")}', 'x', 1000), ('u-bob', 'bob', '${key("bob")}', 'x', 1000);
    INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_activity_at) VALUES
      ('${DEFAULT_ROOM_ID}', 'public', '${DEFAULT_ROOM_NAME}', '${key(DEFAULT_ROOM_NAME)}', NULL, 1000, 3, 4000),
      ('r-quiet', 'public', 'quiet', '${key("quiet")}', 'u-alice', 1000, 0, 1000);
    INSERT INTO members (room_id, user_id, joined_at, last_read_seq) VALUES
      ('${DEFAULT_ROOM_ID}', 'u-alice', 1000, 0), ('${DEFAULT_ROOM_ID}', 'u-bob', 1000, 3), ('r-quiet', 'u-alice', 1000, 0);
    INSERT INTO messages (room_id, seq, id, kind, author_id, author_nickname, client_id, body, created_at, mentions) VALUES
      ('${DEFAULT_ROOM_ID}', 1, 'm-1', 'join', 'u-bob', 'bob', NULL, '', 2000, ${mentions([])}),
      ('${DEFAULT_ROOM_ID}', 2, 'm-2', 'text', 'u-bob', 'bob', 'c-2', 'hi @alice', 3000, ${mentions(["u-alice"])}),
      ('${DEFAULT_ROOM_ID}', 3, 'm-3', 'text', 'u-bob', 'bob', 'c-3', 'anyone?', 4000, ${mentions([])});
    INSERT INTO mentions (user_id, room_id, seq) VALUES ('u-alice', '${DEFAULT_ROOM_ID}', 2);`;
}

async function expectMigratedData(storage: Storage): Promise<void> {
  // Search (migration 4) finds the old text messages, in their order, and not the notice.
  const search = (terms: string[]) =>
    storage.searchMessages({ userId: "u-alice", terms, roomId: DEFAULT_ROOM_ID, authorId: null, after: null, before: null, hasFile: false, cursor: null, limit: 10 });
  expect((await search([])).messages.map((m) => m.id)).toEqual(["m-3", "m-2"]);
  expect((await search(["any"])).messages.map((m) => m.id)).toEqual(["m-3"]);
  expect((await search(["hi"])).messages.map((m) => m.id)).toEqual(["m-2"]);
  expect(await storage.getRoom(DEFAULT_ROOM_ID)).toMatchObject({ lastSeq: 3, lastVersion: 3 });
  expect(await storage.getRoom("r-quiet")).toMatchObject({ lastSeq: 0, lastVersion: 0 });
  const page = await storage.getMessages(DEFAULT_ROOM_ID, { afterSeq: 0, limit: 10 });
  expect(page.version).toBe(3);
  expect(page.messages.map((m) => [m.id, m.seq, m.version, m.kind, m.body, m.mentions])).toEqual([
    ["m-1", 1, 1, "join", "", []],
    ["m-2", 2, 2, "text", "hi @alice", ["u-alice"]],
    ["m-3", 3, 3, "text", "anyone?", []],
  ]);
  for (const m of page.messages) expect(m).toMatchObject({ editedAt: null, deletedAt: null, reactions: [], replyTo: null, createdAt: m.seq * 1000 + 1000 });
  expect(await storage.getRoomSummary(DEFAULT_ROOM_ID, "u-alice")).toMatchObject({ lastVersion: 3, unreadCount: 2, mentionCount: 1 });
  expect(await storage.getMessages(DEFAULT_ROOM_ID, { changedSince: 2, limit: 10 })).toMatchObject({ messages: [{ id: "m-3" }], hasMore: false });

  // The old rows take changes, the room's versions go on from its last seq.
  const edited = await storage.editMessage({ messageId: "m-3", body: "anyone? @alice", mentions: ["u-alice"], baseVersion: 3 });
  expect(edited).toMatchObject({ outcome: "changed", message: { version: 4, seq: 3 } });
  // An edit from before the migration's versions: migrated body versions are seqs too.
  expect(await storage.editMessage({ messageId: "m-2", body: "stale", mentions: [], baseVersion: 1 })).toMatchObject({ outcome: "conflict" });
  expect(await storage.setReaction({ messageId: "m-2", userId: "u-alice", emoji: "👋", on: true, maxDistinct: 20 })).toMatchObject({
    outcome: "changed",
    message: { version: 5, reactions: [{ emoji: "👋", users: [{ id: "u-alice", nickname: "alice" }] }] },
  });
  const reply = await storage.appendMessage({
    roomId: DEFAULT_ROOM_ID,
    authorId: "u-alice",
    clientId: "c-new",
    kind: "text",
    body: "here",
    mentions: [],
    replyToId: "m-2",
  });
  expect(reply.message).toMatchObject({ seq: 4, version: 6, replyTo: { id: "m-2", seq: 2, excerpt: "hi @alice", deleted: false } });
  // The idempotency key of an old send still holds.
  const retry = await storage.appendMessage({ roomId: DEFAULT_ROOM_ID, authorId: "u-bob", clientId: "c-2", kind: "text", body: "hi @alice", mentions: [] });
  expect(retry).toMatchObject({ created: false, message: { id: "m-2", version: 5 } });
  expect(await storage.getRoomSummary(DEFAULT_ROOM_ID, "u-alice")).toMatchObject({ lastSeq: 4, lastVersion: 6, mentionCount: 0 });
  expect(await storage.getRoomSummary(DEFAULT_ROOM_ID, "u-bob")).toMatchObject({ unreadCount: 1 });
  // The old messages take edits in the search too, and a new one comes first.
  expect((await search(["alice"])).messages.map((m) => m.id)).toEqual(["m-3", "m-2"]);
  expect((await search(["her"])).messages.map((m) => m.id)).toEqual([reply.message.id]);
}

/**
 * SQLite narrows a date filter to a range of docids (SqliteStorage.searchRange), which holds only if
 * it knows how far the clock ever stepped back: a clock that does, across restarts, must not make
 * a search miss a message of the dates asked for.
 */
describe("search by date when the clock steps back (SQLite)", () => {
  it("finds exactly the messages of the dates asked, across restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-search-clock-"));
    const path = join(dir, "parley.sqlite");
    const random = mulberry32(7);
    let clock = 1_000_000;
    // Mostly forward; one step in ten goes back by up to a minute.
    const now = () => (clock += random() < 0.1 ? -Math.floor(random() * 60_000) : Math.floor(random() * 10_000));
    const written: Message[] = [];
    let storage = await prepareStorage(new SqliteStorage(path, { now }));
    try {
      const alice = await storage.createUser({ nickname: "alice", passwordHash: "x" });
      await storage.addMember(DEFAULT_ROOM_ID, alice.id);
      for (let run = 0; run < 3; run++) {
        for (let i = 0; i < 150; i++) {
          const { message } = await storage.appendMessage({ roomId: DEFAULT_ROOM_ID, authorId: alice.id, clientId: randomUUID(), kind: "text", body: `word ${run}.${i}`, mentions: [] });
          written.push(message);
        }
        await storage.close();
        storage = await prepareStorage(new SqliteStorage(path, { now }));
      }
      const times = written.map((m) => m.createdAt);
      const [first, last] = [Math.min(...times), Math.max(...times)];
      expect(times.some((t, i) => i > 0 && t < times[i - 1]!)).toBe(true);
      for (let i = 0; i < 40; i++) {
        const after = i % 4 === 0 ? null : first + Math.floor(random() * (last - first));
        const before = i % 4 === 1 ? null : (after ?? first) + Math.floor(random() * (last - first) * 0.3);
        const query = { userId: alice.id, terms: i % 2 ? ["word"] : [], roomId: i % 2 ? null : DEFAULT_ROOM_ID, authorId: null, after, before, hasFile: false, cursor: null, limit: 7 };
        const expected = written
          .filter((m) => (after === null || m.createdAt >= after) && (before === null || m.createdAt < before))
          .reverse()
          .map((m) => m.id);
        const found: string[] = [];
        for (let cursor: string | null = null, pages = 0; pages === 0 || cursor !== null; pages++) {
          const page = await storage.searchMessages({ ...query, cursor });
          found.push(...page.messages.map((m) => m.id));
          cursor = page.nextCursor;
        }
        expect(found, JSON.stringify({ after, before })).toEqual(expected);
      }
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("search indexing in batches (SQLite)", () => {
  it("indexes a few hundred sends at a time, yet a search, an edit or a delete sees every acked one, and no docid comes back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-search-batches-"));
    const path = join(dir, "parley.sqlite");
    const { default: Database } = await import("better-sqlite3");
    let storage = await prepareStorage(new SqliteStorage(path));
    const raw = new Database(path, { readonly: true });
    const state = () => raw.prepare("SELECT indexed_docid AS indexed, (SELECT MAX(docid) FROM search_docs) AS newest FROM search_state").get() as { indexed: number; newest: number };
    const docidOf = (m: Message) => (raw.prepare("SELECT search_docid AS docid FROM messages WHERE id = ?").get(m.id) as { docid: number }).docid;
    try {
      const alice = await storage.createUser({ nickname: "alice", passwordHash: "x" });
      await storage.addMember(DEFAULT_ROOM_ID, alice.id);
      const send = async (body: string) => (await storage.appendMessage({ roomId: DEFAULT_ROOM_ID, authorId: alice.id, clientId: randomUUID(), kind: "text", body, mentions: [] })).message;
      const search = async (term: string) =>
        (await storage.searchMessages({ userId: alice.id, terms: [term], roomId: null, authorId: null, after: null, before: null, hasFile: false, cursor: null, limit: 50 })).messages.map((m) => m.body);

      const sent: Message[] = [];
      for (let i = 1; i <= 5; i++) sent.push(await send(`alpha ${i}`));
      // Each send was its own commit, and none of them is in the index yet.
      expect(state().indexed).toBeLessThan(state().newest);
      // Changed before the index took them: an edit is found by its new body only, a delete not at all.
      await storage.editMessage({ messageId: sent[1]!.id, body: "beta 2", mentions: [], baseVersion: sent[1]!.version });
      await storage.deleteMessage(sent[4]!.id, alice.id);
      expect(state().indexed).toBeGreaterThanOrEqual(docidOf(sent[4]!));
      expect(await search("alpha")).toEqual(["alpha 4", "alpha 3", "alpha 1"]);
      expect(await search("beta")).toEqual(["beta 2"]);
      // The deleted message's docid was the newest; the next send still gets a new one, after a restart too.
      expect(docidOf(await send("gamma"))).toBeGreaterThan(docidOf(sent[4]!));
      const gamma2 = await send("gamma again");
      await storage.deleteMessage(gamma2.id, alice.id);
      await storage.close();
      storage = await prepareStorage(new SqliteStorage(path));
      expect(docidOf(await send("delta"))).toBeGreaterThan(docidOf(gamma2));
      // Sent and acked, not yet indexed: a search finds it all the same.
      expect(await search("delta")).toEqual(["delta"]);

      // Enough sends and the commit that gets there indexes them, with no search asking.
      await send("bulk");
      let sends = 1;
      expect(state().indexed).toBeLessThan(state().newest);
      for (; sends < 300 && state().indexed < state().newest; sends++) await send(`bulk ${sends}`);
      expect(state().indexed).toBe(state().newest);
      expect(sends).toBeGreaterThan(200);
      expect(sends).toBeLessThan(300);
    } finally {
      raw.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A small seeded PRNG (mulberry32), so a failing case can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("migration to message versions (SQLite)", () => {
  it("keeps the data of the previous schema and numbers its messages' versions by seq", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-migrate-"));
    const path = join(dir, "parley.sqlite");
    try {
      const { default: Database } = await import("better-sqlite3");
      const db = new Database(path);
      for (const sql of SQLITE_MIGRATIONS.slice(0, MIGRATED_FROM)) db.exec(sql);
      db.pragma(`user_version = ${MIGRATED_FROM}`);
      db.exec(legacyRows((ids) => `'${JSON.stringify(ids)}'`));
      db.close();
      const storage = await prepareStorage(new SqliteStorage(path));
      try {
        await expectMigratedData(storage);
      } finally {
        await storage.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithServices(["PARLEY_TEST_PG_URL"], "migration to message versions (PostgreSQL)", () => {
  it("keeps the data of the previous schema and numbers its messages' versions by seq", async () => {
    const db = await createTestDatabase(TEST_PG_URL!);
    const schema = await db.createSchema();
    try {
      const client = new pg.Client({ connectionString: schema.url });
      await client.connect();
      try {
        // What PostgresStorage.init of the previous release left behind.
        await client.query("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
        for (const [i, sql] of POSTGRES_MIGRATIONS.slice(0, MIGRATED_FROM).entries()) {
          await client.query(sql);
          await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)", [i + 1]);
        }
        await client.query(legacyRows((ids) => `'{${ids.join(",")}}'`));
      } finally {
        await client.end();
      }
      const storage = await prepareStorage(new PostgresStorage(schema.url));
      try {
        await expectMigratedData(storage);
      } finally {
        await storage.close();
      }
    } finally {
      await schema.drop();
      await db.drop();
    }
  });
});
