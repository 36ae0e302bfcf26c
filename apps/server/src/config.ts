import { dirname, join } from "node:path";
import { LIMITS } from "@parley/shared";
import { z } from "zod";
import { loadRateLimitBudgets } from "./security/rate-limit-config.js";
import type { RateLimitBudgets } from "./security/rate-limits.js";
import { normalizeOrigin } from "./http/origin.js";
import { LOG_LEVELS, type LogLevel } from "./observability/log.js";

/**
 * Configuration comes from the environment only, parsed and validated once at start-up; an invalid
 * value stops the server with a message naming the variable.
 */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Interface to bind; unset binds every interface (IPv4 and IPv6). */
  HOST: z.string().min(1).optional(),
  /** Unset: SQLite at ./data/parley.sqlite. `file:<path>`: SQLite there. `postgres://…`: PostgreSQL. */
  DATABASE_URL: z.string().min(1).optional(),
  /**
   * Where attachments' files go (src/blobs). Unset: with PostgreSQL, in the database (any node
   * serves any file); with SQLite, a `blobs` directory next to the database file (./data/blobs by
   * default). Set: that directory, with either database; several nodes then need it shared.
   */
  BLOB_DIR: z.string().min(1).optional(),
  /** Largest file one upload may be, bytes (default 25 MiB). */
  FILE_MAX_BYTES: z.coerce.number().int().min(1).default(25 * 1024 * 1024),
  /** Bytes one user may upload in a rolling 24 hours (default 1 GiB). */
  UPLOAD_DAILY_BYTES: z.coerce.number().int().min(1).default(1024 * 1024 * 1024),
  /** An upload that sends nothing for this long is ended with 408 (default 30 s). */
  UPLOAD_STALL_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Set to run as one of several nodes: broadcasts, presence, typing and rate limits shared through Redis. */
  REDIS_URL: z.string().min(1).optional(),
  /** Prefix of every Redis key, stream and channel: deployments sharing one Redis need different ones. */
  REDIS_KEY: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, "letters, digits, : _ - (at most 64)").default("parley"),
  /** How often a node renews its presence heartbeat and re-reads the others'. */
  PRESENCE_HEARTBEAT_MS: z.coerce.number().int().min(100).default(3000),
  /** A node silent this long is dead: its users go offline on the others. */
  PRESENCE_NODE_TTL_MS: z.coerce.number().int().min(500).default(10_000),
  /** With Redis: how often a node checks its rooms' heads for a missed last broadcast (the tail guard). */
  ROOM_HEAD_CHECK_MS: z.coerce.number().int().min(100).default(1500),
  /** A graceful shutdown (SIGTERM) exits within this long. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).default(10_000),
  /** Built SPA to serve; defaults to apps/web/dist when it exists. */
  STATIC_DIR: z.string().min(1).optional(),
  COOKIE_SECURE: z.enum(["true", "false"]).default("false"),
  SESSION_TTL_DAYS: z.coerce.number().positive().default(30),
  TYPING_TTL_MS: z.coerce.number().int().positive().default(LIMITS.typingTtlMs),
  PRESENCE_GRACE_MS: z.coerce.number().int().nonnegative().default(3000),
  PING_INTERVAL_MS: z.coerce.number().int().min(1000).default(15_000),
  PING_TIMEOUT_MS: z.coerce.number().int().min(1000).default(10_000),
  /** The app's public URL (https://chat.example.com); its origin is allowed. Unset: the request's Host. */
  PUBLIC_URL: z.string().min(1).optional(),
  /** More browser origins allowed to connect and post, comma-separated, matched exactly. */
  ALLOWED_ORIGINS: z.string().min(1).optional(),
  /** Express `trust proxy`: "true", a hop count, or addresses/subnets ("loopback, 10.0.0.0/8"). */
  TRUST_PROXY: z.string().min(1).optional(),
  /** Server admins besides the first account, comma-separated nicknames (ADR 0016). */
  ADMIN_NICKNAMES: z.string().optional(),
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  /**
   * Bearer token for /metrics on the main port (unset: 404 there). At least 32 characters: it guards
   * a public port, so it must not be guessable (`openssl rand -hex 32`).
   */
  METRICS_TOKEN: z.string().min(32, "must be at least 32 characters (e.g. `openssl rand -hex 32`)").regex(/^\S+$/, "must not contain spaces").optional(),
  /** Admin port serving only /metrics (unset: no admin listener). */
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Interface of the admin port: loopback unless set, so it is private by default. */
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
});

export type DatabaseConfig = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/** Where blobs are stored (see BLOB_DIR and blobs/open.ts). */
export type BlobStoreConfig = { kind: "fs"; root: string } | { kind: "postgres"; url: string };

