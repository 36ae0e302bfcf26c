import { pipeline } from "node:stream/promises";
import type { IncomingMessage } from "node:http";
import { Router, type Request, type Response } from "express";
import { parse as parseCookie } from "cookie";
import { ClientIdSchema, IdSchema, UPLOAD_ID_HEADER, type ErrorCode, type UploadResponse, type User } from "@parley/shared";
import { BlobRangeNotSatisfiableError, type ByteRange } from "../blobs/blob-store.js";
import { DomainError } from "../domain/errors.js";
import { servedInline } from "../files/sniff.js";
import type { Logger } from "../logger.js";
import { requestLogger } from "../observability/log.js";
import type { Services } from "../services.js";
import { sessionTokenFromCookies } from "./cookies.js";
import { sendError, sendRateLimited } from "./auth.routes.js";

/** HTTP status of each refusal an upload or a download can meet. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  NOT_A_MEMBER: 403,
  FILE_NOT_FOUND: 404,
  UPLOAD_STALLED: 408,
  FILE_TOO_LARGE: 413,
  UPLOAD_QUOTA_EXCEEDED: 413,
};

/** The longest `name` query parameter read (a file name is cut to LIMITS.fileNameMax after cleaning). */
const RAW_NAME_MAX = 1024;

/**
 * A served file can never act as a page of Parley's origin: no script, no plugins, no forms, not
 * framed elsewhere (`sandbox` gives it an opaque origin even when opened directly). Images still
 * show when a user opens one in its own tab (`img-src 'self'`, the inline styles of Chrome's image
 * viewer).
 */
export const FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

/**
 * Uploads and downloads of files (ADR 0014). Mounted before the JSON body parser: an upload's body
 * is the file itself, whatever Content-Type it says (a .json file must not meet express.json).
 */
