import { describe, expect, it } from "vitest";
import { messageFromPg, roomHeadFromPg, toSafeInteger } from "../src/lib/pg-store.js";

/**
 * The cluster test's verdict reads PostgreSQL through node-postgres, which returns BIGINT columns
 * as strings: the mapping to the verdict's rows must turn them into exact numbers, or refuse.
 */

describe("toSafeInteger", () => {
  it.each([
    { value: "42", expected: 42 },
    { value: "0", expected: 0 },
    { value: "-3", expected: -3 },
    { value: 17, expected: 17 },
    { value: String(Number.MAX_SAFE_INTEGER), expected: Number.MAX_SAFE_INTEGER },
  ])("reads $value as $expected", ({ value, expected }) => {
    expect(toSafeInteger(value, "x")).toBe(expected);
  });

  it.each([
    { value: "9007199254740993", why: "past 2^53: it would round" },
    { value: "1.5", why: "not an integer" },
    { value: "", why: "empty" },
    { value: null, why: "null" },
    { value: 2.5, why: "a fraction" },
  ])("refuses $value ($why)", ({ value }) => {
    expect(() => toSafeInteger(value, "messages.seq")).toThrow(/messages\.seq/);
  });
});

describe("row mapping", () => {
  it("maps a messages row: bigint strings to numbers, a null client id kept, changed as a boolean", () => {
    const raw = { room_id: "r1", seq: "12", id: "m1", kind: "join", author_id: "u1", client_id: null, body: "", changed: false };
    expect(messageFromPg(raw)).toEqual({ room_id: "r1", seq: 12, id: "m1", kind: "join", author_id: "u1", client_id: null, body: "", changed: false });
    expect(messageFromPg({ ...raw, kind: "text", client_id: "k1", body: "hi", changed: true })).toMatchObject({ client_id: "k1", body: "hi", changed: true });
  });

  it("maps a rooms row", () => {
    expect(roomHeadFromPg({ id: "r1", last_seq: "300", last_version: "310" })).toEqual({ id: "r1", last_seq: 300, last_version: 310 });
  });
});
