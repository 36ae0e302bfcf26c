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
 *
 * `--nodes N` (N > 1, issue 12): the same step-up twice on a fresh PostgreSQL database
 * (`parley_load_<random>`, dropped at the end) and a `redis-server` of the bench's own, every
 * server node being the build (`node apps/server/dist/main.js`; the root script builds it first):
 * once on 1 node, then on N nodes with receiver socket i on node i mod N and the senders on node 0.
 * Before the N-node step-up, a fixed-rate step (a fifth of the 1-node max, `--latency-rate`) with
 * latencies kept per node gives the p50 of the receivers on other nodes minus that of the
 * receivers on the senders' node: what the hop through Redis adds (goal < 5 ms). Prints
 * `nodes=1 step …`/`nodes=N step …` lines, `load: nodes=1 …`, `load: nodes=N …` and finally
 * `load-nodes: nodes=N one_node_max=<n> n_nodes_max=<n> cross_node_p50_added_ms=<ms> …`. Every
 * process runs on this machine, so N nodes share its cores: the comparison says what the fan-out
 * through Redis costs, not what N machines would do.
 * Flags: see lib/load-args.ts.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { io as ioClient, type Socket } from "socket.io-client";
import { DEFAULT_ROOM_ID, SOCKET_PATH, type AckResult } from "@parley/shared";
import { parseLoadArgs, type LoadOptions } from "./lib/load-args.js";
import { addSparse, bucketOf, HISTOGRAM_BUCKETS, quantileMs } from "./lib/load-histogram.js";
import type { ParentMessage, ReceiverMessage } from "./lib/load-ipc.js";
import { connectRawClient, encodeBody, nowMicros, type RawSender } from "./lib/load-wire.js";
import { login } from "./lib/login.js";
import { crossNodeLatency, latencyRate, mergeByNode, nodeOfReceiver, type CrossNodeLatency } from "./lib/load-nodes.js";
import { createRunDatabase, type RunDatabase } from "./lib/pg-store.js";
import { createRedisProcess } from "./lib/redis-process.js";
import { createServerProcess, serverCommand, type ServerProcess } from "./lib/server-process.js";
import { startReceiverProcess, type ReceiverProcess } from "./lib/receiver-process.js";
import { pinGeneratorToLastCpu } from "./lib/linux-limits.js";
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
/**
 * With --nodes: the unreported warm-up before the cross-node latency step. Why: the extra nodes have
 * just started and have served nothing yet, while node 0 ran a whole step-up; their first seconds
 * of deliveries run unoptimised code, which would show as cross-node latency.
 */
const LATENCY_WARMUP_SECONDS = 2;
/** Several nodes starting on a busy 2-core box (test:cluster's bound, for the same reason). */
const NODE_START_TIMEOUT_MS = 60_000;

