import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID, type RoomSummary } from "@parley/shared";
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
let bob1: ClientSocket;
let bob2: ClientSocket;

beforeEach(async () => {
  server = await startServer();
  const a = await signInOk(server.url, "Alice");
  const b = await signInOk(server.url, "Bob");
  alice = await connect(server.url, a.cookie);
  bob1 = await connect(server.url, b.cookie);
  bob2 = await connect(server.url, b.cookie);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

async function generalFor(socket: ClientSocket): Promise<RoomSummary> {
  const room = (await roundTrip(socket)).rooms.find((r) => r.id === DEFAULT_ROOM_ID);
  if (!room) throw new Error("general missing from session:sync");
  return room;
}

describe("read positions", () => {
  it("counts unread messages by others (not notices, not one's own) in session:sync", async () => {
    const before = await generalFor(bob1);
    expect(before.unreadCount).toBe(0);
    for (const body of ["one", "two", "three"]) await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, body));
    await requestOk(bob1, "message:send", text(DEFAULT_ROOM_ID, "mine"));
    const after = await generalFor(bob2);
    // Bob's own message moved his read position to it: Alice's three are read by implication.
    expect(after.unreadCount).toBe(0);
    expect(after.lastReadSeq).toBe(after.lastSeq);

    await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "four"));
    await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "five"));
    const later = await generalFor(bob2);
    expect(later.unreadCount).toBe(2);
    expect(later.lastSeq).toBe(after.lastSeq + 2);
    expect((await generalFor(alice)).unreadCount).toBe(0);
  });

  it("tells the user's other socket about room:read with lastReadSeq and unreadCount 0", async () => {
    await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "one"));
    const last = await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "two"));
    expect((await generalFor(bob1)).unreadCount).toBe(2);

    const onOther = nextEvent(bob2, "room:upserted", (r) => r.id === DEFAULT_ROOM_ID);
    const onSelf = collect(bob1, "room:upserted");
    const summary = await requestOk(bob1, "room:read", { roomId: DEFAULT_ROOM_ID, seq: last.seq });
    expect(summary).toMatchObject({ id: DEFAULT_ROOM_ID, lastReadSeq: last.seq, unreadCount: 0 });
    expect(await onOther).toEqual(summary);
    await roundTrip(bob1);
    // The reading socket has the ack; it is not told twice.
    expect(onSelf).toEqual([]);
    // Alice's read position is hers alone.
    expect((await generalFor(alice)).lastReadSeq).toBe(last.seq);
  });

  it("never moves back, and never past the last message", async () => {
    const messages = [];
    for (const body of ["one", "two", "three"]) messages.push(await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, body)));
    const [, second, third] = messages;
    const forward = await requestOk(bob1, "room:read", { roomId: DEFAULT_ROOM_ID, seq: third!.seq });
    expect(forward.lastReadSeq).toBe(third!.seq);
    const back = await requestOk(bob1, "room:read", { roomId: DEFAULT_ROOM_ID, seq: second!.seq });
    expect(back.lastReadSeq).toBe(third!.seq);
    expect(back.unreadCount).toBe(0);
    const zero = await requestOk(bob2, "room:read", { roomId: DEFAULT_ROOM_ID, seq: 0 });
    expect(zero.lastReadSeq).toBe(third!.seq);
    const beyond = await requestOk(bob1, "room:read", { roomId: DEFAULT_ROOM_ID, seq: third!.seq + 1000 });
    expect(beyond.lastReadSeq).toBe(third!.seq);
    // So the next message counts as unread again.
    await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "four"));
    expect((await generalFor(bob2)).unreadCount).toBe(1);
  });

  it("counts and clears mentions with the read position", async () => {
    const m = await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "@Bob look"));
    expect((await generalFor(bob1)).mentionCount).toBe(1);
    const read = await requestOk(bob1, "room:read", { roomId: DEFAULT_ROOM_ID, seq: m.seq });
    expect(read.mentionCount).toBe(0);
  });

  it("starts a new member of a busy room with nothing unread", async () => {
    const room = await requestOk(alice, "room:create", { name: "busy" });
    for (const body of ["a", "b", "c"]) await requestOk(alice, "message:send", text(room.id, body));
    const joined = await requestOk(bob1, "room:join", { roomId: room.id });
    expect(joined.unreadCount).toBe(0);
    // Read up to the room's end: what came before the join, and the join notice itself.
    expect(joined.lastReadSeq).toBe(joined.lastSeq);
    expect(joined.lastSeq).toBe(5);
    await requestOk(alice, "message:send", text(room.id, "d"));
    expect((await roundTrip(bob1)).rooms.find((r) => r.id === room.id)?.unreadCount).toBe(1);
  });

  it("refuses invalid seqs with INVALID_PAYLOAD", async () => {
    expect(await request(bob1, "room:read", { roomId: DEFAULT_ROOM_ID, seq: -1 })).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    expect(await request(bob1, "room:read", { roomId: DEFAULT_ROOM_ID, seq: 1.5 })).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
  });
});
