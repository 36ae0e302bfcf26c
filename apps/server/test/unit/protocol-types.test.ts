/**
 * Type-level tests of the shared protocol, checked by `tsc -p apps/server/tsconfig.json`: a wrongly
 * shaped emit, listener, handler or ack must not compile, on the client (socket.io-client) or on
 * the server (socket.io). Each `@ts-expect-error` fails the type check if the line ever compiles.
 * The functions below are never called; only their types matter. (This file lives in apps/server
 * because packages/shared cannot resolve socket.io or socket.io-client.)
 */
import type { Server, Socket as ServerSocket } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import { describe, expectTypeOf, it } from "vitest";
import type {
  AckResult,
  ClientPayload,
  ClientToServerEvents,
  ErrorInfo,
  InterServerEvents,
  Message,
  MessagePage,
  PresenceUpdate,
  RoomSummary,
  ServerToClientEvents,
  SocketData,
  SyncData,
  TypingUpdate,
  WireMessage,
} from "@parley/shared";

type Client = ClientSocket<ServerToClientEvents, ClientToServerEvents>;
type Io = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type Sock = ServerSocket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

declare const message: Message;
declare const room: RoomSummary;
const clientId = "6f1c1a3e-8a4b-4c1e-9f7a-2b3c4d5e6f70";

export function clientEmits(socket: Client): void {
  socket.emit("message:send", { roomId: "general", clientId, body: "hi" }, (result) => {
    if (result.ok) expectTypeOf(result.data).toEqualTypeOf<Message>();
    else expectTypeOf(result.error).toEqualTypeOf<ErrorInfo>();
  });
  socket.emit("messages:fetch", { roomId: "general", afterSeq: 3 }, () => {});
  socket.emit("session:sync", {}, () => {});

  // @ts-expect-error wrong payload field (`text` instead of `body`)
  socket.emit("message:send", { roomId: "general", clientId, text: "hi" }, () => {});
  // @ts-expect-error missing payload field
  socket.emit("message:send", { roomId: "general", body: "hi" }, () => {});
  // @ts-expect-error wrong payload type
  socket.emit("message:send", { roomId: "general", clientId, body: 42 }, () => {});
  // @ts-expect-error wrong payload type (seq is a number)
  socket.emit("room:read", { roomId: "general", seq: "7" }, () => {});
  // @ts-expect-error wrong ack data: message:send answers with a Message, not a RoomSummary
  socket.emit("message:send", { roomId: "general", clientId, body: "hi" }, (result: AckResult<RoomSummary>) => result);
  // @ts-expect-error unknown event
  socket.emit("message:remove", { messageId: "m1" }, () => {});
  // @ts-expect-error message:delete names the message by `messageId`
  socket.emit("message:delete", { id: "m1" }, () => {});
  // @ts-expect-error an edit must say which version it was made from
  socket.emit("message:edit", { messageId: "m1", body: "fixed" }, () => {});
  // @ts-expect-error a reaction is set or cleared, never toggled
  socket.emit("reaction:set", { messageId: "m1", emoji: "👍" }, () => {});
  // @ts-expect-error the ack callback is part of the typed signature
  socket.emit("room:join", { roomId: "general" });
  socket.emit("message:send", { roomId: "general", clientId, body: "hi" }, (result) => {
    // @ts-expect-error data can only be read after checking `ok`
    void result.data;
    // @ts-expect-error Message has no `text`
    if (result.ok) void result.data.text;
  });
}

export function clientListens(socket: Client): void {
  socket.on("message:created", (m) => expectTypeOf(m).toEqualTypeOf<WireMessage>());
  socket.on("typing:updated", (u) => expectTypeOf(u).toEqualTypeOf<TypingUpdate>());
  socket.on("room:removed", ({ roomId }) => expectTypeOf(roomId).toBeString());

  // @ts-expect-error listener for the wrong payload type
  socket.on("message:created", (m: RoomSummary) => m);
  // @ts-expect-error unknown server event
  socket.on("message:deleted", () => {});
  // @ts-expect-error presence updates carry `online`, not `status`
  socket.on("presence:updated", (u) => void u.status);
}

