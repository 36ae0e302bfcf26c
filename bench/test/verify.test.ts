import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStorage } from "../../apps/server/src/storage/sqlite/sqlite-storage.js";
import { judge, sequenceDiff, verifyAgainstDb, type ClientReport, type Row, type SendRecord, type Verdict } from "../src/lib/verify.js";

/**
 * The fault test's verdict is the only thing standing between a delivery bug and a green run, so
 * every count gets a world where it must be non-zero, next to a clean world where every count is
 * zero (a verdict that always says 0 fails the clean case's neighbours; one that always complains
 * fails the clean case).
 */

interface World {
  rows: Row[];
  rooms: { id: string; last_seq: number }[];
  members: { room_id: string; user_id: string }[];
  clients: ClientReport[];
}

const row = (room_id: string, seq: number, id: string, author_id: string, client_id: string | null, body: string, changed = false): Row => ({
  room_id,
  seq,
  id,
  kind: "text",
  author_id,
  client_id,
  body,
  changed,
});

/**
 * Room A: u1, u2 and their sends; room B: u1's send after a history message from a user the test
 * does not run (like the fault test's setup user). Client 0 (u1) holds whole rooms; client 1 (u2)
 * runs with a 2-message window, so it holds the suffix [m2, m3] of A.
 */
function cleanWorld(): World {
  return {
    rows: [
      row("A", 1, "m1", "u1", "k1", "c0 #0"),
      row("A", 2, "m2", "u2", "k4", "c1 #0"),
      row("A", 3, "m3", "u1", "k2", "c0 #1"),
      row("B", 1, "m5", "setup", "s1", "history"),
      row("B", 2, "m4", "u1", "k3", "c0 #2"),
    ],
    rooms: [
      { id: "A", last_seq: 3 },
      { id: "B", last_seq: 2 },
    ],
    members: [
      { room_id: "A", user_id: "u1" },
      { room_id: "A", user_id: "u2" },
      { room_id: "B", user_id: "u1" },
    ],
    clients: [
      {
        index: 0,
        userId: "u1",
        windowSize: Infinity,
        sends: [
          { clientId: "k1", roomId: "A", body: "c0 #0", counter: 0 },
          { clientId: "k2", roomId: "A", body: "c0 #1", counter: 1 },
          { clientId: "k3", roomId: "B", body: "c0 #2", counter: 2 },
        ],
        failed: [],
        pending: [],
        timelines: {
          A: { ids: ["m1", "m2", "m3"], firstSeq: 1, loaded: true },
          B: { ids: ["m5", "m4"], firstSeq: 1, loaded: true },
        },
      },
      {
        index: 1,
        userId: "u2",
        windowSize: 2,
        sends: [{ clientId: "k4", roomId: "A", body: "c1 #0", counter: 0 }],
        failed: [],
        pending: [],
        timelines: { A: { ids: ["m2", "m3"], firstSeq: 2, loaded: true } },
      },
    ],
  };
}

const ZERO = { lost: 0, duplicated: 0, gaps: 0, missing: 0, extra: 0, misordered: 0, phantoms: 0, reordered: 0 };
type Counts = Omit<Verdict, "stored" | "details">;

const run = (w: World) => judge(w.rows, w.rooms, w.members, w.clients);
const counts = (v: Verdict): Counts => {
  const { stored: _stored, details: _details, ...rest } = v;
  return rest;
};
/** Client `i` of the world, which must exist. */
const client = (w: World, i: number) => w.clients[i]!;
const timeline = (w: World, i: number, roomId: string) => client(w, i).timelines[roomId]!;
const addSend = (w: World, i: number, send: SendRecord) => (client(w, i).sends = [...client(w, i).sends, send]);
const setTimeline = (w: World, i: number, roomId: string, ids: string[], firstSeq = 1) => {
  client(w, i).timelines = { ...client(w, i).timelines, [roomId]: { ids, firstSeq, loaded: true } };
};

