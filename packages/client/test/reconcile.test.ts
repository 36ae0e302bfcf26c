import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  NOTICES_PER_ROOM,
  addPending,
  applyLiveMessage,
  applyPresence,
  applySync,
  applyTyping,
  confirmPending,
  expireTyping,
  leaveRoomLocally,
  mergeMessages,
  reconcileRoom,
  type MergeSource,
} from "../src/reconcile.js";
import type { ChatState } from "../src/state.js";
import { ME, msg, range, room, seqsOf, stateWithRoom } from "./fixtures.js";

const page = (from: number, to: number) => range(from, to).map((s) => msg(s));

describe("mergeMessages", () => {
  const cases: { name: string; steps: [MergeSource, number, number][]; window?: number; expected: number[] }[] = [
    { name: "latest page into an empty room", steps: [["latest", 51, 100]], expected: range(51, 100) },
    { name: "older page prepends", steps: [["latest", 51, 100], ["older", 1, 50]], expected: range(1, 100) },
    { name: "newer page appends", steps: [["latest", 1, 10], ["newer", 11, 20]], expected: range(1, 20) },
    { name: "overlapping pages merge once", steps: [["latest", 5, 10], ["newer", 8, 15]], expected: range(5, 15) },
    { name: "a page that leaves a hole is dropped", steps: [["latest", 1, 10], ["newer", 12, 20]], expected: range(1, 10) },
    { name: "a latest page after a hole replaces the window", steps: [["latest", 1, 10], ["latest", 50, 60]], expected: range(50, 60) },
    { name: "older pages trim the newest end past the window", steps: [["latest", 11, 20], ["older", 1, 10]], window: 15, expected: range(1, 15) },
    { name: "newer pages trim the oldest end past the window", steps: [["latest", 1, 10], ["newer", 11, 20]], window: 15, expected: range(6, 20) },
    { name: "duplicates inside a page count once", steps: [["latest", 1, 3], ["newer", 3, 5]], expected: range(1, 5) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let s = stateWithRoom({ lastSeq: 100 });
      for (const [source, from, to] of c.steps) s = mergeMessages(s, "r1", page(from, to), source, c.window);
      expect(seqsOf(s)).toEqual(c.expected);
      // Messages outside the window are not held.
      expect(Object.keys(s.messages.r1 ?? {}).length).toBe(c.expected.length);
    });
  }

  it("derives hasOlder and hasNewer from seqs", () => {
    let s = stateWithRoom({ lastSeq: 30 });
    s = mergeMessages(s, "r1", page(11, 20), "latest");
    expect(s.timelines.r1).toMatchObject({ hasOlder: true, hasNewer: true, firstSeq: 11, lastSeq: 20 });
    s = mergeMessages(s, "r1", page(1, 10), "older");
    s = mergeMessages(s, "r1", page(21, 30), "newer");
    expect(s.timelines.r1).toMatchObject({ hasOlder: false, hasNewer: false });
  });

  it("stops following live messages after trimming the newest end, and follows again at the end", () => {
    let s = stateWithRoom({ lastSeq: 20 });
    s = mergeMessages(s, "r1", page(11, 20), "latest", 10);
    s = mergeMessages(s, "r1", page(1, 10), "older", 10);
    expect(s.timelines.r1?.following).toBe(false);
    s = applyLiveMessage(s, msg(21), 10).state;
    expect(seqsOf(s)).toEqual(range(1, 10));
    s = mergeMessages(s, "r1", page(11, 21), "newer", 10);
    expect(s.timelines.r1?.following).toBe(true);
    expect(seqsOf(s)).toEqual(range(12, 21));
  });
});

