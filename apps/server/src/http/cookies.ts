import type { Request, Response } from "express";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "@parley/shared";

/**
 * The session token from parsed cookies, under either name: `__Host-parley_session` (set over
 * HTTPS) wins over `parley_session` (plain http), so a cookie left from before a switch to HTTPS
 * cannot shadow the current one.
 */
export function sessionTokenFromCookies(cookies: Record<string, string | undefined>): string | undefined {
  return cookies[SECURE_SESSION_COOKIE] ?? cookies[SESSION_COOKIE];
}

/**
 * Sets the session cookie. Over HTTPS (`req.secure`, which honours `trust proxy` behind a
 * TLS-terminating proxy) or with COOKIE_SECURE it is Secure and `__Host-` prefixed; over plain
 * http (local development) browsers would drop a Secure cookie, so it is neither.
 */
export function setSessionCookie(req: Request, res: Response, token: string, expiresAt: number, forceSecure: boolean): void {
  const secure = req.secure || forceSecure;
  res.cookie(secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure,
    path: "/",
    expires: new Date(expiresAt),
  });
}

/** Clears both names (the browser ignores the one it does not hold). */
export function clearSessionCookies(req: Request, res: Response, forceSecure: boolean): void {
  res.clearCookie(SESSION_COOKIE, { path: "/" });
  // A __Host- cookie is only replaced (here: expired) by a Set-Cookie that is itself Secure.
  if (req.secure || forceSecure) res.clearCookie(SECURE_SESSION_COOKIE, { path: "/", secure: true, httpOnly: true, sameSite: "lax" });
}
