import { describe, expect, it } from "vitest";
import { blobStoreConfig, loadConfig, parseDatabaseUrl } from "../../src/config.js";

describe("parseDatabaseUrl", () => {
  it.each([
    [undefined, { kind: "sqlite", path: "./data/parley.sqlite" }],
    ["", { kind: "sqlite", path: "./data/parley.sqlite" }],
    ["file:./db/x.sqlite", { kind: "sqlite", path: "./db/x.sqlite" }],
    ["file:/abs/path.db", { kind: "sqlite", path: "/abs/path.db" }],
    ["postgres://u:p@h:5432/db", { kind: "postgres", url: "postgres://u:p@h:5432/db" }],
    ["postgresql://h/db", { kind: "postgres", url: "postgresql://h/db" }],
  ])("%j -> %j", (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });

  it.each(["file:", "mysql://h/db", "./data/parley.sqlite", "postgres:/h"])("refuses %j with a message naming DATABASE_URL", (url) => {
    expect(() => parseDatabaseUrl(url)).toThrow(/DATABASE_URL/);
  });
});

describe("blobStoreConfig", () => {
  it.each([
    [{ kind: "sqlite", path: "./data/parley.sqlite" }, undefined, { kind: "fs", root: "data/blobs" }],
    [{ kind: "sqlite", path: "/var/lib/parley/chat.db" }, undefined, { kind: "fs", root: "/var/lib/parley/blobs" }],
    [{ kind: "sqlite", path: ":memory:" }, undefined, { kind: "fs", root: "./data/blobs" }],
    [{ kind: "postgres", url: "postgres://h/db" }, undefined, { kind: "postgres", url: "postgres://h/db" }],
    [{ kind: "postgres", url: "postgres://h/db" }, "/mnt/shared", { kind: "fs", root: "/mnt/shared" }],
    [{ kind: "sqlite", path: "./data/parley.sqlite" }, "/srv/files", { kind: "fs", root: "/srv/files" }],
  ] as const)("%j with BLOB_DIR=%j -> %j", (database, blobDir, expected) => {
    expect(blobStoreConfig(database, blobDir)).toEqual(expected);
  });
});

describe("loadConfig", () => {
  it("applies the defaults to an empty environment", () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: undefined,
      database: { kind: "sqlite", path: "./data/parley.sqlite" },
      blobs: { kind: "fs", root: "data/blobs" },
      uploads: { fileMaxBytes: 25 * 1024 * 1024, dailyMaxBytes: 1024 * 1024 * 1024, stallTimeoutMs: 30_000 },
      redisUrl: undefined,
      redisKey: "parley",
      presenceHeartbeatMs: 3000,
      presenceNodeTtlMs: 10_000,
      shutdownTimeoutMs: 10_000,
      roomHeadCheckMs: 1500,
      staticDir: undefined,
      secureCookie: false,
      sessionTtlMs: 30 * 24 * 60 * 60 * 1000,
      typingTtlMs: 5000,
      presenceGraceMs: 3000,
      pingIntervalMs: 15_000,
      pingTimeoutMs: 10_000,
      publicUrl: undefined,
      allowedOrigins: [],
      adminNicknames: [],
      trustProxy: false,
      logLevel: "info",
      metrics: { token: undefined, port: undefined, host: "127.0.0.1" },
      // Parsed and tested by security/rate-limit-config.ts's own tests.
      rateLimits: expect.any(Object),
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      PORT: "8080",
      HOST: "127.0.0.1",
      DATABASE_URL: "postgres://db/parley",
      REDIS_URL: "redis://cache:6379",
      STATIC_DIR: "/srv/web",
      BLOB_DIR: "/srv/blobs",
      FILE_MAX_BYTES: "1000000",
      UPLOAD_DAILY_BYTES: "50000000",
      UPLOAD_STALL_MS: "5000",
      COOKIE_SECURE: "true",
      SESSION_TTL_DAYS: "0.5",
      TYPING_TTL_MS: "2500",
      PRESENCE_GRACE_MS: "0",
      PING_INTERVAL_MS: "5000",
      PING_TIMEOUT_MS: "4000",
      PUBLIC_URL: "https://chat.example.com/",
      ALLOWED_ORIGINS: "https://Admin.Example.com, http://localhost:5173",
      TRUST_PROXY: "loopback",
      REDIS_KEY: "chat-prod",
      PRESENCE_HEARTBEAT_MS: "1000",
      PRESENCE_NODE_TTL_MS: "4000",
      SHUTDOWN_TIMEOUT_MS: "8000",
      ROOM_HEAD_CHECK_MS: "700",
      LOG_LEVEL: "debug",
      METRICS_TOKEN: "t".repeat(32),
      METRICS_PORT: "9464",
      METRICS_HOST: "0.0.0.0",
      ADMIN_NICKNAMES: " root , ops,, ",
    });
    expect(config).toEqual({
      port: 8080,
      host: "127.0.0.1",
      database: { kind: "postgres", url: "postgres://db/parley" },
      blobs: { kind: "fs", root: "/srv/blobs" },
      uploads: { fileMaxBytes: 1_000_000, dailyMaxBytes: 50_000_000, stallTimeoutMs: 5000 },
      redisUrl: "redis://cache:6379",
      redisKey: "chat-prod",
      presenceHeartbeatMs: 1000,
      presenceNodeTtlMs: 4000,
      shutdownTimeoutMs: 8000,
      roomHeadCheckMs: 700,
      staticDir: "/srv/web",
      secureCookie: true,
      sessionTtlMs: 12 * 60 * 60 * 1000,
      typingTtlMs: 2500,
      presenceGraceMs: 0,
      pingIntervalMs: 5000,
      pingTimeoutMs: 4000,
      publicUrl: "https://chat.example.com/",
      allowedOrigins: ["https://admin.example.com", "http://localhost:5173"],
      adminNicknames: ["root", "ops"],
      trustProxy: "loopback",
      logLevel: "debug",
      metrics: { token: "t".repeat(32), port: 9464, host: "0.0.0.0" },
      rateLimits: expect.any(Object),
    });
  });

  it.each([
    ["true", true],
    ["false", false],
    ["2", 2],
    ["10.0.0.0/8, loopback", "10.0.0.0/8, loopback"],
  ])("reads TRUST_PROXY=%j as %j", (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it("treats empty variables as unset (PORT= must not mean a random port)", () => {
    const config = loadConfig({ PORT: "", HOST: "", DATABASE_URL: "", SESSION_TTL_DAYS: "", REDIS_URL: "" });
    expect(config.port).toBe(3000);
    expect(config.host).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.sessionTtlMs).toBe(30 * 24 * 60 * 60 * 1000);
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PORT", "80.5"],
    ["COOKIE_SECURE", "yes"],
    ["SESSION_TTL_DAYS", "0"],
    ["TYPING_TTL_MS", "-1"],
    ["PRESENCE_GRACE_MS", "-5"],
    ["PING_TIMEOUT_MS", "10"],
    ["PUBLIC_URL", "chat.example.com"],
    ["ALLOWED_ORIGINS", "https://ok.example.com,ftp://files.example.com"],
    ["ALLOWED_ORIGINS", "null"],
    ["LOG_LEVEL", "verbose"],
    ["METRICS_TOKEN", "too-short"],
    ["METRICS_TOKEN", `${"t".repeat(32)} x`],
    ["METRICS_PORT", "0"],
    ["METRICS_PORT", "3000"],
  ])("refuses %s=%j with a message naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`Invalid configuration:[\\s\\S]*${name}`));
  });

  it("refuses a bad DATABASE_URL", () => {
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
  });
});