describe("mergeMessages keeps what the reader has on screen (keepFromSeq)", () => {
  const cases: { name: string; keep: number | null; source: MergeSource; expected: number[]; following: boolean }[] = [
    { name: "without a reader back in history the oldest end gives way", keep: null, source: "newer", expected: range(11, 20), following: true },
    { name: "the oldest end gives way up to the first message on screen", keep: 8, source: "newer", expected: range(8, 17), following: false },
    { name: "a reader at the first message held keeps it; the newest give way", keep: 1, source: "newer", expected: range(1, 10), following: false },
    { name: "far enough from the oldest end nothing changes", keep: 15, source: "newer", expected: range(11, 20), following: true },
    { name: "a latest page ignores it (the reader asked for the end)", keep: 1, source: "latest", expected: range(11, 20), following: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let s = stateWithRoom({ lastSeq: 10 });
      s = mergeMessages(s, "r1", page(1, 10), "latest", 10);
      s = mergeMessages(s, "r1", page(11, 20), c.source, 10, c.keep);
      expect(seqsOf(s)).toEqual(c.expected);
      expect(s.timelines.r1?.following).toBe(c.following);
      // The room still knows its newest message, so the list offers to jump there.
      expect(s.rooms.r1?.lastSeq).toBe(20);
      expect(s.timelines.r1?.hasNewer).toBe(!c.following);
    });
  }

  it("live messages past a held window are counted but not kept, and catch-up stops following", () => {
    let s = stateWithRoom({ lastSeq: 10 });
    s = mergeMessages(s, "r1", page(1, 10), "latest", 10);
    s = applyLiveMessage(s, msg(11), 10, 1).state;
    expect(seqsOf(s)).toEqual(range(1, 10));
    expect(s.timelines.r1).toMatchObject({ following: false, hasNewer: true });
    s = applyLiveMessage(s, msg(12), 10, 1).state;
    expect(s.rooms.r1).toMatchObject({ lastSeq: 12, unreadCount: 2 });
  });
});

describe("unread counts through catch-up", () => {
  it("a gap revealed by a live message counts the missed messages and that one, once, after the fetch", () => {
    let s = mergeMessages(stateWithRoom({ lastSeq: 2, lastReadSeq: 2 }), "r1", page(1, 2), "latest");
    const r = applyLiveMessage(s, msg(6, { mentions: [ME.id] }));
    expect(r.behind).toBe(true);
    // Nothing is counted until the missed ones are known.
    expect(r.state.rooms.r1).toMatchObject({ lastSeq: 2, unreadCount: 0 });
    s = mergeMessages(r.state, "r1", [...page(3, 5), msg(6, { mentions: [ME.id] })], "newer");
    expect(s.rooms.r1).toMatchObject({ lastSeq: 6, unreadCount: 4, mentionCount: 1 });
    // The live copy arriving again (or the same page twice) counts nothing more.
    s = applyLiveMessage(s, msg(6, { mentions: [ME.id] })).state;
    s = mergeMessages(s, "r1", page(3, 6), "newer");
    expect(s.rooms.r1).toMatchObject({ lastSeq: 6, unreadCount: 4, mentionCount: 1 });
  });

  it("messages the last sync already counted are not counted again by the catch-up", () => {
    // After a reconnect the sync says 5 messages, 3 unread; the catch-up then fetches 3-5.
    let s = mergeMessages(stateWithRoom({ lastSeq: 2, lastReadSeq: 2 }), "r1", page(1, 2), "latest");
    s = { ...s, rooms: { r1: reconcileRoom(s.rooms.r1, { ...s.rooms.r1!, lastSeq: 5, unreadCount: 3 }) } };
    s = mergeMessages(s, "r1", page(3, 5), "newer");
    expect(s.rooms.r1).toMatchObject({ lastSeq: 5, unreadCount: 3 });
  });

  it("my own messages from another tab, fetched, read the room", () => {
    let s = mergeMessages(stateWithRoom({ lastSeq: 2, lastReadSeq: 0, unreadCount: 2 }), "r1", page(1, 2), "latest");
    s = mergeMessages(s, "r1", [msg(3, { authorId: ME.id })], "newer");
    expect(s.rooms.r1).toMatchObject({ lastSeq: 3, lastReadSeq: 3, unreadCount: 0 });
  });
});

