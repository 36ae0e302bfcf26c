import { z } from "zod";
import { LIMITS } from "../domain/limits.js";
import {
  checkedString,
  ClientIdSchema,
  EmojiSchema,
  IdSchema,
  MessageBodySchema,
  MessageTextSchema,
  ReasonSchema,
  RoomNameSchema,
  SearchQuerySchema,
  TopicSchema,
  SeqSchema,
  VersionSchema,
  type AuditEntry,
  type Ban,
  type IssueParams,
  type Member,
  type Message,
  type Report,
  type RoomListing,
  type RoomSummary,
  type User,
} from "../domain/schemas.js";
import { SEARCH_PAGE_MAX, SEARCH_TERM_MAX, SEARCH_TERMS_MAX } from "../domain/search.js";
import { ProfilesGetSchema, ProfileUpdateSchema, RoomNotifySchema, type Profile } from "../domain/profile.js";
import type { Ack } from "./ack.js";
import type { UploadLimits } from "./http.js";
import type { WireMessage } from "./message-wire.js";

/**
 * The Socket.IO protocol of Parley, declared once and imported by the server, the web client and
 * every other client (bots, the fault test, the load generator).
 *
 * Naming: `domain:verb`; commands a client sends are imperative (`message:send`), broadcasts the
 * server sends are past tense (`message:created`). Every command takes one payload object and an
 * ack callback that receives an {@link AckResult}; a command sent without a callback is still
 * validated and executed, and a failure is reported with the `request:failed` event instead.
 */

