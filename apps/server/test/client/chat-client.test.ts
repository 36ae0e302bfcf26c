import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { memoryOutbox, selectRoomMessages, type ChatClient, type OutboxStorage } from "@parley/client";
import { DEFAULT_ROOM_ID } from "@parley/shared";
import { coreClient, signInCookie, startCoreServer, stopCoreServer } from "../helpers/core-server.js";
import { waitFor } from "../helpers/wait.js";

/**
 * The product's own client core (packages/client) against a real server: the delivery guarantees
 * of issue 5 at the level of one or two clients. The fault test (bench/src/fault.ts) runs the same
 * core at scale with kills and cuts.
 */

const dir = mkdtempSync(join(tmpdir(), "parley-client-"));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const start = startCoreServer;
const stop = stopCoreServer;
const signIn = signInCookie;
const client = (port: number, cookie: string, outbox?: OutboxStorage) => coreClient(port, cookie, (c) => cleanups.push(() => c.disconnect()), outbox);

const bodies = (c: ChatClient, roomId = DEFAULT_ROOM_ID) => selectRoomMessages(c.store.getState(), roomId).filter((m) => m.kind === "text").map((m) => m.body);

describe("chat client core against a real server", () => {
  it("shows a send as pending, then confirms it, and the other client receives it once", async () => {
    const server = await start(join(dir, "a.sqlite"));
    cleanups.push(() => stop(server));
    const a = client(server.port, await signIn(server.port, "ana"));
    const b = client(server.port, await signIn(server.port, "bo"));
    a.connect();
    b.connect();
    a.setActiveRoom(DEFAULT_ROOM_ID);
    b.setActiveRoom(DEFAULT_ROOM_ID);
    await waitFor(() => expect(a.store.getState().timelines[DEFAULT_ROOM_ID]?.loaded).toBe(true));
    await waitFor(() => expect(b.store.getState().timelines[DEFAULT_ROOM_ID]?.loaded).toBe(true));

    const sent = a.send(DEFAULT_ROOM_ID, "hello bo");
    expect(sent.ok).toBe(true);
    expect(Object.values(a.store.getState().pending).map((p) => p.status)).toEqual(["sending"]);
    await waitFor(() => expect(a.store.getState().pendingOrder).toEqual([]));
    await waitFor(() => expect(bodies(b)).toEqual(["hello bo"]));
    expect(bodies(a)).toEqual(["hello bo"]);
    expect(b.store.getState().rooms[DEFAULT_ROOM_ID]?.unreadCount).toBe(1);
  });

  it("stops counting a muted user's messages as unread in every tab of the muter, and counts them again on unmute", async () => {
    const server = await start(join(dir, "mute.sqlite"));
    cleanups.push(() => stop(server));
    const anaCookie = await signIn(server.port, "ana");
    const [tab1, tab2] = [client(server.port, anaCookie), client(server.port, anaCookie)];
    const bo = client(server.port, await signIn(server.port, "bo"));
    for (const c of [tab1, tab2, bo]) c.connect();
    bo.setActiveRoom(DEFAULT_ROOM_ID);
    await waitFor(() => expect(bo.store.getState().timelines[DEFAULT_ROOM_ID]?.loaded).toBe(true));
    bo.send(DEFAULT_ROOM_ID, "hi @ana");
    bo.send(DEFAULT_ROOM_ID, "anyone?");
    const counts = (c: ChatClient) => {
      const room = c.store.getState().rooms[DEFAULT_ROOM_ID];
      return { unread: room?.unreadCount, mentions: room?.mentionCount };
    };
    for (const tab of [tab1, tab2]) await waitFor(() => expect(counts(tab)).toEqual({ unread: 2, mentions: 1 }));

    const boId = bo.store.getState().me!.id;
    expect((await tab1.mute(boId, true)).ok).toBe(true);
    for (const tab of [tab1, tab2]) await waitFor(() => expect(counts(tab)).toEqual({ unread: 0, mentions: 0 }));
    // Live, too: a new message of his does not count.
    bo.send(DEFAULT_ROOM_ID, "still there?");
    await waitFor(() => expect(tab2.store.getState().rooms[DEFAULT_ROOM_ID]?.lastSeq).toBe(bo.store.getState().rooms[DEFAULT_ROOM_ID]?.lastSeq));
    expect(counts(tab2)).toEqual({ unread: 0, mentions: 0 });

    expect((await tab2.mute(boId, false)).ok).toBe(true);
    for (const tab of [tab1, tab2]) await waitFor(() => expect(counts(tab)).toEqual({ unread: 3, mentions: 1 }));
  });

  it("refuses blank and over-long messages before sending", async () => {
    const server = await start(join(dir, "b.sqlite"));
    cleanups.push(() => stop(server));
    const a = client(server.port, await signIn(server.port, "ana"));
    expect(a.send(DEFAULT_ROOM_ID, "   \n ")).toEqual({ ok: false, code: "MESSAGE_BLANK" });
    expect(a.send(DEFAULT_ROOM_ID, "x".repeat(4001))).toEqual({ ok: false, code: "MESSAGE_TOO_LONG" });
    expect(a.store.getState().pendingOrder).toEqual([]);
  });

  it("keeps messages written while the server is down and delivers them in order after a restart", async () => {
    const db = join(dir, "c.sqlite");
    let server = await start(db);
    const port = server.port;
    const cookieA = await signIn(port, "ana");
    const cookieB = await signIn(port, "bo");
    const a = client(port, cookieA);
    const b = client(port, cookieB);
    a.connect();
    b.connect();
    a.setActiveRoom(DEFAULT_ROOM_ID);
    b.setActiveRoom(DEFAULT_ROOM_ID);
    await waitFor(() => expect(b.store.getState().timelines[DEFAULT_ROOM_ID]?.loaded).toBe(true));
    a.send(DEFAULT_ROOM_ID, "before");
    await waitFor(() => expect(bodies(b)).toEqual(["before"]));

    await stop(server);
    await waitFor(() => expect(a.store.getState().connection.status).not.toBe("connected"));
    for (const text of ["one", "two", "three"]) a.send(DEFAULT_ROOM_ID, text);
    expect(a.store.getState().pendingOrder).toHaveLength(3);

    server = await start(db, port);
    cleanups.push(() => stop(server));
    await waitFor(() => expect(a.store.getState().pendingOrder).toEqual([]));
    await waitFor(() => expect(bodies(b)).toEqual(["before", "one", "two", "three"]));
    expect(bodies(a)).toEqual(["before", "one", "two", "three"]);
  });

  it("a new client with the same outbox sends what a closed one left, once", async () => {
    const server = await start(join(dir, "d.sqlite"));
    cleanups.push(() => stop(server));
    const cookie = await signIn(server.port, "ana");
    const outbox = memoryOutbox();
    const first = client(server.port, cookie, outbox);
    // Never connected: the message stays in the outbox, as in a tab closed while offline.
    first.send(DEFAULT_ROOM_ID, "left behind");
    first.disconnect();
    expect(outbox.entries()).toHaveLength(1);

    const second = client(server.port, cookie, outbox);
    const third = client(server.port, cookie, outbox);
    second.connect();
    third.connect();
    second.setActiveRoom(DEFAULT_ROOM_ID);
    await waitFor(() => expect(outbox.entries()).toEqual([]));
    await waitFor(() => expect(bodies(second)).toEqual(["left behind"]));
    expect(bodies(second).filter((b) => b === "left behind")).toHaveLength(1);
    const stored = await server.storage.getMessages(DEFAULT_ROOM_ID, { latest: true, limit: 50 });
    expect(stored.messages.filter((m) => m.body === "left behind")).toHaveLength(1);
  });

  it("fills a gap from missed live messages by seq catch-up", async () => {
    const server = await start(join(dir, "e.sqlite"));
    cleanups.push(() => stop(server));
    const a = client(server.port, await signIn(server.port, "ana"));
    const cookieB = await signIn(server.port, "bo");
    a.connect();
    a.setActiveRoom(DEFAULT_ROOM_ID);
    await waitFor(() => expect(a.store.getState().timelines[DEFAULT_ROOM_ID]?.loaded).toBe(true));
    // Messages stored behind the client's back (as if their broadcasts were lost)...
    const bo = (await server.storage.findUserByNickname("bo"))!;
    for (const body of ["x1", "x2"]) {
      await server.storage.appendMessage({ roomId: DEFAULT_ROOM_ID, authorId: bo.id, clientId: crypto.randomUUID(), kind: "text", body, mentions: [] });
    }
    expect(cookieB).toContain("parley_session");
    // ...then one arrives live: the client notices the jump in seq and fetches the two it missed.
    const b = client(server.port, cookieB);
    b.connect();
    b.send(DEFAULT_ROOM_ID, "x3");
    await waitFor(() => expect(bodies(a)).toEqual(["x1", "x2", "x3"]));
  });
});
