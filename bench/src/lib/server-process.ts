import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { join } from "node:path";
import { createServer, type AddressInfo } from "node:net";
import { API, SOCKET_PATH } from "@parley/shared";
import { sleep, waitUntil } from "./wait.js";

/**
 * The real server (apps/server/src/main.ts, or its build) as a child process, so a fault can be a
 * real SIGKILL: no shutdown hook runs, in-flight requests and uncommitted batches are simply gone.
 */
export interface ServerProcess {
  readonly port: number;
  readonly url: string;
  /** The child's pid while it runs, else null. */
  pid(): number | null;
  start(): Promise<void>;
  /** SIGKILL and wait for the exit. Returns false if no child was running. */
  kill(): Promise<boolean>;
  /** SIGTERM (graceful: sockets closed, storage closed), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /**
   * `stop`, reporting how it went: the exit code (or the signal that ended the child) and how long
   * after the SIGTERM the exit came — for tests of the graceful shutdown itself. Null if no child
   * was running.
   */
  terminate(graceMs?: number): Promise<ServerExit | null>;
}

/** How a SIGTERMed child ended. */
export interface ServerExit {
  /** The exit code; null when a signal ended the child. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the SIGTERM to the child's exit event, in ms. */
  exitMs: number;
  /** True when it outlived the grace and was SIGKILLed. */
  killed: boolean;
}

/** How to run the server: `node` with these arguments, from the repository root. */
export interface ServerCommand {
  args: readonly string[];
  /** What it is, for the log: which of the two forms was chosen, and why. */
  description: string;
}

/** The server's production build, relative to the repository root (`pnpm build` writes it). */
export const SERVER_BUILD = "apps/server/dist/main.js";
const SOURCE_COMMAND: ServerCommand = { args: ["--import", "tsx", "apps/server/src/main.ts"], description: "node --import tsx apps/server/src/main.ts" };

/**
 * The compiled server when a build exists (what production and the Docker image run), else the
 * TypeScript source through tsx's loader. `node --import tsx` rather than the tsx CLI: one
 * process, so the pid we signal is the server itself.
 */
export function serverCommand(root: string): ServerCommand {
  if (existsSync(join(root, SERVER_BUILD))) return { args: [SERVER_BUILD], description: `node ${SERVER_BUILD} (the build exists)` };
  return { ...SOURCE_COMMAND, description: `${SOURCE_COMMAND.description} (no ${SERVER_BUILD}; pnpm build makes one)` };
}

