import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID } from "@parley/shared";
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

// Every test but the expiry one runs with a TTL longer than any test, so that an indicator ends
// only through what the test does (stop, send, disconnect), however slow the machine is.
const LONG_TTL_MS = 60_000;
// The expiry test waits for the real timer: short, so that it costs little. The exact TTL rule is
// unit-tested with fake timers (test/unit/typing.service.test.ts).
const SHORT_TTL_MS = 150;

let server: TestServer | undefined;
let alice: ClientSocket;
let bob: ClientSocket;
let aliceId: string;

/** Starts a server with typing TTL `ttlMs` and connects Alice and Bob. */
async function begin(ttlMs: number): Promise<void> {
  server = await startServer({ typingTtlMs: ttlMs });
  const a = await signInOk(server.url, "Alice");
  const b = await signInOk(server.url, "Bob");
  aliceId = a.user.id;
  alice = await connect(server.url, a.cookie);
  bob = await connect(server.url, b.cookie);
}
afterEach(async () => {
  closeAllSockets();
  await server?.stop();
  server = undefined;
});

const aliceTyping = (typing: boolean) => (u: { userId: string; typing: boolean }) => u.userId === aliceId && u.typing === typing;

describe("typing indicators", () => {
  beforeEach(() => begin(LONG_TTL_MS));

  it("tells the other member when someone starts typing", async () => {
    const started = nextEvent(bob, "typing:updated", aliceTyping(true));
    expect(await request(alice, "typing:start", { roomId: DEFAULT_ROOM_ID })).toEqual({ ok: true, data: null });
    expect(await started).toEqual({ roomId: DEFAULT_ROOM_ID, userId: aliceId, nickname: "Alice", typing: true });
  });

  it("clears the indicator for others when the typist stops without sending", async () => {
    const updates = collect(bob, "typing:updated");
    const messages = collect(bob, "message:created");
    const started = nextEvent(bob, "typing:updated", aliceTyping(true));
    await requestOk(alice, "typing:start", { roomId: DEFAULT_ROOM_ID });
    await started;
    const stopped = nextEvent(bob, "typing:updated", aliceTyping(false));
    expect(await request(alice, "typing:stop", { roomId: DEFAULT_ROOM_ID })).toEqual({ ok: true, data: null });
    // The TTL is a minute: this can only be the stop.
    expect(await stopped).toEqual({ roomId: DEFAULT_ROOM_ID, userId: aliceId, nickname: "Alice", typing: false });
    await roundTrip(bob);
    expect(updates.map((u) => u.typing)).toEqual([true, false]);
    expect(messages).toEqual([]);
  });

  it("announces every refresh, so other clients' local expiry keeps being renewed", async () => {
    const updates = collect(bob, "typing:updated");
    const stopped = nextEvent(bob, "typing:updated", aliceTyping(false));
    await requestOk(alice, "typing:start", { roomId: DEFAULT_ROOM_ID });
    await requestOk(alice, "typing:start", { roomId: DEFAULT_ROOM_ID });
    await requestOk(alice, "typing:stop", { roomId: DEFAULT_ROOM_ID });
    await stopped;
    expect(updates.map((u) => u.typing)).toEqual([true, true, false]);
  });

  it("clears the indicator when the typist sends", async () => {
    const started = nextEvent(bob, "typing:updated", aliceTyping(true));
    await requestOk(alice, "typing:start", { roomId: DEFAULT_ROOM_ID });
    await started;
    const order: string[] = [];
    bob.on("typing:updated", (u) => order.push(`typing:${u.typing}`));
    bob.on("message:created", (m) => order.push(`message:${m.body}`));
    const stopped = nextEvent(bob, "typing:updated", aliceTyping(false));
    await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "done typing"));
    await stopped;
    // Cleared by the send itself, not by expiry: it arrives right with the message.
    expect(order).toEqual(["typing:false", "message:done typing"]);
  });

  it("clears the indicator when the typist's socket disconnects", async () => {
    const started = nextEvent(bob, "typing:updated", aliceTyping(true));
    await requestOk(alice, "typing:start", { roomId: DEFAULT_ROOM_ID });
    await started;
    const stopped = nextEvent(bob, "typing:updated", aliceTyping(false));
    alice.close();
    expect(await stopped).toMatchObject({ userId: aliceId, typing: false });
  });

  it("refuses typing in a room the user is not a member of (NOT_A_MEMBER) and tells nobody", async () => {
    const room = await requestOk(bob, "room:create", { name: "bobs room" });
    const updates = collect(bob, "typing:updated");
    expect(await request(alice, "typing:start", { roomId: room.id })).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
    expect(await request(alice, "typing:stop", { roomId: room.id })).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
    expect(await request(alice, "typing:start", { roomId: "no-such-room" })).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
    await roundTrip(bob);
    expect(updates).toEqual([]);
  });
});

describe("typing indicators with a short TTL", () => {
  beforeEach(() => begin(SHORT_TTL_MS));

  it("clears the indicator for others when no refresh or stop comes within the TTL", async () => {
    const started = nextEvent(bob, "typing:updated", aliceTyping(true));
    const stopped = nextEvent(bob, "typing:updated", aliceTyping(false));
    const t0 = Date.now();
    await requestOk(alice, "typing:start", { roomId: DEFAULT_ROOM_ID });
    await started;
    expect(await stopped).toMatchObject({ roomId: DEFAULT_ROOM_ID, typing: false });
    // Not before the TTL (a little slack for timer granularity).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(SHORT_TTL_MS - 20);
  });
});
