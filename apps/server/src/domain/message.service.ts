import { LIMITS, findMentions, mentionIndex, type Message, type MessagePage, type RoomSummary, type UserRef } from "@parley/shared";
import { AttachmentClaimError, type ChangeResult, type PageQuery, type Storage } from "../storage/storage.js";
import { DomainError } from "./errors.js";

/** The one refusal for a room the user is not in, existing or not. */
export function notAMember(): DomainError {
  return new DomainError("NOT_A_MEMBER", "You are not a member of that room, or it does not exist.");
}

/** The one refusal for a message id the user cannot see, existing or not (like notAMember). */
export function messageNotFound(): DomainError {
  return new DomainError("MESSAGE_NOT_FOUND", "There is no such message in your rooms.");
}

/** What a change command did: the message as stored now, and whether it took a new version. */
export interface ChangeOutcome {
  message: Message;
  /** True when the change was stored (and must be broadcast); false for a retry or a no-op. */
  changed: boolean;
}

/**
 * Sending, changing (edit, delete, reactions), reading history and read positions. Membership is
 * checked on every call.
 */
/** What deleting someone else's message asks of moderation (ModerationService, ADR 0016). */
export interface RemovalPolicy {
  /** May `actor` remove `message`, written by someone else? */
  mayRemove(actor: UserRef, message: Message): Promise<boolean>;
  /** Records a removal in the audit table. */
  recordRemoval(actor: UserRef, message: Message): Promise<void>;
}

export class MessageService {
  constructor(
    private readonly storage: Storage,
    /** Without one, only authors delete (as before moderation). */
    private readonly removals: RemovalPolicy | null = null,
  ) {}

  /**
   * Throws NOT_A_MEMBER unless `userId` is a member of `roomId`, whether or not the room exists:
   * a second code for unknown rooms would tell a non-member which rooms exist, and DM ids are
   * derived from the two user ids, so it would tell who talks to whom.
   */
  async requireMember(userId: string, roomId: string): Promise<void> {
    if (await this.storage.isMember(roomId, userId)) return;
    throw notAMember();
  }

  /**
   * Stores a message (idempotent on the user's client id) and returns it with `created: false` when
   * it was a retry of a message stored before. `dmOpenedFor`: the first message of a DM is what
   * makes the conversation appear for the other member (an opened but empty DM stays invisible to
   * them), so this names the user whose room list must now show it; null otherwise.
   */
  async send(
    authorId: string,
    input: { roomId: string; clientId: string; body: string; replyToId?: string | undefined; attachmentIds?: readonly string[] | undefined },
  ): Promise<{ message: Message; created: boolean; dmOpenedFor: string | null }> {
    await this.requireMember(authorId, input.roomId);
    if (input.replyToId !== undefined) {
      const quoted = await this.storage.getMessage(input.replyToId);
      // Only a message of the same room: a reply must not quote (and so reveal) another room.
      if (!quoted || quoted.roomId !== input.roomId) throw messageNotFound();
      if (quoted.kind !== "text") throw new DomainError("MESSAGE_NOT_EDITABLE", "Only messages people wrote can be replied to.");
      // A deleted original is allowed: the retry of a reply sent before the delete must still be
      // acked (idempotency), and the reply's preview says the original was deleted.
    }
    const mentions = await this.mentionsIn(input.roomId, authorId, input.body);
    let appended: { message: Message; created: boolean };
    try {
      appended = await this.storage.appendMessage({
        roomId: input.roomId,
        authorId: authorId,
        clientId: input.clientId,
        kind: "text",
        body: input.body,
        mentions,
        replyToId: input.replyToId ?? null,
        attachmentIds: input.attachmentIds ?? [],
      });
    } catch (e) {
      // The same answer whichever way the id is wrong (unknown, someone else's, another room's,
      // on another message): it must not tell one user about another's uploads.
      if (e instanceof AttachmentClaimError) {
        throw new DomainError("ATTACHMENT_NOT_FOUND", "A file of this message is not an upload of yours into this room, or is already on another message.");
      }
      throw e;
    }
    const { message, created } = appended;
    let dmOpenedFor: string | null = null;
    if (created && message.seq === 1 && (await this.storage.getRoom(input.roomId))?.kind === "dm") {
      const members = await this.storage.listMembers(input.roomId);
      // A DM with oneself has no other member: the author's own tabs already know the room.
      dmOpenedFor = members.find((m) => m.id !== authorId)?.id ?? null;
    }
    return { message, created, dmOpenedFor };
  }

  /**
   * Replaces the body of the user's own message. An edit made from a version older than the last
   * body change is not applied (`conflict`: another tab's edit won) and answers with the message
   * as stored; repeating an applied edit changes nothing. Mentions are found again in the new body
   * (they count as unread mentions; notifications come from new messages only).
   */
  async edit(userId: string, input: { messageId: string; body: string; baseVersion: number }): Promise<ChangeOutcome & { conflict: boolean }> {
    const current = await this.requireOwnMessage(userId, input.messageId);
    // A deleted message is refused by the storage's answer below, checked in the same transaction
    // as the write (a delete can land between this read and the edit).
    const mentions = await this.mentionsIn(current.roomId, userId, input.body);
    const result = await this.storage.editMessage({ messageId: input.messageId, body: input.body, mentions, baseVersion: input.baseVersion });
    if (!result) throw messageNotFound();
    if (result.outcome === "deleted") throw deleted();
    return { message: result.message, changed: result.outcome === "changed", conflict: result.outcome === "conflict" };
  }

