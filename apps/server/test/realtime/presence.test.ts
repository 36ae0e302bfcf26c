import { afterEach, describe, expect, it } from "vitest";
import type { PresenceUpdate } from "@parley/shared";
import {
  closeAllSockets,
  collect,
  connect,
  nextEvent,
  requestOk,
  roundTrip,
  signInOk,
  startServer,
  type ClientSocket,
  type TestServer,
} from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

// Tests that only wait for real offline announcements: short, so that each wait costs little. No
// test with this grace needs anything to happen inside it.
const SHORT_GRACE_MS = 400;
// The test of a reconnect within the grace delay needs close + handshake + join to finish inside it,
// on a machine shared with other test runs: the production default, with room to spare.
const RECONNECT_GRACE_MS = 3000;

/** The server of the running test, stopped after it. */
let current: TestServer | undefined;
let observer: ClientSocket;
let alice: { id: string; cookie: string };
let clock: { id: string; cookie: string };

/** Starts a server with `graceMs`, signs in Observer, Alice and Clock, and connects Observer. */
async function begin(graceMs: number): Promise<TestServer> {
  const s = await startServer({ presenceGraceMs: graceMs });
  current = s;
  const o = await signInOk(s.url, "Observer");
  const a = await signInOk(s.url, "Alice");
  const c = await signInOk(s.url, "Clock");
  alice = { id: a.user.id, cookie: a.cookie };
  clock = { id: c.user.id, cookie: c.cookie };
  observer = await connect(s.url, o.cookie);
  return s;
}
afterEach(async () => {
  closeAllSockets();
  await current?.stop();
  current = undefined;
});

const is = (userId: string, online: boolean) => (u: PresenceUpdate) => u.userId === userId && u.online === online;

/** Closes a client socket and waits until the server has processed the disconnect. */
async function closeAndWait(socket: ClientSocket): Promise<void> {
  const id = socket.id!;
  socket.close();
  await waitFor(() => expect(current!.app.io.of("/").sockets.has(id)).toBe(false));
}

/**
 * Proof that more than the grace delay passed since now, without sleeping: another user goes
 * offline, and the server reports that exactly one grace delay later. Presence timers of equal
 * length fire in the order they were set and reach the observer in that order, so an offline timer
 * that was running before this call would have been reported before this one.
 */
async function graceElapsed(): Promise<void> {
  const socket = await connect(current!.url, clock.cookie);
  const offline = nextEvent(observer, "presence:updated", is(clock.id, false));
  await closeAndWait(socket);
  await offline;
}

describe("presence", () => {
  it("announces online on the first socket", async () => {
    const server = await begin(SHORT_GRACE_MS);
    const online = nextEvent(observer, "presence:updated", is(alice.id, true));
    await connect(server.url, alice.cookie);
    expect(await online).toEqual({ userId: alice.id, nickname: "Alice", online: true });
    expect((await roundTrip(observer)).onlineUserIds).toContain(alice.id);
  });

  it("keeps a user online while one of two sockets remains, and announces offline after the last closes", async () => {
    const server = await begin(SHORT_GRACE_MS);
    const updates = collect(observer, "presence:updated");
    const first = await connect(server.url, alice.cookie);
    const second = await connect(server.url, alice.cookie);
    await roundTrip(observer);
    expect(updates.filter((u) => u.userId === alice.id)).toEqual([{ userId: alice.id, nickname: "Alice", online: true }]);

    await closeAndWait(first);
    await graceElapsed();
    expect(updates.filter(is(alice.id, false))).toEqual([]);
    expect((await roundTrip(observer)).onlineUserIds).toContain(alice.id);
    const members = await requestOk(observer, "room:members", { roomId: "general" });
    expect(members.find((m) => m.id === alice.id)?.online).toBe(true);

    const offline = nextEvent(observer, "presence:updated", is(alice.id, false));
    await closeAndWait(second);
    expect(await offline).toEqual({ userId: alice.id, nickname: "Alice", online: false });
    expect((await roundTrip(observer)).onlineUserIds).not.toContain(alice.id);
    expect(updates.filter(is(alice.id, false))).toHaveLength(1);
  });

  it("shows no offline (and no second online) when the user reconnects within the grace delay", async () => {
    const server = await begin(RECONNECT_GRACE_MS);
    const updates = collect(observer, "presence:updated");
    const socket = await connect(server.url, alice.cookie);
    await roundTrip(observer);

    // A reload: the old socket goes (the server has seen it go, so the offline timer is running),
    // and a new one comes right after.
    await closeAndWait(socket);
    const again = await connect(server.url, alice.cookie);
    await graceElapsed();
    expect(updates.filter((u) => u.userId === alice.id)).toEqual([{ userId: alice.id, nickname: "Alice", online: true }]);
    expect((await roundTrip(observer)).onlineUserIds).toContain(alice.id);

    // The cancelled timer is really gone: the next real departure is announced exactly once. (A
    // timer left running from the first close would have fired before this one, during
    // graceElapsed above or before this offline.)
    const offline = nextEvent(observer, "presence:updated", is(alice.id, false));
    await closeAndWait(again);
    await offline;
    await roundTrip(observer);
    expect(updates.filter(is(alice.id, false))).toHaveLength(1);
  });
});
