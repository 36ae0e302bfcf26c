import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { InvalidBlobHashError, type BlobStore } from "../../src/blobs/blob-store.js";
import { FsBlobStore } from "../../src/blobs/fs-blob-store.js";
import { openBlobStore } from "../../src/blobs/open.js";
import { BLOB_MIGRATIONS } from "../../src/blobs/pg-blob-migrations.js";
import { CHUNK_BYTES, PostgresBlobStore } from "../../src/blobs/pg-blob-store.js";
import { TEST_PG_URL, createTestDatabase, describeWithServices, type TestDatabase, type TestSchema } from "../helpers/pg.js";
import { blobStoreContractSuite, pieces, readAll, sha256 } from "./blob-store.contract.js";

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-blobs-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Files in `<root>/tmp`: temporary files of puts in flight or left by a crash. */
const tempFiles = (root: string): string[] => (existsSync(join(root, "tmp")) ? readdirSync(join(root, "tmp")) : []);

blobStoreContractSuite("filesystem", async () => {
  const root = join(tempDir(), "blobs");
  const opened: BlobStore[] = [];
  const open = async () => {
    const store = new FsBlobStore(root);
    await store.init();
    opened.push(store);
    return store;
  };
  return {
    store: await open(),
    reopen: open,
    leftovers: async () => tempFiles(root).length,
    async cleanup() {
      for (const store of opened) await store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
});

describe("FsBlobStore", () => {
  let root: string;
  let store: FsBlobStore;
  beforeEach(async () => {
    root = join(tempDir(), "data", "blobs");
    store = new FsBlobStore(root);
    await store.init();
  });

  it("creates its root on init, however deep", () => {
    expect(statSync(root).isDirectory()).toBe(true);
  });

  it("keeps a blob at <root>/<aa>/<bb>/<hash>, the layout backups and operators may rely on", async () => {
    const bytes = randomBytes(5000);
    const { hash } = await store.put(pieces(bytes, 1000));
    expect(readFileSync(join(root, hash.slice(0, 2), hash.slice(2, 4), hash)).equals(bytes)).toBe(true);
  });

  it("writes to a temporary file in its own tree as the bytes arrive, not after buffering them", async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let sent = 0;
    async function* slow() {
      for (const piece of [bytes.subarray(0, 1024 * 1024), bytes.subarray(1024 * 1024)]) {
        yield piece;
        sent += piece.length;
        // Parked after the first megabyte: by now it must be on disk.
        if (sent === 1024 * 1024) await released;
      }
    }
    const putting = store.put(slow());
    await expect.poll(() => tempFiles(root).map((name) => statSync(join(root, "tmp", name)).size)).toEqual([1024 * 1024]);
    release();
    const { hash } = await putting;
    expect(hash).toBe(sha256(bytes));
    expect(tempFiles(root)).toEqual([]);
  });

  it("shows a crash's leftover temporary file as no blob, and sweeps it on the next init", async () => {
    const stored = await store.put(pieces(Buffer.from("a blob that survives"), 5));
    // A put that crashed after writing its bytes: a full copy of some content, under a temporary name.
    const crashed = randomBytes(3000);
    writeFileSync(join(root, "tmp", "crashed.tmp"), crashed);
    const hoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(join(root, "tmp", "crashed.tmp"), hoursAgo, hoursAgo);
    // Another process's put in progress: written to moments ago.
    writeFileSync(join(root, "tmp", "in-flight.tmp"), randomBytes(10));

    expect(await store.has(sha256(crashed))).toBe(false);
    expect(await store.get(sha256(crashed))).toBeNull();

    const restarted = new FsBlobStore(root);
    await restarted.init();
    expect(tempFiles(root)).toEqual(["in-flight.tmp"]);
    expect(await restarted.has(stored.hash)).toBe(true);
  });

  it("never touches a path outside its root for a hash that is not one", async () => {
    const outside = join(root, "..", "secret");
    writeFileSync(outside, "do not delete");
    for (const bad of ["../secret", "../../data/secret", `${"0".repeat(62)}/..`, outside]) {
      await expect(store.delete(bad)).rejects.toBeInstanceOf(InvalidBlobHashError);
      await expect(store.get(bad)).rejects.toBeInstanceOf(InvalidBlobHashError);
    }
    expect(readFileSync(outside, "utf8")).toBe("do not delete");
  });

  it("completes a read that was open when the blob was deleted (the open file keeps its bytes)", async () => {
    const bytes = randomBytes(500_000);
    const { hash } = await store.put(pieces(bytes, 64 * 1024));
    const read = await store.get(hash);
    expect(await store.delete(hash)).toBe(true);
    expect((await readAll(read!.stream)).equals(bytes)).toBe(true);
  });
});

describe("openBlobStore", () => {
  it("opens the filesystem store at the configured root and creates it", async () => {
    const root = join(tempDir(), "nested", "blobs");
    const store = await openBlobStore({ kind: "fs", root });
    expect(store).toBeInstanceOf(FsBlobStore);
    expect(statSync(root).isDirectory()).toBe(true);
    await store.close();
  });
});

/** Chunk rows whose content id no blob names: what a put that failed to roll back would leave. */
async function orphanChunks(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM blob_chunks c WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.content_id = c.content_id)",
    );
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

