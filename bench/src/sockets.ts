/**
 * `pnpm bench:sockets` — issue 15, "closer to the wire": 100,000 concurrent signed-in sockets on
 * one server process, messages still flowing to a room of 1,000 of them (goal: p99 < 250 ms), and
 * the server's resident memory with all of them open.
 *
 * The server is the build (`node --max-old-space-size=<--server-heap-mb> apps/server/dist/main.js`;
 * the root script builds it) in a child process on a fresh SQLite file. About 40 accounts sign in
 * (each sign-in is a production scrypt hash, about a second of a core): `--room-accounts` join a
 * room the bench creates, `--idle-accounts` stay in `general` only (where every account starts).
 * The `--sockets` sockets are tabs of these accounts, round-robin: `--room-sockets` of them tabs of
 * the room accounts, the rest of the idle ones, so the room's broadcasts reach exactly its sockets
 * while the others sit idle (pings only). They are the load bench's raw receivers
 * (lib/load-wire.ts: the WebSocket upgrade, Engine.IO open and pings, the Socket.IO CONNECT, only
 * the bench's own messages read), spread over receiver processes (lib/load-receiver.ts, `--procs`)
 * and over loopback source addresses 127.0.0.2, … (`--addresses`): the kernel's ephemeral port
 * range, about 28,000 ports, is per (source address, destination), so 100,000 connections to one
 * port need several source addresses, and the kernel's choice of a port for a bound address slows
 * down long before the range is full (lib/sockets-plan.ts: CONNECTIONS_PER_ADDRESS). `--senders` socket.io-client sockets (tabs of the first room
 * accounts, so the room has `--room-sockets` + `--senders` sockets) send from this process.
 *
 * Limits, checked before anything starts (README, "Benchmarks and reliability", lists them): the
 * server needs an open file per socket, each receiver process one per socket it holds. This
 * process raises its own RLIMIT_NOFILE with `prlimit --pid` (Node has no setrlimit) and every child
 * inherits it. Raising the hard limit needs CAP_SYS_RESOURCE; without it the bench exits 2 saying
 * how many sockets the hard limit allows. It also checks the port range, the system's file table
 * and the conntrack table, and says which kernel setting falls short.
 *
 * Once every socket has connected (`connect_s`): the server's VmRSS once it settles (`rss_mb`;
 * `kb_per_socket` is its growth since before the first receiver socket, over the sockets
 * connected); one probe message every room socket must get; then `--rate` messages per second for
 * `--seconds` into the room (open loop: latency from each message's intended send time, so a
 * sender that falls behind shows as latency), timed at the receivers, and every room socket must
 * get every message exactly once (lib/load-tally.ts).
 *
 * Prints `sockets: connected=<n> room=<n> rss_mb=<n> kb_per_socket=<n> msgs=<n> deliveries=<n>
 * lost=<n> duplicated=<n> p50_ms=<n> p99_ms=<n> connect_s=<n>` on stdout, progress on stderr.
 * Exits 1 when a socket did not connect, a delivery was lost or duplicated, a bench message reached
 * a socket outside the room, or a send was not acked; 2 when this machine's limits cannot hold the
 * run. Flags: see lib/sockets-plan.ts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { io as ioClient, type Socket } from "socket.io-client";
import { SOCKET_PATH, type AckResult, type RoomSummary } from "@parley/shared";
import { addSparse, bucketOf, HISTOGRAM_BUCKETS, quantileMs } from "./lib/load-histogram.js";
import type { ReceiverMessage } from "./lib/load-ipc.js";
import { encodeBody, nowMicros } from "./lib/load-wire.js";
import { cpuSecondsOf, cpuTimesOf, hasCapSysResource, nofileOf, pinGeneratorToLastCpu, portRangeSize, raiseNofile, readProc, rssOf, runQueueSecondsOf, settledRss } from "./lib/linux-limits.js";
import { login } from "./lib/login.js";
import { startReceiverProcess, type ReceiverProcess } from "./lib/receiver-process.js";
import { createServerProcess, serverCommand, type ServerProcess } from "./lib/server-process.js";
import {
  autoProcs,
  failures,
  fdNeeds,
  maxSocketsFor,
  metricValue,
  parseSocketsArgs,
  planSockets,
  socketsLine,
  sourceAddresses,
  type SocketsOptions,
  type SocketsResult,
} from "./lib/sockets-plan.js";
import { mapLimit, sleep, waitUntil } from "./lib/wait.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = "sockets-bench-password";
/** The pacing loop's period; each tick sends what the target rate says is due by now. */
const TICK_MS = 5;
/**
 * Step 0 is one probe message every room socket must get; step 1 is the measurement; step 2 the
 * warm-up before it, checked for losses like the others but its latencies not reported.
 */
