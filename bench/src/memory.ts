/**
 * `pnpm bench:memory` — what an idle connection costs the server (issue 15): the server's RSS per
 * socket with N idle sockets, for Parley (signed-in sockets: every one authenticated by a session
 * cookie, joined to its rooms, counted in presence) and, in the same run, for a bare Socket.IO
 * server (bench/src/baselines/socketio-server.ts) reached by the same clients.
 *
 * Each server is a child process (Parley: the build, `node apps/server/dist/main.js`, on a fresh
 * SQLite file). The clients are the load bench's raw receivers (lib/load-wire.ts: the WebSocket
 * upgrade, Engine.IO open and pings, the Socket.IO CONNECT, nothing else), so client-side memory is
 * the bench's, not the server's. Per server: connect WARM_SOCKETS, let it settle, read VmRSS; connect
 * N more, let it settle, read VmRSS again; the difference over N is the cost of a socket. "Settle":
 * VmRSS sampled every second until two samples in a row move by less than 0.5 %.
 *
 * Prints `memory: sockets=<N> parley_kb=<kB> socketio_kb=<kB> ratio=<parley/socketio>` (goal:
 * ratio <= 1.1). Flags: `--sockets N` (default 10000), `--users U` (Parley accounts the sockets
 * belong to, round-robin like tabs; default 100: each sign-in is a scrypt hash).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { settledRss } from "./lib/linux-limits.js";
import { connectRawReceiver, type RawReceiver } from "./lib/load-wire.js";
import { login } from "./lib/login.js";
import { createServerProcess, serverCommand, type ServerProcess } from "./lib/server-process.js";
import { mapLimit } from "./lib/wait.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WARM_SOCKETS = 200;
const CONNECT_CONCURRENCY = 64;

const { values } = parseArgs({
  options: {
    sockets: { type: "string", default: "10000" },
    users: { type: "string", default: "100" },
  },
});
const sockets = Number(values.sockets);
const users = Number(values.users);
if (!Number.isInteger(sockets) || sockets < 100 || !Number.isInteger(users) || users < 1) {
  console.error("usage: bench:memory [--sockets N >= 100] [--users U >= 1]");
  process.exit(2);
}

const started = Date.now();
const log = (line: string) => console.error(`[memory ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);

async function measure(name: string, server: ServerProcess, cookies: readonly string[]): Promise<number> {
  const pid = server.pid();
  if (pid === null) throw new Error(`${name} is not running`);
  const open: RawReceiver[] = [];
  const connectSome = (count: number, offset: number) =>
    mapLimit(
      Array.from({ length: count }, (_, i) => cookies[(offset + i) % cookies.length]!),
      CONNECT_CONCURRENCY,
      async (cookie) => void open.push(await connectRawReceiver(server.port, cookie, () => {})),
    );
  try {
    await connectSome(WARM_SOCKETS, 0);
    const before = await settledRss(pid);
    log(`${name}: ${open.length} sockets, rss ${(before / 1e6).toFixed(1)} MB; connecting ${sockets} more`);
    await connectSome(sockets, WARM_SOCKETS);
    const after = await settledRss(pid);
    log(`${name}: ${open.length} sockets, rss ${(after / 1e6).toFixed(1)} MB`);
    return (after - before) / sockets;
  } finally {
    for (const r of open) r.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "parley-memory-"));
  const parley = await createServerProcess({
    root: ROOT,
    databaseUrl: `file:${join(dir, "memory.sqlite")}`,
    command: serverCommand(ROOT),
    logPath: join(dir, "parley.log"),
    // The sockets all come from one IP and many share a user: lift the per-user and per-IP caps.
    env: { MAX_SOCKETS_PER_USER: String(sockets + WARM_SOCKETS), MAX_SOCKETS_PER_IP: String(2 * (sockets + WARM_SOCKETS)), LOG_LEVEL: "warn" },
  });
  const bare = await createServerProcess({
    root: ROOT,
    databaseUrl: "unused",
    command: { args: ["--import", "tsx", "bench/src/baselines/socketio-server.ts"], description: "bare Socket.IO" },
    logPath: join(dir, "socketio.log"),
  });
  try {
    await parley.start();
    log(`parley on ${parley.url}; signing in ${users} users`);
    const cookies = await mapLimit(
      Array.from({ length: users }, (_, i) => i),
      2,
      // Production scrypt (128 MiB, about a second of a core each): generous on a busy machine.
      async (i) => (await login(parley.url, { nickname: `mem${i}`, password: "memory-bench-password" }, { timeoutMs: 120_000 })).cookie,
    );
    const parleyPerSocket = await measure("parley", parley, cookies);
    await parley.stop();
    await bare.start();
    const barePerSocket = await measure("socketio", bare, [""]);
    const kb = (bytes: number) => (bytes / 1024).toFixed(1);
    console.log(
      `memory: sockets=${sockets} parley_kb=${kb(parleyPerSocket)} socketio_kb=${kb(barePerSocket)} ratio=${(parleyPerSocket / barePerSocket).toFixed(2)}`,
    );
  } finally {
    await parley.stop();
    await bare.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
