import { describe, expect, it } from "vitest";
import { z } from "zod";
import { newMessageId } from "../../src/storage/message-id.js";

describe("newMessageId", () => {
  it("is a version 7 UUID carrying its time, so ids made later sort after earlier ones", () => {
    const a = newMessageId(1_700_000_000_000);
    const b = newMessageId(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(z.uuid().safeParse(a).success).toBe(true);
    expect(parseInt(a.replace(/-/g, "").slice(0, 12), 16)).toBe(1_700_000_000_000);
    expect(a < b).toBe(true);
  });

  it("is unique within one millisecond, and takes any clock a test gives it", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newMessageId(42)));
    expect(ids.size).toBe(10_000);
    expect(() => newMessageId(-5)).not.toThrow();
    expect(() => newMessageId(2 ** 60)).not.toThrow();
    expect(() => newMessageId(1.5)).not.toThrow();
  });
});
