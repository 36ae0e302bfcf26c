import { describe, expect, it } from "vitest";
import { ClientPayloadSchemas, SEARCH_TERMS_MAX, highlightRanges, matchesAll, matchesTerm, parseSearch, termMode, termRanges } from "../src/index.js";

// A fixed "local" zone for the date filters: UTC days.
const utcDay = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);
const parse = (text: string) => parseSearch(text, utcDay);

describe("parseSearch", () => {
  it.each([
    ["hello world", ["hello", "world"]],
    ['"exact  phrase" word', ["exact phrase", "word"]],
    ['unclosed "quote runs to the end', ["unclosed", "quote runs to the end"]],
    ["Hello hello HELLO", ["Hello"]],
    ["re: 10:30 http://x", ["re:", "10:30", "http://x"]],
    ["简体中文 搜索", ["简体中文", "搜索"]],
  ])("%s -> terms %j", (text, terms) => {
    const r = parse(text);
    expect(r.ok && r.search.terms).toEqual(terms);
  });

  it("reads the filters anywhere, and dates as local days (after: from the next day, before: until that day)", () => {
    const r = parse("from:@Bob deploy in:#general after:2026-11-01 before:2026-11-20 failed");
    expect(r).toEqual({
      ok: true,
      search: {
        terms: ["deploy", "failed"],
        from: "Bob",
        inRoom: { kind: "public", name: "general" },
        after: Date.UTC(2026, 10, 2),
        before: Date.UTC(2026, 10, 20),
        hasFile: false,
      },
    });
    expect(parse("in:@alice hi").ok && (parse("in:@alice hi") as { search: { inRoom: unknown } }).search.inRoom).toEqual({ kind: "dm", name: "alice" });
    expect(parse("from:bob").ok).toBe(true);
  });

  it("refuses what it cannot search, with a reason", () => {
    expect(parse("   ")).toEqual({ ok: false, error: { code: "SEARCH_EMPTY" } });
    expect(parse('"" ""')).toEqual({ ok: false, error: { code: "SEARCH_EMPTY" } });
    expect(parse("after:2026-02-30 x")).toEqual({ ok: false, error: { code: "SEARCH_BAD_DATE", value: "2026-02-30" } });
    expect(parse("before:yesterday x")).toEqual({ ok: false, error: { code: "SEARCH_BAD_DATE", value: "yesterday" } });
    const many = Array.from({ length: SEARCH_TERMS_MAX + 1 }, (_, i) => `w${i}`).join(" ");
    expect(parse(many)).toEqual({ ok: false, error: { code: "SEARCH_TOO_MANY_TERMS" } });
    expect(parse("x".repeat(65))).toMatchObject({ ok: false, error: { code: "SEARCH_TERM_TOO_LONG" } });
    // Only filters is a search (all of Bob's messages).
    expect(parse("from:@bob").ok).toBe(true);
  });

  it("has:file (and the plurals and kinds people type) is a filter; another has: is a word", () => {
    for (const text of ["has:file", "HAS:FILES", "has:image", "has:attachments"]) {
      expect(parse(text)).toMatchObject({ ok: true, search: { terms: [], hasFile: true } });
    }
    expect(parse("report has:file")).toMatchObject({ ok: true, search: { terms: ["report"], hasFile: true } });
    expect(parse("has:cake")).toMatchObject({ ok: true, search: { terms: ["has:cake"], hasFile: false } });
  });
});

describe("the matching rule", () => {
  it("short terms are word prefixes, long and CJK terms are substrings, all case-insensitive", () => {
    expect(termMode("go")).toBe("word-prefix");
    expect(termMode("goo")).toBe("substring");
    expect(termMode("中")).toBe("substring");
    expect(matchesTerm("Going home", "go")).toBe(true);
    expect(matchesTerm("long ago", "go")).toBe(false);
    expect(matchesTerm("a-go-go", "go")).toBe(true);
    expect(matchesTerm("research", "search")).toBe(true);
    expect(matchesTerm("RESEARCH", "Arch")).toBe(true);
    expect(matchesTerm("我们说简体中文", "中文")).toBe(true);
    expect(matchesTerm("我们说简体中文", "英文")).toBe(false);
    expect(matchesTerm("café au lait", "cafe")).toBe(false);
    expect(matchesTerm("50% off", "0%")).toBe(false);
    expect(matchesTerm("50% off", "50%")).toBe(true);
    expect(matchesAll("deploy failed on friday", ["deploy", "fri"])).toBe(true);
    expect(matchesAll("deploy failed on friday", ["deploy", "monday"])).toBe(false);
    expect(matchesAll("anything", [])).toBe(true);
  });

  it("finds every place a term matches, and merges overlapping highlights", () => {
    expect(termRanges("Go go ago GO", "go")).toEqual([
      [0, 2],
      [3, 5],
      [10, 12],
    ]);
    expect(termRanges("aaaa", "aaa")).toEqual([[0, 3]]);
    expect(highlightRanges("searching research", ["search", "sea", "research"])).toEqual([
      [0, 6],
      [10, 18],
    ]);
    // Offsets are UTF-16, like String.slice: an emoji before a match counts two.
    expect(highlightRanges("😀 中文", ["中文"])).toEqual([[3, 5]]);
  });
});

describe("search:messages payload", () => {
  const schema = ClientPayloadSchemas["search:messages"];
  it("needs a term or a filter, bounded terms and a digit cursor", () => {
    expect(schema.safeParse({ terms: ["hello"] }).success).toBe(true);
    expect(schema.safeParse({ terms: [], from: "bob" }).success).toBe(true);
    expect(schema.safeParse({ terms: [] }).success).toBe(false);
    expect(schema.safeParse({ terms: ["  "] }).success).toBe(false);
    expect(schema.safeParse({ terms: ["x".repeat(65)] }).success).toBe(false);
    expect(schema.safeParse({ terms: Array.from({ length: 9 }, () => "a") }).success).toBe(false);
    expect(schema.safeParse({ terms: ["a"], cursor: "0" }).success).toBe(false);
    expect(schema.safeParse({ terms: ["a"], cursor: "12" }).success).toBe(true);
    expect(schema.safeParse({ terms: ["a"], limit: 51 }).success).toBe(false);
    expect(schema.safeParse({ terms: ["a"], extra: 1 }).success).toBe(false);
  });
  it("refuses, without throwing, a terms object with a hostile length (found by the fuzz test)", () => {
    const hostile = JSON.parse('{"terms":{"length":{"toString":{},"valueOf":{}}},"roomId":"general","cursor":"1"}');
    expect(() => schema.safeParse(hostile)).not.toThrow();
    expect(schema.safeParse(hostile).success).toBe(false);
  });
});
