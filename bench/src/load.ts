/**
 * `pnpm bench:load` — how many deliveries per second the real server sustains before its p99
 * delivery latency passes 250 ms, with K clients in one room. See docs/decisions/0006-write-batching.md.
 *
 * Parts: the server is apps/server/src/main.ts in a child process on a fresh SQLite file (the same
 * process shape as production; a child keeps the bench's CPU out of the server's event loop). The
 * receiver users (K sockets spread over `--users` accounts, like tabs) and a few sender users sign
 * in over HTTP; the receivers' sockets live in separate
 * receiver process(es) (lib/load-receiver.ts, `--procs`), the senders in this one. Each step sends
 * `message:send` (with ack) to `general` at target/K messages per second for a few seconds; every
 * receiver records which message it got (step and number, from the body: lib/load-tally.ts) and
 * its latency from the message's intended send time, which the body also carries.
 *
 * Prints one line per step on stdout and finally
 * `load: clients=<K> max_deliveries_per_s=<n> p99_ms_at_max=<n> lost=<n> duplicated=<n> failed_acks=<n>`;
 * progress goes to stderr. `lost` counts (receiver, message) pairs never delivered, even after a
 * final wait; `duplicated` counts deliveries of a message the receiver already had. Exits 1 when
 * either is non-zero or an ack failed: a bench that loses messages measures nothing.
 * Flags: see lib/load-args.ts.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { io as ioClient, type Socket } from "socket.io-client";
import { DEFAULT_ROOM_ID, SOCKET_PATH, type AckResult } from "@parley/shared";
import { parseLoadArgs, type LoadOptions } from "./lib/load-args.js";
import { addSparse, HISTOGRAM_BUCKETS, quantileMs } from "./lib/load-histogram.js";
import type { ParentMessage, ReceiverMessage, StepStats } from "./lib/load-ipc.js";
import { encodeBody, nowMicros } from "./lib/load-wire.js";
import { login } from "./lib/login.js";
import { createServerProcess, type ServerProcess } from "./lib/server-process.js";
import { mapLimit, sleep, waitUntil } from "./lib/wait.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = "load-bench-password";
/** The pacing loop's period; each tick sends what the target rate says is due by now. */
const TICK_MS = 5;
/** Step 0 is one probe message: every receiver must get it before the measured steps start. */
const PROBE_STEP = 0;
/** How long a sender waits for an ack before the send counts as failed. */
const ACK_TIMEOUT_MS = 30_000;
/**
 * After the last step, how long deliveries may still arrive before what is missing counts as lost.
 * Why 10 s: a step past the server's capacity leaves a backlog that drains at the server's own
 * rate; a message still missing 10 s after its ack (and after every ack settled) is not late.
 */
const FINAL_SETTLE_MS = 10_000;

