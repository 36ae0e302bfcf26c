import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SystemEventSchema, systemEventOf } from "../src/index.js";

/** What zod's schema makes of a body: the wire format's declaration, which `systemEventOf` must match. */
function byZod(body: string): unknown {
  try {
    const parsed = SystemEventSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const system = (body: string) => ({ kind: "system" as const, body });

/** Values near the schema's edges: right and wrong types, ids at and over their length limits. */
const junk = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 4 }), fc.constant([]), fc.constant({}), fc.jsonValue({ maxDepth: 2 }));
const id = fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constant(""), fc.constant("x".repeat(128)), fc.constant("x".repeat(129)), fc.constant("名".repeat(128)), junk);
const userRef = fc.oneof(
  fc.record({ id, nickname: fc.oneof(fc.string({ maxLength: 6 }), junk) }, { requiredKeys: [] }),
  fc.record({ id, nickname: fc.string({ maxLength: 6 }), extra: junk }),
  junk,
);
const type = fc.oneof(fc.constantFrom("kick", "ban", "unban", "invite", "role", "rename", "topic", "inviteOnly", "mute", "Kick", ""), junk);
const event = fc.record(
  {
    type,
    target: userRef,
    reason: fc.oneof(fc.string({ maxLength: 6 }), junk),
    role: fc.oneof(fc.constantFrom("owner", "moderator", "member", "admin"), junk),
    from: fc.oneof(fc.string({ maxLength: 6 }), junk),
    to: fc.oneof(fc.string({ maxLength: 6 }), junk),
    topic: fc.oneof(fc.string({ maxLength: 6 }), junk),
    inviteOnly: fc.oneof(fc.boolean(), junk),
    unknown: junk,
  },
  { requiredKeys: ["type"] },
);

describe("systemEventOf", () => {
  it("reads each event the server writes", () => {
    const target = { id: "u1", nickname: "carol" };
    for (const e of [
      { type: "kick", target },
      { type: "ban", target, reason: "spam" },
      { type: "unban", target },
      { type: "invite", target },
      { type: "role", target, role: "moderator" },
      { type: "rename", from: "a", to: "b" },
      { type: "topic", topic: "" },
      { type: "inviteOnly", inviteOnly: true },
    ]) {
      expect(systemEventOf(system(JSON.stringify(e)))).toEqual(e);
    }
  });

  it("is null for other messages, broken JSON and events this version does not know", () => {
    expect(systemEventOf({ kind: "text", body: JSON.stringify({ type: "topic", topic: "x" }) })).toBeNull();
    expect(systemEventOf(system("{"))).toBeNull();
    expect(systemEventOf(system(JSON.stringify({ type: "mute", target: { id: "u1", nickname: "c" } })))).toBeNull();
  });

  it("accepts exactly what SystemEventSchema accepts, and returns what it returns (unknown keys dropped)", () => {
    fc.assert(
      fc.property(fc.oneof(event, junk), (value) => {
        const body = JSON.stringify(value);
        expect(systemEventOf(system(body))).toEqual(byZod(body));
      }),
      { numRuns: 2_000 },
    );
  });
});