describe("applyLiveMessage", () => {
  it("appends the next seq and counts it unread once", () => {
    let s = mergeMessages(stateWithRoom({ lastSeq: 2 }), "r1", page(1, 2), "latest");
    s = applyLiveMessage(s, msg(3)).state;
    s = applyLiveMessage(s, msg(3)).state;
    expect(seqsOf(s)).toEqual([1, 2, 3]);
    expect(s.rooms.r1).toMatchObject({ lastSeq: 3, unreadCount: 1, mentionCount: 0 });
  });

  it("counts mentions of me apart and never counts my own or notices", () => {
    let s = stateWithRoom();
    s = applyLiveMessage(s, msg(1, { mentions: [ME.id] })).state;
    s = applyLiveMessage(s, msg(2, { kind: "join" })).state;
    expect(s.rooms.r1).toMatchObject({ unreadCount: 1, mentionCount: 1 });
    s = applyLiveMessage(s, msg(3, { authorId: ME.id })).state;
    expect(s.rooms.r1).toMatchObject({ unreadCount: 0, mentionCount: 0, lastReadSeq: 3 });
  });

  it("reports a gap instead of inserting past it", () => {
    let s = mergeMessages(stateWithRoom({ lastSeq: 2 }), "r1", page(1, 2), "latest");
    const r = applyLiveMessage(s, msg(5));
    s = r.state;
    expect(r.behind).toBe(true);
    expect(seqsOf(s)).toEqual([1, 2]);
    expect(s.timelines.r1?.hasNewer).toBe(true);
  });

  it("regression: a live message into an empty loaded window still reports the seqs before it as missing", () => {
    // A DM shown while empty, seqs 1-2 missed while disconnected, seq 3 arrives live first.
    let s = mergeMessages(stateWithRoom(), "r1", [], "latest");
    const r = applyLiveMessage(s, msg(3));
    expect(r.behind).toBe(true);
    s = mergeMessages(r.state, "r1", page(1, 3), "newer");
    expect(seqsOf(s)).toEqual([1, 2, 3]);
  });

  it("confirms my pending send when my message arrives from another path first", () => {
    let s = mergeMessages(stateWithRoom(), "r1", [], "latest");
    s = addPending(s, { clientId: "c1", roomId: "r1", body: "hi", replyToId: null, createdAt: 1, status: "sending", attempts: 0, error: null, uploadIds: [] });
    s = applyLiveMessage(s, msg(1, { authorId: ME.id, clientId: "c1" })).state;
    expect(s.pendingOrder).toEqual([]);
    s = confirmPending(s, "c1", msg(1, { authorId: ME.id, clientId: "c1" })).state;
    expect(seqsOf(s)).toEqual([1]);
  });
});

describe("reconcileRoom", () => {
  it("never moves the read position or last seq back", () => {
    const current = room({ lastSeq: 10, lastReadSeq: 8, unreadCount: 2 });
    const stale = room({ lastSeq: 9, lastReadSeq: 5, unreadCount: 4 });
    expect(reconcileRoom(current, stale)).toMatchObject({ lastSeq: 10, lastReadSeq: 8, unreadCount: 2 });
    const newer = room({ lastSeq: 12, lastReadSeq: 12, unreadCount: 0 });
    expect(reconcileRoom(current, newer)).toMatchObject({ lastSeq: 12, lastReadSeq: 12, unreadCount: 0 });
  });
});

