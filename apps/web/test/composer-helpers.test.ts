import { describe, expect, it } from "vitest";
import { excerptOf, plainBody, plainExcerpt } from "../src/features/chat/chat-ui.js";
import { insertMention, matchMembers, mentionAt } from "../src/features/chat/mention-complete.js";
import { reactorNames } from "../src/features/chat/reactions/ReactionBar.js";

describe("mention completion", () => {
  it.each([
    ["@", 1, { start: 0, query: "" }],
    ["hi @an", 6, { start: 3, query: "an" }],
    ["hi @an there", 6, { start: 3, query: "an" }],
    ["(@bo", 4, { start: 1, query: "bo" }],
    ["mail@an", 7, null],
    ["@ana b", 6, null],
    ["hi", 2, null],
  ])("%j at %i", (text, caret, expected) => {
    expect(mentionAt(text, caret)).toEqual(expected);
  });

  const members = [
    { id: "1", nickname: "ana" },
    { id: "2", nickname: "Anders" },
    { id: "3", nickname: "Bob Lee" },
    { id: "4", nickname: "diana" },
    { id: "me", nickname: "anne" },
  ];
  it("puts prefix matches first, then inner matches, never me", () => {
    expect(matchMembers(members, "an", "me", "en").map((m) => m.nickname)).toEqual(["ana", "Anders", "diana"]);
    expect(matchMembers(members, "", "me", "en").map((m) => m.nickname)).toEqual(["ana", "Anders", "Bob Lee", "diana"]);
    expect(matchMembers(members, "zz", "me", "en")).toEqual([]);
  });

  it("matches Chinese nicknames by substring and lists them in pinyin order in zh-CN", () => {
    const people = [
      { id: "1", nickname: "张伟" }, // zhāng wěi
      { id: "2", nickname: "王伟" }, // wáng wěi
      { id: "3", nickname: "李伟明" }, // lǐ wěi míng
      { id: "4", nickname: "伟哥" }, // wěi gē
      { id: "5", nickname: "Alice" },
    ];
    // Prefix matches first, then inner ones, each in pinyin order.
    expect(matchMembers(people, "伟", null, "zh-CN").map((m) => m.nickname)).toEqual(["伟哥", "李伟明", "王伟", "张伟"]);
    expect(matchMembers(people, "", null, "zh-CN").map((m) => m.nickname)).toEqual(["李伟明", "王伟", "伟哥", "张伟", "Alice"]);
    expect(matchMembers(people, "", null, "en").map((m) => m.nickname)[0]).toBe("Alice");
  });

  it("replaces the typed mention and puts the caret after it", () => {
    expect(insertMention("hi @an", 3, 6, "ana")).toEqual({ text: "hi @ana ", caret: 8 });
    expect(insertMention("hi @b there", 3, 5, "Bob Lee")).toEqual({ text: "hi @Bob Lee there", caret: 12 });
  });
});

describe("reaction tooltips", () => {
  const labels = { you: "you", others: (names: string, count: number) => `${names} and ${count} others` };
  const users = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `u${i}`, nickname: `user${i}` }));
  it("lists me first as you", () => {
    expect(reactorNames([{ id: "a", nickname: "ana" }, { id: "me", nickname: "me" }], "me", labels, "en")).toBe("you and ana");
  });
  it("cuts long lists", () => {
    expect(reactorNames(users(10), null, labels, "en")).toBe("user0, user1, user2, user3, user4, user5, user6, user7 and 2 others");
  });
});

describe("reply excerpts", () => {
  it("keep the first line, cut", () => {
    expect(excerptOf("  first\nsecond")).toBe("first");
    expect(excerptOf("x".repeat(200), 10)).toBe("xxxxxxxxx…");
  });
});

describe("plain excerpts", () => {
  it.each([
    ["The **release** is _almost_ ready", "The release is almost ready"],
    ["> quoted `code` and ~~old~~", "quoted code and old"],
    ["snake_case and 2*3*4", "snake_case and 2*3*4"],
    ["*emph*, then", "emph, then"],
  ])("%j", (input, expected) => {
    expect(plainExcerpt(input)).toBe(expected);
  });
});

describe("plain bodies (light rows)", () => {
  it.each([
    ["Deploy **today**", "Deploy today"],
    ["Steps:\n- build it\n- _ship_ it\n1. done", "Steps:\n• build it\n• ship it\n• done"],
    ["> quoted\n\nreply", "quoted\n\nreply"],
    ["Try:\n```ts\nconst x = 1;\n```", "Try:\nconst x = 1;"],
  ])("%j", (input, expected) => {
    expect(plainBody(input)).toBe(expected);
  });
});
