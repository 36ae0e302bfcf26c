import { z } from "zod";
import type { ErrorCode } from "../protocol/errors.js";
import { LIMITS } from "./limits.js";
import { BODY_TEXT, NAME_TEXT, codePointLabel, findForbiddenCharacter, type TextRules } from "./text.js";

/**
 * Domain schemas. Everything the server accepts from a client is parsed with one of these, and
 * every type both sides use is inferred from them, so the wire format is declared exactly once.
 */

/**
 * A string checked by `checks` only once it is known to be a string. zod 4 runs length checks
 * (`min`, `max`, `length`) on any input that has a `length`, even after the type check failed, and
 * compares that `length` with a number: `{"length":{"toString":{},"valueOf":{}}}` then throws
 * "Cannot convert object to primitive value" out of `safeParse` (issue 10; regression test in
 * apps/server/test/unit/zod-hostile-objects.test.ts). A pipe runs its second schema only when the
 * first succeeded, so nothing after `z.string()` ever sees a non-string. Every length-checked
 * string in the protocol goes through here.
 */
export function checkedString<T extends z.ZodType<unknown, string>>(checks: T) {
  return z.string().pipe(checks);
}

/**
 * The custom-issue params a schema attaches when it knows the error code the server should answer
 * with (read by the server's `validationFailure`).
 */
export interface IssueParams {
  errorCode: ErrorCode;
}

/** Adds an issue naming the first character `rules` forbid (see text.ts), with `errorCode`. */
function forbidCharacters(rules: TextRules, what: string, errorCode: ErrorCode) {
  return (value: string, ctx: z.RefinementCtx) => {
    const found = findForbiddenCharacter(value, rules);
    if (!found) return;
    const kind = found.codePoint >= 0xd800 && found.codePoint <= 0xdfff ? "a broken character" : "an invisible or control character";
    ctx.addIssue({
      code: "custom",
      message: `${what} contains ${kind} (${codePointLabel(found.codePoint)} at position ${found.index})`,
      params: { errorCode } satisfies IssueParams,
    });
  };
}

/** Ids are opaque strings chosen by the server (users, rooms, messages). */
export const IdSchema = checkedString(z.string().min(1).max(128));

/** A client message id: a UUID the client picks when the user presses Enter; the idempotency key. */
export const ClientIdSchema = z.uuid();

/**
 * Trimmed; 1-32 characters; uniqueness is case-insensitive and enforced by the server. No control
 * or invisible characters (text.ts: names are identifiers, the strictest rules).
 */
export const NicknameSchema = checkedString(
  z
    .string()
    .trim()
    .min(LIMITS.nicknameMin, { message: "Nickname is required", abort: true })
    .max(LIMITS.nicknameMax, { message: `Nickname must be at most ${LIMITS.nicknameMax} characters`, abort: true })
    // Before the pattern, so that a tab or a NUL is named as what it is.
    .superRefine(forbidCharacters(NAME_TEXT, "Nickname", "NICKNAME_INVALID"))
    .regex(/^[^\s@<>]+(?: [^\s@<>]+)*$/u, "Nickname may not contain @, < or > or repeated spaces"),
);

/** Any characters at all: a password is never shown, and refusing some would only weaken it. */
export const PasswordSchema = checkedString(
  z
    .string()
    .min(LIMITS.passwordMin, `Password must be at least ${LIMITS.passwordMin} characters`)
    .max(LIMITS.passwordMax, `Password must be at most ${LIMITS.passwordMax} characters`),
);

/**
 * A message body: not blank once trimmed, at most 4000 characters, no control or invisible
 * characters but line breaks, tabs and the joiners text needs (text.ts). Kept as typed (not
 * trimmed). The length check aborts, so a long body is never scanned character by character.
 */
export const MessageBodySchema = checkedString(
  z
    .string()
    .max(LIMITS.messageMax, { message: `Message is longer than ${LIMITS.messageMax} characters`, abort: true })
    .refine((s) => s.trim().length > 0, { message: "Message is blank", params: { errorCode: "MESSAGE_BLANK" } satisfies IssueParams, abort: true })
    .superRefine(forbidCharacters(BODY_TEXT, "Message", "MESSAGE_INVALID")),
);

/**
 * The body of a message that carries files: the same rules, but it may be blank (a screenshot with
 * nothing to say). `message:send` requires a non-blank body or at least one attachment.
 */
