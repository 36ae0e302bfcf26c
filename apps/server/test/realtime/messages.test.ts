import { randomUUID } from "node:crypto";
import type { Socket } from "socket.io-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID, fromWireMessage, LIMITS, WIRE_DEFAULTED_FIELDS, type AckResult, type Message } from "@parley/shared";
import {
  closeAllSockets,
  connect,
  nextEvent,
  request,
  requestOk,
  signInOk,
  startServer,
  text,
  type ClientSocket,
  type TestServer,
} from "../helpers/server.js";

let server: TestServer;
let alice: ClientSocket;
let bob: ClientSocket;
let aliceId: string;
let bobId: string;

beforeEach(async () => {
  server = await startServer();
  const a = await signInOk(server.url, "Alice");
  const b = await signInOk(server.url, "Bob");
  aliceId = a.user.id;
  bobId = b.user.id;
  alice = await connect(server.url, a.cookie);
  bob = await connect(server.url, b.cookie);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

/** The same socket without the protocol types, to send what a typed client cannot. */
const untyped = (s: ClientSocket) => s as unknown as Socket;

function rawRequest(s: ClientSocket, event: string, ...args: unknown[]): Promise<AckResult<unknown>> {
  return untyped(s).timeout(10_000).emitWithAck(event, ...args) as Promise<AckResult<unknown>>;
}

async function fetchAll(s: ClientSocket, roomId: string): Promise<Message[]> {
  const out: Message[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await requestOk(s, "messages:fetch", { roomId, afterSeq, limit: LIMITS.pageMax });
    out.push(...page.messages);
    if (!page.hasMore) return out;
    afterSeq = page.messages.at(-1)!.seq;
  }
}

describe("message:send", () => {
  it("acks the stored message and broadcasts it to the other member with id, seq and createdAt", async () => {
    const received = nextEvent(bob, "message:created", (m) => m.kind === "text");
    const before = Date.now();
    const payload = text(DEFAULT_ROOM_ID, "hello bob");
    const sent = await requestOk(alice, "message:send", payload);
    expect(sent).toMatchObject({ roomId: DEFAULT_ROOM_ID, kind: "text", body: "hello bob", authorId: aliceId, authorNickname: "Alice", clientId: payload.clientId });
    expect(sent.id).toEqual(expect.any(String));
    expect(sent.createdAt).toBeGreaterThanOrEqual(before);
    // The broadcast is the acked message without the fields a new message has at their defaults
    // (no mentions, edits, reactions, reply or files): those bytes went to every member.
    const broadcast = await received;
    expect(Object.keys(broadcast).filter((k) => (WIRE_DEFAULTED_FIELDS as readonly string[]).includes(k))).toEqual([]);
    expect(fromWireMessage(broadcast)).toEqual(sent);

    const second = await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "again"));
    expect(second.seq).toBe(sent.seq + 1);
    expect(second.id).not.toBe(sent.id);
  });

  it("keeps the body as typed (not trimmed)", async () => {
    const sent = await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "  spaced  "));
    expect(sent.body).toBe("  spaced  ");
  });

  it.each([
    ["empty", "", "MESSAGE_BLANK"],
    ["blank", " \n\t ", "MESSAGE_BLANK"],
    ["4001 characters", "x".repeat(4001), "MESSAGE_TOO_LONG"],
  ])("refuses a body that is %s with %s", async (_what, body, code) => {
    const r = await request(alice, "message:send", text(DEFAULT_ROOM_ID, body));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message.length).toBeGreaterThan(0);
    }
    const page = await requestOk(alice, "messages:fetch", { roomId: DEFAULT_ROOM_ID });
    expect(page.messages.filter((m) => m.kind === "text")).toEqual([]);
  });

  it("accepts exactly 4000 characters", async () => {
    const sent = await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "y".repeat(4000)));
    expect(sent.body).toHaveLength(4000);
  });

  it.each<[string, unknown]>([
    ["missing body", { roomId: DEFAULT_ROOM_ID, clientId: randomUUID() }],
    ["missing roomId", { clientId: randomUUID(), body: "hi" }],
    ["missing clientId", { roomId: DEFAULT_ROOM_ID, body: "hi" }],
    ["a number body", { roomId: DEFAULT_ROOM_ID, clientId: randomUUID(), body: 42 }],
    ["a number roomId", { roomId: 7, clientId: randomUUID(), body: "hi" }],
    ["an extra key", { roomId: DEFAULT_ROOM_ID, clientId: randomUUID(), body: "hi", admin: true }],
    ["a non-UUID clientId", { roomId: DEFAULT_ROOM_ID, clientId: "not-a-uuid", body: "hi" }],
    ["a string payload", "hi"],
    ["a null payload", null],
    ["an array payload", [DEFAULT_ROOM_ID, "hi"]],
  ])("refuses %s with INVALID_PAYLOAD", async (_what, payload) => {
    const r = await rawRequest(alice, "message:send", payload);
    expect(r).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
  });

  it("refuses a command with no payload at all (only the callback) with INVALID_PAYLOAD", async () => {
    const r = await rawRequest(alice, "message:send");
    expect(r).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
  });

  it("reports an invalid command sent without an ack callback with request:failed and keeps serving", async () => {
    const failed = nextEvent(alice, "request:failed");
    untyped(alice).emit("message:send", { roomId: DEFAULT_ROOM_ID, body: "no client id" });
    expect(await failed).toMatchObject({ event: "message:send", code: "INVALID_PAYLOAD" });

    const failedBlank = nextEvent(alice, "request:failed");
    untyped(alice).emit("message:send", text(DEFAULT_ROOM_ID, "   "));
    expect(await failedBlank).toMatchObject({ event: "message:send", code: "MESSAGE_BLANK" });

    const failedDomain = nextEvent(alice, "request:failed");
    untyped(alice).emit("message:send", text("no-such-room", "hi"));
    expect(await failedDomain).toMatchObject({ event: "message:send", code: "NOT_A_MEMBER" });

    const sent = await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "still here"));
    expect(sent.body).toBe("still here");
    expect(alice.connected).toBe(true);
  });

  it("executes a valid command sent without an ack callback", async () => {
    const received = nextEvent(bob, "message:created", (m) => m.body === "fire and forget");
    untyped(alice).emit("message:send", text(DEFAULT_ROOM_ID, "fire and forget"));
    expect((await received).authorId).toBe(aliceId);
  });

  it("is idempotent on clientId: a retry gets the same id and seq and is stored once", async () => {
    const payload = text(DEFAULT_ROOM_ID, "only once");
    const first = await requestOk(alice, "message:send", payload);
    const retry = await requestOk(alice, "message:send", payload);
    expect(retry.id).toBe(first.id);
    expect(retry.seq).toBe(first.seq);
    // Concurrent duplicates (a retry racing the original) are stored once too.
    const dup = text(DEFAULT_ROOM_ID, "raced");
    const [x, y] = await Promise.all([requestOk(alice, "message:send", dup), requestOk(alice, "message:send", dup)]);
    expect(x.id).toBe(y.id);

    const all = await fetchAll(bob, DEFAULT_ROOM_ID);
    expect(all.filter((m) => m.clientId === payload.clientId)).toHaveLength(1);
    expect(all.filter((m) => m.clientId === dup.clientId)).toHaveLength(1);
  });

  it("does not treat another user's message with the same clientId as a retry", async () => {
    const clientId = randomUUID();
    const a = await requestOk(alice, "message:send", { roomId: DEFAULT_ROOM_ID, clientId, body: "from alice" });
    const b = await requestOk(bob, "message:send", { roomId: DEFAULT_ROOM_ID, clientId, body: "from bob" });
    expect(b.id).not.toBe(a.id);
    expect(b.body).toBe("from bob");
  });

  it("fills mentions with the ids of @mentioned members, case-insensitively, never the author", async () => {
    const sent = await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "hi @bob and @Alice and @nobody, mail a@bob"));
    expect(sent.mentions).toEqual([bobId]);
    const plain = await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "no mention of bob"));
    expect(plain.mentions).toEqual([]);
    const sync = await requestOk(bob, "session:sync", {});
    expect(sync.rooms.find((r) => r.id === DEFAULT_ROOM_ID)?.mentionCount).toBe(1);
  });

  it("does not mention users who are not members of the room", async () => {
    const room = await requestOk(alice, "room:create", { name: "private-ish" });
    const sent = await requestOk(alice, "message:send", text(room.id, "@Bob are you there?"));
    expect(sent.mentions).toEqual([]);
  });
});