export interface Config {
  port: number;
  host: string | undefined;
  database: DatabaseConfig;
  blobs: BlobStoreConfig;
  /** Upload limits (FILE_MAX_BYTES, UPLOAD_DAILY_BYTES, UPLOAD_STALL_MS). */
  uploads: { fileMaxBytes: number; dailyMaxBytes: number; stallTimeoutMs: number };
  redisUrl: string | undefined;
  redisKey: string;
  presenceHeartbeatMs: number;
  presenceNodeTtlMs: number;
  shutdownTimeoutMs: number;
  roomHeadCheckMs: number;
  staticDir: string | undefined;
  secureCookie: boolean;
  sessionTtlMs: number;
  typingTtlMs: number;
  presenceGraceMs: number;
  /** Socket.IO heartbeat (see realtime/io.ts for why 15 s + 10 s). */
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Rate limits and socket caps (RATE_LIMIT_* and MAX_SOCKETS_* variables; see security/rate-limit-config.ts). */
  rateLimits: RateLimitBudgets;
  publicUrl: string | undefined;
  /** Normalised origins (scheme://host[:port]). */
  allowedOrigins: string[];
  /** ADMIN_NICKNAMES, trimmed, empty ones dropped. */
  adminNicknames: string[];
  trustProxy: boolean | number | string;
  logLevel: LogLevel;
  /** Observability (observability/metrics-http.ts): who may read /metrics, and where. */
  metrics: { token: string | undefined; port: number | undefined; host: string };
}

export function parseDatabaseUrl(url: string | undefined): DatabaseConfig {
  if (!url) return { kind: "sqlite", path: "./data/parley.sqlite" };
  if (url.startsWith("file:")) {
    const path = url.slice("file:".length);
    if (!path) throw new Error("DATABASE_URL: file: needs a path, e.g. file:./data/parley.sqlite");
    return { kind: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: "postgres", url };
  throw new Error("DATABASE_URL: expected file:<path> or postgres://…");
}

/** BLOB_DIR when set; else the PostgreSQL database, or a `blobs` directory beside the SQLite file. */
export function blobStoreConfig(database: DatabaseConfig, blobDir: string | undefined): BlobStoreConfig {
  if (blobDir) return { kind: "fs", root: blobDir };
  if (database.kind === "postgres") return { kind: "postgres", url: database.url };
  // An in-memory SQLite database (tests) has no directory to sit beside.
  if (database.path === ":memory:") return { kind: "fs", root: "./data/blobs" };
  return { kind: "fs", root: join(dirname(database.path), "blobs") };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`PORT=` in a compose file or .env) means unset: otherwise z.coerce turns
  // PORT="" into 0, a random port, and HOST="" fails instead of binding every interface.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = EnvSchema.safeParse(set);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT) {
    throw new Error(`Invalid configuration:\n  METRICS_PORT: must differ from PORT (${e.PORT}); the admin port is a listener of its own`);
  }
  const origins = parseOrigins(e.PUBLIC_URL, e.ALLOWED_ORIGINS);
  const database = parseDatabaseUrl(e.DATABASE_URL);
  return {
    port: e.PORT,
    host: e.HOST,
    database,
    blobs: blobStoreConfig(database, e.BLOB_DIR),
    uploads: { fileMaxBytes: e.FILE_MAX_BYTES, dailyMaxBytes: e.UPLOAD_DAILY_BYTES, stallTimeoutMs: e.UPLOAD_STALL_MS },
    adminNicknames: (e.ADMIN_NICKNAMES ?? "")
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n.length > 0),
    redisUrl: e.REDIS_URL,
    redisKey: e.REDIS_KEY,
    presenceHeartbeatMs: e.PRESENCE_HEARTBEAT_MS,
    presenceNodeTtlMs: e.PRESENCE_NODE_TTL_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    roomHeadCheckMs: e.ROOM_HEAD_CHECK_MS,
    staticDir: e.STATIC_DIR,
    secureCookie: e.COOKIE_SECURE === "true",
    sessionTtlMs: e.SESSION_TTL_DAYS * 24 * 60 * 60 * 1000,
    typingTtlMs: e.TYPING_TTL_MS,
    presenceGraceMs: e.PRESENCE_GRACE_MS,
    pingIntervalMs: e.PING_INTERVAL_MS,
    pingTimeoutMs: e.PING_TIMEOUT_MS,
    rateLimits: loadRateLimitBudgets(set),
    ...origins,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    logLevel: e.LOG_LEVEL,
    metrics: { token: e.METRICS_TOKEN, port: e.METRICS_PORT, host: e.METRICS_HOST },
  };
}

/** PUBLIC_URL and ALLOWED_ORIGINS, each checked to be an http(s) URL, so a typo stops the start-up. */
function parseOrigins(publicUrl: string | undefined, allowed: string | undefined): { publicUrl: string | undefined; allowedOrigins: string[] } {
  const errors: string[] = [];
  const check = (name: string, value: string) => {
    try {
      return normalizeOrigin(value);
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
      return "";
    }
  };
  if (publicUrl) check("PUBLIC_URL", publicUrl);
  const allowedOrigins = (allowed ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "")
    .map((o) => check("ALLOWED_ORIGINS", o));
  if (errors.length > 0) throw new Error(`Invalid configuration:\n  ${errors.join("\n  ")}`);
  return { publicUrl, allowedOrigins };
}

/** "true"/"false", a hop count, or proxy addresses for express's `trust proxy` (unset: false). */
function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
