import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID, type WireMessage } from "@parley/shared";
import {
  closeAllSockets,
  collect,
  connect,
  nextEvent,
  request,
  requestOk,
  roundTrip,
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
let bobCookie: string;

beforeEach(async () => {
  server = await startServer();
  const a = await signInOk(server.url, "Alice");
  const b = await signInOk(server.url, "Bob");
  aliceId = a.user.id;
  bobId = b.user.id;
  bobCookie = b.cookie;
  alice = await connect(server.url, a.cookie);
  bob = await connect(server.url, b.cookie);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

const failure = (code: string) => ({ ok: false, error: { code, message: expect.any(String) } });

describe("room:create", () => {
  it("creates a public room with a trimmed name, the creator as only member", async () => {
    const upserted = nextEvent(alice, "room:upserted", (r) => r.name === "lounge");
    const notice = nextEvent(alice, "message:created", (m) => m.kind === "join" && m.roomId !== DEFAULT_ROOM_ID);
    const room = await requestOk(alice, "room:create", { name: "  lounge  " });
    expect(room).toMatchObject({ kind: "public", name: "lounge", peerId: null, memberCount: 1, lastSeq: 1, unreadCount: 0 });
    expect(await upserted).toEqual(room);
    expect(await notice).toMatchObject({ roomId: room.id, seq: 1, authorId: aliceId, kind: "join" });
  });

  it("refuses a duplicate name in any case with ROOM_NAME_TAKEN", async () => {
    await requestOk(alice, "room:create", { name: "Lounge" });
    expect(await request(bob, "room:create", { name: "LOUNGE" })).toEqual(failure("ROOM_NAME_TAKEN"));
    expect(await request(bob, "room:create", { name: " lounge " })).toEqual(failure("ROOM_NAME_TAKEN"));
    expect(await request(bob, "room:create", { name: DEFAULT_ROOM_ID.toUpperCase() })).toEqual(failure("ROOM_NAME_TAKEN"));
  });

  it("refuses a 65-character or blank name with ROOM_NAME_INVALID and accepts 64", async () => {
    expect(await request(alice, "room:create", { name: "r".repeat(65) })).toEqual(failure("ROOM_NAME_INVALID"));
    expect(await request(alice, "room:create", { name: "   " })).toEqual(failure("ROOM_NAME_INVALID"));
    expect((await requestOk(alice, "room:create", { name: "r".repeat(64) })).name).toHaveLength(64);
  });
});

describe("room:join and room:leave", () => {
  it("posts join and leave notices to that room only", async () => {
    const room = await requestOk(alice, "room:create", { name: "lounge" });
    const aliceSees = collect(alice, "message:created");
    const bobSees = collect(bob, "message:created");

    const joined = await requestOk(bob, "room:join", { roomId: room.id });
    expect(joined).toMatchObject({ id: room.id, memberCount: 2 });
    const left = await requestOk(bob, "room:leave", { roomId: room.id });
    expect(left).toEqual({ roomId: room.id });
    await roundTrip(alice);
    await roundTrip(bob);

    const notices = (ms: WireMessage[]) => ms.map((m) => `${m.roomId === room.id ? "room" : m.roomId}:${m.kind}:${m.authorId === bobId ? "bob" : "?"}`);
    expect(notices(aliceSees)).toEqual(["room:join:bob", "room:leave:bob"]);
    // Bob sees his own join (he is a member by then) and his own leave (written before he leaves).
    expect(notices(bobSees)).toEqual(["room:join:bob", "room:leave:bob"]);
    const history = await requestOk(alice, "messages:fetch", { roomId: room.id });
    expect(history.messages.map((m) => m.kind)).toEqual(["join", "join", "leave"]);
    const general = await requestOk(alice, "messages:fetch", { roomId: DEFAULT_ROOM_ID });
    expect(general.messages.filter((m) => m.authorId === bobId && m.kind === "leave")).toEqual([]);
  });

  it("posts no second notice when joining twice", async () => {
    const room = await requestOk(alice, "room:create", { name: "lounge" });
    await requestOk(bob, "room:join", { roomId: room.id });
    const again = await requestOk(bob, "room:join", { roomId: room.id });
    expect(again.memberCount).toBe(2);
    const history = await requestOk(alice, "messages:fetch", { roomId: room.id });
    expect(history.messages.map((m) => m.kind)).toEqual(["join", "join"]);
  });

  it("refuses to leave the default room (CANNOT_LEAVE_DEFAULT)", async () => {
    expect(await request(alice, "room:leave", { roomId: DEFAULT_ROOM_ID })).toEqual(failure("CANNOT_LEAVE_DEFAULT"));
  });

  it("refuses to leave a room one is not in (NOT_A_MEMBER)", async () => {
    const room = await requestOk(alice, "room:create", { name: "lounge" });
    expect(await request(bob, "room:leave", { roomId: room.id })).toEqual(failure("NOT_A_MEMBER"));
  });

  it("answers NOT_A_MEMBER for unknown rooms, the same as for a room that exists (one code: no existence leak)", async () => {
    for (const roomId of ["nope", "dm:someone:else"]) {
      expect(await request(alice, "room:join", { roomId })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(alice, "room:leave", { roomId })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(alice, "room:members", { roomId })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(alice, "room:read", { roomId, seq: 1 })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(alice, "message:send", text(roomId, "hi"))).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(alice, "messages:fetch", { roomId })).toEqual(failure("NOT_A_MEMBER"));
    }
  });

  it("tells every socket of the user: room:upserted on join and room:removed on leave, and routes the room's messages", async () => {
    const room = await requestOk(alice, "room:create", { name: "lounge" });
    const bob2 = await connect(server.url, bobCookie);
    const upserted2 = nextEvent(bob2, "room:upserted", (r) => r.id === room.id);
    const upserted1 = nextEvent(bob, "room:upserted", (r) => r.id === room.id);
    await requestOk(bob, "room:join", { roomId: room.id });
    expect(await upserted1).toMatchObject({ id: room.id, memberCount: 2 });
    expect(await upserted2).toMatchObject({ id: room.id, memberCount: 2 });

    // Both of Bob's sockets now receive the room's messages.
    const got1 = nextEvent(bob, "message:created", (m) => m.body === "welcome");
    const got2 = nextEvent(bob2, "message:created", (m) => m.body === "welcome");
    await requestOk(alice, "message:send", text(room.id, "welcome"));
    expect((await got1).roomId).toBe(room.id);
    expect((await got2).roomId).toBe(room.id);

    const removed1 = nextEvent(bob, "room:removed");
    const removed2 = nextEvent(bob2, "room:removed");
    await requestOk(bob2, "room:leave", { roomId: room.id });
    expect(await removed1).toEqual({ roomId: room.id, reason: "left" });
    expect(await removed2).toEqual({ roomId: room.id, reason: "left" });

    // ...and neither receives them after leaving.
    const seen1 = collect(bob, "message:created");
    const seen2 = collect(bob2, "message:created");
    await requestOk(alice, "message:send", text(room.id, "gone?"));
    await roundTrip(bob);
    await roundTrip(bob2);
    expect(seen1.filter((m) => m.roomId === room.id)).toEqual([]);
    expect(seen2.filter((m) => m.roomId === room.id)).toEqual([]);
  });

  it("subscribes a socket that connects after joining", async () => {
    const room = await requestOk(alice, "room:create", { name: "lounge" });
    await requestOk(bob, "room:join", { roomId: room.id });
    const later = await connect(server.url, bobCookie);
    const got = nextEvent(later, "message:created", (m) => m.roomId === room.id);
    await requestOk(alice, "message:send", text(room.id, "hi"));
    expect((await got).body).toBe("hi");
  });

  it("refuses joining or leaving a DM: NOT_ALLOWED for its members, NOT_A_MEMBER (as for an unknown room) for everyone else", async () => {
    const carol = await signInOk(server.url, "Carol");
    const dm = await requestOk(alice, "dm:open", { userId: carol.user.id });
    expect(await request(bob, "room:join", { roomId: dm.id })).toEqual(failure("NOT_A_MEMBER"));
    expect(await request(bob, "room:leave", { roomId: dm.id })).toEqual(failure("NOT_A_MEMBER"));
    expect(await request(alice, "room:join", { roomId: dm.id })).toEqual(failure("NOT_ALLOWED"));
    expect(await request(alice, "room:leave", { roomId: dm.id })).toEqual(failure("NOT_ALLOWED"));
  });

  it("still lets a non-member join a public room", async () => {
    const room = await requestOk(alice, "room:create", { name: "open-door" });
    expect((await requestOk(bob, "room:join", { roomId: room.id })).id).toBe(room.id);
  });
});

describe("membership is enforced", () => {
  it("refuses send, fetch, typing, members and read for non-members, and after leaving", async () => {
    const room = await requestOk(alice, "room:create", { name: "lounge" });
    const check = async () => {
      expect(await request(bob, "message:send", text(room.id, "let me in"))).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(bob, "messages:fetch", { roomId: room.id })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(bob, "messages:fetch", { roomId: room.id, afterSeq: 0 })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(bob, "typing:start", { roomId: room.id })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(bob, "room:members", { roomId: room.id })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(bob, "room:read", { roomId: room.id, seq: 1 })).toEqual(failure("NOT_A_MEMBER"));
    };
    await check();

    await requestOk(bob, "room:join", { roomId: room.id });
    expect((await requestOk(bob, "messages:fetch", { roomId: room.id })).messages).toHaveLength(2);
    await requestOk(bob, "room:leave", { roomId: room.id });
    await check();
    // Nothing Bob tried was stored.
    const history = await requestOk(alice, "messages:fetch", { roomId: room.id });
    expect(history.messages.filter((m) => m.kind === "text")).toEqual([]);
  });

  it("never delivers a room's messages to a non-member socket", async () => {
    const room = await requestOk(alice, "room:create", { name: "lounge" });
    const bobSees = collect(bob, "message:created");
    const bobTyping = collect(bob, "typing:updated");
    await requestOk(alice, "typing:start", { roomId: room.id });
    await requestOk(alice, "message:send", text(room.id, "secret"));
    await roundTrip(bob);
    expect(bobSees).toEqual([]);
    expect(bobTyping).toEqual([]);
  });
});

describe("rooms:list and room:members", () => {
  it("lists public rooms with member counts, membership and a case-insensitive query", async () => {
    const lounge = await requestOk(alice, "room:create", { name: "Lounge" });
    const games = await requestOk(bob, "room:create", { name: "board games" });
    await requestOk(bob, "room:join", { roomId: lounge.id });
    const carol = await signInOk(server.url, "Carol");
    await requestOk(alice, "dm:open", { userId: carol.user.id });

    const all = await requestOk(alice, "rooms:list", {});
    expect(all).toEqual(
      expect.arrayContaining([
        { id: DEFAULT_ROOM_ID, name: DEFAULT_ROOM_ID, memberCount: 3, isMember: true },
        { id: lounge.id, name: "Lounge", memberCount: 2, isMember: true },
        { id: games.id, name: "board games", memberCount: 1, isMember: false },
      ]),
    );
    expect(all).toHaveLength(3); // DMs are not listed
    expect(await requestOk(alice, "rooms:list", { query: "LOUN" })).toEqual([{ id: lounge.id, name: "Lounge", memberCount: 2, isMember: true }]);
    expect(await requestOk(alice, "rooms:list", { query: "  games " })).toEqual([{ id: games.id, name: "board games", memberCount: 1, isMember: false }]);
    expect(await requestOk(alice, "rooms:list", { query: "%" })).toEqual([]);
  });

  it("lists a room's members with who is online", async () => {
    const carol = await signInOk(server.url, "Carol");
    const members = await requestOk(alice, "room:members", { roomId: DEFAULT_ROOM_ID });
    expect(members).toEqual([
      { id: aliceId, nickname: "Alice", online: true, role: "member" },
      { id: bobId, nickname: "Bob", online: true, role: "member" },
      { id: carol.user.id, nickname: "Carol", online: false, role: "member" },
    ]);
  });
});
