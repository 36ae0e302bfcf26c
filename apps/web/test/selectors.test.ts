import type { Message, RoomSummary } from "@parley/shared";
import type { Notice, PendingMessage } from "@parley/client";
import { describe, expect, it } from "vitest";
import {
  buildTimelineItems,
  foldTimelineRows,
  GROUP_WINDOW_MS,
  selectRoomSections,
  selectSeqToMarkRead,
  splitMentions,
  type TimelineItem,
} from "../src/store/selectors.js";

const T0 = Date.UTC(2025, 10, 23, 10, 0);

function msg(seq: number, authorId: string, over: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    roomId: "general",
    seq,
    kind: "text",
    authorId,
    authorNickname: authorId.toUpperCase(),
    clientId: null,
    body: `message ${seq}`,
    createdAt: T0 + seq * 1000,
    mentions: [],
    version: seq,
    editedAt: null,
    deletedAt: null,
    removedByModerator: false,
    reactions: [],
    replyTo: null,
    attachments: [],
    ...over,
  };
}

function pending(clientId: string, over: Partial<PendingMessage> = {}): PendingMessage {
  return { clientId, roomId: "general", body: "hi", replyToId: null, createdAt: T0 + 100_000, status: "sending", attempts: 0, error: null, uploadIds: [], ...over };
}

/** A compact picture of the rows: "day", "divider", "m3", "m4+" (grouped), "sys5", "notice:n1", "p:c1". */
function shape(items: TimelineItem[]): string[] {
  return items.map((i) => {
    switch (i.type) {
      case "day":
        return "day";
      case "divider":
        return "divider";
      case "message":
        return `${i.message.id}${i.grouped ? "+" : ""}`;
      case "system":
        return `sys${i.message.seq}`;
      case "muted":
        return `muted${i.message.seq}`;
      case "notice":
        return `notice:${i.notice.id}`;
      case "pending":
        return `p:${i.pending.clientId}${i.grouped ? "+" : ""}`;
    }
  });
}

const base = { pending: [], notices: [], dividerSeq: null, myId: "me", timeZone: "UTC" } as const;

