import type { Message } from "@parley/shared";
import { describe, expect, it } from "vitest";
import {
  applyHeldCopies,
  applyLiveMessage,
  applyMessageUpdate,
  completeChangeCatchUp,
  confirmPending,
  countNewMessage,
  mergeMessages,
  reconcileRoom,
  replaceWindowAround,
} from "../src/reconcile.js";
import type { ChatState } from "../src/state.js";
import { ME, msg, range, room, seqsOf, stateWithRoom } from "./fixtures.js";

/**
 * Issue 11: reconcile by version. A held message is replaced only by a copy with a higher version,
 * wherever the copy comes from; counts change only when a held unread message is deleted; the
 * timeline's version never claims a change the held messages do not reflect.
 */

const page = (from: number, to: number, overrides: Partial<Message> = {}) => range(from, to).map((s) => msg(s, overrides));
/** A room with messages 1-5 loaded from a latest page read at version `v` (default 5: nothing changed yet). */
function loaded(v = 5, summary: Parameters<typeof stateWithRoom>[0] = {}): ChatState {
  return mergeMessages(stateWithRoom({ lastSeq: 5, lastVersion: v, ...summary }), "r1", page(1, 5), "latest", undefined, null, v);
}
const held = (s: ChatState, seq: number) => s.messages.r1?.[`m${seq}`];
const edited = (seq: number, version: number, body = `edit@${version}`) => msg(seq, { version, body, editedAt: 5000 + version });
const deleted = (seq: number, version: number) => msg(seq, { version, body: "", deletedAt: 6000 + version, mentions: [] });

describe("a held message is replaced only by a higher version, wherever the copy enters", () => {
  type Entry = (s: ChatState, copy: Message) => ChatState;
  const entries: Record<string, Entry> = {
    "message:updated": (s, m) => applyMessageUpdate(s, m).state,
    "message:created (a duplicate delivery)": (s, m) => applyLiveMessage(s, m).state,
    "a newer page": (s, m) => mergeMessages(s, "r1", [m], "newer", undefined, null, 100),
    "a page that replaces the window (jumpTo)": (s, m) => replaceWindowAround(s, "r1", { messages: [m], hasMore: true, version: 100 }),
    "a change catch-up page": (s, m) => applyHeldCopies(s, "r1", [m]),
    "the ack of my send": (s, m) => confirmPending(s, "c1", m).state,
  };
  const cases: { name: string; copyVersion: number; replaced: boolean }[] = [
    { name: "higher: replaced", copyVersion: 9, replaced: true },
    { name: "equal: the held copy (and its identity) stays", copyVersion: 7, replaced: false },
    { name: "lower: ignored", copyVersion: 6, replaced: false },
  ];
  for (const [entry, apply] of Object.entries(entries)) {
    for (const c of cases) {
      it(`${entry}, ${c.name}`, () => {
        let s = applyMessageUpdate(loaded(), edited(3, 7, "held")).state;
        const before = held(s, 3);
        expect(before?.body).toBe("held");
        s = apply(s, edited(3, c.copyVersion, "incoming"));
        if (c.replaced) expect(held(s, 3)).toMatchObject({ version: c.copyVersion, body: "incoming" });
        else expect(held(s, 3)).toBe(before);
      });
    }
  }

  it("message:updated for a message not held is dropped", () => {
    const s = applyMessageUpdate(loaded(), edited(9, 6)).state;
    expect(s.messages.r1?.m9).toBeUndefined();
    expect(seqsOf(s)).toEqual(range(1, 5));
  });

  it("a page that merely overlaps keeps newer held copies and takes newer page copies", () => {
    let s = applyMessageUpdate(loaded(), edited(2, 6)).state; // held m2@6
    s = mergeMessages(s, "r1", [msg(1), edited(2, 4), edited(3, 8), msg(4), msg(5), msg(6, { version: 9 })], "newer", undefined, null, 9);
    expect(seqsOf(s)).toEqual(range(1, 6));
    expect(held(s, 2)?.version).toBe(6);
    expect(held(s, 3)?.version).toBe(8);
  });
});

