import { fail, ok, type AckResult, type Message, type MessagePage } from "@parley/shared";
import { describe, expect, it, vi } from "vitest";
import { createServerEvents } from "../src/server-events.js";
import { createSync } from "../src/sync.js";
import { ME, msg, range, room } from "./fixtures.js";
import { contextWith, deferred, fakeTransport, type Reply } from "./fake-transport.js";
import { memoryOutbox } from "../src/outbox.js";

/**
 * The change catch-up (`changedSince`), its place in the resync, and jumping to a message, over a
 * fake transport that answers `messages:fetch` from a list of pages.
 */

const page = (messages: Message[], version: number, hasMore = false): AckResult<MessagePage> => ok({ messages, hasMore, version });
const edited = (seq: number, version: number) => msg(seq, { version, body: `edit@${version}`, editedAt: version });

function rig(reply: Reply, summary: Parameters<typeof room>[0] = {}) {
  // Messages 11-15 held, read at version 20.
  const ctx = contextWith(range(11, 15).map((q) => msg(q)), 20, { lastSeq: 15, ...summary });
  const fake = fakeTransport(reply);
  const sync = createSync(ctx, fake.transport, { flush: () => Promise.resolve() });
  const fetches = () => fake.sent.filter((s) => s.event === "messages:fetch").map((s) => s.payload);
  return { ctx, fake, sync, fetches, version: () => ctx.store.getState().timelines.r1?.version };
}

describe("change catch-up (changedSince)", () => {
  it("pages from the timeline's version until !hasMore, applies held messages only, and ends at the highest version seen", async () => {
    const pages = [page([edited(12, 21), edited(3, 22)], 30, true), page([edited(14, 25), msg(16, { version: 26 })], 30, false)];
    const r = rig(() => pages.shift() ?? fail("INTERNAL", "no more"));
    await r.sync.catchUpChanges("r1");
    expect(r.fetches()).toEqual([
      { roomId: "r1", changedSince: 20, limit: 200 },
      { roomId: "r1", changedSince: 22, limit: 200 },
    ]);
    const s = r.ctx.store.getState();
    expect(s.messages.r1?.m12?.body).toBe("edit@21");
    expect(s.messages.r1?.m14?.body).toBe("edit@25");
    // Not held: dropped (message 3 is before the window, 16 after it).
    expect(s.messages.r1?.m3).toBeUndefined();
    expect(s.messages.r1?.m16).toBeUndefined();
    expect(r.version()).toBe(26);
  });

  it("an unfinished run (the server refused) leaves the version where it was", async () => {
    const pages = [page([edited(12, 21)], 30, true), fail("INTERNAL", "down")];
    const r = rig(() => pages.shift()!);
    await r.sync.catchUpChanges("r1");
    expect(r.ctx.store.getState().messages.r1?.m12?.body).toBe("edit@21");
    expect(r.version()).toBe(20);
  });

  it("a gap seen during a run queues one more run after it", async () => {
    const hold = deferred<AckResult<unknown>>();
    const answers: (AckResult<unknown> | Promise<AckResult<unknown>>)[] = [hold.promise, page([edited(13, 24)], 24)];
    const r = rig(() => answers.shift() ?? page([], 24));
    const first = r.sync.catchUpChanges("r1");
    await vi.waitFor(() => expect(r.fetches()).toHaveLength(1));
    const second = r.sync.catchUpChanges("r1");
    // One run at a time: nothing more is asked while the first is under way.
    expect(r.fetches()).toHaveLength(1);
    hold.resolve(page([edited(12, 21)], 22));
    await Promise.all([first, second]);
    expect(r.fetches().map((p) => p.changedSince)).toEqual([20, 21]);
    expect(r.version()).toBe(24);
  });

  it("an older page merged while it runs caps the version, and the run goes again from there", async () => {
    const second = deferred<AckResult<unknown>>();
    const answers: (AckResult<unknown> | Promise<AckResult<unknown>>)[] = [
      // The first pass: message 7 changed at 21, while it is not held (dropped).
      page([edited(7, 21)], 23, true),
      second.promise,
      // The older page brings message 7, read at 20: before its change.
      page(range(6, 10).map((q) => msg(q, { version: q })), 20),
      // The second pass, from the capped version.
      page([edited(7, 21), edited(12, 23)], 23),
    ];
    const r = rig(() => answers.shift() ?? page([], 23), { lastVersion: 23 });
    const run = r.sync.catchUpChanges("r1");
    await vi.waitFor(() => expect(r.fetches()).toHaveLength(2));
    await r.sync.loadPage("r1", "older");
    expect(r.ctx.store.getState().messages.r1?.m7?.body).toBe("message 7");
    second.resolve(page([edited(12, 23)], 23));
    await run;
    expect(r.fetches().map((p) => p.changedSince ?? `before ${String(p.beforeSeq)}`)).toEqual([20, 21, "before 11", 20]);
    expect(r.ctx.store.getState().messages.r1?.m7?.body).toBe("edit@21");
    expect(r.version()).toBe(23);
  });

  it("resync runs it for loaded rooms whose summary is ahead of their version, after the new-message catch-up", async () => {
    const reply: Reply = (event, payload) => {
      if (event === "session:sync") return ok({ me: ME, rooms: [room({ lastSeq: 15, lastVersion: 23 }), room({ id: "r2", lastVersion: 4 })], onlineUserIds: [] });
      if (payload.afterSeq !== undefined) return page([], 23);
      return page([edited(15, 23)], 23);
    };
    const r = rig(reply);
    await r.sync.resync();
    expect(r.fetches()).toEqual([
      { roomId: "r1", afterSeq: 15, limit: 200 },
      { roomId: "r1", changedSince: 20, limit: 200 },
    ]);
    expect(r.version()).toBe(23);
    // Summary and version equal: nothing to fetch.
    await r.sync.resync();
    expect(r.fetches().filter((p) => p.changedSince !== undefined)).toHaveLength(1);
  });
});