describe("judge", () => {
  it("finds nothing wrong in a clean world, and counts every test send as stored", () => {
    const verdict = run(cleanWorld());
    expect(counts(verdict)).toEqual(ZERO);
    expect(verdict.stored).toBe(4);
    expect(verdict.details).toEqual([]);
  });

  // Each case breaks the clean world in one way and names every count that must move.
  const cases: { name: string; breakIt: (w: World) => void; expected: Partial<Counts> }[] = [
    {
      name: "a hole in a room's seqs (a history row gone, last_seq unchanged)",
      breakIt: (w) => {
        w.rows = w.rows.filter((r) => r.id !== "m5");
        setTimeline(w, 0, "B", ["m4"], 2);
      },
      // Client 0 holds what the database has; only the database is wrong.
      expected: { gaps: 1 },
    },
    {
      name: "last_seq past the last row",
      breakIt: (w) => (w.rooms[0] = { id: "A", last_seq: 4 }),
      expected: { gaps: 1 },
    },
    {
      name: "a send that is not in the database",
      breakIt: (w) => addSend(w, 0, { clientId: "k9", roomId: "A", body: "c0 #3", counter: 3 }),
      expected: { lost: 1 },
    },
    {
      name: "a send stored in another room",
      breakIt: (w) => (client(w, 0).sends = client(w, 0).sends.map((s) => (s.clientId === "k3" ? { ...s, roomId: "A" } : s))),
      expected: { lost: 1 },
    },
    {
      name: "a send stored but given up on by the client (marked failed)",
      breakIt: (w) => (client(w, 0).failed = ["k2"]),
      expected: { lost: 1 },
    },
    {
      name: "one send stored twice under its client id, and held twice by both clients",
      breakIt: (w) => {
        w.rows.splice(3, 0, row("A", 4, "m6", "u1", "k2", "c0 #1"));
        w.rooms[0] = { id: "A", last_seq: 4 };
        setTimeline(w, 0, "A", ["m1", "m2", "m3", "m6"]);
        setTimeline(w, 1, "A", ["m3", "m6"], 3);
      },
      expected: { duplicated: 1 },
    },
    {
      name: "one body stored twice under two client ids (the second a phantom)",
      breakIt: (w) => {
        w.rows.splice(3, 0, row("A", 4, "m6", "u1", "k2-again", "c0 #1"));
        w.rooms[0] = { id: "A", last_seq: 4 };
        setTimeline(w, 0, "A", ["m1", "m2", "m3", "m6"]);
        setTimeline(w, 1, "A", ["m3", "m6"], 3);
      },
      expected: { duplicated: 1, phantoms: 1 },
    },
    {
      name: "one author's sends stored in another order than written",
      breakIt: (w) => {
        w.rows[0] = row("A", 1, "m1", "u1", "k2", "c0 #1");
        w.rows[2] = row("A", 3, "m3", "u1", "k1", "c0 #0");
      },
      expected: { reordered: 1 },
    },
    {
      name: "a client missing one id in the middle",
      breakIt: (w) => setTimeline(w, 0, "A", ["m1", "m3"]),
      expected: { missing: 1 },
    },
    {
      name: "a client missing the room's last id",
      breakIt: (w) => setTimeline(w, 0, "B", ["m5"]),
      expected: { missing: 1 },
    },
    {
      name: "a client holding one id twice",
      breakIt: (w) => setTimeline(w, 0, "A", ["m1", "m2", "m2", "m3"]),
      expected: { extra: 1 },
    },
    {
      name: "a duplicate in place of a loss (same length as the room)",
      breakIt: (w) => setTimeline(w, 0, "A", ["m1", "m2", "m2"]),
      // A position-by-position diff would call this one difference; it is one loss and one extra.
      expected: { missing: 1, extra: 1 },
    },
    {
      name: "a client holding an id the room does not have",
      breakIt: (w) => setTimeline(w, 0, "A", ["m1", "m2", "m3", "m4"]),
      expected: { extra: 1 },
    },
    {
      name: "a client holding the room's ids in another order",
      breakIt: (w) => setTimeline(w, 0, "A", ["m2", "m1", "m3"]),
      expected: { misordered: 1 },
    },
    {
      name: "a member room the client never loaded",
      breakIt: (w) => (client(w, 0).timelines = { A: timeline(w, 0, "A") }),
      expected: { missing: 2 },
    },
    {
      name: "a windowed client whose window has a hole",
      breakIt: (w) => setTimeline(w, 1, "A", ["m3"], 2),
      expected: { missing: 1 },
    },
    {
      name: "a windowed client holding more than its window size",
      breakIt: (w) => setTimeline(w, 1, "A", ["m1", "m2", "m3"], 1),
      expected: { extra: 1 },
    },
    {
      name: "a windowed client that stopped before the room's end",
      breakIt: (w) => setTimeline(w, 1, "A", ["m1", "m2"], 1),
      // Its range is the last two seqs (2, 3): it lacks m3, and m1 lies outside its window.
      expected: { missing: 1, extra: 1 },
    },
    {
      name: "a windowed client with its window reordered",
      breakIt: (w) => setTimeline(w, 1, "A", ["m3", "m2"], 2),
      expected: { misordered: 1 },
    },
  ];

  it.each(cases)("counts $name", ({ breakIt, expected }) => {
    const w = cleanWorld();
    breakIt(w);
    const verdict = run(w);
    // Every count named is non-zero and exact; every other count stays zero.
    expect(Object.values(expected).every((n) => n > 0)).toBe(true);
    expect(counts(verdict)).toEqual({ ...ZERO, ...expected });
    expect(verdict.details.length).toBeGreaterThan(0);
  });

  it("matches an edited or deleted send by its client id alone, and never counts deleted bodies as duplicates", () => {
    const w = cleanWorld();
    w.rows[0] = row("A", 1, "m1", "u1", "k1", "c0 #0 edited", true);
    w.rows[2] = row("A", 3, "m3", "u1", "k2", "", true);
    w.rows[4] = row("B", 2, "m4", "u1", "k3", "", true);
    expect(counts(run(w))).toEqual(ZERO);
    // Unchanged, the same body under another client id is still a duplicate, and a wrong body a loss.
    const v = cleanWorld();
    v.rows[2] = row("A", 3, "m3", "u1", "k2", "c0 #1 wrong");
    expect(counts(run(v))).toEqual({ ...ZERO, lost: 1 });
  });

  it("accepts a windowed client holding a shorter suffix than its window", () => {
    const w = cleanWorld();
    setTimeline(w, 1, "A", ["m3"], 3);
    expect(counts(run(w))).toEqual(ZERO);
  });

  it("counts several faults at once, each in its own count", () => {
    const w = cleanWorld();
    w.rooms[1] = { id: "B", last_seq: 3 };
    addSend(w, 0, { clientId: "k9", roomId: "A", body: "c0 #3", counter: 3 });
    setTimeline(w, 0, "A", ["m2", "m1"]);
    setTimeline(w, 0, "B", ["m5", "m4", "m4"]);
    expect(counts(run(w))).toEqual({ ...ZERO, gaps: 1, lost: 1, missing: 1, misordered: 1, extra: 1 });
  });
});

