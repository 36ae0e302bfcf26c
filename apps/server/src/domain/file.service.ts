import { randomUUID } from "node:crypto";
import { LIMITS, type Attachment, type UploadLimits } from "@parley/shared";
import { BlobTooLargeError, type BlobRead, type BlobStore, type ByteRange } from "../blobs/blob-store.js";
import { processImage } from "../files/images.js";
import { RASTER_IMAGE_TYPES, SNIFF_BYTES, sniff } from "../files/sniff.js";
import type { AttachmentRecord, Storage } from "../storage/storage.js";
import { DomainError } from "./errors.js";
import { notAMember } from "./message.service.js";

/** The window of the daily upload quota: a rolling 24 hours. */
const QUOTA_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Images decoded at once. Decoding and encoding a 25 MB photo holds ~100 MB and a core for a
 * second; two at a time keeps a burst of pasted screenshots from taking the node's memory and CPU
 * from everyone's messages (the others wait their turn; their bytes are already read).
 */
const IMAGE_JOBS = 2;

/** What an upload request says before its body is read. */
export interface UploadRequest {
  userId: string;
  roomId: string;
  /** The client's idempotency key (UPLOAD_ID_HEADER). */
  uploadId: string;
  /** Content-Length. */
  declaredBytes: number;
}

/**
 * Files on messages (ADR 0014): what an upload may be, what it is (sniffed, images re-encoded
 * without metadata and thumbnailed), and who may read it. No HTTP here: the routes
 * (http/file.routes.ts) turn requests into these calls and errors into statuses.
 */
export class FileService {
  private imageJobs = 0;
  private readonly imageQueue: (() => void)[] = [];

  constructor(
    private readonly storage: Storage,
    private readonly blobs: BlobStore,
    readonly limits: UploadLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Checks an upload before a byte of it is read: the room, a repeat of an upload already stored
   * (answered with it, and the body is not read), the size the request declares, and the quota.
   */
  async begin(request: UploadRequest): Promise<{ existing: Attachment } | { maxBytes: number }> {
    if (!(await this.storage.isMember(request.roomId, request.userId))) throw notAMember();
    const existing = await this.storage.findUpload(request.userId, request.uploadId);
    if (existing) {
      if (existing.roomId !== request.roomId) throw new DomainError("UPLOAD_INVALID", "That upload id was used for another room.");
      return { existing: publicAttachment(existing) };
    }
    if (request.declaredBytes > this.limits.fileMaxBytes) throw tooLarge(this.limits.fileMaxBytes);
    await this.checkQuota(request.userId, request.declaredBytes);
    return { maxBytes: Math.min(request.declaredBytes, this.limits.fileMaxBytes) };
  }

  /**
   * Stores the bytes of an upload that `begin` accepted and records it. `body` yields the request
   * body as it arrives; it may end early or throw (a cut connection): then nothing is recorded.
   */
  async store(request: UploadRequest, rawName: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<{ attachment: Attachment; created: boolean }> {
    const name = cleanFileName(rawName);
    const { head, rest } = await readHead(body, SNIFF_BYTES);
    const sniffed = sniff(head);
    let stored: { blobHash: string; size: number; contentType: string; kind: Attachment["kind"]; width: number | null; height: number | null; thumbHash: string | null };
    let uploadBytes: number;
    if (RASTER_IMAGE_TYPES.has(sniffed)) {
      // Held whole: decoding needs every byte (bounded by maxBytes, and the decodes by IMAGE_JOBS).
      const bytes = await collect(prepend(head, rest), maxBytes).catch((e: unknown) => {
        throw e instanceof BlobTooLargeError ? tooLarge(this.limits.fileMaxBytes) : e;
      });
      uploadBytes = bytes.length;
      await this.checkQuota(request.userId, uploadBytes);
      const image = await this.withImageSlot(() => processImage(bytes, sniffed));
      if (image) {
        const [file, thumb] = [await this.blobs.put(once(image.data)), await this.blobs.put(once(image.thumbnail))];
        stored = { blobHash: file.hash, size: file.size, contentType: image.contentType, kind: "image", width: image.width, height: image.height, thumbHash: thumb.hash };
      } else {
        // Not decodable (corrupt, truncated, too many pixels): kept as the bytes it is, a download.
        const file = await this.blobs.put(once(bytes));
        stored = { blobHash: file.hash, size: file.size, contentType: sniffed, kind: "file", width: null, height: null, thumbHash: null };
      }
    } else {
      const file = await this.putLimited(prepend(head, rest), maxBytes);
      uploadBytes = file.size;
      // After the bytes too: the declared size passed, but parallel uploads may have used the rest.
      await this.checkQuota(request.userId, uploadBytes);
      stored = { blobHash: file.hash, size: file.size, contentType: sniffed, kind: "file", width: null, height: null, thumbHash: null };
    }
    const { attachment, created } = await this.storage.createAttachment({
      id: randomUUID(),
      uploaderId: request.userId,
      uploadId: request.uploadId,
      roomId: request.roomId,
      name,
      ...stored,
      uploadBytes,
      createdAt: this.now(),
    });
    return { attachment: publicAttachment(attachment), created };
  }

  /**
   * A file (or an image's thumbnail) for `userId` to read: the uploader's own before it is sent,
   * afterwards any member of the room of the message that carries it, never once that message is
   * deleted. Every refusal is the same FILE_NOT_FOUND, so ids cannot be probed.
   */
  async open(userId: string, attachmentId: string, variant: "file" | "thumbnail", range?: ByteRange): Promise<{ attachment: AttachmentRecord; read: BlobRead }> {
    const attachment = await this.storage.getAttachment(attachmentId);
    if (!attachment || !(await this.mayRead(userId, attachment))) throw fileNotFound();
    const hash = variant === "thumbnail" ? attachment.thumbHash : attachment.blobHash;
    if (hash === null) throw fileNotFound();
    const read = await this.blobs.get(hash, range);
    if (!read) throw fileNotFound();
    return { attachment, read };
  }

  private async mayRead(userId: string, a: AttachmentRecord): Promise<boolean> {
    if (a.messageId === null) return a.uploaderId === userId;
    if (a.messageDeleted) return false;
    return this.storage.isMember(a.roomId, userId);
  }

  /** Throws UPLOAD_QUOTA_EXCEEDED when `bytes` more would take `userId` over the daily quota (avatars use it too). */
  async checkQuota(userId: string, bytes: number): Promise<void> {
    const used = await this.storage.uploadedBytesSince(userId, this.now() - QUOTA_WINDOW_MS);
    if (used + bytes > this.limits.dailyMaxBytes) {
      throw new DomainError("UPLOAD_QUOTA_EXCEEDED", `You can upload ${formatBytes(this.limits.dailyMaxBytes)} a day; try again later.`);
    }
  }

  private async putLimited(source: AsyncIterable<Uint8Array>, maxBytes: number) {
    try {
      return await this.blobs.put(source, { maxBytes });
    } catch (e) {
      if (e instanceof BlobTooLargeError) throw tooLarge(this.limits.fileMaxBytes);
      throw e;
    }
  }

  /** Runs an image decode in one of the IMAGE_JOBS slots (avatars share them). */
  async withImageSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.imageJobs >= IMAGE_JOBS) await new Promise<void>((resolve) => this.imageQueue.push(resolve));
    this.imageJobs++;
    try {
      return await work();
    } finally {
      this.imageJobs--;
      this.imageQueue.shift()?.();
    }
  }
}

