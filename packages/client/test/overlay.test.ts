import type { Message } from "@parley/shared";
import { describe, expect, it } from "vitest";
import { addChange, applyMessageUpdate, mergeMessages, removeChange, updateChange } from "../src/reconcile.js";
import { selectChangesForMessage, selectMessageView } from "../src/selectors.js";
import type { ChatState, PendingChange } from "../src/state.js";
import { ME, msg, range, stateWithRoom } from "./fixtures.js";

/**
 * The stored copy is the server's state; my pending changes are laid over it by the selector, and
 * the view keeps its identity while nothing it is built from changed (React re-renders otherwise).
 */

const A = { id: "a", nickname: "A" };
const MINE = { id: ME.id, nickname: ME.nickname };

function withMessages(...messages: Message[]): ChatState {
  return mergeMessages(stateWithRoom({ lastSeq: messages.length }), "r1", messages, "latest", undefined, null, 10);
}

let nextId = 0;
function change(kind: PendingChange["kind"], extra: Partial<PendingChange> = {}): PendingChange {
  return { changeId: `ch${++nextId}`, kind, roomId: "r1", messageId: "m1", createdAt: 777, status: "sending", attempts: 0, error: null, ...extra };
}
const view = (s: ChatState, id = "m1") => selectMessageView(s, "r1", id);

describe("selectMessageView overlays", () => {
  const base = msg(1, { version: 10, body: "stored", reactions: [{ emoji: "👍", users: [A] }] });
  const cases: { name: string; changes: PendingChange[]; stored?: Message; expected: Partial<Message> & { pending: boolean } }[] = [
    { name: "no changes: the stored copy", changes: [], expected: { body: "stored", editedAt: null, pending: false } },
    { name: "a pending edit shows its body, edited when it was made", changes: [change("edit", { body: "new", baseVersion: 10 })], expected: { body: "new", editedAt: 777, pending: true } },
    { name: "a pending delete shows my message deleted", stored: { ...base, authorId: ME.id }, changes: [change("delete")], expected: { body: "", deletedAt: 777, reactions: [], removedByModerator: false, pending: true } },
    {
      name: "a moderator's pending delete of someone else's message shows it removed by a moderator",
      stored: { ...base, authorId: "a", authorNickname: "A" },
      changes: [change("delete")],
      expected: { body: "", deletedAt: 777, removedByModerator: true, pending: true },
    },
    {
      name: "a reaction with a new emoji is appended with me",
      changes: [change("react", { emoji: "🎉", on: true })],
      expected: { reactions: [{ emoji: "👍", users: [A] }, { emoji: "🎉", users: [MINE] }], pending: true },
    },
    { name: "a reaction with an existing emoji adds me last", changes: [change("react", { emoji: "👍", on: true })], expected: { reactions: [{ emoji: "👍", users: [A, MINE] }], pending: true } },
    {
      name: "clearing my reaction removes me, and the emoji when nobody is left",
      stored: { ...base, reactions: [{ emoji: "👍", users: [A, MINE] }, { emoji: "🎉", users: [MINE] }] },
      changes: [change("react", { emoji: "🎉", on: false }), change("react", { emoji: "👍", on: false })],
      expected: { reactions: [{ emoji: "👍", users: [A] }], pending: true },
    },
    { name: "clearing a reaction I do not have changes nothing shown", changes: [change("react", { emoji: "🎉", on: false })], expected: { reactions: [{ emoji: "👍", users: [A] }], pending: true } },
    { name: "setting a reaction I already have adds nothing", stored: { ...base, reactions: [{ emoji: "👍", users: [MINE] }] }, changes: [change("react", { emoji: "👍", on: true })], expected: { reactions: [{ emoji: "👍", users: [MINE] }], pending: true } },
    { name: "changes apply in the order made: the last edit shows", changes: [change("edit", { body: "one" }), change("edit", { body: "two" })], expected: { body: "two", pending: true } },
    { name: "an edit after a pending delete does not bring the message back", changes: [change("delete"), change("edit", { body: "x" })], expected: { body: "", deletedAt: 777, pending: true } },
    { name: "nothing shows over a message deleted on the server", stored: { ...base, body: "", deletedAt: 5, reactions: [] }, changes: [change("edit", { body: "x" }), change("react", { emoji: "🎉", on: true })], expected: { body: "", deletedAt: 5, reactions: [], pending: true } },
    { name: "a failed change is not shown (the stored copy is)", changes: [change("edit", { body: "lost", status: "failed", error: "EDIT_CONFLICT" })], expected: { body: "stored", editedAt: null, pending: false } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let s = withMessages(c.stored ?? base);
      for (const ch of c.changes) s = addChange(s, ch);
      expect(view(s)).toMatchObject(c.expected);
      // The stored copy itself is never touched.
      expect(s.messages.r1?.m1).toEqual(c.stored ?? base);
    });
  }

  it("a message not held has no view", () => {
    expect(selectMessageView(withMessages(msg(1)), "r1", "m9")).toBeUndefined();
    expect(selectMessageView(withMessages(msg(1)), "r2", "m1")).toBeUndefined();
  });
});

