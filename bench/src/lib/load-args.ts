import { parseArgs } from "node:util";
import type { ClientKind } from "./load-ipc.js";

/** The load bench's knobs; every flag has a default sized for a 2-core box and a few minutes. */
export interface LoadOptions {
  /** Receiving clients (K), all in `general`; each message is delivered to each of them. */
  clients: number;
  /**
   * Users the K receiving sockets belong to (round-robin, like tabs): a socket's deliveries do not
   * depend on whose it is, and each sign-in costs a scrypt hash (~60 ms of a core), so 500 users
   * would take a minute to create.
   */
  users: number;
  /** Sending clients (separate users, also members of `general`; their deliveries are not counted). */
  senders: number;
  /** Receiver processes the K clients are spread over. */
  procs: number;
  client: ClientKind;
  /** Target deliveries per second, one step each, ascending. */
  steps: number[];
  stepSeconds: number;
  /** Longest wait after a step for its deliveries to arrive; what is still missing counts as too slow. */
  drainSeconds: number;
  /** The step fails when its p99 exceeds this. */
  p99LimitMs: number;
  bodyLength: number;
  /** Unacked sends per sender before it stops sending (bounds memory when the server stalls). */
  inFlight: number;
  /**
   * 1 (default): one server on SQLite, as always. N > 1: two runs on PostgreSQL + a Redis of the
   * bench's own, one with 1 node and one with N (receivers spread over the nodes, senders on the
   * first), and the cross-node p50 latency added (issue 12).
   */
  nodes: number;
  /** With nodes > 1: a PostgreSQL URL whose role has CREATEDB; the bench creates and drops its own database. */
  pgUrl: string;
  /** With nodes > 1: deliveries/s of the fixed-rate step that measures cross-node latency; 0 = a fifth of the 1-node max. */
  latencyRate: number;
  /** With nodes > 1: how long that step lasts. */
  latencySeconds: number;
  /**
   * `--compare` (issue 15): the same step-up against Parley, the Socket.IO tutorial server and a
   * raw `ws` fan-out server (bench/src/baselines), each with fixed steps first: `ackRate`
   * messages/s (the acked-send p99) and `cpuRate` deliveries/s (the server's CPU; for Parley and
   * the raw server measured in turns instead, see `cpuRounds`).
   */
  compare: boolean;
  /** With --compare: messages per second into the room for the ack latency step. */
  ackRate: number;
  /** With --compare: deliveries per second for the CPU step. */
  cpuRate: number;
  /** With --compare: which servers to run (default all three; `--servers parley` to profile one). */
  servers: CompareServer[];
  /**
   * With --compare and both Parley and the raw server: how many times the CPU step alternates
   * between them, both up at once (the compare line reports each one's median); 0 measures each
   * once, in its own run, minutes apart.
   */
  cpuRounds: number;
}

export const COMPARE_SERVERS = ["parley", "tutorial", "raw"] as const;
export type CompareServer = (typeof COMPARE_SERVERS)[number];

/**
 * Why these defaults: 100 users sign in in ~15 s here (scrypt on the thread pool of a busy 2-core
 * box); 500 receivers make a 1.2M deliveries/s step only 2,400 messages/s, so the cost measured is the
 * fan-out, not the handler. Steps run from 50k (well inside the uncorked server) to 1.6M (beyond
 * what a 2-core box can do with the bench on it), 5 s each: about two minutes in all.
 */
const DEFAULT_STEPS = [50_000, 100_000, 150_000, 200_000, 300_000, 400_000, 500_000, 600_000, 700_000, 800_000, 1_000_000, 1_200_000, 1_600_000];

/**
 * --compare starts lower: the tutorial server (one JSON encode and one write per recipient) did not
 * hold 50k with the server pinned to one core, and a server that fails the first step has no max.
 * Steps of 50k up to 500k: a max is only as fine as the steps around it, and the three servers'
 * maxima (~50k, ~200k-300k, ~400k-500k pinned) fall between the default steps.
 */
