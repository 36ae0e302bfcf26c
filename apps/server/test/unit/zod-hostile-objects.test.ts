import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as shared from "@parley/shared";
import { ClientPayloadSchemas } from "@parley/shared";

/**
 * Upstream behaviour, reported the way we would file it: in zod 4 a failed type check does not stop
 * the checks after it, so `z.string().max(n)` reads `input.length` of a non-string and compares it
 * with a number. An object whose `length` has non-function `toString`/`valueOf` (plain JSON can
 * carry that: `{"length":{"toString":{},"valueOf":{}}}`) makes that comparison throw
 * "Cannot convert object to primitive value" out of `safeParse`, which promises never to throw.
 * Inside a Socket.IO listener that throw ended the process (issue 10).
 */
const hostile = JSON.parse('{"length":{"toString":{},"valueOf":{}}}') as unknown;

describe("regression: zod safeParse throws on a non-string whose length cannot become a number", () => {
  it("upstream: z.string().max() throws from safeParse (when this fails, zod fixed it: keep our guard anyway)", () => {
    expect(() => z.string().max(5).safeParse(hostile)).toThrow(/Cannot convert object to primitive value/);
  });

  it("every shared payload schema refuses such a value in every string field without throwing", () => {
    for (const [event, schema] of Object.entries(ClientPayloadSchemas)) {
      for (const field of ["body", "name", "roomId", "query", "clientId", "userId"]) {
        const result = (() => {
          try {
            return schema.safeParse({ roomId: "general", [field]: hostile });
          } catch (error) {
            return { thrown: `${event}.${field}: ${(error as Error).message}` };
          }
        })();
        expect(result, `${event}.${field}`).not.toHaveProperty("thrown");
      }
    }
  });

  it("no schema the shared package exports throws on hostile shapes, at the top or in any field", () => {
    const hostiles: unknown[] = [
      hostile,
      JSON.parse('{"length":{"length":{"toString":{}}},"toString":{},"valueOf":{},"constructor":{"prototype":{}},"__proto__":{"x":1}}'),
      JSON.parse('{"length":1e400}'),
      { length: -1 },
      Buffer.from("hello"),
      [hostile],
      Object.create(null),
    ];
    const schemas = Object.entries(shared as Record<string, unknown>).filter((entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType);
    expect(schemas.length).toBeGreaterThan(10);
    const fields = ["body", "name", "roomId", "query", "clientId", "userId", "nickname", "password", "id", "seq", "limit", "afterSeq", "beforeSeq"];
    for (const [name, schema] of schemas) {
      for (const value of hostiles) {
        for (const input of [value, ...fields.map((field) => ({ roomId: "general", [field]: value }))]) {
          expect(() => schema.safeParse(input), name).not.toThrow();
        }
      }
    }
  });
});