export const MessageTextSchema = checkedString(
  z
    .string()
    .max(LIMITS.messageMax, { message: `Message is longer than ${LIMITS.messageMax} characters`, abort: true })
    .superRefine(forbidCharacters(BODY_TEXT, "Message", "MESSAGE_INVALID")),
);

/** Trimmed; 1-64 characters; no control or invisible characters (text.ts, names). */
export const RoomNameSchema = checkedString(
  z
    .string()
    .trim()
    .min(LIMITS.roomNameMin, { message: "Room name is required", abort: true })
    .max(LIMITS.roomNameMax, { message: `Room name must be at most ${LIMITS.roomNameMax} characters`, abort: true })
    .superRefine(forbidCharacters(NAME_TEXT, "Room name", "ROOM_NAME_INVALID")),
);

/** A search string: length-checked only (it is matched, never stored or shown to others). */
export const SearchQuerySchema = checkedString(z.string().max(LIMITS.searchMax));

/** A per-room sequence number: 1, 2, 3, ... with no gaps, assigned by the server at commit. */
export const SeqSchema = z.number().int().nonnegative();

export const UserSchema = z.object({
  id: IdSchema,
  nickname: z.string(),
  createdAt: z.number().int(),
});
export type User = z.infer<typeof UserSchema>;

/** A room's change sequence: every change to its timeline takes the next one (ADR 0009). */
export const VersionSchema = z.number().int().nonnegative();

/**
 * One emoji as a reaction: emoji code points with their modifiers (skin tones, variation
 * selectors, zero-width joiners, keycaps, flags), at least one pictographic or regional-indicator
 * character, nothing else (no text, no markup, no invisible characters on their own).
 */
