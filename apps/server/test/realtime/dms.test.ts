import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  closeAllSockets,
  collect,
  connect,
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
let carol: ClientSocket;
let aliceId: string;
let bobId: string;
let bobCookie: string;

beforeEach(async () => {
  server = await startServer();
  const a = await signInOk(server.url, "Alice");
  const b = await signInOk(server.url, "Bob");
  const c = await signInOk(server.url, "Carol");
  aliceId = a.user.id;
  bobId = b.user.id;
  bobCookie = b.cookie;
  alice = await connect(server.url, a.cookie);
  bob = await connect(server.url, b.cookie);
  carol = await connect(server.url, c.cookie);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

describe("dm:open", () => {
  it("refuses an unknown user (USER_NOT_FOUND) and oneself (NOT_ALLOWED)", async () => {
    expect(await request(alice, "dm:open", { userId: "no-such-user" })).toMatchObject({ ok: false, error: { code: "USER_NOT_FOUND" } });
    expect(await request(alice, "dm:open", { userId: aliceId })).toMatchObject({ ok: false, error: { code: "NOT_ALLOWED" } });
  });

  it("returns the same room whichever side opens it, named after the peer", async () => {
    const fromAlice = await requestOk(alice, "dm:open", { userId: bobId });
    const fromBob = await requestOk(bob, "dm:open", { userId: aliceId });
    expect(fromAlice).toMatchObject({ kind: "dm", name: "Bob", peerId: bobId, memberCount: 2 });
    expect(fromBob).toMatchObject({ id: fromAlice.id, kind: "dm", name: "Alice", peerId: aliceId });
  });

  it("does not show an empty DM to the peer, in events or in session:sync", async () => {
    const bobRooms = collect(bob, "room:upserted");
    const dm = await requestOk(alice, "dm:open", { userId: bobId });
    const sync = await roundTrip(bob);
    expect(bobRooms).toEqual([]);
    expect(sync.rooms.map((r) => r.id)).not.toContain(dm.id);
  });
});

describe("DM messages", () => {
  it("reach only the two users: a third user never receives them and cannot fetch them", async () => {
    const dm = await requestOk(alice, "dm:open", { userId: bobId });
    const carolMessages = collect(carol, "message:created");
    const carolRooms = collect(carol, "room:upserted");
    const sent = await requestOk(alice, "message:send", text(dm.id, "just between us"));
    await requestOk(bob, "message:send", text(dm.id, "indeed"));
    await roundTrip(carol);
    expect(carolMessages).toEqual([]);
    expect(carolRooms).toEqual([]);
    expect(await request(carol, "messages:fetch", { roomId: dm.id })).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
    expect(await request(carol, "message:send", text(dm.id, "hi"))).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
    // The same answer as for a room that does not exist: carol cannot tell the DM is there.
    expect(await request(carol, "room:join", { roomId: dm.id })).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
    expect((await requestOk(bob, "messages:fetch", { roomId: dm.id })).messages.map((m) => m.id)).toContain(sent.id);
    expect((await roundTrip(carol)).rooms.map((r) => r.id)).not.toContain(dm.id);
  });

  it("give the peer room:upserted then message:created on the first message, in each of their sockets", async () => {
    const bob2 = await connect(server.url, bobCookie);
    const events1: string[] = [];
    const events2: string[] = [];
    const record = (s: ClientSocket, into: string[]) => {
      s.on("room:upserted", (r) => into.push(`room:${r.id}:${r.name}:${r.unreadCount}`));
      s.on("message:created", (m) => into.push(`message:${m.roomId}:${m.body}`));
    };
    record(bob, events1);
    record(bob2, events2);

    const dm = await requestOk(alice, "dm:open", { userId: bobId });
    await requestOk(alice, "message:send", text(dm.id, "first"));
    await requestOk(alice, "message:send", text(dm.id, "second"));
    await roundTrip(bob);
    await roundTrip(bob2);
    const expected = [`room:${dm.id}:Alice:1`, `message:${dm.id}:first`, `message:${dm.id}:second`];
    expect(events1).toEqual(expected);
    expect(events2).toEqual(expected);
    // Bob's session now lists the DM with both messages unread.
    const dmForBob = (await roundTrip(bob)).rooms.find((r) => r.id === dm.id);
    expect(dmForBob).toMatchObject({ kind: "dm", name: "Alice", peerId: aliceId, unreadCount: 2, lastSeq: 2 });
  });

  it("reach a peer socket that connected after the DM was opened", async () => {
    const dm = await requestOk(alice, "dm:open", { userId: bobId });
    const later = await connect(server.url, bobCookie);
    const got = collect(later, "message:created");
    await requestOk(alice, "message:send", text(dm.id, "hello later"));
    await roundTrip(later);
    expect(got.map((m) => m.body)).toEqual(["hello later"]);
  });

  it("also announce the DM to the opener's other sockets when the peer writes first", async () => {
    const dm = await requestOk(alice, "dm:open", { userId: bobId });
    const aliceRooms = collect(alice, "room:upserted");
    const aliceMessages = collect(alice, "message:created");
    await requestOk(bob, "message:send", text(dm.id, "you opened, I write"));
    await roundTrip(alice);
    expect(aliceRooms.map((r) => r.id)).toEqual([dm.id]);
    expect(aliceMessages.map((m) => m.body)).toEqual(["you opened, I write"]);
  });
});

describe("users:search", () => {
  it("finds users by a case-insensitive substring, with who is online, wildcards taken literally", async () => {
    const found = await requestOk(alice, "users:search", { query: "OB" });
    expect(found).toEqual([{ id: bobId, nickname: "Bob", online: true, role: "member" }]);
    expect(await requestOk(alice, "users:search", { query: "%" })).toEqual([]);
    expect((await requestOk(alice, "users:search", { query: "" })).map((u) => u.nickname)).toEqual(["Alice", "Bob", "Carol"]);
  });
});
