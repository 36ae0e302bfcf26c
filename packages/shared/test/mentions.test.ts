import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LIMITS, findMentions, mentionIndex } from "../src/index.js";

const NICKS = ["ann", "Bob", "Ann Lee", "zoë", "x_y"];

describe("findMentions", () => {
  it.each<[string, string, string[]]>([
    ["no @", "hello ann", []],
    ["a plain mention", "hi @ann", ["ann"]],
    ["case-insensitive, reported as the known nickname", "hi @BOB!", ["Bob"]],
    ["at the start", "@bob hi", ["Bob"]],
    ["followed by punctuation", "@ann, @bob.", ["ann", "Bob"]],
    ["longest nickname first (nicknames with spaces)", "@ann lee hello", ["Ann Lee"]],
    ["shorter one when the longer does not end at a boundary", "@ann leeway", ["ann"]],
    ["not inside an e-mail address", "mail ann@bob.com", []],
    ["not a prefix of a longer word", "@bobby", []],
    ["not followed by a digit or underscore", "@bob2 @bob_", []],
    ["unknown nickname", "@carol", []],
    ["a lone @", "@ @", []],
    ["repeated mentions each count", "@bob @bob", ["Bob", "Bob"]],
    ["non-ASCII nickname", "hey @ZOË!", ["zoë"]],
    ["underscores in nicknames", "@x_y: ok", ["x_y"]],
    ["after a bracket", "(@ann)", ["ann"]],
    ["after a letter is not a mention", "a@ann", []],
  ])("%s: %j", (_what, body, expected) => {
    expect(findMentions(body, NICKS).map((m) => m.nickname)).toEqual(expected);
  });

  it("reports the exact span of each mention", () => {
    expect(findMentions("hi @Ann Lee!", NICKS)).toEqual([{ start: 3, end: 11, nickname: "Ann Lee" }]);
  });

  it("finds nothing without nicknames", () => {
    expect(findMentions("@ann", [])).toEqual([]);
  });

  it("property: every reported span starts with @ and reads as its nickname, in order, without overlap", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("@ann", "@Bob", "@ann lee", " ", "x", "@", ".", "_", "zoë", "@x_y"), { maxLength: 20 }), (parts) => {
        const body = parts.join("");
        const found = findMentions(body, NICKS);
        let last = -1;
        for (const m of found) {
          expect(body[m.start]).toBe("@");
          expect(body.slice(m.start + 1, m.end).toLowerCase()).toBe(m.nickname.toLowerCase());
          expect(m.start).toBeGreaterThan(last);
          last = m.end - 1;
        }
      }),
    );
  });
});

describe("findMentions limits", () => {
  it(`reports at most ${LIMITS.mentionsMax} distinct nicknames; repeats of those still count`, () => {
    const nicks = Array.from({ length: 80 }, (_, i) => `user${i}`);
    const body = `${nicks.map((n) => `@${n}`).join(" ")} @user0`;
    const found = findMentions(body, nicks);
    expect(new Set(found.map((m) => m.nickname)).size).toBe(LIMITS.mentionsMax);
    expect(found.at(-1)?.nickname).toBe("user0");
  });

  it("takes a prebuilt index and answers like the array form", () => {
    const body = "hi @Ann Lee and @bob, @zoë!";
    expect(findMentions(body, mentionIndex(NICKS))).toEqual(findMentions(body, NICKS));
  });

  it("stays fast for a body of @s in a room of 10,000 members (a Map lookup per candidate, not a scan)", () => {
    const index = mentionIndex(Array.from({ length: 10_000 }, (_, i) => `member ${i}`));
    const started = Date.now();
    for (const body of ["@".repeat(LIMITS.messageMax), "@member 1 ".repeat(400), "@m ".repeat(1333)]) findMentions(body, index);
    // Generous for a busy machine: the old O(@ x members) scan took seconds here.
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("matches case-insensitively even where lower-casing changes the length (spans stay in the body)", () => {
    expect(findMentions("@İx hi", ["i̇x"])).toEqual([{ start: 0, end: 3, nickname: "i̇x" }]);
  });
});
