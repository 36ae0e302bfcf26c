import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SEARCH_PAGE_DEFAULT } from "@parley/shared";
import { prepareStorage } from "../../apps/server/src/domain/setup.js";
import { SqliteStorage } from "../../apps/server/src/storage/sqlite/sqlite-storage.js";
import type { SearchQuery } from "../../apps/server/src/storage/storage.js";
import { benchQueries, corpus, type CorpusMessage, type CorpusShape } from "./lib/search-corpus.js";
import { seededRandom } from "./lib/wait.js";

/**
 * `pnpm bench:search`: message search on SQLite over a large history. Prints exactly one line on
 * stdout,
 *
 *   search: messages=<n> p95_ms=<x> insert_slowdown=<fraction>
 *
 * and everything else (progress, per-kind latencies, whether the goals were met) on stderr. It is a
 * measurement: it exits 0 when a goal is missed, non-zero only on an error.
 *
 * - messages: the history searched, seeded through `SqliteStorage.appendMessage` (the server's own
 *   append path and group commits, which keep the search index up to date as they go).
 * - p95_ms: 95th percentile of `searchMessages` wall time over the bench's searches (see
 *   `benchQueries`), pages of SEARCH_PAGE_DEFAULT, by a user who is a member of every room.
 * - insert_slowdown: 1 - (appends/s with the search index) / (appends/s without it), the first
 *   `--throughput-messages` appends of the same corpus into the seeded database and into a second
 *   one that the storage does not index (UnindexedSqliteStorage), a group commit into one and then
 *   the same into the other, alternately.
 */

const GOALS = { p95Ms: 100, insertSlowdown: 0.3 } as const;

/**
 * Appends in flight at once: one chunk is one group-commit transaction (see bench/src/seed.ts),
 * 5,000 keeps commits few while one chunk's promises and rows stay a few MB.
 */
const CHUNK = 5_000;

/** The history's shape: rooms and authors (both Zipf-skewed in the corpus). */
const SHAPE: CorpusShape = { rooms: 8, authors: 25 };

/** Timestamps: one message every 1..40 s, so 1M messages span about eight months (the date filters' range). */
const MAX_GAP_MS = 40_000;

