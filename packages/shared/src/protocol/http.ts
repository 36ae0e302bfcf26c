import { z } from "zod";
import { NicknameSchema, PasswordSchema, type Attachment, type User } from "../domain/schemas.js";
import type { Profile } from "../domain/profile.js";

/**
 * The small HTTP API next to the socket: sign-in sets an httpOnly session cookie that the socket
 * handshake then reads. Errors are `{ error: ErrorInfo }` with a 4xx/5xx status.
 */

/** POST /api/auth/login: signs in, or creates the account when the nickname is new. */
export const LoginRequestSchema = z.object({ nickname: NicknameSchema, password: PasswordSchema }).strict();
export type LoginRequest = z.input<typeof LoginRequestSchema>;

/** 200 from POST /api/auth/login and GET /api/auth/me. */
export interface SessionResponse {
  user: User;
  /** True when the login created the account. */
  created: boolean;
}

/**
 * 200 from GET /api/auth/session: who this browser is signed in as, if anyone. The web app asks this
 * at start-up; "not signed in" is an answer there, not an error (a 401 would log a console error in
 * every signed-out browser). API clients that need a session use GET /api/auth/me (401 without one).
 */
export interface CurrentSessionResponse {
  user: User | null;
}

/** The cookie holding the session token (httpOnly, SameSite=Lax) on plain-http deployments. */
export const SESSION_COOKIE = "parley_session";

/**
 * The session cookie's name when the sign-in came over HTTPS: the `__Host-` prefix makes browsers
 * accept it only if Secure, Path=/ and without Domain, so a sibling subdomain or a plain-http page
 * cannot plant or shadow it. The server reads both names.
 */
export const SECURE_SESSION_COOKIE = "__Host-parley_session";

/**
 * Uploads (ADR 0014): `POST API.upload(roomId)` with the file's bytes as the raw body (any
 * Content-Type; the server sniffs its own), `Content-Length` required, the file name in the `name`
 * query parameter, and `UPLOAD_ID_HEADER`: a UUID the client picks per file, the idempotency key
 * (the same user and id again answers with the attachment stored the first time). The uploader must
 * be a member of the room. 201 (or 200 for a repeat) with {@link UploadResponse}; errors:
 * 413 FILE_TOO_LARGE, 413 UPLOAD_QUOTA_EXCEEDED, 408 UPLOAD_STALLED, 400 UPLOAD_INVALID,
 * 403 NOT_A_MEMBER, 401. The attachment is then sent with `message:send { attachmentIds }`.
 */
export const UPLOAD_ID_HEADER = "X-Upload-Id";

export interface UploadResponse {
  attachment: Attachment;
}

/** Size limits of uploads, from the server's configuration (sent with `session:sync`). */
export interface UploadLimits {
  /** Largest file, bytes. */
  fileMaxBytes: number;
  /** Bytes one user may upload in a rolling 24 hours. */
  dailyMaxBytes: number;
}

export const API = {
  login: "/api/auth/login",
  logout: "/api/auth/logout",
  /** POST: ends every session of the signed-in user ("sign out everywhere") and disconnects their sockets. */
  logoutAll: "/api/auth/logout-all",
  me: "/api/auth/me",
  session: "/api/auth/session",
  /** Liveness: 200 `{status:"ok"}`, 503 `{status:"draining"}` during a graceful shutdown. */
  health: "/healthz",
  /** Readiness: 200 when storage and Redis answer, else 503 with `checks` saying which did not. */
  ready: "/readyz",
  /** POST a file into a room (see UPLOAD_ID_HEADER). */
  upload: (roomId: string) => `/api/rooms/${encodeURIComponent(roomId)}/files`,
  /**
   * GET a file: images inline, everything else (SVG and HTML included) as a download; `?download=1`
   * makes an image a download too. Range requests work. Members of the message's room only.
   */
  file: (attachmentId: string) => `/api/files/${encodeURIComponent(attachmentId)}`,
  /** GET an image's thumbnail (WebP, at most 480 px a side). */
  thumbnail: (attachmentId: string) => `/api/files/${encodeURIComponent(attachmentId)}/thumbnail`,
  /**
   * POST my avatar (the image as the raw body, like an upload; PNG, JPEG, GIF or WebP, at most
   * LIMITS.avatarMaxBytes): 200 {@link AvatarResponse}. DELETE removes it (200, same body).
   */
  myAvatar: "/api/me/avatar",
  /**
   * GET a user's avatar (a WebP square of LIMITS.avatarPx), for any signed-in user. `avatarId`
   * (Profile.avatarId) only makes the URL change with the picture, so it can be cached for long.
   */
  avatar: (userId: string, avatarId: string) => `/api/users/${encodeURIComponent(userId)}/avatar?v=${encodeURIComponent(avatarId)}`,
} as const;

/** 200 from POST and DELETE `API.myAvatar`: my profile with its new `avatarId`. */
export interface AvatarResponse {
  profile: Profile;
}
