import type { RoomSummary } from "@parley/shared";
import { highlightRanges } from "@parley/shared";
import { describe, expect, it } from "vitest";
import { excerptAround, searchRequest } from "../src/features/search/search-request.js";

const room = (id: string, kind: "public" | "dm", name: string) => ({ id, kind, name }) as RoomSummary;
const rooms = [room("general", "public", "general"), room("r2", "public", "Design"), room("dm:a:b", "dm", "bob")];
const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);

describe("searchRequest", () => {
  it("turns the box into a request, resolving in: among my rooms", () => {
    expect(searchRequest("deploy in:#design from:@alice after:2026-11-01", rooms, utc)).toEqual({
      ok: true,
      terms: ["deploy"],
      payload: { terms: ["deploy"], roomId: "r2", from: "alice", after: Date.UTC(2026, 10, 2) },
    });
    expect(searchRequest("hi in:@Bob", rooms, utc)).toMatchObject({ ok: true, payload: { roomId: "dm:a:b" } });
  });
  it("has:file asks for messages with files only, alone or with words", () => {
    expect(searchRequest("has:file", rooms, utc)).toEqual({ ok: true, terms: [], payload: { terms: [], hasFile: true } });
    expect(searchRequest("invoice has:files in:#design", rooms, utc)).toEqual({ ok: true, terms: ["invoice"], payload: { terms: ["invoice"], roomId: "r2", hasFile: true } });
    expect(searchRequest("invoice", rooms, utc)).toMatchObject({ ok: true, payload: { terms: ["invoice"] } });
    expect(searchRequest("invoice", rooms, utc)).not.toHaveProperty("payload.hasFile");
  });
  it("refuses a room I am not in, and what the parser refuses", () => {
    expect(searchRequest("x in:#secret", rooms, utc)).toEqual({ ok: false, error: { code: "SEARCH_NO_ROOM", value: "#secret" } });
    expect(searchRequest("x in:@general", rooms, utc)).toEqual({ ok: false, error: { code: "SEARCH_NO_ROOM", value: "@general" } });
    expect(searchRequest("   ", rooms, utc)).toEqual({ ok: false, error: { code: "SEARCH_EMPTY" } });
  });
});

describe("excerptAround", () => {
  it("keeps a short lead as it is and cuts a long one at a word", () => {
    const short = "the deploy failed";
    expect(excerptAround(short, highlightRanges(short, ["deploy"]))).toEqual({ text: short, ranges: [[4, 10]], cut: false });
    const long = `${"word ".repeat(30)}deploy failed`;
    const r = excerptAround(long, highlightRanges(long, ["deploy"]), 20);
    expect(r.cut).toBe(true);
    expect(r.text.startsWith("word ")).toBe(true);
    const [[s, e]] = r.ranges as [[number, number]];
    expect(r.text.slice(s, e)).toBe("deploy");
  });
});