export function serverEmits(io: Io, socket: Sock): void {
  io.emit("presence:updated", { userId: "u1", nickname: "ann", online: true });
  io.to("room:general").emit("message:created", message);
  socket.emit("room:upserted", room);

  // @ts-expect-error wrong payload type (online is a boolean)
  io.emit("presence:updated", { userId: "u1", nickname: "ann", online: "yes" });
  // @ts-expect-error missing field
  io.to("room:general").emit("typing:updated", { roomId: "general", userId: "u1", typing: true });
  // @ts-expect-error wrong payload for the event
  socket.emit("room:upserted", message);
  // @ts-expect-error unknown event
  io.emit("message:deleted", { id: "m1" });
  // @ts-expect-error request:failed has a fixed shape
  socket.emit("request:failed", { event: "message:send" });
}

export function serverHandlers(socket: Sock): void {
  expectTypeOf(socket.data).toEqualTypeOf<SocketData>();
  socket.on("message:send", (payload, ack) => {
    expectTypeOf(payload).toEqualTypeOf<ClientPayload<"message:send">>();
    ack({ ok: true, data: message });
    ack({ ok: false, error: { code: "MESSAGE_BLANK", message: "Message is blank" } });
    // @ts-expect-error wrong ack data
    ack({ ok: true, data: room });
    // @ts-expect-error a success needs data
    ack({ ok: true });
    // @ts-expect-error unknown error code
    ack({ ok: false, error: { code: "NOPE", message: "no" } });
    // @ts-expect-error the payload has no `text`
    void payload.text;
  });
  socket.on("messages:fetch", (_payload, ack) => {
    ack({ ok: true, data: { messages: [message], hasMore: false, version: 1 } });
    // @ts-expect-error a page is { messages, hasMore, version }, not an array
    ack({ ok: true, data: [message] });
    // @ts-expect-error a page says which room version it reflects
    ack({ ok: true, data: { messages: [message], hasMore: false } });
  });
  socket.on("message:edit", (payload, ack) => {
    expectTypeOf(payload.baseVersion).toEqualTypeOf<number>();
    ack({ ok: true, data: { message, conflict: false } });
    // @ts-expect-error an edit answers { message, conflict }, not the bare message
    ack({ ok: true, data: message });
  });
  socket.on("reaction:set", (payload, ack) => {
    expectTypeOf(payload.on).toEqualTypeOf<boolean>();
    ack({ ok: false, error: { code: "TOO_MANY_REACTIONS", message: "full" } });
  });
  // @ts-expect-error handler declares the wrong payload type
  socket.on("room:join", (payload: { name: string }, ack: (r: AckResult<RoomSummary>) => void) => ack({ ok: true, data: room }));
  // @ts-expect-error unknown client event
  socket.on("room:delete", () => {});
}

describe("protocol types", () => {
  it("map each command to its reply", () => {
    expectTypeOf<Client["emitWithAck"]>().toBeFunction();
    expectTypeOf<Parameters<ClientToServerEvents["session:sync"]>[1]>().toEqualTypeOf<(result: AckResult<SyncData>) => void>();
    expectTypeOf<Parameters<ClientToServerEvents["messages:fetch"]>[1]>().toEqualTypeOf<(result: AckResult<MessagePage>) => void>();
    expectTypeOf<Parameters<ClientToServerEvents["room:join"]>[0]>().toEqualTypeOf<{ roomId: string }>();
    expectTypeOf<Parameters<ServerToClientEvents["presence:updated"]>[0]>().toEqualTypeOf<PresenceUpdate>();
    expectTypeOf<ReturnType<Client["emitWithAck"]>>().toExtend<Promise<unknown>>();
  });

  it("emitWithAck resolves with the command's ack envelope", () => {
    const sync = (s: Client) => s.emitWithAck("session:sync", {});
    expectTypeOf(sync).returns.resolves.toEqualTypeOf<AckResult<SyncData>>();
    const send = (s: Client) => s.emitWithAck("message:send", { roomId: "general", clientId, body: "hi" });
    expectTypeOf(send).returns.resolves.toEqualTypeOf<AckResult<Message>>();
  });
});