const PROBE_STEP = 0;
const MEASURED_STEP = 1;
const WARMUP_STEP = 2;
/**
 * Why a warm-up: the server's message path has run once (the probe) when the measurement starts;
 * its first second of a new load runs unoptimised code and grows the heap, which is start-up, not
 * what 100,000 open sockets cost (load.ts warms up before its fixed-rate steps for the same reason).
 */
const WARMUP_SECONDS = 2;
/** A window with every socket open and nothing sent, for the server's idle cpu (pings and timers). */
const IDLE_SECONDS = 5;
const PROBE_TIMEOUT_MS = 30_000;
const ACK_TIMEOUT_MS = 30_000;
/** After the acks, how long deliveries may still arrive before what is missing counts as lost (load.ts's reason). */
const FINAL_SETTLE_MS = 10_000;
const PROGRESS_MS = 5_000;
/**
 * The whole connect phase's deadline: 2 minutes plus 5 ms a socket (100,000: about 10 minutes).
 * Each socket has its own 20 s timeout too; this bounds a server that accepts ever slower.
 */
const connectDeadlineMs = (sockets: number) => 120_000 + sockets * 5;
/** Sign-ins at once: scrypt runs on the server's thread pool, and the box has two cores. */
const SIGN_IN_CONCURRENCY = 4;

const started = Date.now();
const log = (line: string) => console.error(`[sockets ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

/** Thrown when the machine cannot hold the run: exit 2, nothing was started. */
class LimitError extends Error {}

/**
 * Checks (and where it can, raises) what the kernel allows before anything starts: open files per
 * process, the ephemeral ports per source address, the system's file table, conntrack. Returns the
 * source addresses and the number of receiver processes.
 */
function preflight(opts: SocketsOptions): { addresses: string[]; procs: number } {
  const procs = opts.procs > 0 ? opts.procs : autoProcs(opts.sockets);
  const need = fdNeeds(opts, procs);
  const fds = Math.max(need.server, need.receiver);
  const raised = raiseNofile(fds);
  if (raised.after.soft < fds) {
    const capable = hasCapSysResource(readProc("/proc/self/status") ?? "");
    const nrOpen = Number(readProc("/proc/sys/fs/nr_open") ?? NaN);
    throw new LimitError(
      [
        `the server needs ${need.server} open files (one per socket, plus ${need.server - opts.sockets} of its own), each receiver process ${need.receiver};`,
        `this process's open-files limit is ${raised.before.soft} (hard ${raised.before.hard}) and prlimit could not raise it: ${raised.refused ?? "no reason given"}.`,
        capable
          ? fds > nrOpen
            ? `The kernel's per-process ceiling fs.nr_open is ${nrOpen}: raise it (sysctl -w fs.nr_open=${fds}) first.`
            : "This process has CAP_SYS_RESOURCE, so prlimit itself failed (is util-linux installed?)."
          : "This process lacks CAP_SYS_RESOURCE (a container that drops it: even root cannot raise a hard limit). " +
            `Start the bench under a higher hard limit (docker run --ulimit nofile=${fds}:${fds}, systemd LimitNOFILE=${fds}, or ulimit -Hn ${fds} as a root that has the capability).`,
        `With the hard limit of ${raised.before.hard}, at most --sockets ${maxSocketsFor(raised.before.hard, opts)} fit.`,
      ].join("\n  "),
    );
  }
  log(`open files: limit ${raised.after.soft}:${raised.after.hard} (was ${raised.before.soft}:${raised.before.hard}); server needs ${need.server}, each of ${procs} receivers ${need.receiver}`);

  const rangeText = readProc("/proc/sys/net/ipv4/ip_local_port_range");
  const ports = rangeText ? portRangeSize(rangeText) : 28_232;
  const addresses = sourceAddresses(opts.sockets, ports, opts.addresses);
  const perAddress = Math.ceil(opts.sockets / addresses.length);
  if (perAddress > ports * 0.9) {
    throw new LimitError(`${perAddress} connections per source address, but net.ipv4.ip_local_port_range has ${ports} ports: use more --addresses (or leave it to the bench)`);
  }
  log(`ports: ${ports} ephemeral ports (net.ipv4.ip_local_port_range ${rangeText?.trim().replace(/\s+/, "-") ?? "unknown"}); ${addresses.length} source address(es) ${addresses[0]}…${addresses.at(-1)}, ≤ ${perAddress} connections each`);

  // Both ends of every loopback connection are open files: the server's and a receiver's.
  const fileNr = readProc("/proc/sys/fs/file-nr")?.trim().split(/\s+/).map(Number);
  if (fileNr && fileNr.length === 3 && fileNr[0]! + 2 * opts.sockets + 10_000 > fileNr[2]!) {
    throw new LimitError(`the system's file table (fs.file-max ${fileNr[2]}, ${fileNr[0]} in use) cannot hold ${2 * opts.sockets} more open files: raise fs.file-max`);
  }
  // Where netfilter tracks connections, each loopback connection takes a conntrack entry; a full
  // table drops new SYNs (the connects then time out). Usually nothing in the namespace needs
  // conntrack and the count stays 0: warned about, measured after the connect.
  const ctMax = Number(readProc("/proc/sys/net/netfilter/nf_conntrack_max") ?? NaN);
  const ctCount = Number(readProc("/proc/sys/net/netfilter/nf_conntrack_count") ?? NaN);
  if (Number.isFinite(ctMax)) {
    log(`conntrack: ${ctCount} of ${ctMax} entries in use`);
    if (ctCount + opts.sockets > ctMax) log(`WARNING: if loopback connections are tracked, ${opts.sockets} more will not fit: raise net.netfilter.nf_conntrack_max`);
  }
  return { addresses, procs };
}