describe("history", () => {
  it("survives a server restart on the same database file", async () => {
    const sent: Message[] = [];
    for (const body of ["one", "two", "three"]) sent.push(await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, body)));
    const bobCookie = (await signInOk(server.url, "Bob")).cookie;
    closeAllSockets();
    await server.restart();

    const again = await connect(server.url, bobCookie);
    const page = await requestOk(again, "messages:fetch", { roomId: DEFAULT_ROOM_ID });
    expect(page.messages.filter((m) => m.kind === "text")).toEqual(sent);
    // Sequence numbers continue after the restart, without gaps or reuse.
    const next = await requestOk(again, "message:send", text(DEFAULT_ROOM_ID, "after restart"));
    expect(next.seq).toBe(sent.at(-1)!.seq + 1);
  });

  it("pages latest / beforeSeq / afterSeq, returning every message exactly once in order", async () => {
    const room = await requestOk(alice, "room:create", { name: "busy" });
    const count = 250;
    await Promise.all(Array.from({ length: count }, (_, i) => requestOk(alice, "message:send", text(room.id, `m${i}`))));
    const lastSeq = count + 1; // + the creator's join notice
    const expected = Array.from({ length: lastSeq }, (_, i) => i + 1);

    // Forward from the start, as a client catching up.
    const forward = await fetchAll(alice, room.id);
    expect(forward.map((m) => m.seq)).toEqual(expected);
    const firstPage = await requestOk(alice, "messages:fetch", { roomId: room.id, afterSeq: 0, limit: 100 });
    expect(firstPage.messages.map((m) => m.seq)).toEqual(expected.slice(0, 100));
    expect(firstPage.hasMore).toBe(true);

    // Backward from the latest page, as a client scrolling up.
    const latest = await requestOk(alice, "messages:fetch", { roomId: room.id, limit: 100 });
    expect(latest.messages.map((m) => m.seq)).toEqual(expected.slice(-100));
    expect(latest.hasMore).toBe(true);
    const backward = [...latest.messages];
    let page = latest;
    while (page.hasMore) {
      page = await requestOk(alice, "messages:fetch", { roomId: room.id, beforeSeq: backward[0]!.seq, limit: 100 });
      backward.unshift(...page.messages);
    }
    expect(backward.map((m) => m.seq)).toEqual(expected);
    expect(backward).toEqual(forward);
    // Every body once: group commit neither lost nor duplicated a send.
    const bodies = forward.filter((m) => m.kind === "text").map((m) => m.body);
    expect(new Set(bodies).size).toBe(count);

    // The default page size, and an empty page past the end.
    const dflt = await requestOk(alice, "messages:fetch", { roomId: room.id });
    expect(dflt.messages).toHaveLength(LIMITS.pageDefault);
    const past = await requestOk(alice, "messages:fetch", { roomId: room.id, afterSeq: lastSeq });
    expect(past).toMatchObject({ messages: [], hasMore: false });
  });

  it.each<[string, unknown]>([
    ["afterSeq and beforeSeq together", { roomId: DEFAULT_ROOM_ID, afterSeq: 1, beforeSeq: 5 }],
    ["a limit over the maximum", { roomId: DEFAULT_ROOM_ID, limit: LIMITS.pageMax + 1 }],
    ["a zero limit", { roomId: DEFAULT_ROOM_ID, limit: 0 }],
    ["a negative afterSeq", { roomId: DEFAULT_ROOM_ID, afterSeq: -1 }],
    ["a fractional beforeSeq", { roomId: DEFAULT_ROOM_ID, beforeSeq: 1.5 }],
  ])("refuses messages:fetch with %s (INVALID_PAYLOAD)", async (_what, payload) => {
    const r = await rawRequest(alice, "messages:fetch", payload);
    expect(r).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
  });

  it("answers NOT_A_MEMBER for an unknown room, as for a room the user is not in", async () => {
    const r = await request(alice, "messages:fetch", { roomId: "nope" });
    expect(r).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
  });
});
