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
import type { NewMessage, Storage } from "../src/storage/storage.js";
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