/** What every reader sees of a stored upload. */
export const publicAttachment = (a: AttachmentRecord): Attachment => ({
  id: a.id,
  name: a.name,
  size: a.size,
  contentType: a.contentType,
  kind: a.kind,
  width: a.width,
  height: a.height,
});

const fileNotFound = () => new DomainError("FILE_NOT_FOUND", "No such file, or you cannot see it.");

export function tooLarge(max: number): DomainError {
  return new DomainError("FILE_TOO_LARGE", `Files can be at most ${formatBytes(max)}.`);
}

/** 25 MB, 1 GB, 512 KB: for messages. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

/**
 * A file name as shown to everyone and sent back in Content-Disposition: the last path segment
 * (a browser sends only that, a script may send `../../x`), without control, invisible or bidi
 * characters (a name like "invoice\u202Efdp.exe" displays as "invoiceexe.pdf"), at most
 * LIMITS.fileNameMax characters with the extension kept. Never empty.
 */
export function cleanFileName(raw: string): string {
  const base = raw.split(/[/\\]/).pop() ?? "";
  const clean = base
    .normalize("NFC")
    // Line breaks and tabs become spaces first; every other control or format character goes.
    .replace(/\s+/gu, " ")
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, "")
    .trim()
    .replace(/^\.+$/, "");
  const chars = [...clean];
  if (chars.length === 0) return "file";
  if (chars.length <= LIMITS.fileNameMax) return clean;
  const dot = clean.lastIndexOf(".");
  const ext = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : "";
  return [...clean.slice(0, clean.length - ext.length)].slice(0, LIMITS.fileNameMax - [...ext].length).join("") + ext;
}

/** Reads at least `bytes` bytes (fewer if the body is shorter) and hands back the rest unread. */
async function readHead(body: AsyncIterable<Uint8Array>, bytes: number): Promise<{ head: Uint8Array; rest: AsyncIterator<Uint8Array> }> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (length < bytes) {
    const next = await it.next();
    if (next.done) break;
    chunks.push(next.value);
    length += next.value.length;
  }
  return { head: Buffer.concat(chunks), rest: it };
}

async function* prepend(head: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (head.length > 0) yield head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

export async function collect(source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of source) {
    length += chunk.length;
    if (length > maxBytes) throw new BlobTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}
