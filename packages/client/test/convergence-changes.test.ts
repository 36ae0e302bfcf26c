import type { Message, Reaction } from "@parley/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyHeldCopies, applyMessageUpdate, completeChangeCatchUp, mergeMessages } from "../src/reconcile.js";
import type { ChatState } from "../src/state.js";
import { ME, msg, range, stateWithRoom } from "./fixtures.js";

/**
 * ADR 0009's promise as properties: whatever order and duplication the client sees updates,
 * pages and change-feed fetches of a set of messages in, it ends with the stored state of each.
 *
 * A small server model: five messages (seqs and versions 1-5, all by someone else, the second
 * mentions me), then a random run of edits, deletes and reaction sets, each taking the room's next
 * version; an operation the server would refuse or answer "unchanged" takes none (an edit or a
 * reaction on a deleted message, a second delete, a reaction already so).
 */

const N = 5;
const USERS = [
  { id: "a", nickname: "A" },
  { id: "b", nickname: "B" },
  { id: ME.id, nickname: ME.nickname },
];
const EMOJI = ["👍", "🎉"];

type Op = { kind: "edit" | "delete" | "react"; target: number; user: number; emoji: number; on: boolean };
const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom("edit" as const, "delete" as const, "react" as const, "react" as const),
  target: fc.integer({ min: 1, max: N }),
  user: fc.integer({ min: 0, max: USERS.length - 1 }),
  emoji: fc.integer({ min: 0, max: EMOJI.length - 1 }),
  on: fc.boolean(),
});

interface Server {
  /** The room's last version. */
  last: number;
  /** The copy each change produced, by version (1-5: the creations). */
  byVersion: Map<number, Message>;
  /** Each message's state as of version `v` (its latest copy at or below `v`). */
  at(v: number): Message[];
}

function initialMessages(): Message[] {
  return range(1, N).map((seq) => msg(seq, { version: seq, mentions: seq === 2 ? [ME.id] : [] }));
}

function simulate(ops: Op[]): Server {
  const current = new Map(initialMessages().map((m) => [m.seq, m]));
  const byVersion = new Map([...current.values()].map((m) => [m.version, m]));
  let last = N;
  for (const op of ops) {
    const m = current.get(op.target)!;
    if (m.deletedAt !== null) continue; // refused (MESSAGE_DELETED) or unchanged: no version
    let next: Message;
    if (op.kind === "edit") next = { ...m, body: `edit ${last + 1}`, editedAt: 10_000 + last + 1 };
    else if (op.kind === "delete") next = { ...m, body: "", mentions: [], reactions: [], deletedAt: 20_000 + last + 1 };
    else {
      const user = USERS[op.user]!;
      const emoji = EMOJI[op.emoji]!;
      const reaction = m.reactions.find((r) => r.emoji === emoji);
      const has = reaction?.users.some((u) => u.id === user.id) ?? false;
      if (has === op.on) continue; // unchanged
      let reactions: Reaction[];
      if (op.on) reactions = reaction ? m.reactions.map((r) => (r === reaction ? { emoji, users: [...r.users, user] } : r)) : [...m.reactions, { emoji, users: [user] }];
      else reactions = m.reactions.map((r) => (r === reaction ? { emoji, users: r.users.filter((u) => u.id !== user.id) } : r)).filter((r) => r.users.length > 0);
      next = { ...m, reactions };
    }
    last += 1;
    next = { ...next, version: last };
    current.set(m.seq, next);
    byVersion.set(last, next);
  }
  return {
    last,
    byVersion,
    at(v) {
      const state = new Map<number, Message>();
      for (let version = 1; version <= Math.min(v, last); version++) {
        const m = byVersion.get(version)!;
        state.set(m.seq, m);
      }
      return [...state.values()].sort((a, b) => a.seq - b.seq);
    },
  };
}

/** The client after loading the room's latest page (seqs `from`-5) read at version `v`. */
function client(server: Server, from: number, v: number): ChatState {
  const s = stateWithRoom({ lastSeq: N, lastVersion: N, lastReadSeq: 0, unreadCount: N, mentionCount: 1 });
  return mergeMessages(s, "r1", server.at(v).filter((m) => m.seq >= from), "latest", undefined, null, v);
}

/** What the held messages must end as, and the counts the server's summary would show. */
function expectConverged(s: ChatState, server: Server, seqs: number[]) {
  const final = server.at(server.last);
  const byId = s.messages.r1 ?? {};
  expect(Object.values(byId).map((m) => m.seq).sort()).toEqual(seqs);
  for (const m of final) if (seqs.includes(m.seq)) expect(byId[m.id]).toEqual(m);
}

function expectCounts(s: ChatState, server: Server) {
  const final = server.at(server.last);
  const unread = final.filter((m) => m.deletedAt === null).length;
  const mentions = final.find((m) => m.seq === 2)!.deletedAt === null ? 1 : 0;
  expect(s.rooms.r1).toMatchObject({ unreadCount: unread, mentionCount: mentions });
}

