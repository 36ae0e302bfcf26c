import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { connect } from "node:net";
import { freePort } from "./server-process.js";
import { sleep, waitUntil } from "./wait.js";

/**
 * A `redis-server` of the test's own, as a child process on a free loopback port: not daemonized,
 * so its pid is ours to kill, and restartable on the same port, so the server nodes' Redis clients
 * must find it again by themselves. No persistence (`--save "" --appendonly no`): a restart comes
 * back empty, like a Redis that lost its memory, which is the harder case for the nodes.
 */
export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  pid(): number | null;
  start(): Promise<void>;
  /** SIGKILL and wait for the exit. Returns false if none was running. */
  kill(): Promise<boolean>;
}

/** Whether a Redis answers PING on 127.0.0.1:port within a second (raw RESP: no client library needed). */
export function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let got = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      got += chunk.toString("latin1");
      if (got.includes("\r\n")) done(got.startsWith("+PONG"));
    });
  });
}

export async function createRedisProcess({ logPath, binary = "redis-server" }: { logPath: string; binary?: string }): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    if (child) throw new Error("redis-server already running");
    const log = openSync(logPath, "a");
    const c = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"], {
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    child = c;
    let died = false;
    let spawnError: Error | null = null;
    c.once("error", (e) => (spawnError = e));
    exited = new Promise((resolve) =>
      c.once("close", () => {
        died = true;
        if (child === c) child = null;
        resolve();
      }),
    );
    await waitUntil(async () => died || (await pingRedis(port)), { timeoutMs: 10_000, intervalMs: 50, what: `redis-server to answer PING on port ${port}` });
    if (died) throw new Error(`redis-server exited during start-up${spawnError ? `: ${(spawnError as Error).message}` : ""} (see ${logPath})`);
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => child?.pid ?? null,
    start,
    async kill() {
      const c = child;
      if (!c) return false;
      c.kill("SIGKILL");
      await Promise.race([exited, sleep(5_000)]);
      return true;
    },
  };
}