/** The server's state as /metrics says (the token is the bench's own, set in the server's env). */
async function scrape(url: string, token: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
  return res.text();
}

function connectClient(url: string, cookie: string): Promise<Socket> {
  const socket = ioClient(url, { path: SOCKET_PATH, extraHeaders: { cookie }, transports: ["websocket"], forceNew: true, reconnection: false, timeout: 20_000 });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (e) => {
      socket.close();
      reject(e);
    });
  });
}

async function command<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  const result = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as AckResult<T>;
  if (!result.ok) throw new Error(`${event}: ${result.error.code} ${result.error.message}`);
  return result.data;
}

// ---- what the exit and signal handlers clean up: only what this process started, by pid -------
const receivers: ReceiverProcess[] = [];
const senders: { socket: Socket; inFlight: number }[] = [];
let server: ServerProcess | null = null;

function killChildrenNow(): void {
  for (const pid of [server?.pid() ?? null, ...receivers.map((r) => r.child.pid ?? null)]) {
    if (!pid) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

let tearingDown: Promise<void> | null = null;
/** Set by SIGINT/SIGTERM: what fails after it (receivers signalled too) is the interruption, not an error. */
let interrupted = false;
/** The run's directory (SQLite file, server log), for the signal handler's last line. */
let runDir: string | null = null;
/** Receivers first (their sockets close, the server sees disconnects), then the server. Runs once. */
function teardown(): Promise<void> {
  tearingDown ??= (async () => {
    for (const s of senders) s.socket.close();
    await Promise.allSettled(receivers.map((r) => r.close(10_000)));
    await server?.stop(15_000);
  })();
  return tearingDown;
}

async function run(opts: SocketsOptions, dir: string): Promise<number> {
  const { addresses, procs } = preflight(opts);
  const metricsToken = randomBytes(32).toString("hex");
  const base = serverCommand(ROOT);
  const pinned = opts.pin ? pinGeneratorToLastCpu(cpus().length) : null;
  log(pinned ? `pinned: server on cpu ${pinned.server}, this process and the receivers on cpu ${pinned.generator}` : "not pinned: the server and the generator share the cpus");
  server = await createServerProcess({
    root: ROOT,
    databaseUrl: `file:${join(dir, "sockets.sqlite")}`,
    // Headroom over Node's default old-space limit (about 4 GB here): 100,000 signed-in sockets
    // were 3.8 GB at bench:memory's first 38 kB a socket, and a server out of heap measures nothing.
    command: { args: [`--max-old-space-size=${opts.serverHeapMb}`, ...base.args], description: `${base.description}, --max-old-space-size=${opts.serverHeapMb}` },
    logPath: join(dir, "server.log"),
    startTimeoutMs: 60_000,
    ...(pinned && { cpus: pinned.server }),
    env: {
      // Every socket is one of ~40 accounts and comes from loopback: lift the per-user and per-IP caps.
      MAX_SOCKETS_PER_USER: String(opts.sockets + opts.senders),
      MAX_SOCKETS_PER_IP: String(opts.sockets + opts.senders),
      LOG_LEVEL: "warn",
      // /metrics on the main port, for the server's own count of sockets, heap and event-loop lag.
      METRICS_TOKEN: metricsToken,
    },
  });
  await server.start();
  const pid = server.pid()!;
  const serverFds = nofileOf(pid);
  log(`server ${server.url} (pid ${pid}, ${base.description}, open files ${serverFds.soft}:${serverFds.hard}); signing in ${opts.roomAccounts} + ${opts.idleAccounts} accounts`);

  // ---- accounts, the room, the senders ---------------------------------------------------------
  const names = [...Array.from({ length: opts.roomAccounts }, (_, i) => `room${i}`), ...Array.from({ length: opts.idleAccounts }, (_, i) => `idle${i}`)];
  const url = server.url;
  const accounts = await mapLimit(names, SIGN_IN_CONCURRENCY, (nickname) => login(url, { nickname, password: PASSWORD }, { timeoutMs: 120_000 }));
  log(`${accounts.length} accounts signed in`);
  const setup = await mapLimit(accounts.slice(0, opts.roomAccounts), 8, (a) => connectClient(url, a.cookie));
  const room = await command<RoomSummary>(setup[0]!, "room:create", { name: `sockets bench ${randomUUID().slice(0, 8)}` });
  await mapLimit(setup.slice(1), 8, (s) => command<RoomSummary>(s, "room:join", { roomId: room.id }));
  for (const s of setup) s.close();
  for (let i = 0; i < opts.senders; i++) senders.push({ socket: await connectClient(url, accounts[i % opts.roomAccounts]!.cookie), inFlight: 0 });
  log(`room ${room.id}: ${opts.roomAccounts} accounts joined, ${senders.length} senders connected`);

  // ---- the receiver sockets ----------------------------------------------------------------------
  for (let p = 0; p < procs; p++) receivers.push(await startReceiverProcess(ROOT));
  const rssBefore = await settledRss(pid);
  log(`${procs} receiver processes ready; server rss ${mb(rssBefore)} before the sockets; connecting ${opts.sockets} (${opts.roomSockets} in the room)`);

  let statsId = 0;
  type Stats = Extract<ReceiverMessage, { type: "stats" }>;
  const stats = async (steps: number[], withHistograms: boolean, issued?: number[]) => {
    const id = ++statsId;
    return (await Promise.all(receivers.map((r) => r.request({ type: "stats", id, steps, withHistograms, ...(issued && { issued }) }, "stats")))) as Stats[];
  };
  const sum = (replies: Stats[], step: number, key: "count" | "duplicated" | "lost" | "unexpected") => replies.reduce((n, r) => n + (r.steps[step]?.[key] ?? 0), 0);

  const plan = planSockets(opts, procs, addresses);
  let connectFailed = 0;
  let firstError: string | undefined;
  let roomConnected = 0;
  const t0 = performance.now();
  const connectAll = Promise.all(
    receivers.map(async (r, p) => {
      // The room's sockets first: their accounts' presence is settled before the idle thousands.
      for (const [kind, slots] of [["room", plan[p]!.room], ["idle", plan[p]!.idle]] as const) {
        if (slots.length === 0) continue;
        const reply = (await r.request(
          {
            type: "connect",
            url,
            cookies: slots.map((s) => accounts[s.account]!.cookie),
            localAddresses: slots.map((s) => s.address),
            client: "raw",
            idle: kind === "idle",
            keepGoing: true,
          },
          "connected",
        )) as Extract<ReceiverMessage, { type: "connected" }>;
        connectFailed += reply.failed ?? 0;
        firstError ??= reply.firstError;
        // `count` is the process's open sockets: after its room request, exactly its room's.
        if (kind === "room") roomConnected += reply.count;
      }
    }),
  );
  // Where a slow connect phase spends its time: the server's cpu (and its wait for one) and the
  // receivers', per progress interval.
  let last = { at: performance.now(), server: cpuSecondsOf(pid), waiting: runQueueSecondsOf(pid), receivers: 0 };
  const progress = setInterval(() => {
    void stats([], false).then(
      (replies) => {
        const open = replies.reduce((n, r) => n + r.sockets, 0);
        const now = { at: performance.now(), server: cpuSecondsOf(pid), waiting: runQueueSecondsOf(pid), receivers: receivers.reduce((n, r) => n + cpuSecondsOf(r.child.pid), 0) };
        const dt = (now.at - last.at) / 1000;
        const s = (now.at - t0) / 1000;
        log(
          `connected ${open}/${opts.sockets} in ${s.toFixed(0)} s (${(open / s).toFixed(0)}/s), server rss ${mb(rssOf(pid))}, ` +
            `cpu (cores) server=${((now.server - last.server) / dt).toFixed(2)} waiting=${((now.waiting - last.waiting) / dt).toFixed(2)} receivers=${last.receivers ? ((now.receivers - last.receivers) / dt).toFixed(2) : "-"}`,
        );
        last = now;
      },
      () => undefined,
    );
  }, PROGRESS_MS);
  let deadline: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connectAll,
      new Promise((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`connect phase past its ${connectDeadlineMs(opts.sockets) / 1000} s deadline`)), connectDeadlineMs(opts.sockets));
      }),
    ]);
  } finally {
    clearInterval(progress);
    clearTimeout(deadline);
  }
  const connectSeconds = (performance.now() - t0) / 1000;
  const connected = (await stats([], false)).reduce((n, r) => n + r.sockets, 0);
  if (connectFailed > 0) log(`${connectFailed} sockets failed to connect; first error: ${firstError}`);
  const metricsConnected = await scrape(url, metricsToken);
  const serverSockets = metricValue(metricsConnected, "parley_socket_connections");
  log(
    `${connected} sockets connected (${roomConnected} in the room) in ${connectSeconds.toFixed(1)} s; the server counts ${serverSockets} ` +
      `(with ${senders.length} senders); conntrack ${readProc("/proc/sys/net/netfilter/nf_conntrack_count")?.trim() ?? "n/a"}`,
  );
  const rss = await settledRss(pid);
  const bytesPerSocket = connected > 0 ? (rss - rssBefore) / connected : NaN;
  // Timed: prom-client's default metrics list /proc/self/fd and every libuv handle, one per socket.
  const scrapeAt = performance.now();
  const heap = metricValue(await scrape(url, metricsToken), "nodejs_heap_size_used_bytes");
  const scrapeMs = performance.now() - scrapeAt;
  log(`server rss ${mb(rss)} (${(bytesPerSocket / 1024).toFixed(1)} kB per socket over the ${mb(rssBefore)} before), heap used ${mb(heap)}; GET /metrics took ${scrapeMs.toFixed(0)} ms`);
  // What the open sockets cost with nothing sent (pings, timers): a measurement window, not a wait.
  const idle0 = { at: performance.now(), server: cpuTimesOf(pid), waiting: runQueueSecondsOf(pid) };
  await sleep(IDLE_SECONDS * 1000);
  const idle1 = { at: performance.now(), server: cpuTimesOf(pid), waiting: runQueueSecondsOf(pid) };
  const idleCores = (a: number, b: number) => ((b - a) / ((idle1.at - idle0.at) / 1000)).toFixed(2);
  log(
    `idle for ${IDLE_SECONDS} s: server cpu (cores) user=${idleCores(idle0.server.user, idle1.server.user)} system=${idleCores(idle0.server.system, idle1.server.system)}, ` +
      `main thread waiting for cpu ${idleCores(idle0.waiting, idle1.waiting)}`,
  );

  // ---- messages into the room ------------------------------------------------------------------
  const issuedPerStep = new Map<number, number>();
  const ackHistogram = new Uint32Array(HISTOGRAM_BUCKETS);
  let failedAcks = 0;
  let rr = 0;
  const sendOne = (step: number, n: number, sentMicros: number) => {
    const sender = senders[rr++ % senders.length]!;
    sender.inFlight++;
    issuedPerStep.set(step, Math.max(issuedPerStep.get(step) ?? 0, n + 1));
    const payload = { roomId: room.id, clientId: randomUUID(), body: encodeBody(step, sentMicros, n, opts.bodyLength) };
    sender.socket.timeout(ACK_TIMEOUT_MS).emit("message:send", payload, (err: Error | null, result?: AckResult<unknown>) => {
      sender.inFlight--;
      if (err || !result?.ok) return void failedAcks++;
      if (step !== MEASURED_STEP) return;
      const i = bucketOf((nowMicros() - sentMicros) / 1000);
      ackHistogram[i] = ackHistogram[i]! + 1;
    });
  };

  sendOne(PROBE_STEP, 0, nowMicros());
  try {
    await waitUntil(async () => sum(await stats([PROBE_STEP], false), PROBE_STEP, "count") >= roomConnected, {
      timeoutMs: PROBE_TIMEOUT_MS,
      intervalMs: 100,
      what: `the probe message at all ${roomConnected} room sockets`,
    });
    log("probe delivered to every room socket");
  } catch (e) {
    // Measured anyway: the final check counts what the room did not get as lost.
    log(`${(e as Error).message}: ${sum(await stats([PROBE_STEP], false), PROBE_STEP, "count")} got it`);
  }

  /** Sends `step` at `opts.rate` messages/s for `seconds`; returns how many it sent. */
  const sendFor = async (step: number, seconds: number): Promise<number> => {
    const startMicros = nowMicros();
    const durationMs = seconds * 1000;
    const total = Math.round(seconds * opts.rate);
    const t = performance.now();
    let n = 0;
    // Open loop: message n is due at start + n/rate whatever happened before (load.ts's pacing).
    for (;;) {
      const elapsed = performance.now() - t;
      const due = Math.min(Math.floor((Math.min(elapsed, durationMs) / 1000) * opts.rate), total);
      for (; n < due; n++) sendOne(step, n, startMicros + ((n + 1) / opts.rate) * 1e6);
      if (elapsed >= durationMs) return n;
      await sleep(TICK_MS);
    }
  };

  log(`warming up: ${opts.rate} messages/s for ${WARMUP_SECONDS} s (not measured)`);
  await sendFor(WARMUP_STEP, WARMUP_SECONDS);
  const metricsBefore = await scrape(url, metricsToken);
  const cpu = () => ({
    server: cpuSecondsOf(pid),
    serverWaiting: runQueueSecondsOf(pid),
    receivers: receivers.reduce((n, r) => n + cpuSecondsOf(r.child.pid), 0),
    receiversWaiting: receivers.reduce((n, r) => n + runQueueSecondsOf(r.child.pid), 0),
    self: process.cpuUsage(),
  });
  const cpu0 = cpu();
  const tSend = performance.now();
  log(`sending ${opts.rate} messages/s for ${opts.seconds} s into the room (${opts.rate * roomConnected} deliveries/s)`);
  const issued = await sendFor(MEASURED_STEP, opts.seconds);
  const took = (performance.now() - tSend) / 1000;
  const cpu1 = cpu();
  const inFlight = () => senders.reduce((n, s) => n + s.inFlight, 0);
  await waitUntil(() => inFlight() === 0, { timeoutMs: ACK_TIMEOUT_MS + 5_000, intervalMs: 100, what: "every ack (or its timeout)" });
  const metricsAfter = await scrape(url, metricsToken);
  const cores = (a: number, b: number) => ((b - a) / took).toFixed(2);
  const selfCores = ((u) => ((u.user + u.system) / 1e6 / took).toFixed(2))(process.cpuUsage(cpu0.self));

  // ---- every message at every room socket exactly once -------------------------------------------
  const steps = [...issuedPerStep.keys()];
  const issuedList = steps.map((s) => issuedPerStep.get(s)!);
  let checked = await stats(steps, false, issuedList);
  const lostOf = (replies: Stats[]) => steps.reduce((n, s) => n + sum(replies, s, "lost"), 0);
  const settleDeadline = Date.now() + FINAL_SETTLE_MS;
  while (lostOf(checked) > 0 && Date.now() < settleDeadline) {
    await sleep(250);
    checked = await stats(steps, false, issuedList);
  }
  const lost = lostOf(checked);
  // A message number nobody issued is a delivery that should not exist: counted with the duplicates.
  const duplicated = steps.reduce((n, s) => n + sum(checked, s, "duplicated") + sum(checked, s, "unexpected"), 0);
  const stray = checked.reduce((n, r) => n + r.stray, 0);
  const final = await stats([MEASURED_STEP], true);
  const histogram = new Uint32Array(HISTOGRAM_BUCKETS);
  for (const r of final) addSparse(histogram, r.steps[MEASURED_STEP]?.histogram ?? []);
  const deliveries = sum(final, MEASURED_STEP, "count");
  const missing = Math.max(0, issued * roomConnected - deliveries);
  const rssAfter = rssOf(pid);

  const lag = (m: string, q: string) => metricValue(m, `nodejs_eventloop_lag_${q}_seconds`) * 1000;
  const majorGc = metricValue(metricsAfter, "nodejs_gc_duration_seconds_sum", 'kind="major"') - metricValue(metricsBefore, "nodejs_gc_duration_seconds_sum", 'kind="major"');
  log(
    `during the messages: server event-loop lag p99 ${lag(metricsAfter, "p99").toFixed(1)} ms, max ${lag(metricsAfter, "max").toFixed(1)} ms; ` +
      `major GC ${(majorGc * 1000).toFixed(0)} ms; ack p99 ${quantileMs(ackHistogram, 0.99).toFixed(1)} ms; server rss ${mb(rssAfter)}; ` +
      `cpu (cores) server=${cores(cpu0.server, cpu1.server)} server_main_thread_waiting_for_cpu=${cores(cpu0.serverWaiting, cpu1.serverWaiting)} receivers=${cores(cpu0.receivers, cpu1.receivers)} receivers_waiting_for_cpu=${cores(cpu0.receiversWaiting, cpu1.receiversWaiting)} senders=${selfCores}; load average ${loadavg()[0]!.toFixed(1)}`,
  );

  const result: SocketsResult = {
    connected,
    room: roomConnected,
    rssBytes: rss,
    bytesPerSocket,
    msgs: issued,
    deliveries,
    lost,
    duplicated,
    p50Ms: quantileMs(histogram, 0.5, missing),
    p99Ms: quantileMs(histogram, 0.99, missing),
    connectSeconds,
  };
  console.log(socketsLine(result));
  if (result.p99Ms >= 250) log(`p99 ${result.p99Ms} ms: over issue 15's 250 ms`);
  const failed = failures(result, opts, { stray, failedAcks });
  if (failed.length > 0) {
    log(`FAILED: ${failed.join(", ")}`);
    return 1;
  }
  return 0;
}

