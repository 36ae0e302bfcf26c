import { Router, type Response } from "express";
import { API, LoginRequestSchema, type CurrentSessionResponse, type ErrorCode, type ErrorInfo, type SessionResponse } from "@parley/shared";
import { parse as parseCookie } from "cookie";
import { clearSessionCookies, sessionTokenFromCookies, setSessionCookie } from "./cookies.js";
import { DomainError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { requestLogger } from "../observability/log.js";
import type { ParleyServer } from "../realtime/types.js";
import { channel } from "../realtime/types.js";
import type { Services } from "../services.js";

export function sendError(res: Response, status: number, code: ErrorCode, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** 429 with the wait twice: `Retry-After` in seconds for HTTP tools, `retryAfterMs` in the body for the app. */
export function sendRateLimited(res: Response, error: DomainError): void {
  const retryAfterMs = error.retryAfterMs ?? 1000;
  res.setHeader("Retry-After", String(Math.ceil(retryAfterMs / 1000)));
  const body: { error: ErrorInfo } = { error: { code: error.code, message: error.message, retryAfterMs } };
  res.status(429).json(body);
}

const STATUS: Partial<Record<ErrorCode, number>> = { WRONG_PASSWORD: 401, UNAUTHENTICATED: 401, NICKNAME_TAKEN: 409, ACCOUNT_DEACTIVATED: 403 };

/** Sign-in, session and sign-out. The session token lives only in an httpOnly cookie. */
export function authRoutes(services: Services, getIo: () => ParleyServer, logger: Logger, secureCookie: boolean): Router {
  const router = Router();
  const tokenOf = (cookieHeader: string | undefined) => sessionTokenFromCookies(parseCookie(cookieHeader ?? ""));

  router.post(API.login, async (req, res) => {
    const parsed = LoginRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path[0];
      const code: ErrorCode = field === "nickname" ? "NICKNAME_INVALID" : field === "password" ? "PASSWORD_INVALID" : "INVALID_PAYLOAD";
      return sendError(res, 400, code, issue?.message ?? "Invalid request");
    }
    const { nickname, password } = parsed.data;
    const ip = req.ip ?? "unknown";
    try {
      // Before any password work, so a refused guess costs no scrypt hash (security/rate-limits.ts).
      await services.limits.checkSignIn(nickname, ip);
      const result = await services.auth.login(nickname, password, { beforeCreate: () => services.limits.accountCreation(ip) });
      await services.limits.signInSucceeded(nickname, ip);
      setSessionCookie(req, res, result.token, result.expiresAt, secureCookie);
      const body: SessionResponse = { user: result.user, created: result.created };
      res.json(body);
    } catch (e) {
      if (e instanceof DomainError && e.code === "WRONG_PASSWORD") await services.limits.signInFailed(nickname, ip);
      if (e instanceof DomainError && e.code === "RATE_LIMITED") return sendRateLimited(res, e);
      if (e instanceof DomainError) return sendError(res, STATUS[e.code] ?? 400, e.code, e.message);
      requestLogger(res, logger).error("login failed", e);
      sendError(res, 500, "INTERNAL", "Something went wrong on the server. Please try again.");
    }
  });

  router.get(API.me, async (req, res) => {
    const token = tokenOf(req.headers.cookie);
    const found = token ? await services.auth.authenticate(token) : null;
    if (!found) return sendError(res, 401, "UNAUTHENTICATED", "Not signed in.");
    const body: SessionResponse = { user: found.user, created: false };
    res.json(body);
  });

  router.get(API.session, async (req, res) => {
    const token = tokenOf(req.headers.cookie);
    const found = token ? await services.auth.authenticate(token) : null;
    const body: CurrentSessionResponse = { user: found?.user ?? null };
    res.json(body);
  });

  router.post(API.logout, async (req, res) => {
    const token = tokenOf(req.headers.cookie);
    if (token) {
      const sessionId = await services.auth.logout(token);
      // Sockets opened with this session close now, not at their next reconnect.
      if (sessionId) getIo().in(channel.session(sessionId)).disconnectSockets(true);
    }
    clearSessionCookies(req, res, secureCookie);
    res.status(204).end();
  });

  // "Sign out everywhere": every session of the user ends, and every socket of the user closes
  // (all of them belong to one of those sessions). Signing in elsewhere never ends other sessions.
  router.post(API.logoutAll, async (req, res) => {
    const token = tokenOf(req.headers.cookie);
    const found = token ? await services.auth.authenticate(token) : null;
    if (!found) return sendError(res, 401, "UNAUTHENTICATED", "Not signed in.");
    await services.auth.logoutAll(found.user.id);
    getIo().in(channel.user(found.user.id)).disconnectSockets(true);
    clearSessionCookies(req, res, secureCookie);
    res.status(204).end();
  });

  return router;
}
