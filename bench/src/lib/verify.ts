import Database from "better-sqlite3";

/**
 * The fault tests' verdict, computed against the database itself (read after the server stopped),
 * never against what the server says: the database is what survives.
 */

/** One `client.send` the test made. */
export interface SendRecord {
  clientId: string;
  roomId: string;
  body: string;
  /** Per-client counter: the order the client wrote its messages in. */
  counter: number;
}

/** What one client holds at the end, taken from its store. */
export interface ClientReport {
  index: number;
  userId: string;
  sends: readonly SendRecord[];
  /** Client ids still pending with status `failed`: the product gave up on them. */
  failed: readonly string[];
  /** Client ids still pending (any status). */
  pending: readonly string[];
  /**
   * Messages the client keeps per room: Infinity for a client that holds whole rooms, else the
   * window size it ran with (it then holds a contiguous suffix of each room, at most that long).
   */
  windowSize: number;
  /** Each held room's timeline: message ids in window order, the seq of the first, and whether it was loaded. */
  timelines: Readonly<Record<string, HeldTimeline>>;
}

export interface HeldTimeline {
  ids: readonly string[];
  /** The seq the client says its first id has (0 when it holds none). */
  firstSeq: number;
  loaded: boolean;
}

export interface Verdict {
  /** Text messages with a client id written by the test users. */
  stored: number;
  /** Sends missing from the database (or stored with another room/body), plus sends that failed. */
  lost: number;
  /** Extra copies of one send: same (author, clientId), or same (room, author, body). */
  duplicated: number;
  /** Holes in a room's seqs in the database (or seqs outside 1..last_seq). */
  gaps: number;
  /**
   * Over every client and member room: ids the database has that the client does not hold (in
   * the whole room, or in its window's range for a windowed client).
   */
  missing: number;
  /**
   * Over every client and member room: ids the client holds that do not belong there: unknown
   * ids, a second copy of an id, ids before its window's range (a window longer than its size).
   */
  extra: number;
  /** Over every client and member room: ids held in another order than the room's seqs (the fewest that would have to move). */
  misordered: number;
  /** Stored test messages that no send produced. */
  phantoms: number;
  /** Pairs of one author's messages in one room stored in another order than they were written. */
  reordered: number;
  /** Human-readable findings, first few of each kind. */
  details: string[];
}

/** One row of the `messages` table, the columns the verdict reads. */
export interface Row {
  room_id: string;
  seq: number;
  id: string;
  kind: string;
  author_id: string;
  client_id: string | null;
  body: string;
  /**
   * The message was edited or deleted after it was sent (issue 11): its stored body is no longer
   * the sent one, so it is matched by (author, clientId) alone (1/0 from SQLite, or a boolean).
   */
  changed: number | boolean;
}

/** A room's head: the last seq allocated and the last change version. */
export interface RoomHead {
  id: string;
  last_seq: number;
  last_version: number;
}

/** One row of the `members` table. */
export interface Membership {
  room_id: string;
  user_id: string;
}

/**
 * Where the verdict reads what survived: the server's own tables, read without the server (SQLite
 * file, or a PostgreSQL database). The fault test reads SQLite, the cluster test PostgreSQL; both
 * judge the same rows the same way.
 */
export interface StoreReader {
  /** Every row of `messages`, in (room, seq) order. */
  messages(): Promise<Row[]>;
  rooms(): Promise<RoomHead[]>;
  members(): Promise<Membership[]>;
  close(): Promise<void>;
}

/**
 * The SELECT both readers run: `changed` is computed in SQL so that the row mapping stays trivial.
 * Plain SQL common to SQLite and PostgreSQL.
 */
export const MESSAGES_SQL =
  "SELECT room_id, seq, id, kind, author_id, client_id, body, (edited_at IS NOT NULL OR deleted_at IS NOT NULL) AS changed FROM messages ORDER BY room_id, seq";
export const ROOMS_SQL = "SELECT id, last_seq, last_version FROM rooms";
export const MEMBERS_SQL = "SELECT room_id, user_id FROM members";

/** A reader over a SQLite file, opened read-only (the server may still be running: WAL readers do not block it). */
export function sqliteReader(dbPath: string): StoreReader {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const messages = db.prepare(MESSAGES_SQL);
  const rooms = db.prepare(ROOMS_SQL);
  const members = db.prepare(MEMBERS_SQL);
  return {
    messages: () => Promise.resolve(messages.all() as Row[]),
    rooms: () => Promise.resolve(rooms.all() as RoomHead[]),
    members: () => Promise.resolve(members.all() as Membership[]),
    close: () => Promise.resolve(void db.close()),
  };
}

const MAX_DETAILS_PER_KIND = 5;