describe("sequenceDiff", () => {
  it.each([
    { expected: [], actual: [], diff: { missing: 0, extra: 0, misordered: 0, firstIndex: -1 } },
    { expected: ["a", "b", "c"], actual: ["a", "b", "c"], diff: { missing: 0, extra: 0, misordered: 0, firstIndex: -1 } },
    { expected: ["a", "b", "c"], actual: ["a", "c"], diff: { missing: 1, extra: 0, misordered: 0, firstIndex: 1 } },
    { expected: ["a", "b", "c"], actual: ["a", "b", "b"], diff: { missing: 1, extra: 1, misordered: 0, firstIndex: 2 } },
    { expected: ["a", "b", "c"], actual: ["a", "b", "c", "c"], diff: { missing: 0, extra: 1, misordered: 0, firstIndex: 3 } },
    { expected: ["a", "b", "c"], actual: ["x", "a", "b", "c"], diff: { missing: 0, extra: 1, misordered: 0, firstIndex: 0 } },
    // Moving one id (c to the front) shifts every position, but only one id is out of order.
    { expected: ["a", "b", "c", "d"], actual: ["d", "a", "b", "c"], diff: { missing: 0, extra: 0, misordered: 1, firstIndex: 0 } },
    { expected: ["a", "b", "c", "d"], actual: ["d", "c", "b", "a"], diff: { missing: 0, extra: 0, misordered: 3, firstIndex: 0 } },
    { expected: ["a", "b"], actual: [], diff: { missing: 2, extra: 0, misordered: 0, firstIndex: 0 } },
  ])("$actual against $expected", ({ expected, actual, diff }) => {
    expect(sequenceDiff(expected, actual)).toEqual(diff);
  });
});

describe("verifyAgainstDb", () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  // The same SQL the fault test runs, on the server's own schema: a renamed column fails here,
  // not in the middle of a fault run.
  it("reads the server's schema, and sees a hole written into it", async () => {
    dir = mkdtempSync(join(tmpdir(), "parley-verify-"));
    const dbPath = join(dir, "parley.sqlite");
    const storage = new SqliteStorage(dbPath);
    await storage.init();
    const user = await storage.createUser({ nickname: "verify-user", passwordHash: "x" });
    const room = await storage.createRoom({ name: "verify-room", createdBy: user.id });
    await storage.addMember(room.id, user.id);
    const bodies = ["one", "two", "three"];
    const messages = [];
    for (const [i, body] of bodies.entries()) {
      messages.push((await storage.appendMessage({ roomId: room.id, authorId: user.id, clientId: `k${i}`, kind: "text", body, mentions: [] })).message);
    }
    await storage.close();

    const report: ClientReport = {
      index: 0,
      userId: user.id,
      windowSize: Infinity,
      sends: bodies.map((body, i) => ({ clientId: `k${i}`, roomId: room.id, body, counter: i })),
      failed: [],
      pending: [],
      // Only the test room: the user is not a member of the default room in this database.
      timelines: { [room.id]: { ids: messages.map((m) => m.id), firstSeq: 1, loaded: true } },
    };
    const clean = await verifyAgainstDb(dbPath, [report]);
    expect(counts(clean)).toEqual(ZERO);
    expect(clean.stored).toBe(3);

    const db = new Database(dbPath);
    db.prepare("DELETE FROM messages WHERE room_id = ? AND seq = 2").run(room.id);
    db.close();
    const broken = await verifyAgainstDb(dbPath, [report]);
    // Seq 2 is gone from the room (a hole), its send is lost, and the client holds an id the
    // database no longer has.
    expect(counts(broken)).toEqual({ ...ZERO, gaps: 1, lost: 1, extra: 1 });
  });
});
