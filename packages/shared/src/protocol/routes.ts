/**
 * The HTTP API's paths and headers (see http.ts for its bodies) and the socket's path. Plain values
 * in a module of their own, without zod: the web app imports them, and its bundle leaves zod out
 * (issue 15).
 */

/** The Socket.IO path, the same on every node and in Vite's dev proxy (events.ts: what goes over it). */
export const SOCKET_PATH = "/socket.io";

/**
 * Uploads (ADR 0014): `POST API.upload(roomId)` with the file's bytes as the raw body (any
 * Content-Type; the server sniffs its own), `Content-Length` required, the file name in the `name`
 * query parameter, and `UPLOAD_ID_HEADER`: a UUID the client picks per file, the idempotency key
 * (the same user and id again answers with the attachment stored the first time). The uploader must
 * be a member of the room. 201 (or 200 for a repeat) with `UploadResponse` (http.ts); errors:
 * 413 FILE_TOO_LARGE, 413 UPLOAD_QUOTA_EXCEEDED, 408 UPLOAD_STALLED, 400 UPLOAD_INVALID,
 * 403 NOT_A_MEMBER, 401. The attachment is then sent with `message:send { attachmentIds }`.
 */
export const UPLOAD_ID_HEADER = "X-Upload-Id";

/** The HTTP API's paths; http.ts declares what each one takes and answers. */
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
   * LIMITS.avatarMaxBytes): 200 `AvatarResponse` (http.ts). DELETE removes it (200, same body).
   */
  myAvatar: "/api/me/avatar",
  /**
   * GET a user's avatar (a WebP square of LIMITS.avatarPx), for any signed-in user. `avatarId`
   * (Profile.avatarId) only makes the URL change with the picture, so it can be cached for long.
   */
  avatar: (userId: string, avatarId: string) => `/api/users/${encodeURIComponent(userId)}/avatar?v=${encodeURIComponent(avatarId)}`,
} as const;
