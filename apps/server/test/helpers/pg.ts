import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * The PostgreSQL server for tests, as an admin URL (a role with CREATEDB), e.g.
 * `postgres://parley:parley@127.0.0.1:5432/postgres`. Unset: PostgreSQL tests are skipped.
 */
export const TEST_PG_URL = process.env.PARLEY_TEST_PG_URL || undefined;

/** The Redis server for scale-out tests, e.g. `redis://127.0.0.1:6379`. Unset: those are skipped. */
export const TEST_REDIS_URL = process.env.PARLEY_TEST_REDIS_URL || undefined;

export interface TestDatabase {
  /** URL of the fresh, empty database. */
  url: string;
  name: string;
  /**
   * A fresh, empty schema in this database, and a URL whose connections use it (`search_path`).
   * Several times cheaper than a database per test (CREATE DATABASE copies a whole template, DROP
   * DATABASE forces a checkpoint; both crawl on a busy machine), and just as isolated: the storage
   * never names a schema.
   */
  createSchema(): Promise<TestSchema>;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

export interface TestSchema {
  url: string;
  /** Drops the schema and everything in it. Close the storages using it first. */
  drop(): Promise<void>;
}

async function asAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a database `parley_test_<random>` on the server of `adminUrl`, so that every test starts
 * from an empty schema and tests running in parallel never share rows.
 */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `parley_test_${randomBytes(6).toString("hex")}`;
  await asAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  const dbUrl = url.toString();
  return {
    url: dbUrl,
    name,
    async createSchema() {
      const schema = `s_${randomBytes(6).toString("hex")}`;
      await asAdmin(dbUrl, (c) => c.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`));
      const schemaUrl = new URL(dbUrl);
      schemaUrl.searchParams.set("options", `-c search_path=${schema}`);
      return {
        url: schemaUrl.toString(),
        drop: () => asAdmin(dbUrl, (c) => c.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`)).then(() => {}),
      };
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      // WITH (FORCE) (PostgreSQL 13+): a plain DROP would wait up to 5 s for backends that are
      // still exiting after their client hung up, and a test that failed half-way may have left
      // a pool open.
      await asAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}
