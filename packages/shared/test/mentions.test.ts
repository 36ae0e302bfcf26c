import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findMentions } from "../src/index.js";

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