const EMOJI_ONLY = /^(?:[\p{Extended_Pictographic}\p{Regional_Indicator}\u{1F3FB}-\u{1F3FF}\u{FE0F}\u{200D}\u{20E3}\u{E0020}-\u{E007F}#*0-9])+$/u;
const PICTOGRAPHIC = /[\p{Extended_Pictographic}\p{Regional_Indicator}\u{20E3}]/u;
export const EmojiSchema = checkedString(
  z
    .string()
    .refine((s) => s.length <= LIMITS.emojiMax, { message: "A reaction must be one emoji", params: { errorCode: "EMOJI_INVALID" } satisfies IssueParams, abort: true })
    .refine((s) => EMOJI_ONLY.test(s) && PICTOGRAPHIC.test(s), {
      message: "A reaction must be one emoji",
      params: { errorCode: "EMOJI_INVALID" } satisfies IssueParams,
    }),
);

/** One emoji on a message and everyone who reacted with it, in the order they did. */
export const ReactionSchema = z.object({
  emoji: z.string(),
  users: z.array(z.object({ id: IdSchema, nickname: z.string() })),
});
export type Reaction = z.infer<typeof ReactionSchema>;

/** What a reply shows of the message it answers: its author and first line, or that it was deleted. */
export const ReplyPreviewSchema = z.object({
  id: IdSchema,
  seq: z.number().int().nonnegative(),
  authorId: IdSchema,
  authorNickname: z.string(),
  /** The first line of the quoted body, at most LIMITS.replyExcerptMax characters; "" if deleted. */
  excerpt: z.string(),
  deleted: z.boolean(),
});
export type ReplyPreview = z.infer<typeof ReplyPreviewSchema>;

/**
 * A file on a message, as every reader sees it. The bytes are at `API.file(id)` (and an image's
 * thumbnail at `API.thumbnail(id)`), served only to members of the message's room.
 */
export const AttachmentSchema = z.object({
  id: IdSchema,
  /** The file's name as uploaded (cut to LIMITS.fileNameMax, controls removed); shown, never trusted. */
  name: z.string(),
  /** Bytes of the stored file (an image's stored copy, re-encoded without its metadata). */
  size: z.number().int().nonnegative(),
  /** The type the server sniffed from the bytes, never the uploader's claim. */
  contentType: z.string(),
  /**
   * `image`: a PNG, JPEG, GIF or WebP the server decoded: shown inline as a thumbnail, opened full
   * size in a lightbox. `file`: anything else (SVG and HTML included): a card that downloads.
   */
  kind: z.enum(["image", "file"]),
  /** An image's pixel size (after EXIF rotation), so the reader lays it out before it loads. */
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
});
export type Attachment = z.infer<typeof AttachmentSchema>;

/**
 * `text` is what a person wrote; `join`/`leave` are room-membership notices stored in the
 * timeline; `system` is a moderation line (its body is a {@link SystemEvent} as JSON, its author the
 * moderator who acted).
 */
export const MessageKindSchema = z.enum(["text", "join", "leave", "system"]);
export type MessageKind = z.infer<typeof MessageKindSchema>;

export const MessageSchema = z.object({
  id: IdSchema,
  roomId: IdSchema,
  /** Position in the room, 1..n without gaps: the order everyone sees. */
  seq: SeqSchema,
  kind: MessageKindSchema,
  authorId: IdSchema,
  authorNickname: z.string(),
  /** The sender's idempotency key; `null` for notices the server wrote. */
  clientId: z.string().nullable(),
  body: z.string(),
  /** Server time of commit, ms since the epoch. */
  createdAt: z.number().int(),
  /** Ids of users mentioned with @nickname in the body. */
  mentions: z.array(IdSchema),
  /**
   * The room's change version of this message's latest change (its creation, last edit, delete or
   * reaction). Of two copies of a message, the one with the higher version is the newer state.
   */
  version: VersionSchema,
  /** Server time of the last edit; null if never edited. */
  editedAt: z.number().int().nullable(),
  /** Server time of the delete; null if not deleted. A deleted message keeps its seq, its body is "". */
  deletedAt: z.number().int().nullable(),
  /** Deleted by a moderator of the room (or an admin), not by its author: "removed by a moderator". */
  removedByModerator: z.boolean(),
  /** Reactions in the order each emoji was first used. Empty on deleted messages. */
  reactions: z.array(ReactionSchema),
  /** The message this one replies to, as it is now (null if not a reply). */
  replyTo: ReplyPreviewSchema.nullable(),
  /** Files sent with the message, in the order attached. Empty on deleted messages. */
  attachments: z.array(AttachmentSchema),
});
export type Message = z.infer<typeof MessageSchema>;

export const RoomKindSchema = z.enum(["public", "dm"]);
export type RoomKind = z.infer<typeof RoomKindSchema>;

/**
 * A member's role in a public room. The creator is the `owner`; owners appoint `moderator`s. Owners
 * and moderators moderate (delete any message, kick, ban, rename, topic, invite-only, invite); only
 * owners (and admins) appoint. DMs have only members.
 */
export const RoomRoleSchema = z.enum(["owner", "moderator", "member"]);
export type RoomRole = z.infer<typeof RoomRoleSchema>;

/** A room's topic: trimmed, at most LIMITS.topicMax, one line of name-safe text; "" clears it. */
export const TopicSchema = checkedString(
  z
    .string()
    .trim()
    .max(LIMITS.topicMax, { message: `Topic must be at most ${LIMITS.topicMax} characters`, abort: true })
    .superRefine(forbidCharacters(NAME_TEXT, "Topic", "TOPIC_INVALID")),
);

/** Why a moderator banned someone, or why a user reports a message: optional free text. */
export const ReasonSchema = checkedString(
  z
    .string()
    .trim()
    .max(LIMITS.reasonMax, { message: `Reason must be at most ${LIMITS.reasonMax} characters`, abort: true })
    .superRefine(forbidCharacters(BODY_TEXT, "Reason", "REASON_INVALID")),
);

/**
 * Which new messages of a room notify a member (issue 14): every message by others (`all`, the
 * default), only those mentioning them (`mentions`), or none (`none`). Kept per member on the
 * server, so every tab and device follows it; a user's "do not disturb" overrides it.
 */
export const NotifyLevelSchema = z.enum(["all", "mentions", "none"]);
export type NotifyLevel = z.infer<typeof NotifyLevelSchema>;

/** A room as one user sees it: the shared facts plus that user's read position and counts. */
export const RoomSummarySchema = z.object({
  id: IdSchema,
  kind: RoomKindSchema,
  /** Public rooms: the room's name. DMs: the other user's nickname. */
  name: z.string(),
  /** For DMs, the other user's id. */
  peerId: IdSchema.nullable(),
  memberCount: z.number().int().nonnegative(),
  /** Highest seq stored in the room. */
  lastSeq: SeqSchema,
  /** The room's latest change version (ADR 0009): above what a client applied, it missed changes. */
  lastVersion: VersionSchema,
  /** Highest seq this user has read. */
  lastReadSeq: SeqSchema,
  /** Messages by others after lastReadSeq. */
  unreadCount: z.number().int().nonnegative(),
  /** Unread messages that mention this user. */
  mentionCount: z.number().int().nonnegative(),
  /** Time of the last message (or creation), for ordering the room list. */
  lastActivityAt: z.number().int(),
  /** This user's role in the room (always `member` in DMs). */
  role: RoomRoleSchema,
  /** Public rooms: one line under the name; "" when none. */
  topic: z.string(),
  /** Only people a moderator invites can join (and the room is listed only to its members). */
  inviteOnly: z.boolean(),
  /** This user's notification level in the room (`room:notify`). */
  notifyLevel: NotifyLevelSchema,
});
export type RoomSummary = z.infer<typeof RoomSummarySchema>;

/** A public room in the directory, whether or not the user is a member. */
export const RoomListingSchema = z.object({
  id: IdSchema,
  name: z.string(),
  memberCount: z.number().int().nonnegative(),
  isMember: z.boolean(),
});
export type RoomListing = z.infer<typeof RoomListingSchema>;

export const MemberSchema = z.object({
  id: IdSchema,
  nickname: z.string(),
  online: z.boolean(),
  /** The member's role in the room asked about; `member` in user searches. */
  role: RoomRoleSchema,
});
export type Member = z.infer<typeof MemberSchema>;

/** A user as a moderation record names them (a snapshot: nicknames never change). */
export const UserRefSchema = z.object({ id: IdSchema, nickname: z.string() });
export type UserRef = z.infer<typeof UserRefSchema>;

/**
 * What a `system` message says happened, stored as its body (JSON) and rendered by each client in
 * its own language. The actor is the message's author.
 */
export const SystemEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("kick"), target: UserRefSchema }),
  z.object({ type: z.literal("ban"), target: UserRefSchema, reason: z.string() }),
  z.object({ type: z.literal("unban"), target: UserRefSchema }),
  z.object({ type: z.literal("invite"), target: UserRefSchema }),
  z.object({ type: z.literal("role"), target: UserRefSchema, role: RoomRoleSchema }),
  z.object({ type: z.literal("rename"), from: z.string(), to: z.string() }),
  z.object({ type: z.literal("topic"), topic: z.string() }),
  z.object({ type: z.literal("inviteOnly"), inviteOnly: z.boolean() }),
]);
export type SystemEvent = z.infer<typeof SystemEventSchema>;
// Read out of a message body by `systemEventOf` (system-event.ts: without zod, for the web bundle).

