import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BlobRangeNotSatisfiableError,
  BlobTooLargeError,
  InvalidBlobHashError,
  type BlobStore,
} from "../../src/blobs/blob-store.js";

/** One backend under test, initialised and empty. */
export interface BlobStoreUnderTest {
  store: BlobStore;
  /**
   * What failed or redundant puts may have left behind: temporary files, chunk rows no blob names.
   * The contract is that once a put has settled, this is 0.
   */
  leftovers(): Promise<number>;
  /** A second store on the same data, initialised, as another node or a restarted server opens it. */
  reopen(): Promise<BlobStore>;
  /** Closes every store this instance opened and deletes the data. */
  cleanup(): Promise<void>;
}

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** `bytes` in pieces of `size` bytes (the last one shorter), the way a request body arrives. */
export async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/**
 * The behaviour every {@link BlobStore} must have, run once per backend: the filesystem and
 * PostgreSQL. A rule stated in the BlobStore TSDoc belongs here, not in a backend's own tests.
 */
export function blobStoreContractSuite(name: string, makeStore: () => Promise<BlobStoreUnderTest>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let under: BlobStoreUnderTest;
    let store: BlobStore;

    beforeEach(async () => {
      under = await makeStore();
      store = under.store;
    });
    afterEach(async () => {
      await under.cleanup();
    });

    // 1.3 MB: several chunk rows in PostgreSQL (256 KiB each) and a short last one.
    const large = randomBytes(Math.round(1.3 * 1024 * 1024));

    const expectStored = async (bytes: Buffer, hash: string) => {
      const read = await store.get(hash);
      expect(read).not.toBeNull();
      expect(read!.size).toBe(bytes.length);
      expect(read!.range).toBeNull();
      const back = await readAll(read!.stream);
      expect(back.length).toBe(bytes.length);
      expect(back.equals(bytes)).toBe(true);
      expect(await store.stat(hash)).toEqual({ size: bytes.length });
      expect(await store.has(hash)).toBe(true);
    };

    const expectAbsent = async (hash: string) => {
      expect(await store.get(hash)).toBeNull();
      expect(await store.stat(hash)).toBeNull();
      expect(await store.has(hash)).toBe(false);
    };

    describe("put and get", () => {
      it.each([
        ["empty", Buffer.alloc(0), 1],
        ["small", Buffer.from("hello, parley"), 4],
        ["1.3 MB of random bytes, in 50 000-byte pieces", large, 50_000],
        ["1.3 MB of random bytes, in one piece", large, large.length],
      ])("round-trips %s content under its SHA-256", async (_label, bytes, pieceSize) => {
        const result = await store.put(pieces(bytes, pieceSize));
        expect(result).toEqual({ hash: sha256(bytes), size: bytes.length, existed: false });
        await expectStored(bytes, result.hash);
      });

      it("names a blob by the SHA-256 of its bytes (a known test vector, not just the same function twice)", async () => {
        const result = await store.put(pieces(Buffer.from("abc"), 1));
        expect(result.hash).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const empty = await store.put(pieces(Buffer.alloc(0), 1));
        expect(empty.hash).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
      });

      it("reads a Node Readable (an HTTP request body) and returns a Node Readable", async () => {
        const bytes = randomBytes(300_000);
        const source = Readable.from(pieces(bytes, 16 * 1024), { objectMode: false });
        const result = await store.put(source);
        expect(result.hash).toBe(sha256(bytes));
        const read = await store.get(result.hash);
        expect(read!.stream).toBeInstanceOf(Readable);
        expect((await readAll(read!.stream)).equals(bytes)).toBe(true);
      });

      it("accepts any Uint8Array chunks, not only Buffers", async () => {
        async function* arrays() {
          yield new Uint8Array([1, 2, 3]);
          // A view into a larger buffer: only its own bytes count.
          yield new Uint8Array(new Uint8Array([9, 4, 5, 9]).buffer, 1, 2);
        }
        const result = await store.put(arrays());
        expect(result).toEqual({ hash: sha256(Buffer.from([1, 2, 3, 4, 5])), size: 5, existed: false });
      });

      it("refuses a source of strings (their bytes would depend on an encoding) and keeps nothing", async () => {
        async function* strings() {
          yield Buffer.from("bytes first, ");
          yield "then a string" as unknown as Uint8Array;
        }
        await expect(store.put(strings())).rejects.toThrow(TypeError);
        expect(await under.leftovers()).toBe(0);
      });

      it("returns null for a hash that was never stored", async () => {
        await expectAbsent(sha256(Buffer.from("never stored")));
        expect(await store.delete(sha256(Buffer.from("never stored")))).toBe(false);
      });

      it("serves what one store put from another on the same data (another node, a restart)", async () => {
        const bytes = randomBytes(400_000);
        const { hash } = await store.put(pieces(bytes, 64 * 1024));
        const other = await under.reopen();
        const read = await other.get(hash);
        expect((await readAll(read!.stream)).equals(bytes)).toBe(true);
        expect(await other.put(pieces(bytes, 1000))).toEqual({ hash, size: bytes.length, existed: true });
      });
    });

    describe("content addressing", () => {
      it("stores the same bytes once: the second put reports that they existed", async () => {
        const first = await store.put(pieces(large, 64 * 1024));
        // Differently cut into pieces: the same bytes all the same.
        const second = await store.put(pieces(large, 100_000));
        expect(first.existed).toBe(false);
        expect(second).toEqual({ hash: first.hash, size: large.length, existed: true });
        expect(await under.leftovers()).toBe(0);
        await expectStored(large, first.hash);
      });

      it("ends concurrent puts of the same bytes with one blob, each reporting its hash, exactly one creating it", async () => {
        const results = await Promise.all(Array.from({ length: 5 }, () => store.put(pieces(large, 64 * 1024))));
        expect(new Set(results.map((r) => r.hash))).toEqual(new Set([sha256(large)]));
        expect(results.filter((r) => !r.existed)).toHaveLength(1);
        expect(await under.leftovers()).toBe(0);
        await expectStored(large, sha256(large));
      });

      it("keeps different bytes apart", async () => {
        const a = await store.put(pieces(Buffer.from("a"), 1));
        const b = await store.put(pieces(Buffer.from("b"), 1));
        expect(a.hash).not.toBe(b.hash);
        await expectStored(Buffer.from("a"), a.hash);
        await expectStored(Buffer.from("b"), b.hash);
      });
    });

    describe("failed puts leave nothing", () => {
      it("stops reading as soon as the source exceeds maxBytes, with BlobTooLargeError", async () => {
        const bytes = randomBytes(10_000);
        let yielded = 0;
        let closed = false;
        async function* source() {
          try {
            for (let at = 0; at < bytes.length; at += 1000) {
              yielded++;
              yield bytes.subarray(at, at + 1000);
            }
          } finally {
            closed = true;
          }
        }
        const error = await store.put(source(), { maxBytes: 2500 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BlobTooLargeError);
        expect((error as BlobTooLargeError).maxBytes).toBe(2500);
        // The third piece crossed the limit: nothing after it was asked for, and the source was closed.
        expect(yielded).toBe(3);
        expect(closed).toBe(true);
        await expectAbsent(sha256(bytes));
        await expectAbsent(sha256(bytes.subarray(0, 2500)));
        expect(await under.leftovers()).toBe(0);
      });

      it("rolls back a too-large put after several chunks were written", async () => {
        const error = await store.put(pieces(large, 64 * 1024), { maxBytes: 1024 * 1024 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BlobTooLargeError);
        await expectAbsent(sha256(large));
        expect(await under.leftovers()).toBe(0);
      });

      it("accepts exactly maxBytes", async () => {
        const bytes = randomBytes(2500);
        expect(await store.put(pieces(bytes, 1000), { maxBytes: 2500 })).toEqual({ hash: sha256(bytes), size: 2500, existed: false });
        await expect(store.put(pieces(Buffer.alloc(1), 1), { maxBytes: 0 })).rejects.toBeInstanceOf(BlobTooLargeError);
      });

      it.each([-1, 1.5, Number.NaN])("refuses maxBytes %s", async (maxBytes) => {
        await expect(store.put(pieces(Buffer.from("x"), 1), { maxBytes })).rejects.toThrow(RangeError);
      });

      it("passes on the error of a source that fails midway, and keeps nothing", async () => {
        const bytes = randomBytes(600_000);
        async function* failing() {
          yield* pieces(bytes, 64 * 1024);
          throw new Error("client went away");
        }
        await expect(store.put(failing())).rejects.toThrow("client went away");
        await expectAbsent(sha256(bytes));
        expect(await under.leftovers()).toBe(0);
      });

      it("keeps nothing of a Node stream destroyed with an error (an aborted upload)", async () => {
        const source = new Readable({ read() {} });
        const putting = store.put(source);
        source.push(randomBytes(100_000));
        setImmediate(() => source.destroy(new Error("aborted")));
        await expect(putting).rejects.toThrow("aborted");
        expect(await under.leftovers()).toBe(0);
      });

      it("stores the same bytes normally after a failed put of them", async () => {
        const bytes = randomBytes(300_000);
        await expect(store.put(pieces(bytes, 64 * 1024), { maxBytes: 1000 })).rejects.toBeInstanceOf(BlobTooLargeError);
        expect((await store.put(pieces(bytes, 64 * 1024))).existed).toBe(false);
        await expectStored(bytes, sha256(bytes));
      });
    });

    describe("delete", () => {
      it("removes a blob; deleting again is fine; the same bytes can be stored anew", async () => {
        const bytes = randomBytes(700_000);
        const { hash } = await store.put(pieces(bytes, 64 * 1024));
        expect(await store.delete(hash)).toBe(true);
        await expectAbsent(hash);
        expect(await store.delete(hash)).toBe(false);
        expect(await under.leftovers()).toBe(0);
        expect((await store.put(pieces(bytes, 64 * 1024))).existed).toBe(false);
        await expectStored(bytes, hash);
      });

      it("removes only that blob", async () => {
        const keep = await store.put(pieces(Buffer.from("keep"), 2));
        const drop = await store.put(pieces(Buffer.from("drop"), 2));
        await store.delete(drop.hash);
        await expectStored(Buffer.from("keep"), keep.hash);
      });
    });

    describe("range reads", () => {
      let hash: string;
      beforeEach(async () => {
        hash = (await store.put(pieces(large, 64 * 1024))).hash;
      });

      const CHUNK = 256 * 1024;
      it.each([
        ["the first byte", 0, 0],
        ["a few bytes", 10, 99],
        ["across a chunk boundary of the PostgreSQL store", CHUNK - 3, CHUNK + 2],
        ["exactly one 256 KiB chunk", CHUNK, 2 * CHUNK - 1],
        ["several chunks from the middle of one", 1000, 3 * CHUNK + 7],
        ["the last byte", large.length - 1, large.length - 1],
        ["the whole blob", 0, large.length - 1],
      ])("reads %s", async (_label, start, end) => {
        const read = await store.get(hash, { start, end });
        expect(read!.size).toBe(large.length);
        expect(read!.range).toEqual({ start, end });
        expect((await readAll(read!.stream)).equals(large.subarray(start, end + 1))).toBe(true);
      });

      it("reads to the end when the range has no end or one past the last byte (as HTTP says)", async () => {
        const open = await store.get(hash, { start: 1_000_000 });
        expect(open!.range).toEqual({ start: 1_000_000, end: large.length - 1 });
        expect((await readAll(open!.stream)).equals(large.subarray(1_000_000))).toBe(true);
        const past = await store.get(hash, { start: 5, end: large.length + 1000 });
        expect(past!.range).toEqual({ start: 5, end: large.length - 1 });
        expect((await readAll(past!.stream)).equals(large.subarray(5))).toBe(true);
      });

      it("refuses a range starting at or past the end with the blob's size (HTTP 416)", async () => {
        const error = await store.get(hash, { start: large.length }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BlobRangeNotSatisfiableError);
        expect((error as BlobRangeNotSatisfiableError).size).toBe(large.length);
        const empty = await store.put(pieces(Buffer.alloc(0), 1));
        await expect(store.get(empty.hash, { start: 0 })).rejects.toBeInstanceOf(BlobRangeNotSatisfiableError);
      });

      it.each([
        [{ start: -1, end: 5 }],
        [{ start: 10, end: 9 }],
        [{ start: 1.5 }],
        [{ start: 0, end: Number.NaN }],
      ])("refuses the malformed range %j", async (range) => {
        await expect(store.get(hash, range)).rejects.toThrow(RangeError);
      });

      it("answers null for an unknown hash, range or not", async () => {
        expect(await store.get(sha256(Buffer.from("unknown")), { start: 0, end: 10 })).toBeNull();
      });
    });

    describe("hashes", () => {
      const stored = sha256(Buffer.from("a real blob"));
      it.each([
        "../../etc/passwd",
        "",
        "abc",
        stored.slice(0, 63),
        `${stored}0`,
        stored.toUpperCase(),
        `../${stored.slice(3)}`,
        `${stored.slice(0, 2)}/${stored.slice(3)}`,
        `${stored.slice(0, 63)}\0`,
        `${stored.slice(0, 63)}g`,
      ])("refuses %j in every method", async (bad) => {
        await store.put(pieces(Buffer.from("a real blob"), 4));
        await expect(store.get(bad)).rejects.toBeInstanceOf(InvalidBlobHashError);
        await expect(store.get(bad, { start: 0 })).rejects.toBeInstanceOf(InvalidBlobHashError);
        await expect(store.stat(bad)).rejects.toBeInstanceOf(InvalidBlobHashError);
        await expect(store.has(bad)).rejects.toBeInstanceOf(InvalidBlobHashError);
        await expect(store.delete(bad)).rejects.toBeInstanceOf(InvalidBlobHashError);
        expect(await store.has(stored)).toBe(true);
      });
    });
  });
}
