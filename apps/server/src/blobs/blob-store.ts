import type { Readable } from "node:stream";

/**
 * Content-addressed storage for the bytes of file and image attachments (issue 13): a blob's name
 * is the SHA-256 of its bytes, so the same file uploaded twice is stored once, and a name can never
 * point at other bytes than those it was computed from.
 *
 * Only the storage layer: an upload route streams the request body into {@link BlobStore.put} with
 * a size limit and keeps the returned hash; a download route streams {@link BlobStore.get} (with
 * a range for HTTP Range requests) into the response. Which messages refer to which blob, who may
 * read it and when it is deleted are for the layers above.
 *
 * Implementations: `FsBlobStore` (files under ./data/blobs, zero setup) and `PostgresBlobStore`
 * (any node serves any file), both run through one contract suite (test/blobs/blob-store.contract.ts).
 */
export interface BlobStore {
  /**
   * Prepares the backend (creates the directory, applies the migrations). Called once, before
   * anything else, by `openBlobStore`.
   */
  init(): Promise<void>;

  /**
   * Stores the bytes of `source`, reading it as it arrives (a 25 MB upload is never held whole in
   * memory), and returns their SHA-256, computed here: a hash from a client is never trusted.
   *
   * Idempotent: bytes already stored (even by a put running at the same moment) leave one blob,
   * and the result says `existed: true`. The blob is visible to `get` only once complete; a put
   * that fails (the source errors, `maxBytes` is exceeded, the backend fails) leaves nothing behind.
   *
   * @throws BlobTooLargeError as soon as the source has yielded more than `options.maxBytes` bytes;
   *   the source is not read further (a Node stream is destroyed).
   * @throws whatever the source throws, after cleaning up.
   */
  put(source: BlobSource, options?: PutOptions): Promise<PutResult>;

  /**
   * The blob's bytes as a stream, or null when no blob has this hash. With a range, only those
   * bytes (an HTTP Range request); `size` is always the size of the whole blob.
   *
   * The stream holds resources (an open file) until it ends or is destroyed: the caller must
   * consume or destroy it. If the blob is deleted while being read, the stream may end in an error.
   *
   * @throws InvalidBlobHashError when `hash` is not 64 lowercase hex digits, before any I/O.
   * @throws BlobRangeNotSatisfiableError when `range.start` is at or past the end of the blob.
   * @throws RangeError when the range is malformed (negative, not an integer, end before start).
   */
  get(hash: string, range?: ByteRange): Promise<BlobRead | null>;

  /** The blob's size, or null when there is none. @throws InvalidBlobHashError as `get`. */
  stat(hash: string): Promise<BlobStat | null>;

  /** Whether a blob with this hash exists. @throws InvalidBlobHashError as `get`. */
  has(hash: string): Promise<boolean>;

  /**
   * Removes the blob (retention, moderation). Idempotent: true when it removed one, false when there
   * was none. Whether any message still refers to it is the caller's concern. Reads already
   * streaming may fail or complete, depending on the backend. @throws InvalidBlobHashError as `get`.
   */
  delete(hash: string): Promise<boolean>;

  /** Releases connections; puts and gets must not be started afterwards. Closing twice is fine. */
  close(): Promise<void>;
}

/** Bytes to store: a Node Readable (an HTTP request) or any async iterable of byte chunks. */
export type BlobSource = AsyncIterable<Uint8Array>;

export interface PutOptions {
  /** The most bytes accepted; one more and the put fails with BlobTooLargeError. */
  maxBytes?: number;
}

export interface PutResult {
  /** SHA-256 of the bytes, 64 lowercase hex digits: the blob's name. */
  hash: string;
  size: number;
  /** True when the blob was already stored: this put added nothing. */
  existed: boolean;
}

export interface BlobStat {
  size: number;
}

/**
 * Bytes `start` to `end`, both inclusive, as in HTTP's `Range: bytes=start-end`. `end` past the
 * last byte (or absent) means up to the last byte, as HTTP says too.
 */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface BlobRead {
  /** Size of the whole blob (a range response's `Content-Range: bytes start-end/size`). */
  size: number;
  /** The bytes served, both inclusive, when a range was asked for (its end clamped); else null. */
  range: { start: number; end: number } | null;
  stream: Readable;
}

/** A put's source yielded more than its `maxBytes` (an upload route answers 413). */
export class BlobTooLargeError extends Error {
  override readonly name = "BlobTooLargeError";
  constructor(readonly maxBytes: number) {
    super(`blob larger than ${maxBytes} bytes`);
  }
}

/** Not a blob name: anything but 64 lowercase hex digits (a download route answers 404 or 400). */
export class InvalidBlobHashError extends Error {
  override readonly name = "InvalidBlobHashError";
  constructor(hash: string) {
    // Truncated: the value comes from a URL and may be anything, of any length.
    super(`invalid blob hash ${JSON.stringify(hash.slice(0, 80))}`);
  }
}

/** A range starting at or past the end of the blob (HTTP 416, with `Content-Range: bytes *\/size`). */
export class BlobRangeNotSatisfiableError extends Error {
  override readonly name = "BlobRangeNotSatisfiableError";
  constructor(readonly size: number) {
    super(`range not satisfiable for a blob of ${size} bytes`);
  }
}

const HASH_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Throws unless `hash` is a blob name. Every store method calls this first: on the filesystem the
 * hash becomes a path, so "../../etc/passwd" must be refused before it gets anywhere near one.
 * Uppercase is refused too rather than folded, so one blob has exactly one name.
 */
export function assertBlobHash(hash: string): void {
  if (typeof hash !== "string" || !HASH_PATTERN.test(hash)) throw new InvalidBlobHashError(String(hash));
}

/**
 * The inclusive byte span a range selects in a blob of `size` bytes.
 * @throws RangeError for a malformed range, BlobRangeNotSatisfiableError for one past the end.
 */
export function resolveRange(range: ByteRange, size: number): { start: number; end: number } {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`range start must be a non-negative integer, got ${start}`);
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new RangeError(`range end must be an integer at or after the start, got ${start}-${end}`);
  }
  if (start >= size) throw new BlobRangeNotSatisfiableError(size);
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}

/** Throws unless `maxBytes` is a usable limit (a NaN would silently accept everything). */
export function checkMaxBytes(maxBytes: number | undefined): void {
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 0)) {
    throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  }
}

/**
 * A chunk of the source as a Buffer without copying. A Readable with an encoding set yields
 * strings, whose bytes would depend on that encoding: refused rather than guessed.
 */
export function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`blob source must yield bytes (Uint8Array), got ${typeof chunk}`);
}