describe("selectMessageView keeps its identity", () => {
  it("across calls and unrelated updates; a new one when its stored copy or its changes change", () => {
    let s = withMessages(...range(1, 3).map((q) => msg(q)));
    const first = view(s);
    expect(view(s)).toBe(first);
    // A change to another message: this view stays.
    s = addChange(s, change("edit", { messageId: "m2", body: "x" }));
    expect(view(s)).toBe(first);
    expect(view(s, "m2")).toMatchObject({ body: "x", pending: true });
    const m2 = view(s, "m2");
    // A change to this message: a new view; asked again: the same one.
    s = addChange(s, change("react", { emoji: "👍", on: true }));
    const withReaction = view(s);
    expect(withReaction).not.toBe(first);
    expect(view(s)).toBe(withReaction);
    expect(view(s, "m2")).toBe(m2);
    // A newer stored copy: a new view; an equal-version copy keeps the stored object and the view.
    s = applyMessageUpdate(s, msg(1, { version: 11, body: "edited elsewhere" })).state;
    const newer = view(s);
    expect(newer).not.toBe(withReaction);
    expect(newer).toMatchObject({ body: "edited elsewhere", pending: true });
    s = applyMessageUpdate(s, msg(1, { version: 11, body: "edited elsewhere" })).state;
    expect(view(s)).toBe(newer);
    // The change acknowledged (removed): back to a plain view of the stored copy.
    s = removeChange(s, s.changeOrder.find((id) => s.changes[id]!.messageId === "m1")!);
    expect(view(s)).toMatchObject({ pending: false, reactions: [] });
  });

  it("selectChangesForMessage: a stable array, the same empty one for messages without changes", () => {
    let s = withMessages(msg(1), msg(2));
    const none = selectChangesForMessage(s, "m1");
    expect(none).toEqual([]);
    expect(selectChangesForMessage(s, "m2")).toBe(none);
    const edit = change("edit", { body: "x" });
    s = addChange(s, edit);
    const list = selectChangesForMessage(s, "m1");
    expect(list).toEqual([edit]);
    expect(selectChangesForMessage(s, "m1")).toBe(list);
    expect(selectChangesForMessage(s, "m2")).toBe(none);
    // Another message's change rebuilds the index; this message's array survives it.
    s = addChange(s, change("delete", { messageId: "m2" }));
    expect(selectChangesForMessage(s, "m1")).toBe(list);
    // Its own change updated: a new array with the new object.
    s = updateChange(s, edit.changeId, { status: "failed", error: "EDIT_CONFLICT" });
    const failed = selectChangesForMessage(s, "m1");
    expect(failed).not.toBe(list);
    expect(failed[0]).toMatchObject({ status: "failed", error: "EDIT_CONFLICT" });
  });
});