describe("counts under deletes (only a held unread copy deleted lowers them)", () => {
  const cases: {
    name: string;
    summary?: Partial<Parameters<typeof room>[0]>;
    heldFirst?: Message;
    copy: Message;
    via?: "update" | "page" | "feed";
    expected: { unreadCount: number; mentionCount: number };
  }[] = [
    { name: "an unread message of someone else, deleted live", copy: deleted(4, 6), expected: { unreadCount: 4, mentionCount: 1 } },
    { name: "the same delete from a page", copy: deleted(4, 6), via: "page", expected: { unreadCount: 4, mentionCount: 1 } },
    { name: "the same delete from a change catch-up", copy: deleted(4, 6), via: "feed", expected: { unreadCount: 4, mentionCount: 1 } },
    { name: "an unread message that mentioned me: both counts", copy: deleted(2, 6), expected: { unreadCount: 4, mentionCount: 0 } },
    { name: "a read message", summary: { lastReadSeq: 4, unreadCount: 1, mentionCount: 0 }, copy: deleted(4, 6), expected: { unreadCount: 1, mentionCount: 0 } },
    { name: "my own message", copy: deleted(5, 6), expected: { unreadCount: 5, mentionCount: 1 } },
    // The first delete lowered the count; a later copy of the deleted message does not again.
    { name: "a message already deleted in the held copy", heldFirst: deleted(4, 6), copy: deleted(4, 7), expected: { unreadCount: 4, mentionCount: 1 } },
    { name: "a delete the summary already counted (at or below its lastVersion)", summary: { lastVersion: 6 }, copy: deleted(4, 6), expected: { unreadCount: 5, mentionCount: 1 } },
    { name: "an edit never changes counts", copy: edited(4, 6), expected: { unreadCount: 5, mentionCount: 1 } },
    { name: "a reaction never changes counts", copy: msg(4, { version: 6, reactions: [{ emoji: "👍", users: [{ id: "x", nickname: "X" }] }] }), expected: { unreadCount: 5, mentionCount: 1 } },
    { name: "a message not held", copy: deleted(9, 6), expected: { unreadCount: 5, mentionCount: 1 } },
    { name: "an older copy of a delete (lower version) changes nothing", heldFirst: edited(4, 7), copy: deleted(4, 6), expected: { unreadCount: 5, mentionCount: 1 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      // Messages 1-5 by someone else except 5 (mine); 2 mentions me. The summary's counts are the
      // server's; the reducers only move them.
      const base = stateWithRoom({ lastSeq: 5, lastVersion: 5, lastReadSeq: 0, unreadCount: 5, mentionCount: 1, ...c.summary });
      const messages = page(1, 5).map((m) => (m.seq === 2 ? { ...m, mentions: [ME.id] } : m.seq === 5 ? { ...m, authorId: ME.id } : m));
      let s = mergeMessages(base, "r1", messages, "latest", undefined, null, 5);
      if (c.heldFirst) s = applyMessageUpdate(s, c.heldFirst).state;
      const copy = c.copy.seq === 2 ? { ...c.copy, mentions: [] } : c.copy;
      if (c.via === "page") s = mergeMessages(s, "r1", [copy], "newer", undefined, null, copy.version);
      else if (c.via === "feed") s = applyHeldCopies(s, "r1", [copy]);
      else s = applyMessageUpdate(s, copy).state;
      expect({ unreadCount: s.rooms.r1!.unreadCount, mentionCount: s.rooms.r1!.mentionCount }).toEqual(c.expected);
      // Delivered again (live, page or feed): counted once.
      s = applyMessageUpdate(s, copy).state;
      s = applyHeldCopies(s, "r1", [copy]);
      expect({ unreadCount: s.rooms.r1!.unreadCount, mentionCount: s.rooms.r1!.mentionCount }).toEqual(c.expected);
    });
  }

  it("a muted author's message is not counted as unread, live or from a page", () => {
    const mine = { ...stateWithRoom({ lastSeq: 1 }), muted: { [msg(2).authorId]: true as const } };
    expect(countNewMessage(room({ lastSeq: 1 }), msg(2), ME.id, mine.muted)).toMatchObject({ lastSeq: 2, unreadCount: 0 });
    expect(countNewMessage(room({ lastSeq: 1 }), msg(2), ME.id)).toMatchObject({ lastSeq: 2, unreadCount: 1 });
    const live = applyLiveMessage(mine, msg(2)).state;
    expect(live.rooms.r1).toMatchObject({ lastSeq: 2, unreadCount: 0 });
  });

  it("a message fetched already deleted is not counted as unread", () => {
    const r = countNewMessage(room({ lastSeq: 1 }), deleted(2, 3), ME.id);
    expect(r).toMatchObject({ lastSeq: 2, unreadCount: 0 });
  });

  it("the summary's lastVersion never moves back", () => {
    expect(reconcileRoom(room({ lastVersion: 9 }), room({ lastVersion: 4 })).lastVersion).toBe(9);
    expect(reconcileRoom(room({ lastVersion: 4 }), room({ lastVersion: 9 })).lastVersion).toBe(9);
  });
});

