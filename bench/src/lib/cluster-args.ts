import { parseArgs } from "node:util";

/** The cluster fault test's knobs (`pnpm test:cluster -- --help`-free: every flag is listed here). */
export interface ClusterOptions {
  nodes: number;
  clients: number;
  rooms: number;
  messages: number;
  /** Server nodes SIGKILLed mid-burst (each restarted `nodeDownMs` later). */
  kills: number;
  /** How long a killed node stays down before it is started again, in ms. */
  nodeDownMs: number;
  /**
   * Server nodes SIGTERMed (graceful drain) mid-burst, each a node other than the SIGKILLed ones,
   * with clients on it; each must exit 0 within 10 s and is started again `nodeDownMs` later.
   */
  terms: number;
  /** Times the test's redis-server is SIGKILLed and started again on its port mid-burst. */
  redisRestarts: number;
  /**
   * After the burst, SIGKILL the node with the most clients while they are connected (then
   * disconnect every client and start it again), so the ghost check covers users of a dead node.
   */
  presenceKill: boolean;
  /**
   * After the ghost check: a user with a tab on node A and one on node B, watched from node C; A is
   * SIGKILLed (the user must stay online), then B (offline within 15 s). Issue 12, default timings.
   */
  tabsCheck: boolean;
  /** How long Redis stays down on each restart, in ms. */
  redisDownMs: number;
  /** Connections ended by the balancer (every other one by RST instead of FIN). */
  cuts: number;
  /** Messages per second over all clients (a token bucket). */
  rate: number;
  /** A client writes its next message only while fewer than this many of its sends are pending. */
  inFlight: number;
  /**
   * The nodes' PRESENCE_GRACE_MS: how long a user stays online after their last tab closed. Unset:
   * the nodes run with the server's default (not passed), as every presence timing is.
   */
  presenceGraceMs: number | undefined;
  /**
   * Longest wait, after every test client disconnected, for every node to report nobody online, in
   * seconds; 0 = the presence grace + 15 s (issue 12: a dead node's users are offline within 15 s
   * on every other node) + a margin. Polled: the wait ends as soon as no node reports anyone.
   */
  presenceWait: number;
  /** Longest the send phase may take, in seconds. */
  sendTimeout: number;
  /** Longest the drain (outboxes empty, timelines at the database's heads) may take, in seconds. */
  drainTimeout: number;
  /** A PostgreSQL URL whose role has CREATEDB; the run creates and drops its own database there. */
  pgUrl: string;
  seed: number;
  keep: boolean;
}

/** The server's PRESENCE_GRACE_MS default (apps/server/src/config.ts), for the waits that depend on it. */
export const SERVER_PRESENCE_GRACE_MS = 3_000;

/**
 * Why these defaults: issue 12 asks for a test that fits CI on a 2-core machine next to everything
 * else, in under 3 minutes. Three nodes, 15 clients (5 a node) and 1,000 messages at up to 60 msg/s
 * (in practice 15-30 msg/s here: 2 sends in flight per client, so the ack latency sets the pace)
 * make a send phase of 30-70 s in which one node kill, one Redis restart and 10 cuts all land
 * mid-burst; each room gets >= 10 members (see plan.ts), so every broadcast crosses nodes. The
 * other big share of the run is the 17 sign-ins (scrypt at the product's cost, ~1 s of CPU each).
 * A node stays down 3 s: long enough that its clients reconnect elsewhere and their outboxes retry
 * there. One SIGTERM, after the SIGKILLed node is back and before the Redis restart, so each fault
 * is seen on its own. Presence timings are the server's defaults (issue 12 states its 15 s for them). Redis stays down 1 s: long enough that the nodes' clients see the connection refused and
 * must reconnect.
 */
const DEFAULTS = {
  nodes: 3,
  clients: 15,
  rooms: 3,
  messages: 1_000,
  kills: 1,
  nodeDownMs: 3_000,
  terms: 1,
  redisRestarts: 1,
  redisDownMs: 1_000,
  cuts: 10,
  rate: 60,
  inFlight: 2,
  presenceWait: 0,
  presenceKill: 1,
  tabsCheck: 1,
  // A bound, not an expectation: the burst takes ~30 s on an idle box, ~70 s on the shared one
  // under load (30 sends in flight, acks slowed by the CPU the other runs take).
  sendTimeout: 150,
  drainTimeout: 45,
};

export function parseClusterArgs(argv: string[], env: Record<string, string | undefined> = process.env): ClusterOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      keep: { type: "boolean", default: false },
      nodes: { type: "string" },
      clients: { type: "string" },
      rooms: { type: "string" },
      messages: { type: "string" },
      kills: { type: "string" },
      "node-down-ms": { type: "string" },
      terms: { type: "string" },
      "redis-restarts": { type: "string" },
      "redis-down-ms": { type: "string" },
      cuts: { type: "string" },
      rate: { type: "string" },
      "in-flight": { type: "string" },
      "presence-grace-ms": { type: "string" },
      "presence-wait": { type: "string" },
      "presence-kill": { type: "string" },
      "tabs-check": { type: "string" },
      "send-timeout": { type: "string" },
      "drain-timeout": { type: "string" },
      "pg-url": { type: "string" },
      seed: { type: "string" },
    },
    strict: true,
  });
  const num = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${raw}`);
    return n;
  };
  const d = DEFAULTS;
  return {
    keep: values.keep,
    nodes: num("nodes", values.nodes, d.nodes, 2),
    clients: num("clients", values.clients, d.clients, 1),
    rooms: num("rooms", values.rooms, d.rooms, 2),
    messages: num("messages", values.messages, d.messages, 0),
    kills: num("kills", values.kills, d.kills, 0),
    nodeDownMs: num("node-down-ms", values["node-down-ms"], d.nodeDownMs, 0),
    terms: num("terms", values.terms, d.terms, 0),
    redisRestarts: num("redis-restarts", values["redis-restarts"], d.redisRestarts, 0),
    redisDownMs: num("redis-down-ms", values["redis-down-ms"], d.redisDownMs, 0),
    cuts: num("cuts", values.cuts, d.cuts, 0),
    rate: num("rate", values.rate, d.rate, 1),
    inFlight: num("in-flight", values["in-flight"], d.inFlight, 1),
    presenceGraceMs: values["presence-grace-ms"] === undefined ? undefined : num("presence-grace-ms", values["presence-grace-ms"], 0, 0),
    presenceWait: num("presence-wait", values["presence-wait"], d.presenceWait, 0),
    presenceKill: num("presence-kill", values["presence-kill"], d.presenceKill, 0) > 0,
    tabsCheck: num("tabs-check", values["tabs-check"], d.tabsCheck, 0) > 0,
    sendTimeout: num("send-timeout", values["send-timeout"], d.sendTimeout, 1),
    drainTimeout: num("drain-timeout", values["drain-timeout"], d.drainTimeout, 1),
    // The same variable the server's PostgreSQL tests read, so CI configures both in one place.
    pgUrl: values["pg-url"] ?? env.PARLEY_TEST_PG_URL ?? "postgres://parley:parley@127.0.0.1:5432/postgres",
    seed: num("seed", values.seed, Math.floor(Math.random() * 2 ** 31), 0),
  };
}
