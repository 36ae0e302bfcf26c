import { describe, expect, it } from "vitest";
import { judgeChanges, type ClientMessages } from "../src/lib/verify-changes.js";

const rows = [
  { room_id: "A", seq: 1, id: "m1", body: "edited", deleted: 0, edited: 1 },
  { room_id: "A", seq: 2, id: "m2", body: "", deleted: 1, edited: 0 },
  { room_id: "A", seq: 3, id: "m3", body: "plain", deleted: 0, edited: 0 },
];
const reactions = [
  { room_id: "A", seq: 3, emoji: "👍", user_id: "u1" },
  { room_id: "A", seq: 3, emoji: "👍", user_id: "u2" },
  { room_id: "A", seq: 3, emoji: "🎉", user_id: "u2" },
];
const agreeing = (): ClientMessages => ({
  index: 0,
  messages: [
    { id: "m1", body: "edited", deleted: false, reactions: {} },
    { id: "m2", body: "", deleted: true, reactions: {} },
    { id: "m3", body: "plain", deleted: false, reactions: { "🎉": ["u2"], "👍": ["u2", "u1"] } },
  ],
});

describe("judgeChanges", () => {
  it("finds nothing in a client that holds every message as stored, in any reaction order", () => {
    const v = judgeChanges(rows, reactions, [agreeing()]);
    expect(v).toMatchObject({ compared: 3, diverged: 0, edited: 1, deleted: 1, reactions: 3 });
    expect(v.details).toEqual([]);
  });

  it("ignores emoji held with nobody on them", () => {
    const c = agreeing();
    c.messages = c.messages.map((m) => (m.id === "m1" ? { ...m, reactions: { "👀": [] } } : m));
    expect(judgeChanges(rows, reactions, [c]).diverged).toBe(0);
  });

  it.each([
    ["an old body", { id: "m1", body: "original", deleted: false, reactions: {} }, /body/],
    ["a missed delete", { id: "m2", body: "was here", deleted: false, reactions: {} }, /deleted false/],
    ["a missing reaction user", { id: "m3", body: "plain", deleted: false, reactions: { "🎉": ["u2"], "👍": ["u1"] } }, /reactions/],
    ["an extra emoji", { id: "m3", body: "plain", deleted: false, reactions: { "🎉": ["u2"], "👍": ["u1", "u2"], "😂": ["u1"] } }, /reactions/],
    ["a wrong user", { id: "m3", body: "plain", deleted: false, reactions: { "🎉": ["u1"], "👍": ["u1", "u2"] } }, /reactions/],
    ["an unknown message", { id: "m9", body: "?", deleted: false, reactions: {} }, /not in the database/],
  ])("counts %s as diverged", (_what, held, why) => {
    const c = agreeing();
    c.messages = [...c.messages.filter((m) => m.id !== held.id), held];
    const v = judgeChanges(rows, reactions, [c, agreeing()]);
    expect(v.diverged).toBe(1);
    expect(v.details[0]).toMatch(why);
  });
});
