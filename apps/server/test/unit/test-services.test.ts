import { describe, expect, it } from "vitest";
import { planServices } from "../helpers/pg.js";

// The switch that keeps CI from passing with the PostgreSQL and scale-out suites silently skipped.
describe("planServices", () => {
  const both = ["PARLEY_TEST_PG_URL", "PARLEY_TEST_REDIS_URL"] as const;
  const pg = "postgres://parley:parley@127.0.0.1:5432/postgres";
  const redis = "redis://127.0.0.1:6379";

  it("runs a suite when every variable it needs is set, in CI or not", () => {
    expect(planServices({ PARLEY_TEST_PG_URL: pg, PARLEY_TEST_REDIS_URL: redis }, both)).toEqual({ run: true });
    expect(planServices({ PARLEY_TEST_PG_URL: pg, CI: "true" }, ["PARLEY_TEST_PG_URL"])).toEqual({ run: true });
  });

  it("skips it on a developer machine when one is missing", () => {
    expect(planServices({ PARLEY_TEST_PG_URL: pg }, both)).toEqual({ run: false, missing: ["PARLEY_TEST_REDIS_URL"], fail: false });
    expect(planServices({ CI: "" }, both)).toEqual({ run: false, missing: [...both], fail: false });
  });

  it("fails it in CI when one is missing or empty", () => {
    expect(planServices({ CI: "true", PARLEY_TEST_PG_URL: pg }, both)).toEqual({ run: false, missing: ["PARLEY_TEST_REDIS_URL"], fail: true });
    expect(planServices({ CI: "1", PARLEY_TEST_PG_URL: "" }, ["PARLEY_TEST_PG_URL"])).toEqual({ run: false, missing: ["PARLEY_TEST_PG_URL"], fail: true });
  });
});
