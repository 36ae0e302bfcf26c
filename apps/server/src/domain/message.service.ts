import { LIMITS, findMentions, mentionIndex, type Message, type MessagePage, type RoomSummary } from "@parley/shared";
import type { PageQuery, Storage } from "../storage/storage.js";
import { DomainError } from "./errors.js";

/** The one refusal for a room the user is not in, existing or not. */
export function notAMember(): DomainError {
  return new DomainError("NOT_A_MEMBER", "You are not a member of that room, or it does not exist.");
}

/** Sending, reading history and read positions. Membership is checked on every call. */
export class MessageService {
  constructor(private readonly storage: Storage) {}

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
    input: { roomId: string; clientId: string; body: string },
  ): Promise<{ message: Message; created: boolean; dmOpenedFor: string | null }> {
    await this.requireMember(authorId, input.roomId);
    let mentions: string[] = [];
    if (input.body.includes("@")) {
      // One Map lookup per candidate after each @ (findMentions), then one pass over the members:
      // O(body + members), and at most LIMITS.mentionsMax distinct users mentioned per message.
      const members = await this.storage.listMembers(input.roomId);
      const found = new Set(findMentions(input.body, mentionIndex(members.map((m) => m.nickname))).map((m) => m.nickname.toLowerCase()));
      mentions = members.filter((m) => m.id !== authorId && found.has(m.nickname.toLowerCase())).map((m) => m.id);
    }
    const { message, created } = await this.storage.appendMessage({
      roomId: input.roomId,
      authorId: authorId,
      clientId: input.clientId,
      kind: "text",
      body: input.body,
      mentions,
    });
    let dmOpenedFor: string | null = null;
    if (created && message.seq === 1 && (await this.storage.getRoom(input.roomId))?.kind === "dm") {
      const members = await this.storage.listMembers(input.roomId);
      // A DM with oneself has no other member: the author's own tabs already know the room.
      dmOpenedFor = members.find((m) => m.id !== authorId)?.id ?? null;
    }
    return { message, created, dmOpenedFor };
  }

  async fetch(
    userId: string,
    input: { roomId: string; afterSeq?: number | undefined; beforeSeq?: number | undefined; limit?: number | undefined },
  ): Promise<MessagePage> {
    await this.requireMember(userId, input.roomId);
    const limit = input.limit ?? LIMITS.pageDefault;
    const query: PageQuery =
      input.afterSeq !== undefined
        ? { afterSeq: input.afterSeq, limit }
        : input.beforeSeq !== undefined
          ? { beforeSeq: input.beforeSeq, limit }
          : { latest: true, limit };
    return this.storage.getMessages(input.roomId, query);
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