/** Payload schemas of client-to-server commands; the server parses every payload with these. */
export const ClientPayloadSchemas = {
  /** Ask for the signed-in user, their rooms with read positions and counts, and who is online. */
  "session:sync": z.object({}).strict(),
  /**
   * Send a message. `clientId` is the idempotency key: sending the same (user, clientId) again is
   * acked with the message stored the first time (same id and seq), never stored twice. The ack
   * arrives only after the message is committed.
   */
  "message:send": z
    .object({
      roomId: IdSchema,
      clientId: ClientIdSchema,
      /** May be blank only when the message carries attachments. */
      body: MessageTextSchema,
      /** The message this one replies to: a message of the same room, not deleted. */
      replyToId: IdSchema.optional(),
      /**
       * Uploads of mine into this room (see `UPLOAD_ID_HEADER`), not on any message yet; at most
       * LIMITS.attachmentsPerMessage, no repeats. Each is claimed by this message in the same
       * transaction that stores it, so a file is on one message only.
       */
      attachmentIds: z.array(IdSchema).optional(),
    })
    .strict()
    // Guarded like search:messages' terms below: these run on the payload as received.
    .refine((p) => !Array.isArray(p.attachmentIds) || p.attachmentIds.length <= LIMITS.attachmentsPerMessage, {
      message: `A message can carry at most ${LIMITS.attachmentsPerMessage} files`,
      path: ["attachmentIds"],
    })
    .refine((p) => !Array.isArray(p.attachmentIds) || new Set(p.attachmentIds).size === p.attachmentIds.length, {
      message: "An attachment is listed twice",
      path: ["attachmentIds"],
    })
    .refine(
      (p) => typeof p.body !== "string" || p.body.trim().length > 0 || (Array.isArray(p.attachmentIds) && p.attachmentIds.length > 0),
      { message: "Message is blank", path: ["body"], params: { errorCode: "MESSAGE_BLANK" } satisfies IssueParams },
    ),
  /**
   * Replace the body of one of my messages. `baseVersion` is the message's `version` the edit was
   * made from: if someone (another tab) changed the body since, the edit is not applied and the
   * reply carries the current message with `conflict: true`. Idempotent: repeating an applied edit
   * (same body) answers with the stored message and changes nothing.
   */
  "message:edit": z.object({ messageId: IdSchema, body: MessageBodySchema, baseVersion: VersionSchema }).strict(),
  /** Delete one of my messages (it stays in the timeline as deleted). Idempotent. */
  "message:delete": z.object({ messageId: IdSchema }).strict(),
  /**
   * Set (`on: true`) or clear my reaction with `emoji` on a message. A set, not a toggle, so a retry
   * can never undo itself. Idempotent.
   */
  "reaction:set": z.object({ messageId: IdSchema, emoji: EmojiSchema, on: z.boolean() }).strict(),
  /**
   * Read a page of a room's history. At most one cursor:
   * - `afterSeq`: messages with seq > afterSeq, ascending by seq (catch-up after a reconnect or a gap);
   * - `beforeSeq`: the `limit` messages just before beforeSeq, ascending by seq (scrolling back);
   * - `aroundSeq`: about `limit` messages centred on aroundSeq, ascending by seq (jump to a quoted
   *   message); `hasMore` then says whether newer ones exist (older ones exist iff the first seq > 1);
   * - `changedSince`: the current state of every message whose `version` > changedSince, ascending
   *   by version (catch-up of edits, deletes and reactions; new messages are included too);
   * - none: the latest `limit` messages, ascending by seq.
   */
  "messages:fetch": z
    .object({
      roomId: IdSchema,
      afterSeq: SeqSchema.optional(),
      beforeSeq: SeqSchema.optional(),
      aroundSeq: SeqSchema.optional(),
      changedSince: VersionSchema.optional(),
      limit: z.number().int().min(1).max(LIMITS.pageMax).optional(),
    })
    .strict()
    .refine((p) => [p.afterSeq, p.beforeSeq, p.aroundSeq, p.changedSince].filter((c) => c !== undefined).length <= 1, {
      message: "Give at most one of afterSeq, beforeSeq, aroundSeq and changedSince",
    }),
  /** The user started (or is still) typing in a room; repeat every few seconds while typing. */
  "typing:start": z.object({ roomId: IdSchema }).strict(),
  /** The user stopped typing (cleared the draft or left the room view). */
  "typing:stop": z.object({ roomId: IdSchema }).strict(),
  /** Create a public room and join it. Names are unique regardless of case. */
  "room:create": z.object({ name: RoomNameSchema }).strict(),
  /** Join a public room. */
  "room:join": z.object({ roomId: IdSchema }).strict(),
  /** Leave a public room (not the default room, not a DM). */
  "room:leave": z.object({ roomId: IdSchema }).strict(),
  /** List public rooms, optionally filtered by a case-insensitive substring of the name. */
  "rooms:list": z.object({ query: SearchQuerySchema.optional() }).strict(),
  /** List a room's members with who is online; members only. */
  "room:members": z.object({ roomId: IdSchema }).strict(),
  /** Open (or find) the direct conversation with another user. */
  "dm:open": z.object({ userId: IdSchema }).strict(),
  /** Find users by a case-insensitive substring of the nickname. */
  "users:search": z.object({ query: SearchQuerySchema }).strict(),
  /** Mark a room read up to `seq`. Read positions only move forward. */
  "room:read": z.object({ roomId: IdSchema, seq: SeqSchema }).strict(),
  /**
   * Search the messages of every room and DM I am a member of (never others), newest first: every
   * term must match (see `matchesTerm` in domain/search.ts: substrings from three characters or in
   * CJK script, word prefixes below), deleted messages never do, edited ones by their current text.
   * Filters: one room (`roomId`, which I must be a member of), an author (`from`, a nickname),
   * `after`/`before` (ms since the epoch, inclusive/exclusive). A term or a filter is required.
   * `cursor`: the `nextCursor` of the previous page.
   */
  "search:messages": z
    .object({
      // At most SEARCH_TERMS_MAX: checked below, not with `.max()`, whose length check zod runs even
      // on a `terms` that is not an array (`{ length: <hostile object> }` threw inside zod: the fuzz test).
      terms: z.array(checkedString(z.string().trim().min(1).max(SEARCH_TERM_MAX))),
      roomId: IdSchema.optional(),
      from: checkedString(z.string().trim().min(1).max(LIMITS.nicknameMax)).optional(),
      after: z.number().int().nonnegative().optional(),
      before: z.number().int().nonnegative().optional(),
      /** Only messages carrying at least one file. */
      hasFile: z.literal(true).optional(),
      cursor: z.string().regex(/^[1-9][0-9]{0,15}$/).optional(),
      limit: z.number().int().min(1).max(SEARCH_PAGE_MAX).optional(),
    })
    .strict()
    // Zod runs this refinement even when a field failed to parse, on the payload as received: a
    // `terms` that is an object with a hostile `length` must not throw here (the fuzz test found it).
    .refine((p) => (Array.isArray(p.terms) && p.terms.length > 0) || p.roomId !== undefined || p.from !== undefined || p.hasFile === true, {
      message: "Give at least one term, a room, an author or has:file",
    })
    .refine((p) => !Array.isArray(p.terms) || p.terms.length <= SEARCH_TERMS_MAX, {
      message: `Give at most ${SEARCH_TERMS_MAX} terms`,
      path: ["terms"],
    }),

  // Moderation (ADR 0016). Every one is checked against the actor's role on every packet; each
  // action is written to the audit table and announced in the room as a `system` message.
  /**
   * Rename a room, set its topic, or make it invite-only (any of them; at least one). Owners,
   * moderators and admins; public rooms only.
   */
  "room:update": z
    .object({ roomId: IdSchema, name: RoomNameSchema.optional(), topic: TopicSchema.optional(), inviteOnly: z.boolean().optional() })
    .strict()
    .refine((p) => p.name !== undefined || p.topic !== undefined || p.inviteOnly !== undefined, { message: "Give a name, a topic or inviteOnly" }),
  /** Make a member a moderator, or a moderator a member again. Owners and admins. */
  "room:setRole": z.object({ roomId: IdSchema, userId: IdSchema, role: z.enum(["moderator", "member"]) }).strict(),
  /** Remove a member from the room; they may join again (unless the room is invite-only). */
  "room:kick": z.object({ roomId: IdSchema, userId: IdSchema }).strict(),
  /**
   * Ban a user (member or not) from the room: they leave it at once, in every tab on every node,
   * and cannot join or be invited until unbanned. Idempotent.
   */
  "room:ban": z.object({ roomId: IdSchema, userId: IdSchema, reason: ReasonSchema.optional() }).strict(),
  /** Lift a ban. Idempotent. */
  "room:unban": z.object({ roomId: IdSchema, userId: IdSchema }).strict(),
  /** The room's bans, newest first. Owners, moderators and admins. */
  "room:bans": z.object({ roomId: IdSchema }).strict(),
  /** Add a user to the room (the way into an invite-only room). Not a banned user. */
  "room:invite": z.object({ roomId: IdSchema, userId: IdSchema }).strict(),
  /** The room's moderation log (the audit table), newest first. Owners, moderators and admins. */
  "room:audit": z.object({ roomId: IdSchema, limit: z.number().int().min(1).max(LIMITS.auditPageMax).optional() }).strict(),
  /**
   * Hide (`on: true`) or show again every message of another user, for me only, in every tab. The
   * muted user is not told.
   */
  "user:mute": z.object({ userId: IdSchema, on: z.boolean() }).strict(),
  /**
   * Report a message of a room I am a member of to its moderators (DMs: to the admins). One report
   * per user and message: reporting again answers with the first report.
   */
  "message:report": z.object({ messageId: IdSchema, reason: ReasonSchema.optional() }).strict(),
  /**
   * Reports I moderate, newest first: a room's (owners, moderators, admins), or with no room every
   * room I moderate plus, for admins, every room and DM. `resolved` filters open or resolved ones.
   */
  "reports:list": z.object({ roomId: IdSchema.optional(), resolved: z.boolean().optional() }).strict(),
  /** Mark a report resolved. Idempotent. */
  "report:resolve": z.object({ reportId: IdSchema }).strict(),
  /**
   * Admins: deactivate an account (its sessions end and its sockets disconnect on every node; it can
   * no longer sign in), or reactivate it. Not an admin's own account.
   */
  "admin:setActive": z.object({ userId: IdSchema, active: z.boolean() }).strict(),
  // ---- Profiles and notification settings (issue 14) --------------------------------------
  /**
   * Change my profile (display name, status text, availability); absent fields are kept, "" clears
   * a text. Replies with the new profile, which also goes to everyone sharing a room with me and to
   * my other tabs as `user:updated`.
   */
  "profile:update": ProfileUpdateSchema,
  /** The current profiles of some users (a profile card, message authors); unknown ids are left out. */
  "profiles:get": ProfilesGetSchema,
  /**
   * Set my notification level in a room I am a member of. Replies with the room's summary, which
   * also goes to my other tabs as `room:upserted`.
   */
  "room:notify": RoomNotifySchema,
} as const;