interface Options {
  messages: number;
  throughputMessages: number;
  queries: number;
  seed: number;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: "string", default: "1000000" },
      // 200k: long enough that the FTS segment merges of a growing index are part of the cost, short
      // enough that the comparison seed (without the index) adds well under a minute.
      "throughput-messages": { type: "string", default: "200000" },
      queries: { type: "string", default: "200" },
      seed: { type: "string", default: "1" },
      keep: { type: "boolean", default: false },
    },
    strict: true,
  });
  const int = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${value}`);
    return n;
  };
  const messages = int("messages", values.messages, 1000);
  return {
    messages,
    throughputMessages: Math.min(messages, int("throughput-messages", values["throughput-messages"], 1000)),
    queries: int("queries", values.queries, 1),
    seed: int("seed", values.seed, 0),
    keep: values.keep,
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** A database being seeded: its storage, the ids of its users and rooms, and what was written. */
interface Seeding {
  storage: SqliteStorage;
  userId: string;
  roomIds: string[];
  authorIds: string[];
  written: number;
  /** Ms spent in appends (generating the messages excluded). */
  appendMs: number;
  /** createdAt of the first and the last message. */
  span: [number, number];
  /** Some identifiers that occur in the history (rare terms that do exist). */
  identifiers: string[];
  next: () => CorpusMessage;
}

/**
 * The storage with its search indexing left out: the same schema, appends and group commits, only
 * no message goes into the search index, so the difference in throughput is the index's cost.
 */
class UnindexedSqliteStorage extends SqliteStorage {
  protected override indexSearchDocs(): number {
    return 0;
  }
}

/** A new database at `path` with the bench's users and rooms, indexed for search or not. */
async function openSeeding(path: string, options: Options, withIndex: boolean): Promise<Seeding> {
  // The storage's clock moves 1..40 s per read, from a PRNG of its own, so the corpus is the same
  // whatever number of clock reads an append takes.
  let clock = Date.now() - (options.messages + 10) * MAX_GAP_MS;
  const tick = seededRandom(options.seed + 1);
  const now = () => (clock += 1 + Math.floor(tick() * MAX_GAP_MS));
  const storage = await prepareStorage(withIndex ? new SqliteStorage(path, { now }) : new UnindexedSqliteStorage(path, { now }));
  const user = await storage.createUser({ nickname: "searcher", passwordHash: "bench$no-login" });
  const authorIds: string[] = [];
  for (let i = 0; i < SHAPE.authors; i++) authorIds.push((await storage.createUser({ nickname: `author${i}`, passwordHash: "bench$no-login" })).id);
  const roomIds: string[] = [];
  for (let i = 0; i < SHAPE.rooms; i++) {
    const room = await storage.createRoom({ name: `room-${i}`, createdBy: authorIds[0]! });
    roomIds.push(room.id);
    for (const id of [user.id, ...authorIds]) await storage.addMember(room.id, id);
  }
  return { storage, userId: user.id, roomIds, authorIds, written: 0, appendMs: 0, span: [Number.NaN, Number.NaN], identifiers: [], next: corpus(options.seed, SHAPE) };
}

/** Appends the next `count` messages of the corpus as one group commit, timing the appends alone. */
async function appendChunk(s: Seeding, count: number): Promise<void> {
  const batch = Array.from({ length: count }, s.next);
  if (s.identifiers.length < 500 && (s.written / CHUNK) % 7 === 0) {
    for (const m of batch) {
      const id = /PR-\d+|db-\d+\.internal|#\d{5}/.exec(m.body);
      if (id) s.identifiers.push(id[0]);
    }
  }
  const started = performance.now();
  const stored = await Promise.all(
    batch.map((m) =>
      s.storage.appendMessage({ roomId: s.roomIds[m.room]!, authorId: s.authorIds[m.author]!, clientId: null, kind: "text", body: m.body, mentions: [] }),
    ),
  );
  s.appendMs += performance.now() - started;
  if (s.written === 0) s.span[0] = stored[0]!.message.createdAt;
  s.span[1] = stored[stored.length - 1]!.message.createdAt;
  s.written += count;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), "parley-search-bench-"));
  try {
    log(`search bench: ${options.messages} messages, insert throughput over the first ${options.throughputMessages}, ${options.queries} searches (${dir})`);

    // The throughput comparison: the same corpus into both databases, a group commit into one and
    // then the same into the other, so that whatever else the machine is doing slows both alike.
    log(`seeding the first ${options.throughputMessages} messages with and without the search index, alternately`);
    const plain = await openSeeding(join(dir, "plain.sqlite"), options, false);
    const seeded = await openSeeding(join(dir, "search.sqlite"), options, true);
    while (plain.written < options.throughputMessages) {
      const count = Math.min(CHUNK, options.throughputMessages - plain.written);
      await appendChunk(plain, count);
      await appendChunk(seeded, count);
    }
    await plain.storage.close();
    const plainRate = (plain.written / plain.appendMs) * 1000;
    const indexedRate = (seeded.written / seeded.appendMs) * 1000;
    const slowdown = 1 - indexedRate / plainRate;
    log(`  ${Math.round(plainRate)} messages/s without the search index, ${Math.round(indexedRate)}/s with it`);

    log(`seeding the rest, up to ${options.messages} messages, with the search index`);
    while (seeded.written < options.messages) {
      await appendChunk(seeded, Math.min(CHUNK, options.messages - seeded.written));
      if ((seeded.written / CHUNK) % 40 === 0) log(`  ${seeded.written} messages, ${Math.round((seeded.written / seeded.appendMs) * 1000)}/s on average`);
    }
    log(`  ${Math.round((seeded.written / seeded.appendMs) * 1000)} messages/s with the search index over all ${seeded.written}`);

    const queries = benchQueries(options.seed, SHAPE, seeded.identifiers, options.queries);
    const [start, end] = seeded.span;
    const toQuery = (q: (typeof queries)[number]): SearchQuery => ({
      userId: seeded.userId,
      terms: q.terms,
      roomId: q.room === undefined ? null : seeded.roomIds[q.room]!,
      authorId: q.author === undefined ? null : seeded.authorIds[q.author]!,
      after: q.after === undefined ? null : Math.round(start + q.after * (end - start)),
      before: q.before === undefined ? null : Math.round(start + q.before * (end - start)),
      hasFile: false,
      cursor: null,
      limit: SEARCH_PAGE_DEFAULT,
    });
    const byKind = new Map<string, number[]>();
    const all: number[] = [];
    let hits = 0;
    let slowest = { ms: 0, what: "" };
    for (const q of queries) {
      let query = toQuery(q);
      if (q.secondPage) {
        const first = await seeded.storage.searchMessages(query);
        // A search with one page has no second: its first page is timed again instead.
        query = { ...query, cursor: first.nextCursor };
      }
      const started = performance.now();
      const result = await seeded.storage.searchMessages(query);
      const ms = performance.now() - started;
      hits += result.messages.length;
      all.push(ms);
      const list = byKind.get(q.kind) ?? [];
      list.push(ms);
      byKind.set(q.kind, list);
      if (ms > slowest.ms) slowest = { ms, what: `${q.kind} ${JSON.stringify(q.terms)} -> ${result.messages.length} hits` };
    }
    await seeded.storage.close();
    all.sort((a, b) => a - b);
    for (const [kind, list] of [...byKind].sort()) {
      list.sort((a, b) => a - b);
      log(`  ${kind.padEnd(16)} n=${String(list.length).padStart(3)} p50=${percentile(list, 50).toFixed(1)} ms p95=${percentile(list, 95).toFixed(1)} ms max=${list[list.length - 1]!.toFixed(1)} ms`);
    }
    log(`  ${all.length} searches, ${hits} hits; slowest ${slowest.ms.toFixed(1)} ms: ${slowest.what}`);
    const p95 = percentile(all, 95);

    process.stdout.write(`search: messages=${options.messages} p95_ms=${p95.toFixed(1)} insert_slowdown=${slowdown.toFixed(3)}\n`);
    log(`goal p95 < ${GOALS.p95Ms} ms: ${p95 < GOALS.p95Ms ? "met" : "MISSED"} (${p95.toFixed(1)} ms)`);
    log(
      `goal insert_slowdown < ${GOALS.insertSlowdown}: ${slowdown < GOALS.insertSlowdown ? "met" : "MISSED"} ` +
        `(${Math.round(indexedRate)}/s with the index vs ${Math.round(plainRate)}/s without, over ${options.throughputMessages} appends)`,
    );
  } finally {
    if (options.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
