/**
 * Every error code the server can put in a failed ack or an HTTP error body. The UI maps each to a
 * translated sentence; `message` in the envelope is the English fallback for other clients.
 */
export const ERROR_CODES = [
  /** The payload did not match the event's schema. */
  "INVALID_PAYLOAD",
  /** The message body was blank after trimming. */
  "MESSAGE_BLANK",
  /** The message body was over the length limit. */
  "MESSAGE_TOO_LONG",
  /** The message body contained a control or invisible character, or a broken one (lone surrogate). */
  "MESSAGE_INVALID",
  /** No session, or the session expired. */
  "UNAUTHENTICATED",
  /** Nickname taken by another account and the password did not match. */
  "WRONG_PASSWORD",
  "NICKNAME_INVALID",
  "PASSWORD_INVALID",
  "ROOM_NOT_FOUND",
  "ROOM_NAME_TAKEN",
  /** A new nickname looks like an existing one (same UTS #39 skeleton): `аdmin` for `admin`. */
  "NICKNAME_TAKEN",
  "ROOM_NAME_INVALID",
  /** The user is not a member of the room named in the event. */
  "NOT_A_MEMBER",
  /** The default room cannot be left. */
  "CANNOT_LEAVE_DEFAULT",
  /** DMs cannot be joined or left like public rooms. */
  "NOT_ALLOWED",
  "USER_NOT_FOUND",
  /**
   * No message with that id in a room the user is a member of (whether it exists elsewhere or not:
   * the answer must not tell a non-member which message ids exist).
   */
  "MESSAGE_NOT_FOUND",
  /** Only the author can edit or delete a message. */
  "NOT_YOUR_MESSAGE",
  /** Join and leave notices cannot be edited, deleted or reacted to. */
  "MESSAGE_NOT_EDITABLE",
  /** The message was deleted: it cannot be edited, reacted to or replied to. */
  "MESSAGE_DELETED",
  /** A reaction that is not a single emoji (see EmojiSchema). */
  "EMOJI_INVALID",
  /** The message already carries LIMITS.reactionsPerMessage distinct emoji. */
  "TOO_MANY_REACTIONS",
  /**
   * Too many requests of this kind in a short time (a per-user or per-IP budget). Not a failure of
   * the request itself: the same request succeeds after `retryAfterMs`, which always comes with it.
   */
  "RATE_LIMITED",
  /** An upload over the per-file size limit (said by its Content-Length, or found while reading it). */
  "FILE_TOO_LARGE",
  /** An upload that would take the user over their bytes per day (a rolling 24 hours). */
  "UPLOAD_QUOTA_EXCEEDED",
  /** An upload whose bytes stopped arriving for longer than the server waits. */
  "UPLOAD_STALLED",
  /** An upload request without what the server needs (Content-Length, an upload id, a file name). */
  "UPLOAD_INVALID",
  /**
   * An attachment id in `message:send` that is not an upload of mine into that room still free to
   * attach (unknown, someone else's, another room's, or already on another message).
   */
  "ATTACHMENT_NOT_FOUND",
  /** No such file, or not one the user may see (the same answer, so ids cannot be probed). */
  "FILE_NOT_FOUND",
  /** A topic with a control or invisible character (text.ts). */
  "TOPIC_INVALID",
  /** A ban or report reason with a control or invisible character (text.ts). */
  "REASON_INVALID",
  /**
   * The user's role does not allow this: moderating needs a moderator, owner or admin; appointing
   * needs an owner or admin; nobody acts on themselves or on someone of their rank or above.
   */
  "FORBIDDEN",
  /** The user is banned from the room: they cannot join or be invited until unbanned. */
  "BANNED",
  /** The room is invite-only: a moderator must invite the user. */
  "INVITE_ONLY",
  /** The account was deactivated by an admin: it cannot sign in. */
  "ACCOUNT_DEACTIVATED",
  /** No report with that id that this user moderates (the same answer whether it exists or not). */
  "REPORT_NOT_FOUND",
  /** A state-changing HTTP request came from a page of another origin (cross-site request forgery). */
  "FORBIDDEN_ORIGIN",
  /** A display name or status text over its length limit or with a control or invisible character. */
  "PROFILE_INVALID",
  /** An avatar that is not a PNG, JPEG, GIF or WebP image the server can decode. */
  "AVATAR_INVALID",
  /** Anything unexpected; details are logged on the server, never sent. */
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The error half of the ack envelope and the body of every HTTP error. */
export interface ErrorInfo {
  code: ErrorCode;
  /** A human-readable English sentence; clients may show their own translation of `code`. */
  message: string;
  /**
   * Only with `RATE_LIMITED`: milliseconds after which the same request will be accepted again. A
   * client should wait that long before retrying (the client core keeps a message queued meanwhile).
   */
  retryAfterMs?: number;
}