describe("server event reducers", () => {
  const typingCases: { name: string; updates: [user: string, typing: boolean, expiresAt: number][]; sweepAt: number | null; expected: string[]; active?: boolean }[] = [
    { name: "a start adds the typist", updates: [["u1", true, 10]], sweepAt: null, expected: ["u1"] },
    { name: "a stop removes the typist", updates: [["u1", true, 10], ["u1", false, 0]], sweepAt: null, expected: [] },
    { name: "a stop for someone not typing changes nothing", updates: [["u1", false, 0]], sweepAt: null, expected: [] },
    { name: "a refresh moves the expiry: the sweep keeps it", updates: [["u1", true, 10], ["u1", true, 20]], sweepAt: 15, expected: ["u1"], active: true },
    { name: "the sweep drops expired entries only", updates: [["u1", true, 10], ["u2", true, 30]], sweepAt: 10, expected: ["u2"], active: true },
    { name: "nothing left: no further sweep", updates: [["u1", true, 10]], sweepAt: 11, expected: [], active: false },
  ];
  for (const c of typingCases) {
    it(`typing: ${c.name}`, () => {
      let s = stateWithRoom();
      for (const [userId, typing, expiresAt] of c.updates) s = applyTyping(s, { roomId: "r1", userId, nickname: userId, typing }, expiresAt);
      if (c.sweepAt !== null) {
        const r = expireTyping(s, c.sweepAt);
        expect(r.active).toBe(c.active);
        s = r.state;
      }
      expect(Object.keys(s.typing.r1 ?? {})).toEqual(c.expected);
    });
  }

  const stamp = () => ({ id: "n1", at: 5 });
  const presenceCases: { name: string; userId: string; online: boolean; general: boolean; online0?: string[]; expectedOnline: string[]; notice: "online" | "offline" | null }[] = [
    { name: "someone comes online: a notice in general", userId: "u1", online: true, general: true, expectedOnline: ["u1"], notice: "online" },
    { name: "someone goes offline: a notice in general", userId: "u1", online: false, general: true, online0: ["u1"], expectedOnline: [], notice: "offline" },
    { name: "my own presence: no notice", userId: ME.id, online: true, general: true, expectedOnline: [ME.id], notice: null },
    { name: "general not held (yet): no notice", userId: "u1", online: true, general: false, expectedOnline: ["u1"], notice: null },
  ];
  for (const c of presenceCases) {
    it(`presence: ${c.name}`, () => {
      let s = stateWithRoom();
      if (c.general) s = { ...s, rooms: { ...s.rooms, general: room({ id: "general", lastSeq: 7 }) } };
      s = { ...s, online: Object.fromEntries((c.online0 ?? []).map((id) => [id, true as const])) };
      let stamped = 0;
      s = applyPresence(s, { userId: c.userId, nickname: "Nick", online: c.online }, () => (stamped++, stamp()));
      expect(Object.keys(s.online)).toEqual(c.expectedOnline);
      expect(s.users[c.userId]).toBe("Nick");
      expect(s.notices.general ?? []).toEqual(c.notice ? [{ id: "n1", roomId: "general", afterSeq: 7, kind: c.notice, nickname: "Nick", at: 5 }] : []);
      // An id is drawn only for a notice that is added.
      expect(stamped).toBe(c.notice ? 1 : 0);
    });
  }

  it(`presence: keeps the last ${NOTICES_PER_ROOM} notices`, () => {
    let s: ChatState = { ...stateWithRoom(), rooms: { general: room({ id: "general" }) } };
    for (let i = 0; i < NOTICES_PER_ROOM + 5; i++) s = applyPresence(s, { userId: "u1", nickname: "Nick", online: i % 2 === 0 }, () => ({ id: `n${i}`, at: i }));
    expect(s.notices.general!.length).toBe(NOTICES_PER_ROOM);
    expect(s.notices.general![0]!.id).toBe("n5");
  });

  it("room removed: drops what is held, and the shown room falls back to general", () => {
    let s = mergeMessages(stateWithRoom(), "r1", page(1, 3), "latest");
    s = { ...s, activeRoomId: "r1" };
    s = leaveRoomLocally(s, "r1");
    expect(s.rooms.r1).toBeUndefined();
    expect(s.timelines.r1).toBeUndefined();
    expect(s.messages.r1).toBeUndefined();
    expect(s.activeRoomId).toBe("general");
    // Another room shown: it stays.
    const other = leaveRoomLocally({ ...stateWithRoom(), activeRoomId: "r2" }, "r1");
    expect(other.activeRoomId).toBe("r2");
  });

  it("sync: drops rooms I am no longer in and picks a shown room", () => {
    const s = applySync({ ...stateWithRoom(), activeRoomId: "r1" }, { me: ME, rooms: [room({ id: "general" })], onlineUserIds: ["u1"], uploadLimits: { fileMaxBytes: 1, dailyMaxBytes: 1 }, isAdmin: false, mutedUserIds: [], profiles: [] });
    expect(Object.keys(s.rooms)).toEqual(["general"]);
    expect(s.activeRoomId).toBe("general");
    expect(s.online).toEqual({ u1: true });
    expect(s.users[ME.id]).toBe(ME.nickname);
  });
});