describe("buildTimelineItems", () => {
  it("groups consecutive messages by one author", () => {
    const items = buildTimelineItems({ ...base, messages: [msg(1, "ana"), msg(2, "ana"), msg(3, "bob"), msg(4, "ana")] });
    expect(shape(items)).toEqual(["day", "m1", "m2+", "m3", "m4"]);
  });

  it("breaks a group after the time window", () => {
    const late = msg(2, "ana", { createdAt: T0 + 1000 + GROUP_WINDOW_MS + 1 });
    expect(shape(buildTimelineItems({ ...base, messages: [msg(1, "ana"), late] }))).toEqual(["day", "m1", "m2"]);
  });

  it("renders join/leave as system rows that break groups", () => {
    const items = buildTimelineItems({ ...base, messages: [msg(1, "ana"), msg(2, "bob", { kind: "join" }), msg(3, "ana")] });
    expect(shape(items)).toEqual(["day", "m1", "sys2", "m3"]);
  });

  it("renders moderation lines as system rows", () => {
    const items = buildTimelineItems({ ...base, messages: [msg(1, "ana"), msg(2, "bob", { kind: "system", body: '{"type":"topic","topic":"x"}' }), msg(3, "ana")] });
    expect(shape(items)).toEqual(["day", "m1", "sys2", "m3"]);
  });

  it("collapses a muted user's messages (they break groups and never draw the divider); system lines stay", () => {
    const messages = [msg(1, "ana"), msg(2, "bob"), msg(3, "bob"), msg(4, "bob", { kind: "join" }), msg(5, "ana"), msg(6, "ana")];
    const items = buildTimelineItems({ ...base, messages, dividerSeq: 1, muted: { bob: true } });
    expect(shape(items)).toEqual(["day", "m1", "muted2", "muted3", "divider", "sys4", "m5", "m6+"]);
  });

  it("puts the new-messages divider before the first unread message by someone else", () => {
    const messages = [msg(1, "ana"), msg(2, "me"), msg(3, "me"), msg(4, "bob"), msg(5, "bob")];
    const items = buildTimelineItems({ ...base, messages, dividerSeq: 1 });
    expect(shape(items)).toEqual(["day", "m1", "m2", "m3+", "divider", "m4", "m5+"]);
  });

  it("draws no divider when everything after it is mine", () => {
    const items = buildTimelineItems({ ...base, messages: [msg(1, "ana"), msg(2, "me")], dividerSeq: 1 });
    expect(shape(items)).not.toContain("divider");
  });

  it("places notices after the seq they follow, and pending sends last", () => {
    const notices: Notice[] = [
      { id: "n2", roomId: "general", afterSeq: 2, kind: "online", nickname: "Cy", at: T0 },
      { id: "n0", roomId: "general", afterSeq: 0, kind: "offline", nickname: "Di", at: T0 },
    ];
    const items = buildTimelineItems({
      ...base,
      messages: [msg(1, "ana"), msg(2, "ana"), msg(3, "ana")],
      notices,
      pending: [pending("c1"), pending("c2", { status: "failed", error: "TIMEOUT" })],
    });
    expect(shape(items)).toEqual(["notice:n0", "day", "m1", "m2+", "notice:n2", "m3", "p:c1", "p:c2+"]);
  });

  it("continues my group from my last sent message into my pending sends", () => {
    const items = buildTimelineItems({
      ...base,
      messages: [msg(1, "me", { createdAt: T0 + 99_000 })],
      pending: [pending("c1")],
    });
    expect(shape(items)).toEqual(["day", "m1", "p:c1+"]);
  });

  it("adds a day separator when the day changes", () => {
    const nextDay = msg(2, "ana", { createdAt: T0 + 86_400_000 });
    expect(shape(buildTimelineItems({ ...base, messages: [msg(1, "ana"), nextDay] }))).toEqual(["day", "m1", "day", "m2"]);
  });

  it("flags messages that mention me", () => {
    const items = buildTimelineItems({ ...base, messages: [msg(1, "ana", { mentions: ["me"] }), msg(2, "ana")] });
    const flags = items.flatMap((i) => (i.type === "message" ? [i.mentionsMe] : []));
    expect(flags).toEqual([true, false]);
  });

  it("gives every row a unique, stable key", () => {
    const input = { ...base, messages: [msg(1, "ana"), msg(2, "bob")], pending: [pending("c1")], dividerSeq: 0 };
    const a = buildTimelineItems(input).map((i) => i.key);
    expect(new Set(a).size).toBe(a.length);
    expect(buildTimelineItems(input).map((i) => i.key)).toEqual(a);
  });
});

describe("splitMentions", () => {
  const names = ["Ana", "Ana Lima", "bob"];
  it("splits text around mentions, longest nickname first", () => {
    expect(splitMentions("hi @Ana Lima and @bob!", names, "bob")).toEqual([
      { text: "hi ", mention: null },
      { text: "@Ana Lima", mention: { nickname: "Ana Lima", me: false } },
      { text: " and ", mention: null },
      { text: "@bob", mention: { nickname: "bob", me: true } },
      { text: "!", mention: null },
    ]);
  });
  it("leaves text without mentions whole", () => {
    expect(splitMentions("mail me at x@Ana.com", names, null)).toEqual([{ text: "mail me at x@Ana.com", mention: null }]);
  });
  it("keeps markup as text", () => {
    const segments = splitMentions("<img src=x onerror=alert(1)> @bob", names, null);
    expect(segments.map((s) => s.text).join("")).toBe("<img src=x onerror=alert(1)> @bob");
  });
});