/** The verdict from the stored state `reader` gives (closed afterwards) and what the clients reported. */
export async function verifyAgainstStore(reader: StoreReader, clients: readonly ClientReport[]): Promise<Verdict> {
  try {
    const [rows, rooms, members] = await Promise.all([reader.messages(), reader.rooms(), reader.members()]);
    return judge(rows, rooms, members, clients);
  } finally {
    await reader.close();
  }
}

/** The verdict against a SQLite database file (the single-node fault test's). */
export function verifyAgainstDb(dbPath: string, clients: readonly ClientReport[]): Promise<Verdict> {
  return verifyAgainstStore(sqliteReader(dbPath), clients);
}

/** The verdict from the database's rows (in room, seq order) and what the clients reported. Pure, for tests. */
export function judge(
  rows: readonly Row[],
  rooms: readonly Pick<RoomHead, "id" | "last_seq">[],
  members: readonly Membership[],
  clients: readonly ClientReport[],
): Verdict {
  const details: string[] = [];
  const counts = new Map<string, number>();
  const note = (kind: string, text: string) => {
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    if (n <= MAX_DETAILS_PER_KIND) details.push(`${kind}: ${text}`);
  };

  const testUsers = new Set(clients.map((c) => c.userId));
  const byRoom = new Map<string, Row[]>();
  for (const r of rows) {
    const list = byRoom.get(r.room_id) ?? [];
    list.push(r);
    byRoom.set(r.room_id, list);
  }

  // ---- each room's seqs are exactly 1..last_seq ----
  let gaps = 0;
  for (const room of rooms) {
    const list = byRoom.get(room.id) ?? [];
    const seen = new Set(list.map((r) => r.seq));
    for (let seq = 1; seq <= room.last_seq; seq++) {
      if (!seen.has(seq)) {
        gaps++;
        note("room-hole", `room ${room.id} has no seq ${seq} (last_seq ${room.last_seq})`);
      }
    }
    for (const r of list) {
      if (r.seq < 1 || r.seq > room.last_seq) {
        gaps++;
        note("room-hole", `room ${room.id} has seq ${r.seq} outside 1..${room.last_seq}`);
      }
    }
  }

  // ---- every send stored exactly once, as sent ----
  const testRows = rows.filter((r) => r.kind === "text" && r.client_id !== null && testUsers.has(r.author_id));
  const byClientKey = new Map<string, Row[]>();
  const byBodyKey = new Map<string, number>();
  for (const r of testRows) {
    const key = `${r.author_id}\u0000${r.client_id}`;
    byClientKey.set(key, [...(byClientKey.get(key) ?? []), r]);
    // An edited or deleted body says nothing about how often the sent body was stored.
    if (r.changed) continue;
    const bodyKey = `${r.room_id}\u0000${r.author_id}\u0000${r.body}`;
    byBodyKey.set(bodyKey, (byBodyKey.get(bodyKey) ?? 0) + 1);
  }
  let dupByClientId = 0;
  for (const [key, list] of byClientKey) {
    if (list.length > 1) {
      dupByClientId += list.length - 1;
      note("duplicate", `(author, clientId) ${key.replace("\u0000", ", ")} stored ${list.length} times`);
    }
  }
  let dupByBody = 0;
  for (const [key, n] of byBodyKey) {
    if (n > 1) {
      dupByBody += n - 1;
      note("duplicate", `(room, author, body) ${key.replaceAll("\u0000", ", ")} stored ${n} times`);
    }
  }

  const lostIds = new Set<string>();
  const sentKeys = new Set<string>();
  const counterOf = new Map<string, number>();
  for (const c of clients) {
    const failed = new Set(c.failed);
    for (const s of c.sends) {
      const key = `${c.userId}\u0000${s.clientId}`;
      sentKeys.add(key);
      counterOf.set(key, s.counter);
      const stored = byClientKey.get(key)?.[0];
      if (!stored) {
        lostIds.add(s.clientId);
        note("lost", `client ${c.index} send #${s.counter} (${s.clientId}) to ${s.roomId} is not in the database${failed.has(s.clientId) ? " (marked failed)" : ""}`);
      } else if (stored.room_id !== s.roomId || (stored.body !== s.body && !stored.changed)) {
        lostIds.add(s.clientId);
        note("lost", `client ${c.index} send #${s.counter} (${s.clientId}) stored as ${stored.room_id}/${JSON.stringify(stored.body)}`);
      } else if (failed.has(s.clientId)) {
        lostIds.add(s.clientId);
        note("lost", `client ${c.index} send #${s.counter} (${s.clientId}) is stored but the client marked it failed`);
      }
    }
  }
  let phantoms = 0;
  for (const key of byClientKey.keys()) {
    if (!sentKeys.has(key)) {
      phantoms++;
      note("phantom", `stored (author, clientId) ${key.replace("\u0000", ", ")} was never sent`);
    }
  }

  // ---- one author's messages in one room keep the order they were written in ----
  let reordered = 0;
  for (const [roomId, list] of byRoom) {
    const lastCounter = new Map<string, number>();
    for (const r of list) {
      if (r.client_id === null) continue;
      const counter = counterOf.get(`${r.author_id}\u0000${r.client_id}`);
      if (counter === undefined) continue;
      const prev = lastCounter.get(r.author_id);
      if (prev !== undefined && counter < prev) {
        reordered++;
        note("reordered", `room ${roomId} seq ${r.seq}: author ${r.author_id} send #${counter} stored after #${prev}`);
      }
      lastCounter.set(r.author_id, Math.max(prev ?? counter, counter));
    }
  }

  // ---- every client holds every member room: same ids, same order, nothing twice ----
  // A whole-room client must hold seqs 1..last; a windowed one a contiguous suffix that starts at
  // its first held seq, and never more than its window size (the range then starts later, and the
  // ids before it count as extra).
  let missing = 0;
  let extra = 0;
  let misordered = 0;
  const roomsOf = new Map<string, string[]>();
  for (const m of members) roomsOf.set(m.user_id, [...(roomsOf.get(m.user_id) ?? []), m.room_id]);
  for (const c of clients) {
    for (const roomId of roomsOf.get(c.userId) ?? []) {
      const list = byRoom.get(roomId) ?? [];
      const held = c.timelines[roomId];
      const lastSeq = list.length > 0 ? list[list.length - 1]!.seq : 0;
      const fromSeq = Number.isFinite(c.windowSize) ? Math.max(1, held?.ids.length ? held.firstSeq : 0, lastSeq - c.windowSize + 1) : 1;
      const expected = list.filter((r) => r.seq >= fromSeq).map((r) => r.id);
      if (!held?.loaded) {
        missing += expected.length;
        note("client-missing", `client ${c.index} has no loaded timeline for member room ${roomId} (${expected.length} messages)`);
        continue;
      }
      const diff = sequenceDiff(expected, held.ids);
      missing += diff.missing;
      extra += diff.extra;
      misordered += diff.misordered;
      const what = `client ${c.index}${Number.isFinite(c.windowSize) ? ` (window ${c.windowSize})` : ""} room ${roomId}`;
      const where = `first difference at position ${diff.firstIndex} (db ${expected.length} ids from seq ${fromSeq}, client ${held.ids.length} from seq ${held.firstSeq})`;
      if (diff.missing > 0) note("client-missing", `${what}: ${diff.missing} ids not held; ${where}`);
      if (diff.extra > 0) note("client-extra", `${what}: ${diff.extra} ids held that are not the room's or are held twice; ${where}`);
      if (diff.misordered > 0) note("client-misordered", `${what}: ${diff.misordered} ids out of seq order; ${where}`);
    }
  }

  return {
    stored: testRows.length,
    lost: lostIds.size,
    duplicated: Math.max(dupByClientId, dupByBody),
    gaps,
    missing,
    extra,
    misordered,
    phantoms,
    reordered,
    details: [...details, ...[...counts].filter(([, n]) => n > MAX_DETAILS_PER_KIND).map(([k, n]) => `${k}: ${n - MAX_DETAILS_PER_KIND} more`)],
  };
}

