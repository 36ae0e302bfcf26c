import type { Attachment, Message, RoomSummary } from "@parley/shared";
import { createInitialState, type ChatState } from "../src/state.js";

export const ME = { id: "me", nickname: "Me", createdAt: 0 };

export function msg(seq: number, overrides: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    roomId: "r1",
    seq,
    kind: "text",
    authorId: "other",
    authorNickname: "Other",
    clientId: null,
    body: `message ${seq}`,
    createdAt: 1000 + seq,
    mentions: [],
    // A room where nothing was changed yet: each message's version is the one its creation took.
    version: seq,
    editedAt: null,
    deletedAt: null,
    removedByModerator: false,
    reactions: [],
    replyTo: null,
    attachments: [],
    ...overrides,
  };
}

export function room(overrides: Partial<RoomSummary> = {}): RoomSummary {
  return {
    id: "r1",
    kind: "public",
    name: "r1",
    peerId: null,
    memberCount: 2,
    lastSeq: 0,
    lastVersion: 0,
    lastReadSeq: 0,
    unreadCount: 0,
    mentionCount: 0,
    lastActivityAt: 0,
    role: "member",
    topic: "",
    inviteOnly: false,
    notifyLevel: "all",
    ...overrides,
  };
}

export function stateWithRoom(summary: Partial<RoomSummary> = {}): ChatState {
  const s = createInitialState();
  return { ...s, me: ME, rooms: { r1: room(summary) } };
}

export function seqsOf(state: ChatState, roomId = "r1"): number[] {
  return (state.timelines[roomId]?.ids ?? []).map((id) => state.messages[roomId]![id]!.seq);
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** An attachment as the server answers an upload: an image unless `over` says otherwise. */
export const attachment = (id: string, over: Partial<Attachment> = {}): Attachment => ({
  id,
  name: `${id}.png`,
  size: 10,
  contentType: "image/png",
  kind: "image",
  width: 40,
  height: 30,
  ...over,
});
