import type { Message } from "../domain/schemas.js";

/**
 * The fields a message broadcast leaves out while they hold these values, which are what every new
 * message has (no mentions, never edited or deleted, no reactions, not a reply, no files).
 *
 * Why (issue 15, ADR 0019): `message:created` and `message:updated` are the fan-out, written once
 * per member of the room, so their size is paid per recipient by the server's kernel, the network
 * and every client. A typical new message's frame carried ~120 bytes of defaults out of ~480.
 * Acks, history pages and search results, each read by one client, keep the full {@link Message}.
 */
const DEFAULTED = ["mentions", "editedAt", "deletedAt", "removedByModerator", "reactions", "replyTo", "attachments"] as const;
type Defaulted = (typeof DEFAULTED)[number];

/** A {@link Message} as the message broadcasts carry it: a field left out holds its default. */
export type WireMessage = Omit<Message, Defaulted> & Partial<Pick<Message, Defaulted>>;

/** The broadcast form of `message`: the fields at their default left out (see {@link DEFAULTED}). */
export function toWireMessage(message: Message): WireMessage {
  // Built field by field, not spread and deleted: one object of one shape per broadcast, whose
  // JSON keeps the full message's key order.
  const wire: WireMessage = {
    id: message.id,
    roomId: message.roomId,
    seq: message.seq,
    kind: message.kind,
    authorId: message.authorId,
    authorNickname: message.authorNickname,
    clientId: message.clientId,
    body: message.body,
    createdAt: message.createdAt,
    version: message.version,
  };
  if (message.mentions.length > 0) wire.mentions = message.mentions;
  if (message.editedAt !== null) wire.editedAt = message.editedAt;
  if (message.deletedAt !== null) wire.deletedAt = message.deletedAt;
  if (message.removedByModerator) wire.removedByModerator = true;
  if (message.reactions.length > 0) wire.reactions = message.reactions;
  if (message.replyTo !== null) wire.replyTo = message.replyTo;
  if (message.attachments.length > 0) wire.attachments = message.attachments;
  return wire;
}

/** The full message a broadcast stands for: every left-out field at its default (fresh arrays). */
export function fromWireMessage(wire: WireMessage): Message {
  return {
    ...wire,
    mentions: wire.mentions ?? [],
    editedAt: wire.editedAt ?? null,
    deletedAt: wire.deletedAt ?? null,
    removedByModerator: wire.removedByModerator ?? false,
    reactions: wire.reactions ?? [],
    replyTo: wire.replyTo ?? null,
    attachments: wire.attachments ?? [],
  };
}

/** The field names {@link toWireMessage} may leave out (tests check a broadcast against them). */
export const WIRE_DEFAULTED_FIELDS: readonly Defaulted[] = DEFAULTED;
