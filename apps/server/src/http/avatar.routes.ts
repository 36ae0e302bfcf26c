import { pipeline } from "node:stream/promises";
import { Router, type Request, type Response } from "express";
import { parse as parseCookie } from "cookie";
import { IdSchema, type AvatarResponse, type ErrorCode, type User } from "@parley/shared";
import { DomainError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { requestLogger } from "../observability/log.js";
import type { Services } from "../services.js";
import { sessionTokenFromCookies } from "./cookies.js";
import { sendError, sendRateLimited } from "./auth.routes.js";
import { FILE_CSP, closeAfterAnswer, stallGuard } from "./file.routes.js";

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FILE_NOT_FOUND: 404,
  UPLOAD_STALLED: 408,
  FILE_TOO_LARGE: 413,
  UPLOAD_QUOTA_EXCEEDED: 413,
  AVATAR_INVALID: 415,
};

/**
 * Avatars (issue 14) over HTTP, through the upload pipeline of files (ADR 0014): the raw image as
 * the body with its Content-Length, sniffed, decoded and re-encoded without metadata, the daily
 * quota and the upload rate limit. An avatar belongs to no room: any signed-in user may read
 * anyone's, with the same headers as a file, so even a hostile one cannot act as a page.
 */
export function avatarRoutes(services: Services, logger: Logger, options: { stallTimeoutMs: number }): Router {
  const router = Router();
  const profiles = services.profiles;

  const signedIn = async (req: Request): Promise<User | null> => {
    const token = sessionTokenFromCookies(parseCookie(req.headers.cookie ?? ""));
    return token ? ((await services.auth.authenticate(token))?.user ?? null) : null;
  };

  const fail = (req: Request, res: Response, e: unknown, what: string) => {
    if (res.headersSent) return void res.destroy();
    if (e instanceof DomainError) {
      const answer = () => (e.code === "RATE_LIMITED" ? sendRateLimited(res, e) : sendError(res, STATUS[e.code] ?? 400, e.code, e.message));
      // A refusal before or while reading: the rest of the body is not worth reading (a browser
      // that checks LIMITS.avatarMaxBytes first never meets this with a big body).
      if (!req.complete) return closeAfterAnswer(req, res, answer);
      return answer();
    }
    if (req.destroyed || (e instanceof Error && "code" in e && e.code === "ECONNRESET")) return;
    requestLogger(res, logger).error(`${what} failed`, e);
    if (!req.complete) res.setHeader("Connection", "close");
    sendError(res, 500, "INTERNAL", "Something went wrong on the server.");
  };

  router.post("/api/me/avatar", async (req, res) => {
    try {
      const user = await signedIn(req);
      if (!user) throw new DomainError("UNAUTHENTICATED", "Not signed in.");
      await services.limits.upload(user.id);
      const length = req.get("content-length");
      if (length === undefined || !/^\d{1,15}$/.test(length)) {
        throw new DomainError("UPLOAD_INVALID", "Content-Length is required: send the image as the request body.");
      }
      const { maxBytes } = await profiles.beginAvatar(user.id, Number(length));
      const profile = await profiles.storeAvatar(user.id, stallGuard(req, options.stallTimeoutMs), maxBytes);
      const body: AvatarResponse = { profile };
      res.status(200).json(body);
    } catch (e) {
      fail(req, res, e, "avatar upload");
    }
  });

  router.delete("/api/me/avatar", async (req, res) => {
    try {
      const user = await signedIn(req);
      if (!user) throw new DomainError("UNAUTHENTICATED", "Not signed in.");
      await services.limits.profileChange(user.id);
      const body: AvatarResponse = { profile: await profiles.removeAvatar(user.id) };
      res.status(200).json(body);
    } catch (e) {
      fail(req, res, e, "avatar removal");
    }
  });

  router.get("/api/users/:id/avatar", async (req, res) => {
    try {
      const user = await signedIn(req);
      if (!user) throw new DomainError("UNAUTHENTICATED", "Not signed in.");
      const id = IdSchema.safeParse(req.params["id"]);
      if (!id.success) throw new DomainError("FILE_NOT_FOUND", "That user has no avatar.");
      const { avatarId, read } = await profiles.openAvatar(id.data);
      const etag = `"${avatarId}"`;
      res.setHeader("Content-Type", "image/webp");
      res.setHeader("Content-Disposition", 'inline; filename="avatar.webp"');
      res.setHeader("X-Content-Type-Options", "nosniff");
      res.setHeader("Content-Security-Policy", FILE_CSP);
      res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
      // The URL carries the avatar id (API.avatar), so a new picture is a new URL: the browser may
      // keep this one for a day. Private: only signed-in users may read it.
      res.setHeader("Cache-Control", "private, max-age=86400");
      res.setHeader("ETag", etag);
      if (req.headers["if-none-match"] === etag) {
        read.stream.destroy();
        return void res.status(304).end();
      }
      res.setHeader("Content-Length", String(read.size));
      await pipeline(read.stream, res);
    } catch (e) {
      fail(req, res, e, "avatar download");
    }
  });

  return router;
}
