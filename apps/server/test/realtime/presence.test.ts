import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
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

// Long enough that a reconnect right after a close lands inside it even on a loaded machine, short
// enough that waiting for real offline announcements keeps the file at a few seconds.
const GRACE_MS = 400;

let server: TestServer;
let observer: ClientSocket;
let alice: { id: string; cookie: string };
let clock: { id: string; cookie: string };

beforeEach(async () => {
  server = await startServer({ presenceGraceMs: GRACE_MS });
  const o = await signInOk(server.url, "Observer");
  const a = await signInOk(server.url, "Alice");
  const c = await signInOk(server.url, "Clock");
  alice = { id: a.user.id, cookie: a.cookie };
  clock = { id: c.user.id, cookie: c.cookie };
  observer = await connect(server.url, o.cookie);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

const is = (userId: string, online: boolean) => (u: PresenceUpdate) => u.userId === userId && u.online === online;

/** Closes a client socket and waits until the server has processed the disconnect. */
async function closeAndWait(socket: ClientSocket): Promise<void> {
  const id = socket.id!;
  socket.close();
  await vi.waitFor(() => expect(server.app.io.of("/").sockets.has(id)).toBe(false));
}

/**
 * Proof that more than the grace delay passed since now, without sleeping: another user goes
 * offline, and the server reports that exactly GRACE_MS later. Presence timers of equal length fire
 * in the order they were set and reach the observer in that order, so an offline timer that was
 * running before this call would have been reported before this one.
 */
async function graceElapsed(): Promise<void> {
  const socket = await connect(server.url, clock.cookie);
  const offline = nextEvent(observer, "presence:updated", is(clock.id, false));
  await closeAndWait(socket);
  await offline;
}

describe("presence", () => {
  it("announces online on the first socket", async () => {
    const online = nextEvent(observer, "presence:updated", is(alice.id, true));
    await connect(server.url, alice.cookie);
    expect(await online).toEqual({ userId: alice.id, nickname: "Alice", online: true });
    expect((await roundTrip(observer)).onlineUserIds).toContain(alice.id);
  });

  it("keeps a user online while one of two sockets remains, and announces offline after the last closes", async () => {
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
    const updates = collect(observer, "presence:updated");
    const socket = await connect(server.url, alice.cookie);
    await roundTrip(observer);

    // A reload: the old socket goes, a new one comes right after.
    socket.close();
    const again = await connect(server.url, alice.cookie);
    await vi.waitFor(() => expect(server.app.io.of("/").sockets.size).toBe(2)); // observer + again
    await graceElapsed();
    expect(updates.filter((u) => u.userId === alice.id)).toEqual([{ userId: alice.id, nickname: "Alice", online: true }]);
    expect((await roundTrip(observer)).onlineUserIds).toContain(alice.id);

    // The cancelled timer is really gone: the next real departure is announced exactly once.
    await closeAndWait(again);
    await graceElapsed();
    expect(updates.filter(is(alice.id, false))).toHaveLength(1);
  });
});