export interface SequenceDiff {
  /** Ids of `expected` that `actual` does not contain. */
  missing: number;
  /** Ids of `actual` that `expected` does not contain, plus every repeat of an id. */
  extra: number;
  /** Ids both hold, but in another order: how many would have to move (all held minus the longest run in order). */
  misordered: number;
  /** The first position where the two lists differ, -1 when they are equal. */
  firstIndex: number;
}

/**
 * How `actual` differs from `expected` (ids, each once, in order), in three separate counts so a
 * duplicate cannot hide a loss: a position-by-position count would see [a, b, b] against
 * [a, b, c] as one difference, while it is one id missing and one id extra.
 */
export function sequenceDiff(expected: readonly string[], actual: readonly string[]): SequenceDiff {
  const indexOf = new Map<string, number>();
  expected.forEach((id, i) => indexOf.set(id, i));
  const seen = new Set<string>();
  const order: number[] = [];
  let extra = 0;
  for (const id of actual) {
    const i = indexOf.get(id);
    if (i === undefined || seen.has(id)) {
      extra++;
      continue;
    }
    seen.add(id);
    order.push(i);
  }
  let firstIndex = -1;
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    if (expected[i] !== actual[i]) {
      firstIndex = i;
      break;
    }
  }
  return { missing: indexOf.size - seen.size, extra, misordered: order.length - longestIncreasingLength(order), firstIndex };
}

/** Length of the longest strictly increasing subsequence (patience sorting, O(n log n)). */
function longestIncreasingLength(values: readonly number[]): number {
  // tails[k]: the smallest last value of an increasing run of length k + 1 seen so far.
  const tails: number[] = [];
  for (const v of values) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tails[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    tails[lo] = v;
  }
  return tails.length;
}
