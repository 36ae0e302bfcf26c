import { z } from "zod";
import { NicknameSchema, PasswordSchema, type Attachment, type User } from "../domain/schemas.js";
import type { Profile } from "../domain/profile.js";

/**
 * The small HTTP API next to the socket: sign-in sets an httpOnly session cookie that the socket
 * handshake then reads. Errors are `{ error: ErrorInfo }` with a 4xx/5xx status. The paths and
 * headers are in routes.ts.
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

/** 200 from POST and DELETE `API.myAvatar`: my profile with its new `avatarId`. */
export interface AvatarResponse {
  profile: Profile;
}