describe("timeline version", () => {
  it("a first (latest) page sets it to the page's version; an empty first page too", () => {
    expect(loaded(12).timelines.r1?.version).toBe(12);
    const s = mergeMessages(stateWithRoom({ lastVersion: 3 }), "r1", [], "latest", undefined, null, 3);
    expect(s.timelines.r1).toMatchObject({ loaded: true, version: 3 });
  });

  const live: { name: string; version: number; expected: number; changesBehind: boolean }[] = [
    { name: "the next version advances it", version: 6, expected: 6, changesBehind: false },
    { name: "an equal version changes nothing", version: 5, expected: 5, changesBehind: false },
    { name: "an older version changes nothing", version: 3, expected: 5, changesBehind: false },
    { name: "a version further on is a gap: catch up, do not advance", version: 7, expected: 5, changesBehind: true },
  ];
  for (const c of live) {
    it(`message:updated: ${c.name}`, () => {
      const r = applyMessageUpdate(loaded(5), edited(2, c.version));
      expect(r.changesBehind).toBe(c.changesBehind);
      expect(r.state.timelines.r1?.version).toBe(c.expected);
    });
    it(`message:created: ${c.name}`, () => {
      const r = applyLiveMessage(loaded(5), msg(6, { version: c.version }));
      expect(r.changesBehind).toBe(c.changesBehind);
      expect(r.state.timelines.r1?.version).toBe(c.expected);
    });
  }

  it("a change to a message not held still advances it (nothing to apply for it)", () => {
    const r = applyMessageUpdate(loaded(5), edited(40, 6));
    expect(r).toMatchObject({ changesBehind: false });
    expect(r.state.timelines.r1?.version).toBe(6);
  });

  it("the ack of my send moves it like a live message", () => {
    const r = confirmPending(loaded(5), "c1", msg(6, { authorId: ME.id, clientId: "c1", version: 6 }));
    expect(r.state.timelines.r1?.version).toBe(6);
    expect(confirmPending(loaded(5), "c1", msg(6, { version: 8 })).changesBehind).toBe(true);
  });

  it("a room not loaded has nothing to track", () => {
    const r = applyMessageUpdate(stateWithRoom(), edited(1, 9));
    expect(r.changesBehind).toBe(false);
    expect(r.state.timelines.r1).toBeUndefined();
  });

  const pages: { name: string; source: "older" | "newer"; pageVersion: number; expected: number }[] = [
    { name: "a page read before changes already applied lowers it (its copies may miss them)", source: "older", pageVersion: 7, expected: 7 },
    { name: "a newer page read later keeps it", source: "newer", pageVersion: 12, expected: 9 },
  ];
  for (const c of pages) {
    it(c.name, () => {
      let s = mergeMessages(stateWithRoom({ lastSeq: 20 }), "r1", page(11, 15), "latest", undefined, null, 9);
      s = mergeMessages(s, "r1", c.source === "older" ? page(6, 10) : page(16, 20), c.source, undefined, null, c.pageVersion);
      expect(s.timelines.r1?.version).toBe(c.expected);
    });
  }

  it("a page that replaces the window takes the page's version, even lower than before", () => {
    let s = mergeMessages(stateWithRoom({ lastSeq: 100 }), "r1", page(91, 100), "latest", undefined, null, 150);
    s = mergeMessages(s, "r1", page(1, 10), "latest", undefined, null, 120);
    expect(s.timelines.r1?.version).toBe(120);
  });

  const completions: { name: string; current: number; maxSeen: number | null; floor?: number; expected: number }[] = [
    { name: "a completed change catch-up moves it to the highest version seen", current: 5, maxSeen: 11, expected: 11 },
    { name: "no rows: it stays", current: 5, maxSeen: null, expected: 5 },
    { name: "live changes took it further meanwhile: it stays", current: 13, maxSeen: 11, expected: 13 },
    { name: "an older page merged during the run caps it", current: 5, maxSeen: 11, floor: 8, expected: 8 },
  ];
  for (const c of completions) {
    it(c.name, () => {
      let s = loaded(5);
      s = { ...s, timelines: { r1: { ...s.timelines.r1!, version: c.current } } };
      expect(completeChangeCatchUp(s, "r1", c.maxSeen, c.floor).timelines.r1?.version).toBe(c.expected);
    });
  }
});

describe("the window around a message (jumpTo)", () => {
  it("replaces the window, stops following, and takes hasOlder/hasNewer and the version from the page", () => {
    let s = mergeMessages(stateWithRoom({ lastSeq: 500 }), "r1", page(401, 500), "latest", undefined, null, 700);
    s = replaceWindowAround(s, "r1", { messages: page(150, 249), hasMore: true, version: 690 });
    expect(seqsOf(s)).toEqual(range(150, 249));
    expect(s.timelines.r1).toMatchObject({ following: false, hasOlder: true, hasNewer: true, version: 690 });
    expect(Object.keys(s.messages.r1!)).toHaveLength(100);
    // Live messages past it are counted, not appended, and the window can still reach the end.
    s = applyLiveMessage(s, msg(501, { version: 691 })).state;
    expect(seqsOf(s)).toEqual(range(150, 249));
    expect(s.rooms.r1?.lastSeq).toBe(501);
  });

  it("at the start of the room there is nothing older; at its end nothing newer", () => {
    const s = replaceWindowAround(stateWithRoom({ lastSeq: 40 }), "r1", { messages: page(1, 40), hasMore: false, version: 40 });
    expect(s.timelines.r1).toMatchObject({ hasOlder: false, hasNewer: false, following: false });
  });

  it("a live message after a window at the end that does not follow says there is something newer", () => {
    let s = replaceWindowAround(stateWithRoom({ lastSeq: 40 }), "r1", { messages: page(1, 40), hasMore: false, version: 40 });
    s = applyLiveMessage(s, msg(41, { version: 41 })).state;
    expect(s.timelines.r1?.hasNewer).toBe(true);
  });

  it("an empty page (no such seq) leaves the window", () => {
    const s = loaded();
    expect(replaceWindowAround(s, "r1", { messages: [], hasMore: false, version: 9 })).toBe(s);
  });
});