export type ClientEventName = keyof typeof ClientPayloadSchemas;

/** What a client sends for each command (schema input). */
export type ClientPayload<E extends ClientEventName> = z.input<(typeof ClientPayloadSchemas)[E]>;
/** What the server works with after parsing (schema output: trimmed, defaults applied). */
export type ParsedPayload<E extends ClientEventName> = z.output<(typeof ClientPayloadSchemas)[E]>;

/** Everything `session:sync` returns: enough for a client to build its whole state. */
export interface SyncData {
  me: User;
  rooms: RoomSummary[];
  /** Ids of users online now (any tab connected). */
  onlineUserIds: string[];
  /** The server's upload limits, so a client refuses a file before sending its bytes. */
  uploadLimits: UploadLimits;
  /** The user is a server admin (the first account, or listed in `ADMIN_NICKNAMES`). */
  isAdmin: boolean;
  /** Users I muted: their messages are hidden in my clients. */
  mutedUserIds: string[];
  /**
   * My profile, and the profiles of users sharing a room with me who have set anything (a display
   * name, status, avatar, or an availability other than online): enough to draw every name and
   * avatar at once. Others are plain nicknames until asked for (`profiles:get`).
   */
  profiles: Profile[];
}

/**
 * A page of history (ascending by seq, or by version for `changedSince`). `hasMore`: more exist in
 * the direction asked. `version`: the room's latest change version when the page was read: every
 * message in the page is in its state as of that version or later.
 */
export interface MessagePage {
  messages: Message[];
  hasMore: boolean;
  version: number;
}