/**
 * Convergence: whatever interleaving of live messages (duplicated, reordered, some lost), catch-up
 * pages and acks a client sees, after a final catch-up from its last seq its window equals the
 * server's order with no duplicates and no holes.
 */
describe("convergence (property)", () => {
  const N = 40;
  const event: fc.Arbitrary<{ kind: "live"; seq: number } | { kind: "page"; from: number; to: number } | { kind: "ack"; seq: number }> = fc.oneof(
    fc.record({ kind: fc.constant("live" as const), seq: fc.integer({ min: 1, max: N }) }),
    fc
      .tuple(fc.integer({ min: 1, max: N }), fc.integer({ min: 0, max: 15 }))
      .map(([from, len]) => ({ kind: "page" as const, from, to: Math.min(N, from + len) })),
    fc.record({ kind: fc.constant("ack" as const), seq: fc.integer({ min: 1, max: N }) }),
  );
  // Every third message is mine, sent with client id c<seq>.
  const server = range(1, N).map((s) => (s % 3 === 0 ? msg(s, { authorId: ME.id, clientId: `c${s}` }) : msg(s)));

  it("converges to the server's order with no duplicates", () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), fc.integer({ min: 5, max: 60 }), (events, windowSize) => {
        let s: ChatState = mergeMessages(stateWithRoom(), "r1", [], "latest", windowSize);
        for (const m of server) if (m.clientId) s = addPending(s, { clientId: m.clientId, roomId: "r1", body: m.body, replyToId: null, createdAt: 0, status: "sending", attempts: 0, error: null, uploadIds: [] });
        for (const e of events) {
          if (e.kind === "live") s = applyLiveMessage(s, server[e.seq - 1]!, windowSize).state;
          else if (e.kind === "page") s = mergeMessages(s, "r1", server.slice(e.from - 1, e.to), "newer", windowSize);
          else if (server[e.seq - 1]!.clientId) s = confirmPending(s, server[e.seq - 1]!.clientId!, server[e.seq - 1]!, windowSize).state;
        }
        // The client's catch-up: everything after its window's end (or the latest page if empty).
        const t = s.timelines.r1!;
        s = t.ids.length === 0 ? mergeMessages(s, "r1", server, "latest", windowSize) : mergeMessages(s, "r1", server.slice(t.lastSeq), "newer", windowSize);
        for (const m of server) if (m.clientId) s = confirmPending(s, m.clientId, m, windowSize).state;
        const seqs = seqsOf(s);
        // A contiguous run that ends at the room's end, within the window size, holding exactly
        // the server's messages.
        expect(seqs.length).toBeGreaterThan(0);
        expect(seqs.length).toBeLessThanOrEqual(windowSize);
        expect(seqs).toEqual(range(N - seqs.length + 1, N));
        expect(s.timelines.r1!.ids).toEqual(seqs.map((q) => server[q - 1]!.id));
        expect(s.pendingOrder).toEqual([]);
        expect(Object.keys(s.messages.r1 ?? {}).length).toBe(seqs.length);
      }),
      { numRuns: 300 },
    );
  });
});