/** A ban: who, by whom, when and why. */
export const BanSchema = z.object({
  user: UserRefSchema,
  bannedBy: UserRefSchema,
  reason: z.string(),
  createdAt: z.number().int(),
});
export type Ban = z.infer<typeof BanSchema>;

/** A user's report of a message, as the room's moderators see it. */
export const ReportSchema = z.object({
  id: IdSchema,
  roomId: IdSchema,
  roomName: z.string(),
  reporter: UserRefSchema,
  /** The reported message in its state now (deleted if a moderator removed it). */
  message: MessageSchema,
  reason: z.string(),
  createdAt: z.number().int(),
  /** When and by whom it was resolved; null while open. */
  resolvedAt: z.number().int().nullable(),
  resolvedBy: UserRefSchema.nullable(),
});
export type Report = z.infer<typeof ReportSchema>;

/** What the audit table records of a moderation action. */
export const AUDIT_ACTIONS = [
  "kick",
  "ban",
  "unban",
  "invite",
  "role",
  "rename",
  "topic",
  "inviteOnly",
  "removeMessage",
  "resolveReport",
  "deactivate",
  "reactivate",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One row of the audit table: who did what to whom, where and when. */
export const AuditEntrySchema = z.object({
  id: IdSchema,
  /** Null for server-wide actions (deactivating an account). */
  roomId: IdSchema.nullable(),
  actor: UserRefSchema,
  action: z.enum(AUDIT_ACTIONS),
  target: UserRefSchema.nullable(),
  messageId: IdSchema.nullable(),
  /** The action's details (a reason, a new name, a role) as JSON text. */
  detail: z.string(),
  createdAt: z.number().int(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