  /**
   * Deletes a message (it stays in the timeline as deleted): the user's own, or, for a moderator who
   * outranks its author (an admin too, member or not), anyone's: then it reads "removed by a
   * moderator" and the removal is audited. Idempotent.
   */
  async delete(user: UserRef, messageId: string): Promise<ChangeOutcome> {
    const message = await this.storage.getMessage(messageId);
    if (message && message.authorId !== user.id && message.kind === "text" && this.removals && (await this.removals.mayRemove(user, message))) {
      const result = outcome(await this.storage.deleteMessage(messageId, user.id));
      if (result.changed) await this.removals.recordRemoval(user, message);
      return result;
    }
    await this.requireOwnMessage(user.id, messageId);
    return outcome(await this.storage.deleteMessage(messageId, user.id));
  }

  /**
   * Sets or clears the user's reaction. On a deleted message setting one is refused and clearing
   * one is a no-op (the storage answers `unchanged`), so a retried "off" never fails.
   */
  async react(userId: string, input: { messageId: string; emoji: string; on: boolean }): Promise<ChangeOutcome> {
    await this.requireChangeable(userId, input.messageId);
    const result = await this.storage.setReaction({ ...input, userId, maxDistinct: LIMITS.reactionsPerMessage });
    if (result?.outcome === "limit") {
      throw new DomainError("TOO_MANY_REACTIONS", `A message can carry at most ${LIMITS.reactionsPerMessage} different reactions.`);
    }
    if (result?.outcome === "deleted") throw deleted();
    return outcome(result);
  }

  async fetch(
    userId: string,
    input: {
      roomId: string;
      afterSeq?: number | undefined;
      beforeSeq?: number | undefined;
      aroundSeq?: number | undefined;
      changedSince?: number | undefined;
      limit?: number | undefined;
    },
  ): Promise<MessagePage> {
    await this.requireMember(userId, input.roomId);
    const limit = input.limit ?? LIMITS.pageDefault;
    const query: PageQuery =
      input.afterSeq !== undefined
        ? { afterSeq: input.afterSeq, limit }
        : input.beforeSeq !== undefined
          ? { beforeSeq: input.beforeSeq, limit }
          : input.aroundSeq !== undefined
            ? { aroundSeq: input.aroundSeq, limit }
            : input.changedSince !== undefined
              ? { changedSince: input.changedSince, limit }
              : { latest: true, limit };
    return this.storage.getMessages(input.roomId, query);
  }

  /**
   * The message, if the user may change it at all: it exists in a room they are a member of (else
   * MESSAGE_NOT_FOUND, the same answer for both) and a person wrote it (join/leave notices are the
   * server's).
   */
  private async requireChangeable(userId: string, messageId: string): Promise<Message> {
    const message = await this.storage.getMessage(messageId);
    if (!message || !(await this.storage.isMember(message.roomId, userId))) throw messageNotFound();
    if (message.kind !== "text") throw new DomainError("MESSAGE_NOT_EDITABLE", "Join and leave notices cannot be changed.");
    return message;
  }

  /** As requireChangeable, and the user wrote it (only authors edit and delete). */
  private async requireOwnMessage(userId: string, messageId: string): Promise<Message> {
    const message = await this.requireChangeable(userId, messageId);
    if (message.authorId !== userId) throw new DomainError("NOT_YOUR_MESSAGE", "Only the author can change this message.");
    return message;
  }

  /**
   * Ids of the room's members that `body` mentions (never the author). One Map lookup per
   * candidate after each @ (findMentions), then one pass over the members: O(body + members), and
   * at most LIMITS.mentionsMax distinct users per message.
   */
  private async mentionsIn(roomId: string, authorId: string, body: string): Promise<string[]> {
    if (!body.includes("@")) return [];
    const members = await this.storage.listMembers(roomId);
    const found = new Set(findMentions(body, mentionIndex(members.map((m) => m.nickname))).map((m) => m.nickname.toLowerCase()));
    return members.filter((m) => m.id !== authorId && found.has(m.nickname.toLowerCase())).map((m) => m.id);
  }

  /** Moves the read position forward and returns the user's fresh view of the room. */
  async markRead(userId: string, roomId: string, seq: number): Promise<RoomSummary> {
    await this.requireMember(userId, roomId);
    await this.storage.setLastRead(roomId, userId, seq);
    const summary = await this.storage.getRoomSummary(roomId, userId);
    if (!summary) throw new DomainError("NOT_A_MEMBER", "You are not a member of that room.");
    return summary;
  }
}

function deleted(): DomainError {
  return new DomainError("MESSAGE_DELETED", "That message was deleted.");
}

/** A storage change result as a service outcome; a message gone meanwhile is not found. */
function outcome(result: ChangeResult | null): ChangeOutcome {
  if (!result) throw messageNotFound();
  return { message: result.message, changed: result.outcome === "changed" };
}
