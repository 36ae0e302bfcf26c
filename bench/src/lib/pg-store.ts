import { randomBytes } from "node:crypto";
import pg from "pg";
import { MEMBERS_SQL, MESSAGES_SQL, ROOMS_SQL, type Membership, type RoomHead, type Row, type StoreReader } from "./verify.js";

/**
 * PostgreSQL for the cluster test: a database of its own per run (created through a role with
 * CREATEDB, dropped at the end) and a reader of the server's tables for the verdict.
 */

/** A database created for one run. */
export interface RunDatabase {
  name: string;
  /** URL of the new, empty database, for the server nodes' DATABASE_URL. */
  url: string;
  /** Drops it, ending any connection still open to it. Safe to call twice. */
  drop(): Promise<void>;
}

async function asAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates `<prefix>_<random hex>` on the server of `adminUrl` (a URL of any database there, e.g. `/postgres`). */
export async function createRunDatabase(adminUrl: string, prefix: string): Promise<RunDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await asAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      // WITH (FORCE) (PostgreSQL 13+): a SIGKILLed node's backends may still be exiting, and a plain
      // DROP would refuse while any connection is open.
      await asAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}

/**
 * A JS number from a PostgreSQL integer column: node-postgres returns BIGINT (int8) as a string,
 * because not every int8 fits a double. Seqs and versions stay far below 2^53, and one that does
 * not is a corrupt row the verdict must not round into a plausible one.
 */
export function toSafeInteger(value: unknown, what: string): number {
  const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : typeof value === "number" ? value : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`${what}: expected an integer, got ${JSON.stringify(value)}`);
  return n;
}

/** A `messages` row as node-postgres returns it, mapped to the verdict's Row. */
export function messageFromPg(raw: Record<string, unknown>): Row {
  return {
    room_id: String(raw.room_id),
    seq: toSafeInteger(raw.seq, "messages.seq"),
    id: String(raw.id),
    kind: String(raw.kind),
    author_id: String(raw.author_id),
    client_id: raw.client_id === null || raw.client_id === undefined ? null : String(raw.client_id),
    body: String(raw.body),
    changed: raw.changed === true,
  };
}

/** A `rooms` row as node-postgres returns it. */
export function roomHeadFromPg(raw: Record<string, unknown>): RoomHead {
  return { id: String(raw.id), last_seq: toSafeInteger(raw.last_seq, "rooms.last_seq"), last_version: toSafeInteger(raw.last_version, "rooms.last_version") };
}

/**
 * A reader over a PostgreSQL database, through a small pool: the cluster test polls room heads
 * while the nodes write, then reads everything once for the verdict.
 */
export function postgresReader(url: string): StoreReader {
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
  // An idle client that errors (e.g. the database dropped under it) must not crash the test.
  pool.on("error", () => {});
  const all = async (sql: string) => (await pool.query<Record<string, unknown>>(sql)).rows;
  return {
    messages: async () => (await all(MESSAGES_SQL)).map(messageFromPg),
    rooms: async () => (await all(ROOMS_SQL)).map(roomHeadFromPg),
    members: async () => (await all(MEMBERS_SQL)).map((r): Membership => ({ room_id: String(r.room_id), user_id: String(r.user_id) })),
    close: () => pool.end(),
  };
}
