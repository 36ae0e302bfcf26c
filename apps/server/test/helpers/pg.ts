import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, it } from "vitest";
import { waitFor } from "./wait.js";

/**
 * The PostgreSQL server for tests, as an admin URL (a role with CREATEDB), e.g.
 * `postgres://parley:parley@127.0.0.1:5432/postgres`. Unset: PostgreSQL tests are skipped (in CI:
 * they fail, see describeWithServices).
 */
export const TEST_PG_URL = process.env.PARLEY_TEST_PG_URL || undefined;

/** The Redis server for scale-out tests, e.g. `redis://127.0.0.1:6379`. Unset: as TEST_PG_URL. */
export const TEST_REDIS_URL = process.env.PARLEY_TEST_REDIS_URL || undefined;

/** The variables that point the tests at their PostgreSQL and Redis servers. */
export type TestServiceVariable = "PARLEY_TEST_PG_URL" | "PARLEY_TEST_REDIS_URL";

export type ServicePlan = { run: true } | { run: false; missing: TestServiceVariable[]; fail: boolean };

/**
 * Whether a suite that needs `needs` runs, is skipped, or fails. On a developer machine a missing
 * server skips the suite (SQLite covers the rest). In CI (`CI` set, as every CI service does) a
 * missing variable is a broken setup: skipping would report green while the PostgreSQL and
 * scale-out suites never ran, so it fails instead.
 */
export function planServices(env: Record<string, string | undefined>, needs: readonly TestServiceVariable[]): ServicePlan {
  const missing = needs.filter((name) => !env[name]);
  if (missing.length === 0) return { run: true };
  return { run: false, missing, fail: Boolean(env.CI) };
}

/** `describe` for a suite that needs test services: runs, skips or fails as planServices says. */
export function describeWithServices(needs: readonly TestServiceVariable[], title: string, body: () => void): void {
  const plan = planServices(process.env, needs);
  if (plan.run) {
    describe(title, body);
  } else if (!plan.fail) {
    describe.skip(`${title} (set ${needs.join(" and ")} to run; .ci/run always does)`, body);
  } else {
    describe(title, () => {
      it(`needs ${plan.missing.join(" and ")}, which CI must set (see .ci/run)`, () => {
        throw new Error(`${plan.missing.join(" and ")} not set while CI is set: this suite would be silently skipped.`);
      });
    });
  }
}

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
      // An autovacuum worker in the database makes FORCE fail for a role without pg_signal_backend
      // (PostgreSQL 15: "must be a member of the role whose process is being terminated", seen once
      // in a full run); the worker ends within moments, so the drop is tried again.
      // Only that code is retried; any other error ends the wait and is thrown as it is.
      const failure = await waitFor(
        async (): Promise<{ error: unknown } | undefined> => {
          try {
            await asAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
            return undefined;
          } catch (error) {
            if ((error as { code?: unknown }).code === "42501") throw error;
            return { error };
          }
        },
        { timeout: 5_000, interval: 250 },
      );
      if (failure) throw failure.error;
    },
  };
}