export function fileRoutes(services: Services, logger: Logger, options: { stallTimeoutMs: number }): Router {
  const router = Router();
  const files = services.files;

  const signedIn = async (req: Request): Promise<User | null> => {
    const token = sessionTokenFromCookies(parseCookie(req.headers.cookie ?? ""));
    return token ? ((await services.auth.authenticate(token))?.user ?? null) : null;
  };

  /**
   * Answers an upload whose body was not read (a repeat, a refusal). A browser still sending the
   * body when the connection closes reports a reset, not the answer (Chromium: ERR_CONNECTION_RESET),
   * and the client would retry a refusal it should show. So a body of a size this server accepts
   * is read to its end and discarded first (while it keeps arriving); a larger one, or one that
   * stopped arriving, gets the answer at once and the connection closes (a client that checks
   * the limit before sending never sends one).
   */
  const answerAfterBody = (req: Request, res: Response, answer: () => void) => {
    const declared = Number(req.get("content-length") ?? Number.NaN);
    if (req.complete || req.readableEnded) return answer();
    // Already being read (a refusal in the middle of storing it): it cannot be drained from here.
    if (req.listenerCount("readable") > 0) return closeAfterAnswer(req, res, answer);
    const closeAfter = () => closeAfterAnswer(req, res, answer);
    if (!(declared <= files.limits.fileMaxBytes)) return closeAfter();
    let timer = setTimeout(closeAfter, options.stallTimeoutMs);
    req.on("data", () => {
      clearTimeout(timer);
      timer = setTimeout(closeAfter, options.stallTimeoutMs);
    });
    req.once("end", () => {
      clearTimeout(timer);
      answer();
    });
    req.once("close", () => clearTimeout(timer));
    req.resume();
  };

  const fail = (req: Request, res: Response, e: unknown, what: string) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof DomainError) {
      const error = e;
      // A stalled body will not end, a body over the limit is not worth reading, and no one
      // unauthenticated gets the server to read megabytes for nothing: answer now.
      const now = error.code === "UPLOAD_STALLED" || error.code === "FILE_TOO_LARGE" || error.code === "UNAUTHENTICATED";
      const answer = () => (error.code === "RATE_LIMITED" ? sendRateLimited(res, error) : sendError(res, STATUS[error.code] ?? 400, error.code, error.message));
      if (now && !req.complete) return closeAfterAnswer(req, res, answer);
      return answerAfterBody(req, res, answer);
    }
    // The client went away mid-upload: there is no one to answer.
    if (req.destroyed || (e instanceof Error && "code" in e && e.code === "ECONNRESET")) return;
    requestLogger(res, logger).error(`${what} failed`, e);
    if (!req.complete) res.setHeader("Connection", "close");
    sendError(res, 500, "INTERNAL", "Something went wrong on the server.");
  };

  router.post("/api/rooms/:roomId/files", async (req, res) => {
    try {
      const user = await signedIn(req);
      if (!user) throw new DomainError("UNAUTHENTICATED", "Not signed in.");
      await services.limits.upload(user.id);
      const roomId = IdSchema.safeParse(req.params["roomId"]);
      const uploadId = ClientIdSchema.safeParse(req.get(UPLOAD_ID_HEADER));
      const name = req.query["name"];
      const length = req.get("content-length");
      if (!roomId.success) throw new DomainError("UPLOAD_INVALID", "No such room.");
      if (!uploadId.success) throw new DomainError("UPLOAD_INVALID", `${UPLOAD_ID_HEADER} must be a UUID.`);
      if (typeof name !== "string" || name.length === 0 || name.length > RAW_NAME_MAX) {
        throw new DomainError("UPLOAD_INVALID", `The file name (query parameter "name") is required, at most ${RAW_NAME_MAX} characters.`);
      }
      if (length === undefined || !/^\d{1,15}$/.test(length)) {
        throw new DomainError("UPLOAD_INVALID", "Content-Length is required: send the file as the request body.");
      }
      const request = { userId: user.id, roomId: roomId.data, uploadId: uploadId.data, declaredBytes: Number(length) };
      const begun = await files.begin(request);
      if ("existing" in begun) {
        const body: UploadResponse = { attachment: begun.existing };
        return answerAfterBody(req, res, () => void res.status(200).json(body));
      }
      const { attachment, created } = await files.store(request, name, stallGuard(req, options.stallTimeoutMs), begun.maxBytes);
      const body: UploadResponse = { attachment };
      res.status(created ? 201 : 200).json(body);
    } catch (e) {
      fail(req, res, e, "upload");
    }
  });

  const download = (variant: "file" | "thumbnail") => async (req: Request, res: Response) => {
    try {
      const user = await signedIn(req);
      if (!user) throw new DomainError("UNAUTHENTICATED", "Not signed in.");
      const id = IdSchema.safeParse(req.params["id"]);
      if (!id.success) throw new DomainError("FILE_NOT_FOUND", "No such file, or you cannot see it.");
      const range = variant === "file" ? parseRange(req.get("range")) : undefined;
      let opened;
      try {
        opened = await files.open(user.id, id.data, variant, range);
      } catch (e) {
        if (!(e instanceof BlobRangeNotSatisfiableError)) throw e;
        res.setHeader("Content-Range", `bytes */${e.size}`);
        return sendError(res, 416, "INVALID_PAYLOAD", "The range asked for is past the end of the file.");
      }
      const { attachment, read } = opened;
      const etag = `"${variant === "file" ? attachment.blobHash : attachment.thumbHash}"`;
      const type = variant === "thumbnail" ? "image/webp" : attachment.contentType;
      const inline = variant === "thumbnail" || (servedInline(attachment.contentType) && req.query["download"] === undefined);
      res.setHeader("Content-Type", type.startsWith("text/") ? `${type}; charset=utf-8` : type);
      res.setHeader("Content-Disposition", contentDisposition(inline ? "inline" : "attachment", attachment.name));
      res.setHeader("X-Content-Type-Options", "nosniff");
      res.setHeader("Content-Security-Policy", FILE_CSP);
      res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
      // Private: only this user's browser may keep it (membership decides who may read it). The
      // bytes behind an id never change, so a day without asking again is safe.
      res.setHeader("Cache-Control", "private, max-age=86400");
      res.setHeader("ETag", etag);
      res.setHeader("Accept-Ranges", "bytes");
      if (req.headers["if-none-match"] === etag) {
        read.stream.destroy();
        return void res.status(304).end();
      }
      if (read.range) {
        res.status(206);
        res.setHeader("Content-Range", `bytes ${read.range.start}-${read.range.end}/${read.size}`);
        res.setHeader("Content-Length", String(read.range.end - read.range.start + 1));
      } else {
        res.setHeader("Content-Length", String(read.size));
      }
      if (req.method === "HEAD") {
        read.stream.destroy();
        return void res.end();
      }
      await pipeline(read.stream, res);
    } catch (e) {
      fail(req, res, e, "download");
    }
  };
  router.get("/api/files/:id", download("file"));
  router.get("/api/files/:id/thumbnail", download("thumbnail"));
  return router;
}

/** Answers, then closes the connection instead of reading the rest of the body. */
export function closeAfterAnswer(req: IncomingMessage, res: Response, answer: () => void): void {
  res.setHeader("Connection", "close");
  res.once("finish", () => req.destroy());
  answer();
}

/**
 * The request body as it arrives, failing with UPLOAD_STALLED when no byte came for `stallMs`: a
 * client that stopped sending (a dead network that did not close the connection) must not hold a
 * request, a blob store write and a slot of the daily quota open forever.
 */
export async function* stallGuard(req: IncomingMessage, stallMs: number): AsyncGenerator<Uint8Array> {
  const it = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DomainError("UPLOAD_STALLED", `No data arrived for ${Math.round(stallMs / 1000)} s; the upload was stopped.`)), stallMs);
    });
    try {
      const next = await Promise.race([it.next(), stalled]);
      if (next.done) return;
      yield next.value;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * One `bytes=start-end` or `bytes=start-` range; anything else (several ranges, a suffix range,
 * garbage) is ignored and the whole file served, which HTTP allows.
 */
export function parseRange(header: string | undefined): ByteRange | undefined {
  const m = header ? /^bytes=(\d{1,15})-(\d{0,15})$/.exec(header.trim()) : null;
  if (!m) return undefined;
  const start = Number(m[1]);
  if (m[2] === "") return { start };
  const end = Number(m[2]);
  return end >= start ? { start, end } : undefined;
}

/**
 * RFC 6266: an ASCII fallback `filename` (quotes, backslashes and non-ASCII replaced) and the real
 * name as `filename*` in UTF-8, which every current browser prefers.
 */
export function contentDisposition(type: "inline" | "attachment", name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

