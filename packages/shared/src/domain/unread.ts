import type { Message } from "./schemas.js";

/** Whom a reader muted, as the client core keeps it (user id -> true). */
export type MutedUsers = Readonly<Record<string, true>>;
const NOBODY: MutedUsers = {};

/**
 * The unread rule, stated once for every side: past a reader's read position, a message counts as
 * unread when a person other than the reader wrote it, the reader has not muted that person, and
 * it is not deleted. Join and leave notices and the reader's own messages never count (writing in
 * a room reads it); a muted person's messages are folded away in the reader's timeline, so they
 * do not ask for attention either. The client core counts live messages with this function; the
 * storages count in SQL for speed, and the storage contract suite checks their counts against this
 * function on a mixed fixture.
 */
export function countsAsUnread(message: Pick<Message, "kind" | "authorId" | "deletedAt">, readerId: string | undefined, muted: MutedUsers = NOBODY): boolean {
  // typeof, not `=== null`: a copy from a server older than deletes has no deletedAt at all.
  // Own property only: an author id never names something on Object.prototype, but the map is data.
  return message.kind === "text" && message.authorId !== readerId && typeof message.deletedAt !== "number" && !Object.hasOwn(muted, message.authorId);
}

/** An unread message (countsAsUnread) that mentions the reader raises their mention count too. */
export function countsAsUnreadMention(
  message: Pick<Message, "kind" | "authorId" | "deletedAt" | "mentions">,
  readerId: string | undefined,
  muted: MutedUsers = NOBODY,
): boolean {
  return readerId !== undefined && countsAsUnread(message, readerId, muted) && message.mentions.includes(readerId);
}
