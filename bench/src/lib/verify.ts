import Database from "better-sqlite3";

/**
 * The fault test's verdict, computed against the database file itself (opened read-only after the
 * server stopped), never against what the server says: the database is what survives.
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
  /** Each held room's timeline: message ids in window order, and whether it was loaded. */
  timelines: Readonly<Record<string, { ids: readonly string[]; loaded: boolean }>>;
}

export interface Verdict {
  /** Text messages with a client id written by the test users. */
  stored: number;
  /** Sends missing from the database (or stored with another room/body), plus sends that failed. */
  lost: number;
  /** Extra copies of one send: same (author, clientId), or same (room, author, body). */
  duplicated: number;
  /** Holes in a room's seqs, plus every position where a client's timeline differs from the database's. */
  gaps: number;
  /** Stored test messages that no send produced. */
  phantoms: number;
  /** Pairs of one author's messages in one room stored in another order than they were written. */
  reordered: number;
  /** Human-readable findings, first few of each kind. */
  details: string[];
}

interface Row {
  room_id: string;
  seq: number;
  id: string;
  kind: string;
  author_id: string;
  client_id: string | null;
  body: string;
}

const MAX_DETAILS_PER_KIND = 5;

export function verifyAgainstDb(dbPath: string, clients: readonly ClientReport[]): Verdict {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT room_id, seq, id, kind, author_id, client_id, body FROM messages ORDER BY room_id, seq").all() as Row[];
    const rooms = db.prepare("SELECT id, last_seq FROM rooms").all() as { id: string; last_seq: number }[];
    const members = db.prepare("SELECT room_id, user_id FROM members").all() as { room_id: string; user_id: string }[];
    return judge(rows, rooms, members, clients);
  } finally {
    db.close();
  }
}

function judge(
  rows: readonly Row[],
  rooms: readonly { id: string; last_seq: number }[],
  members: readonly { room_id: string; user_id: string }[],
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
      } else if (stored.room_id !== s.roomId || stored.body !== s.body) {
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

  // ---- every client holds every room it is a member of: same ids, same order, no holes ----
  const roomsOf = new Map<string, string[]>();
  for (const m of members) roomsOf.set(m.user_id, [...(roomsOf.get(m.user_id) ?? []), m.room_id]);
  for (const c of clients) {
    for (const roomId of roomsOf.get(c.userId) ?? []) {
      const expected = (byRoom.get(roomId) ?? []).map((r) => r.id);
      const held = c.timelines[roomId];
      if (!held?.loaded) {
        gaps += expected.length;
        note("client-gap", `client ${c.index} has no loaded timeline for member room ${roomId} (${expected.length} messages)`);
        continue;
      }
      const diff = sequenceDiff(expected, held.ids);
      if (diff.count > 0) {
        gaps += diff.count;
        note("client-gap", `client ${c.index} room ${roomId}: ${diff.count} positions differ, first at seq ${diff.firstIndex + 1} (db ${expected.length} ids, client ${held.ids.length})`);
      }
    }
  }

  return {
    stored: testRows.length,
    lost: lostIds.size,
    duplicated: Math.max(dupByClientId, dupByBody),
    gaps,
    phantoms,
    reordered,
    details: [...details, ...[...counts].filter(([, n]) => n > MAX_DETAILS_PER_KIND).map(([k, n]) => `${k}: ${n - MAX_DETAILS_PER_KIND} more`)],
  };
}

/** Positions where two id lists differ (a length difference counts each missing or extra position). */
export function sequenceDiff(expected: readonly string[], actual: readonly string[]): { count: number; firstIndex: number } {
  let count = Math.abs(expected.length - actual.length);
  let firstIndex = count > 0 ? Math.min(expected.length, actual.length) : -1;
  const n = Math.min(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    if (expected[i] !== actual[i]) {
      count++;
      if (firstIndex === -1 || i < firstIndex) firstIndex = i;
    }
  }
  return { count, firstIndex };
}