describeWithServices(["PARLEY_TEST_PG_URL"], "PostgreSQL blobs", () => {
  const adminUrl = TEST_PG_URL!;
  // One fresh database for this run, dropped at the end; each store under test gets a schema.
  let runDb: TestDatabase;
  beforeAll(async () => {
    runDb = await createTestDatabase(adminUrl);
  });
  afterAll(async () => {
    await runDb.drop();
  });

  blobStoreContractSuite("PostgreSQL", async () => {
    const schema = await runDb.createSchema();
    const opened: BlobStore[] = [];
    const open = async () => {
      const store = new PostgresBlobStore(schema.url);
      opened.push(store);
      await store.init();
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      leftovers: () => orphanChunks(schema.url),
      async cleanup() {
        for (const store of opened) await store.close();
        await schema.drop();
      },
    };
  });

  describe("PostgresBlobStore", () => {
    let schema: TestSchema;
    let stores: PostgresBlobStore[];
    let admin: pg.Client;
    const open = async () => {
      const store = new PostgresBlobStore(schema.url);
      stores.push(store);
      await store.init();
      return store;
    };
    beforeEach(async () => {
      schema = await runDb.createSchema();
      stores = [];
      admin = new pg.Client({ connectionString: schema.url });
      await admin.connect();
    });
    afterEach(async () => {
      await admin.end();
      for (const store of stores) await store.close();
      await schema.drop();
    });

    it("keeps a blob in chunk rows of at most 256 KiB, in order, with no gaps", async () => {
      const store = await open();
      const bytes = randomBytes(Math.round(1.3 * 1024 * 1024));
      const { hash } = await store.put(pieces(bytes, 50_000));
      const { rows } = await admin.query<{ off: string; len: number }>(
        "SELECT c.off, length(c.data) AS len FROM blob_chunks c JOIN blobs b USING (content_id) WHERE b.hash = $1 ORDER BY c.off",
        [hash],
      );
      expect(rows).toHaveLength(Math.ceil(bytes.length / CHUNK_BYTES));
      let expected = 0;
      for (const row of rows) {
        expect(Number(row.off)).toBe(expected);
        expect(row.len).toBeLessThanOrEqual(CHUNK_BYTES);
        expected += row.len;
      }
      expect(expected).toBe(bytes.length);
    });

    it("migrates once, in its own table, leaving the message storage's migrations alone", async () => {
      await Promise.all([open(), open(), open()]);
      const { rows } = await admin.query<{ version: number }>("SELECT version FROM blob_schema_migrations ORDER BY version");
      expect(rows.map((r) => r.version)).toEqual(BLOB_MIGRATIONS.map((_, i) => i + 1));
      const { rows: tables } = await admin.query<{ name: string | null }>("SELECT to_regclass('schema_migrations')::text AS name");
      expect(tables[0]?.name).toBeNull();
    });

    it("lets concurrent puts of the same bytes on different nodes end with one blob", async () => {
      const nodes = await Promise.all([open(), open(), open()]);
      const bytes = randomBytes(600_000);
      const results = await Promise.all(nodes.flatMap((node) => [node.put(pieces(bytes, 64 * 1024)), node.put(pieces(bytes, 30_000))]));
      expect(results.filter((r) => !r.existed)).toHaveLength(1);
      const { rows } = await admin.query<{ n: string }>("SELECT count(*) AS n FROM blobs");
      expect(Number(rows[0]?.n)).toBe(1);
      expect(await orphanChunks(schema.url)).toBe(0);
    });

    it("opens through openBlobStore for a postgres configuration", async () => {
      const store = await openBlobStore({ kind: "postgres", url: schema.url });
      try {
        expect(store).toBeInstanceOf(PostgresBlobStore);
        const { hash } = await store.put(pieces(Buffer.from("via the factory"), 3));
        expect(await store.has(hash)).toBe(true);
      } finally {
        await store.close();
      }
    });

    it("refuses calls after close", async () => {
      const store = await open();
      await store.close();
      await expect(store.put(pieces(Buffer.from("late"), 4))).rejects.toThrow(/closed/);
      await store.close();
    });
  });
});