export interface ServerProcessOptions {
  /** The repository root: the child's cwd. */
  root: string;
  /** The server's DATABASE_URL: `file:<path>` (SQLite) or `postgres://…`. */
  databaseUrl: string;
  /** The server's REDIS_URL (nodes fan out through it); unset: a single node. */
  redisUrl?: string;
  /** Default: the TypeScript source through tsx (what the single-node benches have always run). */
  command?: ServerCommand;
  logPath: string;
  port?: number;
  /** How long one start may take before it counts as failed. */
  startTimeoutMs?: number;
  /** More environment for the server, over the defaults below (e.g. production rate limits). */
  env?: Record<string, string>;
  /**
   * CPUs to pin the server to (`taskset -c` list, e.g. "0"): the compare bench gives the server a
   * core of its own and the load generator the other, as issue 15's table was measured.
   */
  cpus?: string;
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url + API.health, { signal: AbortSignal.timeout(1_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The Engine.IO heartbeat a server runs with, in ms (from its handshake). */
export interface PingConfig {
  pingInterval: number;
  pingTimeout: number;
}

/**
 * Asks the running server for its heartbeat: an Engine.IO v4 polling handshake answers
 * `0{"sid":…,"pingInterval":…,"pingTimeout":…}` before any authentication (that happens at the
 * Socket.IO layer). Read, not assumed, so the fault test's freezes follow whatever the server is
 * configured with. The session it opens is closed at once with a close packet (`1`).
 */
export async function readPingConfig(url: string): Promise<PingConfig> {
  const base = `${url}${SOCKET_PATH}/?EIO=4&transport=polling`;
  const res = await fetch(base, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  if (!res.ok || !text.startsWith("0")) throw new Error(`Engine.IO handshake on ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const open = JSON.parse(text.slice(1)) as Partial<PingConfig> & { sid?: string };
  if (typeof open.pingInterval !== "number" || typeof open.pingTimeout !== "number" || typeof open.sid !== "string") {
    throw new Error(`Engine.IO handshake on ${url}: no ping settings in ${text.slice(0, 200)}`);
  }
  await fetch(`${base}&sid=${encodeURIComponent(open.sid)}`, { method: "POST", body: "1", signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  return { pingInterval: open.pingInterval, pingTimeout: open.pingTimeout };
}

export async function createServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const command = options.command ?? SOURCE_COMMAND;
  let child: ChildProcess | null = null;
  let exited: Promise<Pick<ServerExit, "code" | "signal">> = Promise.resolve({ code: null, signal: null });

  const env = {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    // The web app is not under test; do not serve a build even if one exists.
    STATIC_DIR: undefined,
    // The load and fault benches run hundreds of bots from one IP and send as fast as the server
    // takes it, legitimately: every budget times 1,000 (the limiting code still runs). The abuse
    // bench, which is about the limits, passes RATE_LIMIT_SCALE=1.
    RATE_LIMIT_SCALE: "1000",
    ...options.env,
  };

  async function start(): Promise<void> {
    if (child) throw new Error("server already running");
    const log = openSync(options.logPath, "a");
    // PARLEY_BENCH_NODE_ARGS: extra node flags for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
    // to profile it under a bench's load (the profile is written when the server exits).
    const nodeArgs = (process.env.PARLEY_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
    const nodeCommand = [process.execPath, ...nodeArgs, ...command.args];
    // taskset execs node, so the child's pid is still the server's own.
    const [file, args] = options.cpus ? ["taskset", ["-c", options.cpus, ...nodeCommand]] : [nodeCommand[0]!, nodeCommand.slice(1)];
    const c = spawn(file, args, {
      cwd: options.root,
      env,
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    child = c;
    exited = new Promise((resolve) =>
      c.once("exit", (code, sig) => {
        if (child === c) child = null;
        resolve({ code, signal: sig });
      }),
    );
    let died = false;
    void exited.then(() => (died = true));
    await waitUntil(async () => died || (await healthy(url)), { timeoutMs: startTimeoutMs, intervalMs: 100, what: `GET ${API.health} 200 on ${url}` });
    if (died) throw new Error(`server exited during start-up (see ${options.logPath})`);
  }

  async function signal(sig: NodeJS.Signals, graceMs: number): Promise<boolean> {
    const c = child;
    if (!c || c.pid === undefined) return false;
    c.kill(sig);
    const done = exited;
    const timedOut = await Promise.race([done.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      c.kill("SIGKILL");
      await Promise.race([done, sleep(5_000)]);
    }
    return true;
  }

  async function terminate(graceMs: number): Promise<ServerExit | null> {
    const c = child;
    if (!c || c.pid === undefined) return null;
    const done = exited;
    const at = performance.now();
    c.kill("SIGTERM");
    const graceful = await Promise.race([done, sleep(graceMs).then(() => null)]);
    if (graceful) return { ...graceful, exitMs: performance.now() - at, killed: false };
    c.kill("SIGKILL");
    const forced = await Promise.race([done, sleep(5_000).then(() => null)]);
    return { code: forced?.code ?? null, signal: forced?.signal ?? "SIGKILL", exitMs: performance.now() - at, killed: true };
  }

  return {
    port,
    url,
    pid: () => child?.pid ?? null,
    start,
    kill: () => signal("SIGKILL", 5_000),
    stop: async (graceMs = 5_000) => void (await signal("SIGTERM", graceMs)),
    terminate: (graceMs = 15_000) => terminate(graceMs),
  };
}