const started = Date.now();
const log = (line: string) => console.error(`[load ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);

/** One receiver child process and a request/response channel over its IPC. */
interface Receiver {
  child: ChildProcess;
  request(m: ParentMessage, want: ReceiverMessage["type"]): Promise<ReceiverMessage>;
}

function startReceiver(): Promise<Receiver> {
  // Forked with tsx as a loader, from the repository root (where tsx is installed).
  const child = fork(fileURLToPath(new URL("./lib/load-receiver.ts", import.meta.url)), [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting: { want: string; id?: number; resolve: (m: ReceiverMessage) => void; reject: (e: Error) => void }[] = [];
  child.on("message", (raw) => {
    const m = raw as ReceiverMessage;
    if (m.type === "error") {
      for (const w of waiting.splice(0)) w.reject(new Error(`receiver: ${m.message}`));
      return;
    }
    const i = waiting.findIndex((w) => w.want === m.type && (m.type !== "stats" || w.id === m.id));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
  });
  child.on("exit", (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`receiver exited (${code})`));
  });
  const request = (m: ParentMessage | null, want: ReceiverMessage["type"]) =>
    new Promise<ReceiverMessage>((resolve, reject) => {
      waiting.push({ want, ...(m?.type === "stats" && { id: m.id }), resolve, reject });
      if (m) child.send(m);
    });
  return request(null, "ready").then(() => ({ child, request: (m, want) => request(m, want) }));
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN where there is no /proc. */
function cpuSeconds(pid: number | null | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

interface Sender {
  socket: Socket;
  inFlight: number;
}

interface StepResult {
  target: number;
  achieved: number;
  p50: number;
  p99: number;
  passed: boolean;
}

async function main(opts: LoadOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "parley-load-"));
  const logPath = join(dir, "server.log");
  log(`clients=${opts.clients} users=${opts.users} senders=${opts.senders} procs=${opts.procs} client=${opts.client} steps=${opts.steps.join(",")} step=${opts.stepSeconds}s dir=${dir}`);

  let server: ServerProcess | null = null;
  const receivers: Receiver[] = [];
  const senders: Sender[] = [];
  // Whatever happens, no child outlives the bench; only the pids it started are signalled.
  const killChildren = () => {
    const pids = [server?.pid(), ...receivers.map((r) => r.child.pid)];
    for (const pid of pids) {
      if (!pid) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.on("exit", killChildren);

  try {
    server = await createServerProcess({ root: ROOT, databaseUrl: `file:${join(dir, "parley.sqlite")}`, logPath });
    await server.start();
    const srv = server;
    log(`server ${srv.url} (pid ${srv.pid()})`);

    // ---- users: every account is a member of general from its creation ----------------------
    const names = [
      ...Array.from({ length: opts.users }, (_, i) => `r${i}`),
      ...Array.from({ length: opts.senders }, (_, i) => `s${i}`),
    ];
    const accounts = await mapLimit(names, 8, (nickname) => login(srv.url, { nickname, password: PASSWORD }));
    log(`${accounts.length} users signed in`);

    // ---- receivers in their own process(es), senders here ------------------------------------
    for (let p = 0; p < opts.procs; p++) receivers.push(await startReceiver());
    const cookies = Array.from({ length: opts.clients }, (_, i) => accounts[i % opts.users]!.cookie);
    await Promise.all(
      receivers.map((r, p) =>
        r.request({ type: "connect", url: srv.url, cookies: cookies.filter((_, i) => i % opts.procs === p), client: opts.client }, "connected"),
      ),
    );
    for (const account of accounts.slice(opts.users)) {
      const socket = ioClient(srv.url, { path: SOCKET_PATH, extraHeaders: { cookie: account.cookie }, transports: ["websocket"], forceNew: true, reconnection: false });
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      });
      senders.push({ socket, inFlight: 0 });
    }
    log(`${opts.clients} receivers (${opts.client}) and ${senders.length} senders connected`);

    let statsId = 0;
    /** Every receiver's counts for `steps`, summed; with `issued` (per step), also what was lost. */
    const stats = async (steps: number[], withHistograms: boolean, issued?: number[]) => {
      const id = ++statsId;
      const request: ParentMessage = { type: "stats", id, steps, withHistograms, ...(issued && { issued }) };
      const replies = (await Promise.all(receivers.map((r) => r.request(request, "stats")))) as Extract<ReceiverMessage, { type: "stats" }>[];
      const total = replies.reduce((n, r) => n + r.total, 0);
      const sum = (s: number, key: "count" | "duplicated" | "lost" | "unexpected") => replies.reduce((n, r) => n + (r.steps[s]?.[key] ?? 0), 0);
      const merged: Required<StepStats>[] = steps.map((s) => ({
        count: sum(s, "count"),
        duplicated: sum(s, "duplicated"),
        lost: sum(s, "lost"),
        unexpected: sum(s, "unexpected"),
        histogram: replies.flatMap((r) => r.steps[s]?.histogram ?? []),
      }));
      return { total, steps: merged };
    };
    /** Per step, how many messages were issued (n = 0..issued-1); checked against the receivers at the end. */
    const issuedPerStep = new Map<number, number>();
    const check = async () => {
      const steps = [...issuedPerStep.keys()];
      const issued = steps.map((s) => issuedPerStep.get(s)!);
      const { steps: merged } = await stats(steps, false, issued);
      return merged.map((m, i) => ({ ...m, step: steps[i]!, issued: issued[i]! }));
    };

    let failedAcks = 0;
    let rr = 0;
    /** Sends message n of `step` on the next sender with room under its in-flight cap; false if none has. */
    const sendOne = (step: number, n: number, sentMicros: number): boolean => {
      for (let tries = 0; tries < senders.length; tries++) {
        const sender = senders[rr++ % senders.length]!;
        if (sender.inFlight >= opts.inFlight) continue;
        sender.inFlight++;
        issuedPerStep.set(step, Math.max(issuedPerStep.get(step) ?? 0, n + 1));
        const payload = { roomId: DEFAULT_ROOM_ID, clientId: randomUUID(), body: encodeBody(step, sentMicros, n, opts.bodyLength) };
        sender.socket.timeout(ACK_TIMEOUT_MS).emit("message:send", payload, (err: Error | null, result?: AckResult<unknown>) => {
          sender.inFlight--;
          if (err || !result?.ok) failedAcks++;
        });
        return true;
      }
      return false;
    };

    // ---- step 0: one probe every receiver must get (proves every socket joined general) -------
    sendOne(PROBE_STEP, 0, nowMicros());
    await waitUntil(async () => (await stats([PROBE_STEP], false)).steps[0]!.count >= opts.clients, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: `the probe message at all ${opts.clients} receivers`,
    });
    log("probe delivered to every receiver; stepping up");

    const results: StepResult[] = [];
    for (let s = 0; s < opts.steps.length; s++) {
      const step = s + 1;
      const target = opts.steps[s]!;
      const msgRate = target / opts.clients;
      const before = await stats([], false);
      const cpu0 = { server: cpuSeconds(srv.pid()), receivers: receivers.reduce((n, r) => n + cpuSeconds(r.child.pid), 0), self: process.cpuUsage() };
      const t0 = performance.now();
      const startMicros = nowMicros();
      const durationMs = opts.stepSeconds * 1000;
      let issued = 0;
      // Open loop: message n is due at start + n/rate whatever happened before; a backlog (all
      // senders at their cap) keeps the intended times, so it shows as latency.
      for (;;) {
        const elapsed = performance.now() - t0;
        const due = Math.min(Math.floor((Math.min(elapsed, durationMs) / 1000) * msgRate), Math.round((durationMs / 1000) * msgRate));
        while (issued < due && sendOne(step, issued, startMicros + ((issued + 1) / msgRate) * 1e6)) issued++;
        if (elapsed >= durationMs) break;
        await sleep(TICK_MS);
      }
      const seconds = (performance.now() - t0) / 1000;
      const after = await stats([], false);
      const cpu = {
        server: (cpuSeconds(srv.pid()) - cpu0.server) / seconds,
        receivers: (receivers.reduce((n, r) => n + cpuSeconds(r.child.pid), 0) - cpu0.receivers) / seconds,
        self: ((u) => (u.user + u.system) / 1e6 / seconds)(process.cpuUsage(cpu0.self)),
      };
      const achieved = (after.total - before.total) / seconds;
      const expected = issued * opts.clients;
      const drainDeadline = Date.now() + opts.drainSeconds * 1000;
      let count = 0;
      for (;;) {
        count = (await stats([step], false)).steps[0]!.count;
        if (count >= expected || Date.now() >= drainDeadline) break;
        await sleep(100);
      }
      const final = (await stats([step], true)).steps[0]!;
      const histogram = new Uint32Array(HISTOGRAM_BUCKETS);
      addSparse(histogram, final.histogram);
      const missing = Math.max(0, expected - final.count);
      const p50 = quantileMs(histogram, 0.5, missing);
      const p99 = quantileMs(histogram, 0.99, missing);
      const passed = p99 <= opts.p99LimitMs;
      results.push({ target, achieved, p50, p99, passed });
      console.log(
        `step ${step}: target=${target}/s msgs=${msgRate.toFixed(0)}/s sent=${issued} deliveries_per_s=${Math.round(achieved)} ` +
          `p50_ms=${fmt(p50)} p99_ms=${fmt(p99)} missing=${missing} duplicated=${final.duplicated} failed_acks=${failedAcks} ` +
          `server_cpu_us_per_delivery=${((cpu.server * 1e6) / Math.max(achieved, 1)).toFixed(2)} cpu server=${cpu.server.toFixed(2)} receivers=${cpu.receivers.toFixed(2)} senders=${cpu.self.toFixed(2)}${passed ? "" : " FAIL"}`,
      );
      if (!passed) break;
    }

    // ---- every message at every receiver exactly once: wait for the acks, then for stragglers ----
    const inFlight = () => senders.reduce((n, s) => n + s.inFlight, 0);
    await waitUntil(() => inFlight() === 0, { timeoutMs: ACK_TIMEOUT_MS + 5_000, intervalMs: 100, what: "every ack (or its timeout)" });
    let checked = await check();
    const settleDeadline = Date.now() + FINAL_SETTLE_MS;
    while (checked.some((c) => c.lost > 0) && Date.now() < settleDeadline) {
      await sleep(250);
      checked = await check();
    }
    for (const c of checked.filter((c) => c.lost > 0 || c.duplicated > 0 || c.unexpected > 0)) {
      log(`step ${c.step}: ${c.issued} messages x ${opts.clients} receivers: lost=${c.lost} duplicated=${c.duplicated} unexpected=${c.unexpected}`);
    }
    const lost = checked.reduce((n, c) => n + c.lost, 0);
    // A message number nobody issued is a delivery that should not exist: counted with the duplicates.
    const duplicated = checked.reduce((n, c) => n + c.duplicated + c.unexpected, 0);

    const best = results.filter((r) => r.passed).reduce<StepResult | null>((a, r) => (a && a.achieved >= r.achieved ? a : r), null);
    console.log(
      `load: clients=${opts.clients} max_deliveries_per_s=${best ? Math.round(best.achieved) : 0} p99_ms_at_max=${best ? fmt(best.p99) : "NaN"} ` +
        `lost=${lost} duplicated=${duplicated} failed_acks=${failedAcks}`,
    );
    if (lost > 0 || duplicated > 0 || failedAcks > 0) {
      log(`FAILED: ${[lost > 0 && `${lost} deliveries lost`, duplicated > 0 && `${duplicated} duplicated`, failedAcks > 0 && `${failedAcks} acks failed`].filter(Boolean).join(", ")}`);
      return 1;
    }
    return 0;
  } finally {
    for (const s of senders) s.socket.close();
    await Promise.all(
      receivers.map(
        (r) =>
          new Promise<void>((resolve) => {
            if (r.child.exitCode !== null) return resolve();
            r.child.once("exit", () => resolve());
            r.child.send({ type: "close" } satisfies ParentMessage);
            setTimeout(() => (r.child.kill("SIGKILL"), resolve()), 3_000).unref();
          }),
      ),
    );
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (ms: number) => (Number.isFinite(ms) ? (ms < 10 ? ms.toFixed(1) : String(Math.round(ms))) : String(ms));

main(parseLoadArgs(process.argv.slice(2))).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
