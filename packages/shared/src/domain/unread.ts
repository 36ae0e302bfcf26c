import type { Message } from "./schemas.js";

/**
 * The unread rule, stated once for every side: past a reader's read position, a message counts as
 * unread when a person other than the reader wrote it and it is not deleted. Join and leave notices
 * and the reader's own messages never count (writing in a room reads it). The client core counts
 * live messages with this function; the storages count in SQL for speed, and the storage contract
 * suite checks their counts against this function on a mixed fixture.
 */
export function countsAsUnread(message: Pick<Message, "kind" | "authorId" | "deletedAt">, readerId: string | undefined): boolean {
  // typeof, not `=== null`: a copy from a server older than deletes has no deletedAt at all.
  return message.kind === "text" && message.authorId !== readerId && typeof message.deletedAt !== "number";
}

/** An unread message (countsAsUnread) that mentions the reader raises their mention count too. */
export function countsAsUnreadMention(message: Pick<Message, "kind" | "authorId" | "deletedAt" | "mentions">, readerId: string | undefined): boolean {
  return readerId !== undefined && countsAsUnread(message, readerId) && message.mentions.includes(readerId);
}