describe("jumpTo", () => {
  it("a held message: true at once, nothing fetched", async () => {
    const r = rig(() => fail("INTERNAL", "unexpected"));
    await expect(r.sync.jumpTo("r1", 13)).resolves.toBe(true);
    expect(r.fake.sent).toEqual([]);
  });

  it("a message outside the window: the window is replaced by the page around it", async () => {
    const r = rig(() => page(range(1, 8).map((q) => msg(q)), 19, true));
    await expect(r.sync.jumpTo("r1", 4)).resolves.toBe(true);
    expect(r.fetches()).toEqual([{ roomId: "r1", aroundSeq: 4, limit: 50 }]);
    expect(r.ctx.store.getState().timelines.r1).toMatchObject({ firstSeq: 1, lastSeq: 8, following: false, hasOlder: false, hasNewer: true, version: 19 });
  });

  it("a seq the server does not have: false, the window stays", async () => {
    const r = rig(() => page([], 20));
    const before = r.ctx.store.getState().timelines.r1;
    await expect(r.sync.jumpTo("r1", 400)).resolves.toBe(false);
    expect(r.ctx.store.getState().timelines.r1).toBe(before);
  });
});

/** The server-event table over `ctx`, with every side effect a spy. */
function eventsOver(ctx: ReturnType<typeof contextWith>) {
  const deps = {
    outbox: memoryOutbox(),
    catchUp: vi.fn(() => Promise.resolve()),
    catchUpChanges: vi.fn(() => Promise.resolve()),
    refreshRooms: vi.fn(() => Promise.resolve()),
    refreshReports: vi.fn(() => Promise.resolve()),
    keepFrom: () => null,
    onMessage: vi.fn(),
  };
  return { ctx, deps, table: createServerEvents(ctx, deps).table };
}

describe("server events for changes", () => {
  const events = () => eventsOver(contextWith(range(1, 3).map((q) => msg(q)), 3, { lastSeq: 3 }));

  it("message:updated applies by version and never notifies; a skipped version starts the change catch-up", () => {
    const { ctx, deps, table } = events();
    table["message:updated"](edited(2, 4));
    expect(ctx.store.getState().messages.r1?.m2?.body).toBe("edit@4");
    expect(deps.catchUpChanges).not.toHaveBeenCalled();
    table["message:updated"](edited(1, 6));
    expect(deps.catchUpChanges).toHaveBeenCalledWith("r1");
    expect(deps.onMessage).not.toHaveBeenCalled();
  });

  it("message:created notifies, and a skipped version starts the change catch-up too", () => {
    const { deps, table } = events();
    table["message:created"](msg(4, { version: 6 }));
    expect(deps.onMessage).toHaveBeenCalledTimes(1);
    expect(deps.catchUpChanges).toHaveBeenCalledWith("r1");
  });
});

describe("room:head (the tail guard)", () => {
  function events(loaded = true) {
    const ctx = loaded ? contextWith(range(1, 3).map((q) => msg(q)), 3, { lastSeq: 3 }) : contextWith([], 0, { lastSeq: 3 });
    if (!loaded) ctx.store.setState((s) => ({ ...s, timelines: {}, messages: {} }));
    return eventsOver(ctx);
  }
  const calls = (deps: ReturnType<typeof events>["deps"]) => ({
    catchUp: deps.catchUp.mock.calls.length,
    catchUpChanges: deps.catchUpChanges.mock.calls.length,
    refreshRooms: deps.refreshRooms.mock.calls.length,
  });

  it.each([
    ["the head the client holds", { seq: 3, version: 3 }, { catchUp: 0, catchUpChanges: 0, refreshRooms: 0 }],
    ["an older head (arrived late)", { seq: 2, version: 2 }, { catchUp: 0, catchUpChanges: 0, refreshRooms: 0 }],
    ["a missed last message", { seq: 4, version: 4 }, { catchUp: 1, catchUpChanges: 1, refreshRooms: 0 }],
    ["a missed edit", { seq: 3, version: 5 }, { catchUp: 0, catchUpChanges: 1, refreshRooms: 0 }],
  ])("loaded window at the live end, %s", (_name, head, expected) => {
    const { deps, table } = events();
    table["room:head"]({ roomId: "r1", ...head });
    expect(calls(deps)).toEqual(expected);
  });

  it("a room held only as a summary: a missed message refreshes the summaries, a missed change needs nothing", () => {
    const { deps, table } = events(false);
    table["room:head"]({ roomId: "r1", seq: 3, version: 9 });
    expect(calls(deps)).toEqual({ catchUp: 0, catchUpChanges: 0, refreshRooms: 0 });
    table["room:head"]({ roomId: "r1", seq: 4, version: 10 });
    expect(calls(deps)).toEqual({ catchUp: 0, catchUpChanges: 0, refreshRooms: 1 });
  });

  it("a room the client is not in: nothing", () => {
    const { deps, table } = events();
    table["room:head"]({ roomId: "elsewhere", seq: 40, version: 40 });
    expect(calls(deps)).toEqual({ catchUp: 0, catchUpChanges: 0, refreshRooms: 0 });
  });
});