describe("convergence of changing messages (property)", () => {
  type Event = { kind: "live"; v: number } | { kind: "page"; v: number } | { kind: "feed"; v: number };
  const eventArb = (last: number): fc.Arbitrary<Event> =>
    fc.oneof(
      fc.record({ kind: fc.constant("live" as const), v: fc.integer({ min: N + 1, max: Math.max(N + 1, last) }) }),
      fc.record({ kind: fc.constant("page" as const), v: fc.integer({ min: N, max: last }) }),
      fc.record({ kind: fc.constant("feed" as const), v: fc.integer({ min: N, max: last }) }),
    );

  it("every update delivered at least once, in any order, duplicated, between pages and feeds: the latest state of each message", () => {
    const scenario = fc.array(opArb, { maxLength: 40 }).chain((ops) => {
      const server = simulate(ops);
      const updates = server.last - N;
      return fc.tuple(
        fc.constant(server),
        fc.array(eventArb(server.last), { maxLength: 40 }),
        // Where each update lands among the other events.
        fc.array(fc.nat(), { minLength: updates, maxLength: updates }),
      );
    });
    fc.assert(
      fc.property(scenario, ([server, extras, positions]) => {
        const events: Event[] = [...extras];
        positions.forEach((p, i) => events.splice(p % (events.length + 1), 0, { kind: "live", v: N + 1 + i }));
        let s = client(server, 1, N);
        for (const e of events) {
          if (e.kind === "live") {
            const copy = server.byVersion.get(e.v);
            if (copy) s = applyMessageUpdate(s, copy).state;
          } else if (e.kind === "page") {
            s = mergeMessages(s, "r1", server.at(e.v), "newer", undefined, null, e.v);
          } else {
            // A whole change catch-up from the client's version, read at version v.
            const since = s.timelines.r1!.version;
            const rows = server.at(e.v).filter((m) => m.version > since);
            s = applyHeldCopies(s, "r1", rows);
            s = completeChangeCatchUp(s, "r1", rows.length ? Math.max(...rows.map((m) => m.version)) : null);
          }
        }
        expectConverged(s, server, range(1, N));
        expectCounts(s, server);
        // The version never claims more than the room has.
        expect(s.timelines.r1!.version).toBeLessThanOrEqual(server.last);
      }),
      { numRuns: 400 },
    );
  });

  /**
   * With loss: updates may never arrive, pages (old or new, older history coming into the window)
   * and change catch-ups (each split into its fetch and its completion, with pages merged in
   * between, as sync.ts runs them) in any order. The timeline version must never claim a change
   * the held messages miss: one final catch-up from it then brings every held message to its
   * stored state.
   */
  it("with lost updates, the timeline version is always safe: one catch-up from it converges", () => {
    type Step = Event | { kind: "older"; v: number } | { kind: "feedEnd" };
    const stepArb = (last: number): fc.Arbitrary<Step> =>
      fc.oneof(eventArb(last), fc.record({ kind: fc.constant("older" as const), v: fc.integer({ min: N, max: last }) }), fc.constant({ kind: "feedEnd" as const }));
    const scenario = fc
      .array(opArb, { maxLength: 40 })
      .chain((ops) => {
        const server = simulate(ops);
        return fc.tuple(fc.constant(server), fc.integer({ min: N, max: server.last }), fc.array(stepArb(server.last), { maxLength: 50 }));
      });
    fc.assert(
      fc.property(scenario, ([server, firstPageVersion, steps]) => {
        // The window starts with seqs 3-5; 1-2 come in with older pages.
        let s = client(server, 3, firstPageVersion);
        let run: { since: number; maxSeen: number | null; floor: number } | null = null;
        const notePage = (v: number) => {
          if (run) run.floor = Math.min(run.floor, v);
        };
        for (const e of steps) {
          if (e.kind === "live") {
            const copy = server.byVersion.get(e.v);
            if (copy) s = applyMessageUpdate(s, copy).state;
          } else if (e.kind === "page") {
            notePage(e.v);
            s = mergeMessages(s, "r1", server.at(e.v).filter((m) => m.seq >= 3), "newer", undefined, null, e.v);
          } else if (e.kind === "older") {
            notePage(e.v);
            s = mergeMessages(s, "r1", server.at(e.v).filter((m) => m.seq < 3), "older", undefined, null, e.v);
          } else if (e.kind === "feed") {
            // One fetch of a run (starting one if none runs), read at version v.
            run ??= { since: s.timelines.r1!.version, maxSeen: null, floor: Infinity };
            const since = Math.max(run.since, run.maxSeen ?? 0);
            const rows = server.at(e.v).filter((m) => m.version > since);
            s = applyHeldCopies(s, "r1", rows);
            for (const m of rows) run.maxSeen = Math.max(run.maxSeen ?? 0, m.version);
          } else if (run) {
            s = completeChangeCatchUp(s, "r1", run.maxSeen, run.floor);
            run = null;
          }
          expect(s.timelines.r1!.version).toBeLessThanOrEqual(server.last);
        }
        // The catch-up after the next resync (nothing else runs meanwhile).
        const since = s.timelines.r1!.version;
        const rows = server.at(server.last).filter((m) => m.version > since);
        s = applyHeldCopies(s, "r1", rows);
        s = completeChangeCatchUp(s, "r1", rows.length ? Math.max(...rows.map((m) => m.version)) : null);
        const heldSeqs = Object.values(s.messages.r1 ?? {}).map((m) => m.seq).sort();
        expect(heldSeqs.length === 3 || heldSeqs.length === 5).toBe(true);
        expectConverged(s, server, heldSeqs);
        expect(s.timelines.r1!.version).toBe(server.last);
      }),
      { numRuns: 600 },
    );
  });
});
