import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID } from "@parley/shared";
import { POSTGRES_MIGRATIONS } from "../src/storage/postgres/migrations.js";
import { PostgresStorage } from "../src/storage/postgres/postgres-storage.js";
import { SqliteStorage } from "../src/storage/sqlite/sqlite-storage.js";
import { StorageConflictError, type NewMessage, type Storage } from "../src/storage/storage.js";
import { TEST_PG_URL, createTestDatabase, describeWithServices, type TestDatabase, type TestSchema } from "./helpers/pg.js";
import { storageContractSuite } from "./storage.contract.js";

storageContractSuite("SQLite in memory", async () => {
  const storage = new SqliteStorage(":memory:");
  await storage.init();
  return { storage, cleanup: () => storage.close() };
});

storageContractSuite("SQLite file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-storage-"));
  const path = join(dir, "parley.sqlite");
  const opened: Storage[] = [];
  const open = async () => {
    const storage = new SqliteStorage(path);
    opened.push(storage);
    await storage.init();
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
    await storage.init();
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
      await Promise.all(nodes.map((n) => n.init()));
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

    it("creates one DM when both users open it on different nodes at once", async () => {
      const [a, b] = await startNodes(2);
      const alice = await a!.createUser({ nickname: "alice", passwordHash: "x" });
      const bob = await a!.createUser({ nickname: "bob", passwordHash: "x" });
      const rooms = await Promise.all([a!.getOrCreateDmRoom(alice.id, bob.id), b!.getOrCreateDmRoom(bob.id, alice.id)]);
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
        async () => {
          const s = new SqliteStorage(path);
          await s.init();
          return s;
        },
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
        async () => {
          const s = new PostgresStorage(schema.url);
          await s.init();
          return s;
        },
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