const COMPARE_STEPS = [10_000, 25_000, 50_000, 100_000, 150_000, 200_000, 250_000, 300_000, 350_000, 400_000, 450_000, 500_000, 600_000, 700_000, 800_000, 1_000_000, 1_200_000];

export function parseLoadArgs(argv: string[], env: Record<string, string | undefined> = process.env): LoadOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: "string" },
      users: { type: "string" },
      senders: { type: "string" },
      procs: { type: "string" },
      client: { type: "string" },
      steps: { type: "string" },
      "step-seconds": { type: "string" },
      "drain-seconds": { type: "string" },
      "p99-limit": { type: "string" },
      "body-length": { type: "string" },
      "in-flight": { type: "string" },
      nodes: { type: "string" },
      "pg-url": { type: "string" },
      "latency-rate": { type: "string" },
      "latency-seconds": { type: "string" },
      compare: { type: "boolean" },
      "ack-rate": { type: "string" },
      "cpu-rate": { type: "string" },
      servers: { type: "string" },
      "cpu-rounds": { type: "string" },
    },
    strict: true,
  });
  const num = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${raw}`);
    return n;
  };
  const client = values.client ?? "raw";
  if (client !== "raw" && client !== "socketio") throw new Error(`--client must be raw or socketio, got ${client}`);
  const nodes = num("nodes", values.nodes, 1, 1);
  if (!Number.isInteger(nodes)) throw new Error(`--nodes must be an integer, got ${values.nodes}`);
  const compare = values.compare ?? false;
  const steps = values.steps ? values.steps.split(",").map((s) => num("steps", s.trim(), 0, 1)) : compare ? COMPARE_STEPS : DEFAULT_STEPS;
  const servers = (values.servers ?? COMPARE_SERVERS.join(",")).split(",").map((s) => s.trim());
  for (const s of servers) {
    if (!(COMPARE_SERVERS as readonly string[]).includes(s)) throw new Error(`--servers: ${s} is not one of ${COMPARE_SERVERS.join(", ")}`);
  }
  if (compare && nodes !== 1) throw new Error("--compare runs one node of each server; drop --nodes");
  const cpuRounds = num("cpu-rounds", values["cpu-rounds"], 3, 0);
  if (!Number.isInteger(cpuRounds)) throw new Error(`--cpu-rounds must be an integer, got ${values["cpu-rounds"]}`);
  // The comparison's room: 200 members, 20 of them sending (the setting of issue 15's table).
  const clients = num("clients", values.clients, compare ? 200 : 500, 1);
  return {
    clients,
    users: Math.min(num("users", values.users, 100, 1), clients),
    senders: num("senders", values.senders, compare ? 20 : 4, 1),
    procs: num("procs", values.procs, 1, 1),
    client,
    steps: [...steps].sort((a, b) => a - b),
    stepSeconds: num("step-seconds", values["step-seconds"], 5, 1),
    drainSeconds: num("drain-seconds", values["drain-seconds"], 3, 0),
    p99LimitMs: num("p99-limit", values["p99-limit"], 250, 1),
    bodyLength: num("body-length", values["body-length"], 100, 24),
    inFlight: num("in-flight", values["in-flight"], 2_000, 1),
    nodes,
    // The same variable the server's PostgreSQL tests and test:cluster read.
    pgUrl: values["pg-url"] ?? env.PARLEY_TEST_PG_URL ?? "postgres://parley:parley@127.0.0.1:5432/postgres",
    latencyRate: num("latency-rate", values["latency-rate"], 0, 0),
    latencySeconds: num("latency-seconds", values["latency-seconds"], 5, 1),
    compare,
    ackRate: num("ack-rate", values["ack-rate"], 1_000, 1),
    cpuRate: num("cpu-rate", values["cpu-rate"], 60_000, 1),
    servers: servers as CompareServer[],
    cpuRounds,
  };
}
