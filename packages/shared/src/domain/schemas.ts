import { z } from "zod";
import { LIMITS } from "./limits.js";

/**
 * Domain schemas. Everything the server accepts from a client is parsed with one of these, and
 * every type both sides use is inferred from them, so the wire format is declared exactly once.
 */

/** Ids are opaque strings chosen by the server (users, rooms, messages). */
export const IdSchema = z.string().min(1).max(128);

/** A client message id: a UUID the client picks when the user presses Enter; the idempotency key. */
export const ClientIdSchema = z.uuid();

/** Trimmed; 1-32 characters; uniqueness is case-insensitive and enforced by the server. */
export const NicknameSchema = z
  .string()
  .trim()
  .min(LIMITS.nicknameMin, "Nickname is required")
  .max(LIMITS.nicknameMax, `Nickname must be at most ${LIMITS.nicknameMax} characters`)
  .regex(/^[^\s@<>]+(?: [^\s@<>]+)*$/u, "Nickname may not contain @, < or > or repeated spaces");

export const PasswordSchema = z
  .string()
  .min(LIMITS.passwordMin, `Password must be at least ${LIMITS.passwordMin} characters`)
  .max(LIMITS.passwordMax, `Password must be at most ${LIMITS.passwordMax} characters`);

/** A message body: not blank once trimmed, at most 4000 characters. Kept as typed (not trimmed). */
export const MessageBodySchema = z
  .string()
  .max(LIMITS.messageMax, `Message is longer than ${LIMITS.messageMax} characters`)
  .refine((s) => s.trim().length > 0, "Message is blank");

export const RoomNameSchema = z
  .string()
  .trim()
  .min(LIMITS.roomNameMin, "Room name is required")
  .max(LIMITS.roomNameMax, `Room name must be at most ${LIMITS.roomNameMax} characters`);

/** A per-room sequence number: 1, 2, 3, ... with no gaps, assigned by the server at commit. */
export const SeqSchema = z.number().int().nonnegative();

export const UserSchema = z.object({
  id: IdSchema,
  nickname: z.string(),
  createdAt: z.number().int(),
});
export type User = z.infer<typeof UserSchema>;

/** `text` is what a person wrote; `join`/`leave` are room-membership notices stored in the timeline. */
export const MessageKindSchema = z.enum(["text", "join", "leave"]);
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
});
export type Message = z.infer<typeof MessageSchema>;

export const RoomKindSchema = z.enum(["public", "dm"]);
export type RoomKind = z.infer<typeof RoomKindSchema>;

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
  /** Highest seq this user has read. */
  lastReadSeq: SeqSchema,
  /** Messages by others after lastReadSeq. */
  unreadCount: z.number().int().nonnegative(),
  /** Unread messages that mention this user. */
  mentionCount: z.number().int().nonnegative(),
  /** Time of the last message (or creation), for ordering the room list. */
  lastActivityAt: z.number().int(),
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
});
export type Member = z.infer<typeof MemberSchema>;