describe("foldTimelineRows", () => {
  const notice = (id: string, afterSeq: number): Notice => ({ id, roomId: "general", afterSeq, kind: "online", nickname: "Cy", at: T0 });
  /** "[above] item [below]" per row, in `shape`'s words. */
  const rows = (items: TimelineItem[]) =>
    foldTimelineRows(items).map((r) => [...shape([...r.above]).map((a) => `${a}/`), ...shape([r.item]), ...shape([...r.below]).map((b) => `/${b}`)].join(" "));

  it("folds day separators, the divider and notices into the next message's row", () => {
    const nextDay = msg(3, "bob", { createdAt: T0 + 86_400_000 });
    const items = buildTimelineItems({ ...base, messages: [msg(1, "ana"), msg(2, "ana"), nextDay], notices: [notice("n1", 1)], dividerSeq: 2 });
    expect(rows(items)).toEqual(["day/ m1", "notice:n1/ m2", "day/ divider/ m3"]);
  });

  // Regression (issue 4): with the day separator as row 0, a prepended page of the same day kept
  // `day:<date>` at index 0, the view jumped a page and loading older pages stalled at the top.
  it("keys every row by a message, so the first row moves down when older messages are prepended", () => {
    const page2 = buildTimelineItems({ ...base, messages: [msg(3, "ana"), msg(4, "bob")] });
    const both = buildTimelineItems({ ...base, messages: [msg(1, "ana"), msg(2, "bob"), msg(3, "ana"), msg(4, "bob")] });
    const before = foldTimelineRows(page2);
    const after = foldTimelineRows(both);
    expect(before[0]?.key).toBe("m3");
    expect(after.findIndex((r) => r.key === "m3")).toBe(2);
    expect(new Set(after.map((r) => r.key)).size).toBe(after.length);
  });

  it("keeps notices after the last message below it, so a new message is a new last row", () => {
    const items = buildTimelineItems({ ...base, messages: [msg(1, "ana")], notices: [notice("n1", 1)] });
    expect(rows(items)).toEqual(["day/ m1 /notice:n1"]);
    expect(foldTimelineRows(items).at(-1)?.key).toBe("m1");
  });

  it("folds notices before pending sends into the first pending row", () => {
    const items = buildTimelineItems({ ...base, messages: [msg(1, "me")], notices: [notice("n1", 1)], pending: [pending("c1")] });
    expect(rows(items)).toEqual(["day/ m1", "notice:n1/ p:c1"]);
  });

  it("lets decorations stand alone when there is no message", () => {
    expect(rows(buildTimelineItems({ ...base, messages: [], notices: [notice("n1", 0)] }))).toEqual(["notice:n1"]);
    expect(foldTimelineRows([])).toEqual([]);
  });
});

describe("room and presence selectors", () => {
  const room = (id: string, over: Partial<RoomSummary> = {}): RoomSummary => ({
    id,
    kind: "public",
    name: id,
    peerId: null,
    memberCount: 1,
    lastSeq: 0,
    lastVersion: 0,
    lastReadSeq: 0,
    unreadCount: 0,
    mentionCount: 0,
    lastActivityAt: 0,
    role: "member",
    topic: "",
    inviteOnly: false,
    notifyLevel: "all",
    ...over,
  });

  it("sorts public rooms by name with the default room first, DMs by activity", () => {
    const sections = selectRoomSections({
      zeta: room("zeta"),
      general: room("general"),
      alpha: room("alpha"),
      d1: room("d1", { kind: "dm", name: "Zoe", lastActivityAt: 5 }),
      d2: room("d2", { kind: "dm", name: "Al", lastActivityAt: 9 }),
    }, "en");
    expect(sections.rooms.map((r) => r.id)).toEqual(["general", "alpha", "zeta"]);
    expect(sections.dms.map((r) => r.id)).toEqual(["d2", "d1"]);
  });

  it("sorts Chinese room names by pinyin in zh-CN, and DMs with the same activity by name", () => {
    const rooms = {
      general: room("general"),
      r1: room("r1", { name: "设计" }), // shè
      r2: room("r2", { name: "产品" }), // chǎn
      r3: room("r3", { name: "闲聊" }), // xián
      r4: room("r4", { name: "design" }),
      d1: room("d1", { kind: "dm", name: "张三", lastActivityAt: 1 }),
      d2: room("d2", { kind: "dm", name: "李四", lastActivityAt: 1 }),
      d3: room("d3", { kind: "dm", name: "alice", lastActivityAt: 1 }),
    };
    const zh = selectRoomSections(rooms, "zh-CN");
    expect(zh.rooms.map((r) => r.name)).toEqual(["general", "产品", "设计", "闲聊", "design"]);
    expect(zh.dms.map((r) => r.name)).toEqual(["李四", "张三", "alice"]);
    const en = selectRoomSections(rooms, "en");
    expect(en.rooms.map((r) => r.name).slice(0, 2)).toEqual(["general", "design"]);
    expect(en.dms.map((r) => r.name)[0]).toBe("alice");
  });

  it("marks read only forward and only at the live end", () => {
    expect(selectSeqToMarkRead({ lastReadSeq: 3 }, 5, false)).toBe(5);
    expect(selectSeqToMarkRead({ lastReadSeq: 5 }, 5, false)).toBeNull();
    expect(selectSeqToMarkRead({ lastReadSeq: 3 }, 5, true)).toBeNull();
    expect(selectSeqToMarkRead(undefined, 5, false)).toBeNull();
  });
});