async function main(): Promise<number> {
  let opts: SocketsOptions;
  try {
    opts = parseSocketsArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`bench:sockets: ${(e as Error).message}`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), "parley-sockets-"));
  runDir = dir;
  log(
    `sockets=${opts.sockets} room_sockets=${opts.roomSockets} accounts=${opts.roomAccounts}+${opts.idleAccounts} senders=${opts.senders} ` +
      `rate=${opts.rate}/s seconds=${opts.seconds} dir=${dir}`,
  );
  let code = 1;
  try {
    code = await run(opts, dir);
  } catch (e) {
    if (e instanceof LimitError) {
      console.error(`bench:sockets: this machine cannot hold the run:\n  ${e.message}`);
      code = 2;
    } else if (interrupted) {
      log(`interrupted (${(e as Error).message})`);
    } else {
      console.error(e);
    }
  } finally {
    await teardown();
    // The server log is the evidence of a failed run: kept then, removed otherwise.
    if (code !== 1) rmSync(dir, { recursive: true, force: true });
    else log(`server log kept in ${dir}`);
  }
  return code;
}

process.on("exit", killChildrenNow);
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.on(signal, () => {
    // Once: a Ctrl-C (or `timeout`) signals the whole process group, and may signal it again.
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up`);
    void Promise.race([teardown(), sleep(30_000)]).finally(() => {
      if (runDir) log(`server log kept in ${runDir}`);
      process.exit(code);
    });
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
