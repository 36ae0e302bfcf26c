import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { InvalidBlobHashError, type BlobStore } from "../../src/blobs/blob-store.js";
import { FsBlobStore } from "../../src/blobs/fs-blob-store.js";
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
