import { describe, expect, it } from "vitest";
import { countsAsUnread, countsAsUnreadMention } from "../src/index.js";

const m = (over: Partial<{ kind: "text" | "join" | "leave"; authorId: string; deletedAt: number | null; mentions: string[] }> = {}) => ({
  kind: "text" as const,
  authorId: "other",
  deletedAt: null,
  mentions: [],
  ...over,
});

describe("countsAsUnread", () => {
  it.each([
    ["another person's text", m(), true],
    ["my own text", m({ authorId: "me" }), false],
    ["a join notice", m({ kind: "join" }), false],
    ["a leave notice", m({ kind: "leave" }), false],
    ["a deleted text", m({ deletedAt: 1 }), false],
  ])("%s: %s", (_what, message, expected) => {
    expect(countsAsUnread(message, "me")).toBe(expected);
  });

  it("does not count a muted author's messages, mentions included, for the reader who muted them", () => {
    const muted = { other: true as const };
    expect(countsAsUnread(m(), "me", muted)).toBe(false);
    expect(countsAsUnreadMention(m({ mentions: ["me"] }), "me", muted)).toBe(false);
    expect(countsAsUnread(m({ authorId: "third" }), "me", muted)).toBe(true);
    // The map is data: a name on Object.prototype is nobody muted.
    expect(countsAsUnread(m({ authorId: "constructor" }), "me", {})).toBe(true);
  });

  it("counts a mention only on a message that counts, and only for the one mentioned", () => {
    expect(countsAsUnreadMention(m({ mentions: ["me"] }), "me")).toBe(true);
    expect(countsAsUnreadMention(m({ mentions: ["someone"] }), "me")).toBe(false);
    expect(countsAsUnreadMention(m({ mentions: ["me"], deletedAt: 5 }), "me")).toBe(false);
    expect(countsAsUnreadMention(m({ mentions: ["me"] }), undefined)).toBe(false);
  });
});