/** The reply to `message:edit`: the stored message, and whether the edit lost to a newer one. */
export interface EditReply {
  message: Message;
  /** True when the body was changed since `baseVersion` by another edit: this edit was not applied. */
  conflict: boolean;
}

/** A page of search results, newest first; `nextCursor` fetches the next (older) page, null at the end. */
export interface SearchPage {
  hits: Message[];
  nextCursor: string | null;
}

/** The `data` of each command's successful ack. */
export interface ClientReplies {
  "session:sync": SyncData;
  "message:send": Message;
  "message:edit": EditReply;
  "message:delete": Message;
  "reaction:set": Message;
  "messages:fetch": MessagePage;
  "typing:start": null;
  "typing:stop": null;
  "room:create": RoomSummary;
  "room:join": RoomSummary;
  "room:leave": { roomId: string };
  "rooms:list": RoomListing[];
  "room:members": Member[];
  "dm:open": RoomSummary;
  "users:search": Member[];
  "room:read": RoomSummary;
  "search:messages": SearchPage;
  "room:update": RoomSummary;
  "room:setRole": Member;
  "room:kick": { roomId: string; userId: string };
  "room:ban": { roomId: string; userId: string };
  "room:unban": { roomId: string; userId: string };
  "room:bans": Ban[];
  "room:invite": Member;
  "room:audit": AuditEntry[];
  "user:mute": { mutedUserIds: string[] };
  "message:report": Report;
  "reports:list": Report[];
  "report:resolve": Report;
  "admin:setActive": { userId: string; active: boolean };
  "profile:update": Profile;
  "profiles:get": Profile[];
  "room:notify": RoomSummary;
}

/** Client-to-server events: one payload and an ack callback each. */
export type ClientToServerEvents = {
  [E in ClientEventName]: (payload: ClientPayload<E>, ack: Ack<ClientReplies[E]>) => void;
};

/** A typing indicator change in a room. Expires on the server if not refreshed. */
export interface TypingUpdate {
  roomId: string;
  userId: string;
  nickname: string;
  typing: boolean;
}

/** A user came online (first tab connected) or went offline (last tab gone, after a grace delay). */
export interface PresenceUpdate {
  userId: string;
  nickname: string;
  online: boolean;
}

/**
 * Where a room's timeline stands: its last message seq and its last change version. Sent by a
 * node to its sockets in a room after the room changed and then stayed still for a moment (the
 * tail guard, ADR 0010): a client behind it missed a broadcast and catches up.
 */
export interface RoomHead {
  roomId: string;
  seq: number;
  version: number;
}

/** Why a room went away for a user. */
export interface RoomRemoved {
  roomId: string;
  /** Absent from older servers: read as "left". */
  reason?: "left" | "kicked" | "banned";
}

/** Server-to-client events. */
export interface ServerToClientEvents {
  /**
   * A message was committed in a room the user is a member of (sent to members only), in its
   * compact broadcast form: {@link fromWireMessage} gives the full message.
   */
  "message:created": (message: WireMessage) => void;
  /**
   * A message changed (edited, deleted, a reaction set or cleared): its whole new state with its
   * new `version`, in the compact broadcast form ({@link fromWireMessage}). Keep it only if its
   * version is higher than the copy held.
   */
  "message:updated": (message: WireMessage) => void;
  /**
   * A room appeared or changed for this user: created, joined, a DM opened, or read in another
   * tab. Sent to every socket of the user, so all tabs hold the same rooms and read positions.
   */
  "room:upserted": (room: RoomSummary) => void;
  /**
   * The user is no longer in a room: they left it (in any tab), or a moderator kicked or banned
   * them (their sockets on every node have already left the room's channel).
   */
  "room:removed": (payload: RoomRemoved) => void;
  /** My muted users changed (in another tab). */
  "mutes:updated": (payload: { mutedUserIds: string[] }) => void;
  /** A report was filed or resolved in a room I moderate. */
  "report:updated": (report: Report) => void;
  "typing:updated": (update: TypingUpdate) => void;
  "presence:updated": (update: PresenceUpdate) => void;
  /** The room's head (see RoomHead): a client that holds less catches up. */
  "room:head": (head: RoomHead) => void;
  /**
   * A user's profile changed (display name, status, availability, avatar): to everyone sharing a
   * room with them and to their own tabs. Replaces the copy held.
   */
  "user:updated": (profile: Profile) => void;
  /** A command sent without an ack callback failed; the error it would have been acked with. */
  "request:failed": (payload: { event: string; code: string; message: string }) => void;
}

/** Events between server nodes (through the adapter). None needed yet. */
export type InterServerEvents = Record<string, never>;

/** What the server keeps on each socket after the handshake authenticated it. */
export interface SocketData {
  userId: string;
  nickname: string;
  sessionId: string;
}
