import { createHash, randomUUID } from "node:crypto";
import { link, mkdir, open, readdir, rm, stat, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  BlobTooLargeError,
  asBuffer,
  assertBlobHash,
  checkMaxBytes,
  resolveRange,
  type BlobRead,
  type BlobSource,
  type BlobStat,
  type BlobStore,
  type ByteRange,
  type PutOptions,
  type PutResult,
} from "./blob-store.js";

export interface FsBlobStoreOptions {
  /**
   * A temporary file untouched this long is a leftover of a crashed put, removed by `init`. Not
   * every temporary file: other processes may share the directory (several nodes on one host) and
   * be in the middle of a put, whose every write renews the file's mtime. An hour of silence means
   * that upload is dead either way.
   */
  staleTempMs?: number;
}

const DEFAULT_STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Blobs as files: `<root>/<aa>/<bb>/<hash>` (two levels of 256 directories, so no directory holds
 * more than a few thousand entries even with millions of blobs), written under `<root>/tmp/` first.
 *
 * A put writes the bytes to a fresh temporary file as they arrive, fsyncs it and only then gives
 * it its final name, with link(2): that fails if the name exists, so of several puts of the same
 * bytes exactly one creates the blob and the others learn it existed (rename(2) would silently
 * replace it, and every put would think it was first). A crash leaves at most a temporary file,
 * never a partial file under a blob's name. The temporary directory is inside the root so that
 * link never crosses filesystems (EXDEV).
 */
export class FsBlobStore implements BlobStore {
  private readonly tmpDir: string;
  private readonly staleTempMs: number;

  constructor(
    readonly root: string,
    options: FsBlobStoreOptions = {},
  ) {
    this.tmpDir = join(root, "tmp");
    this.staleTempMs = options.staleTempMs ?? DEFAULT_STALE_TEMP_MS;
  }

  /** Creates the root and sweeps stale temporary files (see FsBlobStoreOptions.staleTempMs). */
  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    const cutoff = Date.now() - this.staleTempMs;
    for (const name of await readdir(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      try {
        if ((await stat(path)).mtimeMs < cutoff) await rm(path, { force: true });
      } catch (e) {
        // Another process finished or swept it between readdir and stat.
        if (errorCode(e) !== "ENOENT") throw e;
      }
    }
  }

  async put(source: BlobSource, options: PutOptions = {}): Promise<PutResult> {
    const { maxBytes } = options;
    checkMaxBytes(maxBytes);
    // The temporary file is created on the first chunk, not before the loop: reading has to start
    // before any I/O of ours, or an upload aborted meanwhile would emit its error with nobody
    // listening (an uncaught exception) instead of failing this put.
    const tmp = join(this.tmpDir, `${randomUUID()}.tmp`);
    let file: FileHandle | undefined;
    const openTemp = async (): Promise<FileHandle> => {
      // "wx": a fresh file, never someone else's.
      file = await open(tmp, "wx");
      return file;
    };
    try {
      const hasher = createHash("sha256");
      let size = 0;
      // Each chunk is written before the next is read: the source is paced by the disk, and memory
      // holds one chunk, however large the upload.
      for await (const raw of source) {
        const chunk = asBuffer(raw);
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) throw new BlobTooLargeError(maxBytes);
        hasher.update(chunk);
        await writeAll(file ?? (await openTemp()), chunk);
      }
      const written = file ?? (await openTemp());
      // Durable before it is named: otherwise a crash could leave the name pointing at lost bytes.
      await written.sync();
      file = undefined;
      await written.close();

      const hash = hasher.digest("hex");
      const path = this.pathOf(hash);
      await mkdir(dirname(path), { recursive: true });
      try {
        await link(tmp, path);
      } catch (e) {
        if (errorCode(e) !== "EEXIST") throw e;
        return { hash, size, existed: true };
      }
      await syncDirectory(dirname(path));
      return { hash, size, existed: false };
    } finally {
      await file?.close().catch(() => {});
      // After a successful link the blob keeps its own name; this only removes the temporary one
      // (if it was ever created: force).
      await rm(tmp, { force: true });
    }
  }

  async get(hash: string, range?: ByteRange): Promise<BlobRead | null> {
    assertBlobHash(hash);
    let file: FileHandle;
    try {
      file = await open(this.pathOf(hash), "r");
    } catch (e) {
      if (errorCode(e) === "ENOENT") return null;
      throw e;
    }
    try {
      // The size of the open file, not of the path: a delete meanwhile unlinks the name, but the
      // open file keeps its bytes until the stream closes it, so the read completes whole.
      const { size } = await file.stat();
      const span = range ? resolveRange(range, size) : null;
      const stream = file.createReadStream({ start: span?.start ?? 0, ...(span && { end: span.end }), autoClose: true });
      return { size, range: span, stream };
    } catch (e) {
      await file.close();
      throw e;
    }
  }

  async stat(hash: string): Promise<BlobStat | null> {
    assertBlobHash(hash);
    try {
      return { size: (await stat(this.pathOf(hash))).size };
    } catch (e) {
      if (errorCode(e) === "ENOENT") return null;
      throw e;
    }
  }

  async has(hash: string): Promise<boolean> {
    return (await this.stat(hash)) !== null;
  }

  /**
   * Removes the file but keeps its (possibly now empty) directories: removing them would race
   * with a put of another blob in the same directory between its mkdir and its link.
   */
  async delete(hash: string): Promise<boolean> {
    assertBlobHash(hash);
    try {
      await unlink(this.pathOf(hash));
      return true;
    } catch (e) {
      if (errorCode(e) === "ENOENT") return false;
      throw e;
    }
  }

  async close(): Promise<void> {
    // Nothing held between calls: every file is opened and closed by the call (or stream) using it.
  }

  /** Only ever called with a checked hash (assertBlobHash), so the path stays under the root. */
  private pathOf(hash: string): string {
    return join(this.root, hash.slice(0, 2), hash.slice(2, 4), hash);
  }
}

/** FileHandle.write may write fewer bytes than asked; loops until the whole chunk is written. */
async function writeAll(file: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/**
 * fsyncs a directory, so that a new name in it survives a crash (the file's own fsync covers its
 * bytes, not the directory entry). Windows cannot open a directory as a file, and NTFS journals
 * its metadata anyway.
 */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : undefined;
}
