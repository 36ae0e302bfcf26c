import { describe, expect, it } from "vitest";
import { t } from "../src/i18n/index.js";
import { typingText } from "../src/features/presence/typing-text.js";
import { avatarHue, initials } from "../src/lib/avatar.js";
import { MAX_NOTIFY_AGE_MS, shouldNotify } from "../src/realtime/notify-rules.js";

describe("typingText", () => {
  it.each([
    [[], ""],
    [["Ana"], "Ana is typing…"],
    [["Ana", "Bob"], "Ana and Bob are typing…"],
    [["Ana", "Bob", "Cy"], "Ana, Bob and Cy are typing…"],
    [["Ana", "Bob", "Cy", "Di"], "Several people are typing…"],
  ])("%j", (names, expected) => {
    expect(typingText(names, t)).toBe(expected);
  });
});

describe("avatars", () => {
  it("gives one user the same hue every time, in range", () => {
    expect(avatarHue("user-1")).toBe(avatarHue("user-1"));
    expect(avatarHue("user-1")).toBeGreaterThanOrEqual(0);
    expect(avatarHue("user-1")).toBeLessThan(360);
  });
  it.each([
    ["ana", "A"],
    ["Ana Lima", "AL"],
    ["  bob  ", "B"],
    ["李小龙", "李"],
    ["😀 smile", "😀S"],
  ])("initials(%s) = %s", (nick, expected) => {
    expect(initials(nick)).toBe(expected);
  });
});

describe("shouldNotify", () => {
  const now = 1_000_000;
  const message = { kind: "text" as const, authorId: "ana", roomId: "r1", mentions: [] as string[], createdAt: now };
  const args = { message, room: { kind: "public" as const }, myId: "me", activeRoomId: "r1", hidden: true, now };

  it.each([
    ["active room, hidden", args, true],
    ["page visible", { ...args, hidden: false }, false],
    ["my own message", { ...args, message: { ...message, authorId: "me" } }, false],
    ["join notice", { ...args, message: { ...message, kind: "join" as const } }, false],
    ["other public room", { ...args, activeRoomId: "r2" }, false],
    ["other room, mentions me", { ...args, activeRoomId: "r2", message: { ...message, mentions: ["me"] } }, true],
    ["DM in the background", { ...args, activeRoomId: "r2", room: { kind: "dm" as const } }, true],
    ["stale catch-up message", { ...args, message: { ...message, createdAt: now - MAX_NOTIFY_AGE_MS - 1 } }, false],
    ["moderation line", { ...args, message: { ...message, kind: "system" as const } }, false],
    ["muted author", { ...args, muted: { ana: true as const } }, false],
    ["muted author's DM mentioning me", { ...args, activeRoomId: "r2", room: { kind: "dm" as const }, message: { ...message, mentions: ["me"] }, muted: { ana: true as const } }, false],
    ["someone else muted", { ...args, muted: { bob: true as const } }, true],
  ])("%s", (_name, input, expected) => {
    expect(shouldNotify(input)).toBe(expected);
  });

  // Issue 14: the room's level and my availability.
  const mention = { ...message, mentions: ["me"] };
  const level = (notifyLevel: "all" | "mentions" | "none", kind: "public" | "dm" = "public") => ({ kind, notifyLevel });
  it.each([
    ["level all: the open room notifies", { ...args, room: level("all") }, true],
    ["level all: another room's plain message does not", { ...args, room: level("all"), activeRoomId: "r2" }, false],
    ["level mentions: a plain message in the open room does not", { ...args, room: level("mentions") }, false],
    ["level mentions: a mention does", { ...args, room: level("mentions"), message: mention }, true],
    ["level mentions: a mention in another room does", { ...args, room: level("mentions"), activeRoomId: "r2", message: mention }, true],
    ["level mentions: a plain DM does not", { ...args, room: level("mentions", "dm"), activeRoomId: "r2" }, false],
    ["level none: nothing, not even a mention", { ...args, room: level("none"), message: mention }, false],
    ["level none: nor a DM", { ...args, room: level("none", "dm") }, false],
    ["away: still notified", { ...args, availability: "away" as const }, true],
    ["online: notified", { ...args, availability: "online" as const }, true],
    ["DND: not even the open room", { ...args, availability: "dnd" as const }, false],
    ["DND: not even a mention in a room set to all", { ...args, room: level("all"), message: mention, availability: "dnd" as const }, false],
    ["DND: not even a DM", { ...args, room: level("all", "dm"), activeRoomId: "r2", availability: "dnd" as const }, false],
  ])("%s", (_name, input, expected) => {
    expect(shouldNotify(input)).toBe(expected);
  });
});