const started = Date.now();
const log = (line: string) => console.error(`[load ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);

/** A receiver child process (lib/receiver-process.ts, shared with bench:sockets). */
type Receiver = ReceiverProcess;
const startReceiver = () => startReceiverProcess(ROOT);

/** CPU seconds (user + system) a process has used so far, from /proc; NaN where there is no /proc. */
function cpuSeconds(pid: number | null | undefined): number {
  const { user, sys } = cpuSplit(pid);
  return user + sys;
}

/**
 * User and system CPU seconds of a process (every thread), from /proc/<pid>/stat; NaN without /proc.
 * Split because on loopback much of a fan-out's cost is the kernel's (each write runs the receiving
 * side's TCP stack too): a server's system time says how much of its CPU its writes cost.
 */
function cpuSplit(pid: number | null | undefined): { user: number; sys: number } {
  if (!pid) return { user: NaN, sys: NaN };
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 }; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return { user: NaN, sys: NaN };
  }
}

interface Sender {
  /** Sends `message:send` with an ack; `onAck(ok)` once (false on a failed ack, a timeout or a close). */
  send(payload: unknown, onAck: (ok: boolean) => void): void;
  close(): void;
  inFlight: number;
}

/** A sender on socket.io-client (`--client socketio`). */
function socketIoSender(socket: Socket): Sender {
  return {
    inFlight: 0,
    send(payload, onAck) {
      socket.timeout(ACK_TIMEOUT_MS).emit("message:send", payload, (err: Error | null, result?: AckResult<unknown>) => onAck(!err && result?.ok === true));
    },
    close: () => socket.close(),
  };
}

/** A sender on the raw client (`--client raw`, the default): see connectRawClient. */
function rawSender(client: RawSender): Sender {
  return {
    inFlight: 0,
    send: (payload, onAck) => client.emit("message:send", payload, onAck, ACK_TIMEOUT_MS),
    close: () => client.close(),
  };
}

interface StepResult {
  target: number;
  achieved: number;
  p50: number;
  p99: number;
  passed: boolean;
}

/** A server node as the step-up sees it: where to connect, and which pid to read CPU time from. */
type Node = Pick<ServerProcess, "url" | "pid">;

interface Account {
  cookie: string;
}

/** One step-up: over `nodes` (senders on the first, receivers spread over all), on users signed in before. */
interface RunPlan {
  nodes: readonly Node[];
  accounts: readonly Account[];
  /** Prefixes the step lines (`nodes=3 step 2: …`); null keeps today's `step 2: …`. */
  label: string | null;
  /** Extra pids whose CPU the step lines report (the Redis server). */
  redisPid?: () => number | null;
  /** Deliveries/s of a fixed-rate step, before the step-up, whose latency is split by node. */
  latencyRate?: number;
  /** Fixed-rate steps before the step-up (after an unreported warm-up at the first one's rate). */
  fixed?: readonly FixedStep[];
}

/** A fixed-rate step of --compare: what the server does at one rate, not how far it goes. */
interface FixedStep {
  name: string;
  /** Deliveries per second (messages/s times the receivers). */
  target: number;
}

interface FixedResult {
  name: string;
  achieved: number;
  p99: number;
  /** p99 of the senders' acks, from each message's intended send time. */
  ackP99: number;
  /** Cores the server process(es) used during the step. */
  serverCpu: number;
}

interface RunResult {
  best: StepResult | null;
  lost: number;
  duplicated: number;
  failedAcks: number;
  crossNode: CrossNodeLatency | null;
  fixed: FixedResult[];
}

/** Receiver processes of the run in progress: the exit handler kills them by pid. */
const liveReceivers = new Set<Receiver>();
/** Server nodes and Redis the bench started: the exit handler kills them by pid. */
const livePids: (() => number | null)[] = [];

/** Whatever happens, no child outlives the bench; only the pids it started are signalled. */
function killChildrenNow(): void {
  for (const pid of [...livePids.map((p) => p()), ...[...liveReceivers].map((r) => r.child.pid ?? null)]) {
    if (!pid) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/**
 * Every sign-in goes to `url` (the sessions are valid on every node of the same storage). Four at
 * a time with a 60 s timeout: scrypt runs on the server's thread pool, and on the shared 2-core box
 * (load average 20) eight at once made single sign-ins pass 30 s.
 */
async function signIn(url: string, opts: LoadOptions): Promise<Account[]> {
  const names = [...Array.from({ length: opts.users }, (_, i) => `r${i}`), ...Array.from({ length: opts.senders }, (_, i) => `s${i}`)];
  const accounts = await mapLimit(names, 4, (nickname) => login(url, { nickname, password: PASSWORD }, { timeoutMs: 60_000 }));
  log(`${accounts.length} users signed in`);
  return accounts;
}

/** One step's measurements (runStep). */
interface StepRun {
  msgRate: number;
  issued: number;
  achieved: number;
  cpu: StepCpu;
  missing: number;
  duplicated: number;
  p50: number;
  p99: number;
  ackP99: number;
  byNode: ReturnType<typeof mergeByNode> | null;
}

/** Cores each part used during a step. */
interface StepCpu {
  server: number;
  serverSys: number;
  redis: number;
  receivers: number;
  self: number;
}

/** One step's messages at the receivers: how many were issued, lost, and delivered twice or unasked. */
interface StepCheck {
  step: number;
  issued: number;
  lost: number;
  duplicated: number;
  unexpected: number;
}

/** A run's clients, connected to its nodes and proven by the probe: what steps are run on. */
interface Rig {
  /** Sends `step` at `target` deliveries/s for `seconds`, waits for its deliveries (up to the drain), and measures it. */
  runStep(step: number, target: number, seconds: number, byNode: boolean): Promise<StepRun>;
  cpuText(cpu: StepCpu): string;
  failedAcks(): number;
  /**
   * Waits for every ack (or its timeout), then until no receiver lacks a message (or
   * FINAL_SETTLE_MS): every step so far, checked, and what was lost or delivered twice in all.
   */
  settle(): Promise<{ checked: StepCheck[]; lost: number; duplicated: number }>;
  close(): Promise<void>;
}

/**
 * Starts the receivers (in their own processes) and connects the senders (here, on the first
 * node), then sends the probe every receiver must get: after this, every socket is in `general`.
 */
async function openRig(opts: LoadOptions, plan: RunPlan): Promise<Rig> {
  const { nodes, accounts } = plan;
  const prefix = plan.label ? `${plan.label} ` : "";
  const receivers: Receiver[] = [];
  const senders: Sender[] = [];
  const close = async () => {
    for (const s of senders) s.close();
    await Promise.all(receivers.map((r) => r.close(3_000).finally(() => liveReceivers.delete(r))));
  };
  try {
    // ---- receivers in their own process(es), senders here, on the first node ------------------
    for (let p = 0; p < opts.procs; p++) {
      const r = await startReceiver();
      receivers.push(r);
      liveReceivers.add(r);
    }
    const cookies = Array.from({ length: opts.clients }, (_, i) => accounts[i % opts.users]!.cookie);
    // Socket i goes to node i mod N and process floor(i / N) mod procs, so each process holds a
    // share of every node's sockets (with procs = N, i mod procs would pin a process to one node).
    for (let node = 0; node < nodes.length; node++) {
      await Promise.all(
        receivers.map((r, p) =>
          r.request(
            {
              type: "connect",
              url: nodes[node]!.url,
              cookies: cookies.filter((_, i) => nodeOfReceiver(i, nodes.length) === node && Math.floor(i / nodes.length) % opts.procs === p),
              client: opts.client,
              node,
            },
            "connected",
          ),
        ),
      );
    }
    const senderUrl = nodes[0]!.url;
    for (const account of accounts.slice(opts.users)) {
      if (opts.client === "raw") {
        // The senders' own deliveries are not counted (they are not receivers).
        senders.push(rawSender(await connectRawClient(Number(new URL(senderUrl).port), account.cookie, () => {})));
        continue;
      }
      const socket = ioClient(senderUrl, { path: SOCKET_PATH, extraHeaders: { cookie: account.cookie }, transports: ["websocket"], forceNew: true, reconnection: false });
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      });
      senders.push(socketIoSender(socket));
    }
    log(`${prefix}${opts.clients} receivers (${opts.client}) on ${nodes.length} node(s) and ${senders.length} senders connected`);

    let statsId = 0;
    /** Every receiver's counts for `steps`, summed; with `issued` (per step), also what was lost. */
    const stats = async (steps: number[], withHistograms: boolean, issued?: number[], byNode = false) => {
      const id = ++statsId;
      const request: ParentMessage = { type: "stats", id, steps, withHistograms, ...(issued && { issued }), ...(byNode && { byNode }) };
      const replies = (await Promise.all(receivers.map((r) => r.request(request, "stats")))) as Extract<ReceiverMessage, { type: "stats" }>[];
      const total = replies.reduce((n, r) => n + r.total, 0);
      const sum = (s: number, key: "count" | "duplicated" | "lost" | "unexpected") => replies.reduce((n, r) => n + (r.steps[s]?.[key] ?? 0), 0);
      const merged = steps.map((s) => ({
        count: sum(s, "count"),
        duplicated: sum(s, "duplicated"),
        lost: sum(s, "lost"),
        unexpected: sum(s, "unexpected"),
        histogram: replies.flatMap((r) => r.steps[s]?.histogram ?? []),
        byNode: replies.map((r) => r.steps[s]?.byNode ?? {}),
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
    /** step -> histogram of ack latencies (from the intended send time to the ack). */
    const ackHistograms = new Map<number, Uint32Array>();
    /** Sends message n of `step` on the next sender with room under its in-flight cap; false if none has. */
    const sendOne = (step: number, n: number, sentMicros: number): boolean => {
      for (let tries = 0; tries < senders.length; tries++) {
        const sender = senders[rr++ % senders.length]!;
        if (sender.inFlight >= opts.inFlight) continue;
        sender.inFlight++;
        issuedPerStep.set(step, Math.max(issuedPerStep.get(step) ?? 0, n + 1));
        const payload = { roomId: DEFAULT_ROOM_ID, clientId: randomUUID(), body: encodeBody(step, sentMicros, n, opts.bodyLength) };
        sender.send(payload, (ok) => {
          sender.inFlight--;
          if (!ok) return void failedAcks++;
          let h = ackHistograms.get(step);
          if (!h) ackHistograms.set(step, (h = new Uint32Array(HISTOGRAM_BUCKETS)));
          const i = bucketOf((nowMicros() - sentMicros) / 1000);
          h[i] = h[i]! + 1;
        });
        return true;
      }
      return false;
    };
    const serverCpu = () => nodes.reduce((n, node) => n + cpuSeconds(node.pid()), 0);
    const serverSys = () => nodes.reduce((n, node) => n + cpuSplit(node.pid()).sys, 0);

    const runStep = async (step: number, target: number, seconds: number, byNode: boolean): Promise<StepRun> => {
      const msgRate = target / opts.clients;
      const before = await stats([], false);
      const cpu0 = {
        server: serverCpu(),
        serverSys: serverSys(),
        redis: cpuSeconds(plan.redisPid?.()),
        receivers: receivers.reduce((n, r) => n + cpuSeconds(r.child.pid), 0),
        self: process.cpuUsage(),
      };
      const t0 = performance.now();
      const startMicros = nowMicros();
      const durationMs = seconds * 1000;
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
      const took = (performance.now() - t0) / 1000;
      const after = await stats([], false);
      const cpu: StepCpu = {
        server: (serverCpu() - cpu0.server) / took,
        serverSys: (serverSys() - cpu0.serverSys) / took,
        redis: (cpuSeconds(plan.redisPid?.()) - cpu0.redis) / took,
        receivers: (receivers.reduce((n, r) => n + cpuSeconds(r.child.pid), 0) - cpu0.receivers) / took,
        self: ((u) => (u.user + u.system) / 1e6 / took)(process.cpuUsage(cpu0.self)),
      };
      const achieved = (after.total - before.total) / took;
      const expected = issued * opts.clients;
      const drainDeadline = Date.now() + opts.drainSeconds * 1000;
      for (;;) {
        const count = (await stats([step], false)).steps[0]!.count;
        if (count >= expected || Date.now() >= drainDeadline) break;
        await sleep(100);
      }
      const final = (await stats([step], true, undefined, byNode)).steps[0]!;
      const histogram = new Uint32Array(HISTOGRAM_BUCKETS);
      addSparse(histogram, final.histogram);
      const missing = Math.max(0, expected - final.count);
      return {
        msgRate,
        issued,
        achieved,
        cpu,
        missing,
        duplicated: final.duplicated,
        p50: quantileMs(histogram, 0.5, missing),
        p99: quantileMs(histogram, 0.99, missing),
        ackP99: quantileMs(ackHistograms.get(step) ?? new Uint32Array(HISTOGRAM_BUCKETS), 0.99),
        byNode: byNode ? mergeByNode(final.byNode) : null,
      };
    };
    const cpuText = (cpu: StepCpu) =>
      `cpu server=${cpu.server.toFixed(2)} (sys ${cpu.serverSys.toFixed(2)})${plan.redisPid ? ` redis=${cpu.redis.toFixed(2)}` : ""} receivers=${cpu.receivers.toFixed(2)} senders=${cpu.self.toFixed(2)}`;

    // ---- step 0: one probe every receiver must get (proves every socket joined general) -------
    sendOne(PROBE_STEP, 0, nowMicros());
    try {
      await waitUntil(async () => (await stats([PROBE_STEP], false)).steps[0]!.count >= opts.clients, {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: `the probe message at all ${opts.clients} receivers`,
      });
    } catch (e) {
      // Which nodes' receivers lack it tells a lost cross-node hop from a slow server.
      const byNode = mergeByNode((await stats([PROBE_STEP], false, undefined, true)).steps[0]!.byNode);
      const got = [...byNode].map(([node, h]) => `n${node}=${h.reduce((n, c) => n + c, 0)}`).join(" ");
      log(`${prefix}probe deliveries by node: ${got || "none"} (of ${nodes.map((_, k) => `n${k}=${cookies.filter((_, i) => nodeOfReceiver(i, nodes.length) === k).length}`).join(" ")})`);
      throw e;
    }
    log(`${prefix}probe delivered to every receiver`);
    const inFlight = () => senders.reduce((n, s) => n + s.inFlight, 0);
    const settle = async () => {
      await waitUntil(() => inFlight() === 0, { timeoutMs: ACK_TIMEOUT_MS + 5_000, intervalMs: 100, what: `${prefix}every ack (or its timeout)` });
      let checked = await check();
      const deadline = Date.now() + FINAL_SETTLE_MS;
      while (checked.some((c) => c.lost > 0) && Date.now() < deadline) {
        await sleep(250);
        checked = await check();
      }
      const lost = checked.reduce((n, c) => n + c.lost, 0);
      // A message number nobody issued is a delivery that should not exist: counted with the duplicates.
      const duplicated = checked.reduce((n, c) => n + c.duplicated + c.unexpected, 0);
      return { checked, lost, duplicated };
    };
    return { runStep, cpuText, failedAcks: () => failedAcks, settle, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function runStepUp(opts: LoadOptions, plan: RunPlan): Promise<RunResult> {
  const prefix = plan.label ? `${plan.label} ` : "";
  const rig = await openRig(opts, plan);
  const { runStep, cpuText } = rig;
  try {
    // ---- cross-node latency at a moderate fixed rate, before the step-up can leave a backlog ----
    let crossNode: CrossNodeLatency | null = null;
    if (plan.latencyRate !== undefined) {
      // Step numbers after the step-up's, so the loss check covers these messages too.
      const warmStep = opts.steps.length + 1;
      const latencyStep = opts.steps.length + 2;
      // Unreported warm-up: the nodes just started have not compiled their hot paths yet.
      await runStep(warmStep, plan.latencyRate, LATENCY_WARMUP_SECONDS, false);
      const r = await runStep(latencyStep, plan.latencyRate, opts.latencySeconds, true);
      crossNode = crossNodeLatency(r.byNode!, 0);
      console.log(
        `${prefix}latency: target=${plan.latencyRate}/s msgs=${r.msgRate.toFixed(0)}/s sent=${r.issued} deliveries_per_s=${Math.round(r.achieved)} ` +
          `p50_ms same_node=${fmt(crossNode.sameNodeP50Ms)} other_nodes=${fmt(crossNode.otherNodesP50Ms)} added=${crossNode.addedMs.toFixed(1)} ` +
          `deliveries same_node=${crossNode.sameNodeDeliveries} other_nodes=${crossNode.otherNodesDeliveries} missing=${r.missing} ${cpuText(r.cpu)}`,
      );
    }
    // ---- fixed-rate steps (--compare): the ack latency and the CPU at a given rate -------------
    const fixed: FixedResult[] = [];
    if (plan.fixed && plan.fixed.length > 0) {
      // Step numbers after every other's, so the loss check covers these messages too.
      const first = opts.steps.length + 3;
      await runStep(first, plan.fixed[0]!.target, LATENCY_WARMUP_SECONDS, false);
      for (const [k, f] of plan.fixed.entries()) {
        const r = await runStep(first + 1 + k, f.target, opts.stepSeconds, false);
        fixed.push({ name: f.name, achieved: r.achieved, p99: r.p99, ackP99: r.ackP99, serverCpu: r.cpu.server });
        console.log(
          `${prefix}fixed ${f.name}: target=${f.target}/s msgs=${r.msgRate.toFixed(0)}/s sent=${r.issued} deliveries_per_s=${Math.round(r.achieved)} ` +
            `p99_ms=${fmt(r.p99)} ack_p99_ms=${fmt(r.ackP99)} missing=${r.missing} ${cpuText(r.cpu)}`,
        );
      }
    }
    if (plan.fixed && plan.fixed.length > 0) {
      // A fixed step past a server's capacity (the tutorial server at 1,000 messages/s) leaves a
      // backlog that would land in the step-up's first steps as their latency: wait for every
      // message sent so far to be delivered (or FINAL_SETTLE_MS) before stepping up.
      await rig.settle();
    }
    log(`${prefix}stepping up`);

    const results: StepResult[] = [];
    for (let s = 0; s < opts.steps.length; s++) {
      const step = s + 1;
      const target = opts.steps[s]!;
      const r = await runStep(step, target, opts.stepSeconds, false);
      const passed = r.p99 <= opts.p99LimitMs;
      results.push({ target, achieved: r.achieved, p50: r.p50, p99: r.p99, passed });
      console.log(
        `${prefix}step ${step}: target=${target}/s msgs=${r.msgRate.toFixed(0)}/s sent=${r.issued} deliveries_per_s=${Math.round(r.achieved)} ` +
          `p50_ms=${fmt(r.p50)} p99_ms=${fmt(r.p99)} missing=${r.missing} duplicated=${r.duplicated} failed_acks=${rig.failedAcks()} ` +
          `server_cpu_us_per_delivery=${((r.cpu.server * 1e6) / Math.max(r.achieved, 1)).toFixed(2)} ${cpuText(r.cpu)}${passed ? "" : " FAIL"}`,
      );
      if (!passed) break;
    }

    // ---- every message at every receiver exactly once: wait for the acks, then for stragglers ----
    const { checked, lost, duplicated } = await rig.settle();
    for (const c of checked.filter((c) => c.lost > 0 || c.duplicated > 0 || c.unexpected > 0)) {
      log(`${prefix}step ${c.step}: ${c.issued} messages x ${opts.clients} receivers: lost=${c.lost} duplicated=${c.duplicated} unexpected=${c.unexpected}`);
    }
    const best = results.filter((r) => r.passed).reduce<StepResult | null>((a, r) => (a && a.achieved >= r.achieved ? a : r), null);
    return { best, lost, duplicated, failedAcks: rig.failedAcks(), crossNode, fixed };
  } finally {
    await rig.close();
  }
}

/** `load: [nodes=N ]clients=… max_deliveries_per_s=…` and whether the run lost, duplicated or failed nothing. */
function report(opts: LoadOptions, r: RunResult, label: string | null): boolean {
  console.log(
    `load: ${label ? `${label} ` : ""}clients=${opts.clients} max_deliveries_per_s=${maxOf(r)} p99_ms_at_max=${r.best ? fmt(r.best.p99) : "NaN"} ` +
      `lost=${r.lost} duplicated=${r.duplicated} failed_acks=${r.failedAcks}`,
  );
  if (r.lost === 0 && r.duplicated === 0 && r.failedAcks === 0) return true;
  log(
    `FAILED${label ? ` (${label})` : ""}: ${[r.lost > 0 && `${r.lost} deliveries lost`, r.duplicated > 0 && `${r.duplicated} duplicated`, r.failedAcks > 0 && `${r.failedAcks} acks failed`].filter(Boolean).join(", ")}`,
  );
  return false;
}

const maxOf = (r: RunResult) => (r.best ? Math.round(r.best.achieved) : 0);

/** Today's bench: one server on a fresh SQLite file. */
async function singleNode(opts: LoadOptions, dir: string, stopLater: (s: ServerProcess) => void): Promise<number> {
  const server = await createServerProcess({ root: ROOT, databaseUrl: `file:${join(dir, "parley.sqlite")}`, logPath: join(dir, "server.log") });
  stopLater(server);
  await server.start();
  log(`server ${server.url} (pid ${server.pid()})`);
  const accounts = await signIn(server.url, opts);
  const r = await runStepUp(opts, { nodes: [server], accounts, label: null });
  return report(opts, r, null) ? 0 : 1;
}

/**
 * Issue 12's comparison: the same step-up on 1 node and on N, both on one fresh PostgreSQL database
 * and one Redis of the bench's own, so the only difference is the number of nodes. The 1-node run
 * has REDIS_URL too (it publishes every broadcast into the stream like any node of a cluster): what
 * is compared is a cluster of one with a cluster of N. The other nodes start only for the second
 * run, so they take no CPU (reading the stream) during the first.
 */
async function multiNode(opts: LoadOptions, dir: string, stopLater: (s: ServerProcess) => void, dropLater: (db: RunDatabase) => void): Promise<number> {
  const command = serverCommand(ROOT);
  log(`server command: ${command.description}`);
  const db = await createRunDatabase(opts.pgUrl, "parley_load");
  dropLater(db);
  log(`database ${db.name} created`);
  const redis = await createRedisProcess({ logPath: join(dir, "redis.log") });
  livePids.push(redis.pid);
  await redis.start();
  log(`redis-server ${redis.url} (pid ${redis.pid()})`);
  const nodes = await Promise.all(
    Array.from({ length: opts.nodes }, (_, i) =>
      createServerProcess({ root: ROOT, databaseUrl: db.url, redisUrl: redis.url, command, logPath: join(dir, `node-${i}.log`), startTimeoutMs: NODE_START_TIMEOUT_MS }),
    ),
  );
  for (const n of nodes) stopLater(n);
  try {
    // The first node alone applies the migrations to the empty database.
    await nodes[0]!.start();
    log(`node n0 ${nodes[0]!.url} (pid ${nodes[0]!.pid()})`);
    const accounts = await signIn(nodes[0]!.url, opts);

    const one = await runStepUp(opts, { nodes: [nodes[0]!], accounts, label: "nodes=1", redisPid: redis.pid });
    const oneOk = report(opts, one, "nodes=1");

    await Promise.all(nodes.slice(1).map((n) => n.start()));
    log(`nodes ${nodes.map((n, i) => `n${i} ${n.url} (pid ${n.pid()})`).join(", ")}`);
    const rate = latencyRate(opts.latencyRate, maxOf(one), opts.steps[0]!);
    const many = await runStepUp(opts, { nodes, accounts, label: `nodes=${opts.nodes}`, redisPid: redis.pid, latencyRate: rate });
    const manyOk = report(opts, many, `nodes=${opts.nodes}`);

    const c = many.crossNode;
    console.log(
      `load-nodes: nodes=${opts.nodes} one_node_max=${maxOf(one)} n_nodes_max=${maxOf(many)} cross_node_p50_added_ms=${c ? c.addedMs.toFixed(1) : "NaN"} ` +
        `same_node_p50_ms=${c ? fmt(c.sameNodeP50Ms) : "NaN"} other_nodes_p50_ms=${c ? fmt(c.otherNodesP50Ms) : "NaN"} latency_rate=${rate}`,
    );
    return oneOk && manyOk ? 0 : 1;
  } finally {
    // Nodes before Redis, so that their shutdown does not log a Redis outage; then their logs.
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await redis.kill().catch(() => undefined);
    for (let i = 0; i < nodes.length; i++) reportCrashLines(join(dir, `node-${i}.log`), `node n${i}`);
  }
}

/**
 * With two cores or more and `taskset` (util-linux): this process (and so the receivers it forks
 * later, which inherit its affinity) goes to the last cpu and the servers to cpu 0. Why: with
 * both on every core, the generator's work shows up as the server's latency, and a server that
 * takes more than its core would be measured as faster than one that does not.
 */
function pinGenerator(): { server: string; generator: string } | null {
  // PARLEY_BENCH_NO_PIN=1: for a CPU profile (--cpu-prof's sampling thread would share the
  // server's saturated core and lose samples, which then read as idle).
  if (process.env.PARLEY_BENCH_NO_PIN === "1") return null;
  return pinGeneratorToLastCpu(cpus().length);
}

/**
 * Issue 15's comparison, in one run and with one generator: Parley (the build, on a fresh SQLite
 * file), the Socket.IO tutorial server (`io.emit`, bench/src/baselines/socketio-server.ts) and a raw
 * `ws` server that frames once and corks (baselines/raw-server.ts), one after the other so each has
 * the machine to itself. The baselines have no accounts: their clients send an empty cookie.
 */
async function compare(opts: LoadOptions, dir: string, stopLater: (s: ServerProcess) => void): Promise<number> {
  const fixed: FixedStep[] = [
    { name: "cpu", target: opts.cpuRate },
    { name: "ack", target: opts.ackRate * opts.clients },
  ];
  const all = [
    { name: "parley", command: serverCommand(ROOT), accounts: true },
    { name: "tutorial", command: { args: ["--import", "tsx", "bench/src/baselines/socketio-server.ts", "--broadcast"], description: "tutorial" }, accounts: false },
    { name: "raw", command: { args: ["--import", "tsx", "bench/src/baselines/raw-server.ts"], description: "raw ws" }, accounts: false },
  ] as const;
  const servers = all.filter((s) => opts.servers.includes(s.name));
  const results = new Map<string, RunResult>();
  let ok = true;
  const pinned = pinGenerator();
  log(pinned ? `pinned: server on cpu ${pinned.server}, generator on cpu ${pinned.generator}` : "not pinned (fewer than 2 cpus or no taskset): the server and the generator share the cores");
  const started = new Map<string, PairedServer>();
  const start = async (s: (typeof all)[number]): Promise<PairedServer> => {
    const known = started.get(s.name);
    if (known) return known;
    const server = await createServerProcess({
      root: ROOT,
      databaseUrl: `file:${join(dir, `${s.name}.sqlite`)}`,
      command: s.command,
      logPath: join(dir, `${s.name}.log`),
      ...(pinned && { cpus: pinned.server }),
    });
    stopLater(server);
    await server.start();
    log(`${s.name}: ${s.command.description} on ${server.url} (pid ${server.pid()})`);
    const accounts = s.accounts ? await signIn(server.url, opts) : Array.from({ length: opts.users + opts.senders }, () => ({ cookie: "" }));
    const entry = { name: s.name, server, accounts };
    started.set(s.name, entry);
    return entry;
  };

  // ---- the CPU step, Parley and the raw server in turns, both up at once ----------------------
  const pairedNames = ["parley", "raw"] as const;
  const paired = opts.cpuRounds > 0 && pairedNames.every((n) => opts.servers.includes(n));
  let pairs: Map<string, number[]> | null = null;
  if (paired) {
    const both: PairedServer[] = [];
    for (const name of pairedNames) both.push(await start(all.find((s) => s.name === name)!));
    const r = await cpuInTurns(opts, both);
    pairs = r.cpu;
    ok = r.ok && ok;
  }

  for (const s of servers) {
    const { server, accounts } = await start(s);
    try {
      // With the CPU measured in turns, a server's own run measures only the ack step.
      const own = paired && s.name !== "tutorial" ? fixed.filter((f) => f.name !== "cpu") : fixed;
      const r = await runStepUp(opts, { nodes: [server], accounts, label: s.name, fixed: own });
      ok = report(opts, r, s.name) && ok;
      results.set(s.name, r);
    } finally {
      await server.stop();
    }
  }
  const max = (name: string) => {
    const r = results.get(name);
    return r ? maxOf(r) : NaN;
  };
  const fixedOf = (name: string, step: string) => results.get(name)?.fixed.find((f) => f.name === step);
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : "NaN");
  const cpu = (name: string) => {
    const turns = pairs?.get(name);
    return (turns ? median(turns) : fixedOf(name, "cpu")?.serverCpu)?.toFixed(2) ?? "NaN";
  };
  if (pairs) {
    const [p, r] = pairedNames.map((n) => median(pairs!.get(n)!));
    console.log(
      `cpu_turns: rounds=${opts.cpuRounds} rate=${opts.cpuRate} ` +
        pairedNames.map((n) => `${n}=${pairs!.get(n)!.map((c) => c.toFixed(2)).join(",")}`).join(" ") +
        ` parley_median=${p!.toFixed(2)} raw_median=${r!.toFixed(2)} ratio=${ratio(p!, r!)}`,
    );
  }
  console.log(
    `compare: parley_max=${max("parley")} tutorial_max=${max("tutorial")} raw_max=${max("raw")} ` +
      `parley_vs_tutorial=${ratio(max("parley"), max("tutorial"))} parley_vs_raw=${ratio(max("parley"), max("raw"))} ` +
      `ack_p99_ms_at_${opts.ackRate >= 1000 ? `${opts.ackRate / 1000}k` : opts.ackRate}=${fmt(fixedOf("parley", "ack")?.ackP99 ?? NaN)} ` +
      `parley_cpu_at_${opts.cpuRate / 1000}k=${cpu("parley")} raw_cpu_at_${opts.cpuRate / 1000}k=${cpu("raw")} tutorial_cpu_at_${opts.cpuRate / 1000}k=${cpu("tutorial")} ` +
      `clients=${opts.clients} senders=${opts.senders}`,
  );
  return ok ? 0 : 1;
}

/** A server of --compare, started and with its users signed in. */
interface PairedServer {
  name: string;
  server: ServerProcess;
  accounts: Account[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The CPU step (`--cpu-rate` deliveries/s for `--step-seconds`) on each server in turn,
 * `--cpu-rounds` times, every server up with its own clients throughout. Why in turns: on this
 * shared machine what a fixed load costs drifts between runs minutes apart (the raw server took
 * 0.38 to 0.60 of a core at 60k in runs of one evening), so two one-off readings, one per server's
 * run, could not tell a change from the drift; readings seconds apart drift together. Who goes
 * first alternates per round. Every message is checked at every receiver as in a step-up.
 */
async function cpuInTurns(opts: LoadOptions, servers: readonly PairedServer[]): Promise<{ cpu: Map<string, number[]>; ok: boolean }> {
  const rigs: Rig[] = [];
  const cpu = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  let ok = true;
  try {
    for (const s of servers) rigs.push(await openRig(opts, { nodes: [s.server], accounts: s.accounts, label: `${s.name} cpu` }));
    // Step 1 warms each up (unreported); round k is step k + 1 on every rig.
    for (const rig of rigs) await rig.runStep(1, opts.cpuRate, LATENCY_WARMUP_SECONDS, false);
    for (let round = 1; round <= opts.cpuRounds; round++) {
      const order = servers.map((_, i) => i);
      if (round % 2 === 0) order.reverse();
      for (const i of order) {
        const rig = rigs[i]!;
        const r = await rig.runStep(round + 1, opts.cpuRate, opts.stepSeconds, false);
        cpu.get(servers[i]!.name)!.push(r.cpu.server);
        console.log(
          `${servers[i]!.name} cpu turn ${round}: target=${opts.cpuRate}/s msgs=${r.msgRate.toFixed(0)}/s sent=${r.issued} deliveries_per_s=${Math.round(r.achieved)} ` +
            `p99_ms=${fmt(r.p99)} missing=${r.missing} ${rig.cpuText(r.cpu)}`,
        );
      }
    }
    for (const [i, rig] of rigs.entries()) {
      const { lost, duplicated } = await rig.settle();
      log(`${servers[i]!.name} cpu turns: lost=${lost} duplicated=${duplicated} failed_acks=${rig.failedAcks()}`);
      if (lost > 0 || duplicated > 0 || rig.failedAcks() > 0) ok = false;
    }
  } finally {
    await Promise.all(rigs.map((r) => r.close()));
  }
  return { cpu, ok };
}

/** What the server logs when something escaped every handler: not part of the verdict, but a bug to report. */
const CRASH_LINE = /unhandled (promise )?rejection|uncaught ?exception/i;

function reportCrashLines(path: string, what: string): void {
  try {
    const lines = readFileSync(path, "utf8").split("\n").filter((l) => CRASH_LINE.test(l));
    if (lines.length > 0) log(`${what} logged ${lines.length} unhandled errors, first: ${lines[0]!.slice(0, 300)}`);
  } catch {
    // no log written
  }
}

let tearingDown: Promise<void> | null = null;
const servers: ServerProcess[] = [];
let database: RunDatabase | null = null;
/** Stops every node (SIGTERM, SIGKILL after the grace) and drops the database. Runs once. */
function teardown(): Promise<void> {
  tearingDown ??= (async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await database?.drop().catch((e: unknown) => log(`could not drop database ${database?.name}: ${(e as Error).message}`));
  })();
  return tearingDown;
}

async function main(opts: LoadOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "parley-load-"));
  log(
    `clients=${opts.clients} users=${opts.users} senders=${opts.senders} procs=${opts.procs} client=${opts.client} steps=${opts.steps.join(",")} step=${opts.stepSeconds}s ` +
      `nodes=${opts.nodes} dir=${dir}`,
  );
  let code = 1;
  const stopLater = (s: ServerProcess) => {
    servers.push(s);
    livePids.push(s.pid);
  };
  try {
    code = opts.compare
      ? await compare(opts, dir, stopLater)
      : opts.nodes === 1
        ? await singleNode(opts, dir, stopLater)
        : await multiNode(opts, dir, stopLater, (db) => (database = db));
    return code;
  } finally {
    await teardown();
    // The server logs are the evidence of a failed run: kept then, removed otherwise.
    if (code === 0) rmSync(dir, { recursive: true, force: true });
    else log(`logs kept in ${dir}`);
  }
}

const fmt = (ms: number) => (Number.isFinite(ms) ? (ms < 10 ? ms.toFixed(1) : String(Math.round(ms))) : String(ms));

process.on("exit", killChildrenNow);
// A signal ends the run the way a failure does: nodes stopped, database dropped, then the exit
// handler kills whatever is left by pid.
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void Promise.race([teardown(), sleep(15_000)]).finally(() => process.exit(code));
  });
}

main(parseLoadArgs(process.argv.slice(2))).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
