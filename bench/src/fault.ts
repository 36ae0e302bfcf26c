/**
 * `pnpm test:fault` — the proof of issue 5: an acked message is stored once and delivered to every
 * member exactly once, in the same order, and nothing a client sent is lost, while the server is
 * SIGKILLed and connections are cut under load. See docs/decisions/0004-fault-test.md.
 *
 * Real parts only: the server is apps/server/src/main.ts in a child process on a SQLite file, the
 * clients are the product's realtime core (createChatClient), and the verdict is read from the
 * database file after the server stopped.
 *
 * Prints one line on stdout, `fault: clients=… rooms=… sent=… acked=… stored=… lost=… duplicated=…
 * gaps=… missing=… extra=… misordered=… kills=… cuts=…`, progress on stderr; exits 1 unless nothing
 * was lost, duplicated or out of place (in the database or in any client), every send was acked,
 * and every planned fault happened.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import Database from "better-sqlite3";
import { createChatClient, memoryOutbox, type ChatClient } from "@parley/client";
import { DEFAULT_ROOM_ID } from "@parley/shared";
import { parseFaultArgs, type FaultOptions } from "./lib/args.js";
import { login } from "./lib/login.js";
import { planMemberships } from "./lib/plan.js";
import { startProxy, type FaultProxy } from "./lib/proxy.js";
import { createServerProcess, type ServerProcess } from "./lib/server-process.js";
import { verifyAgainstDb, type ClientReport, type SendRecord } from "./lib/verify.js";
import { mapLimit, seededRandom, sleep, waitUntil } from "./lib/wait.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = "fault-test-password";
/** The control loop's period: token bucket refill, fault triggers. */
const TICK_MS = 20;
const PROGRESS_EVERY_MS = 5_000;

interface TestClient {
  index: number;
  userId: string;
  core: ChatClient;
  rooms: string[];
  quota: number;
  sends: SendRecord[];
  acked: Set<string>;
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const log = (line: string) => console.error(`[fault ${elapsed()}] ${line}`);

async function main(opts: FaultOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "parley-fault-"));
  const dbPath = join(dir, "parley.sqlite");
  const logPath = join(dir, "server.log");
  const random = seededRandom(opts.seed);
  log(`seed=${opts.seed} clients=${opts.clients} rooms=${opts.rooms} messages=${opts.messages} kills=${opts.kills} cuts=${opts.cuts} rate=${opts.rate}/s db=${dbPath}`);

  let server: ServerProcess | null = null;
  let proxy: FaultProxy | null = null;
  const cores: ChatClient[] = [];
  // Whatever happens (a throw, Ctrl-C, process.exit), the server child does not outlive us.
  const killChild = () => {
    const pid = server?.pid();
    if (pid) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.on("exit", killChild);
  let ok = false;
  try {
    server = await createServerProcess({ root: ROOT, dbPath, logPath });
    await server.start();
    proxy = await startProxy(server.port);
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    log(`server ${server.url} (pid ${server.pid()}), proxy ${proxyUrl}`);

    // ---- users, rooms, memberships --------------------------------------------------------
    const srv = server;
    const accounts = await mapLimit(
      Array.from({ length: opts.clients + 1 }, (_, i) => (i === opts.clients ? "fault-setup" : `fault-${i}`)),
      4,
      (nickname) => login(srv.url, { nickname, password: PASSWORD }),
    );
    const setupAccount = accounts.pop()!;
    log(`${accounts.length + 1} users signed in`);

    const makeCore = (cookie: string, url: string) => {
      const core = createChatClient({
        url,
        outbox: memoryOutbox(),
        socketOptions: { transports: ["websocket"], extraHeaders: { cookie }, reconnectionDelay: 100, reconnectionDelayMax: 1_000 },
        // Every message stays in the store, so the final comparison sees each client's whole timeline.
        windowSize: Infinity,
      });
      cores.push(core);
      core.connect();
      return core;
    };
    const isUp = (core: ChatClient) => {
      const s = core.store.getState();
      return s.connection.status === "connected" && s.me !== null && !s.connection.catchingUp;
    };

    // The setup user talks to the server directly: setup is not under test.
    const setup = makeCore(setupAccount.cookie, srv.url);
    await waitUntil(() => isUp(setup), { timeoutMs: 15_000, what: "the setup client to connect" });
    const roomIds: string[] = [];
    for (let r = 0; r < opts.rooms; r++) {
      const res = await setup.createRoom(`fault-room-${r}`);
      if (!res.ok) throw new Error(`room:create fault-room-${r}: ${res.error.code} ${res.error.message}`);
      roomIds.push(res.data.id);
    }
    setup.disconnect();

    const plan = planMemberships(opts.clients, opts.rooms);
    const clients: TestClient[] = accounts.map((a, i) => ({
      index: i,
      userId: a.user.id,
      core: makeCore(a.cookie, proxyUrl),
      rooms: plan[i]!.map((r) => roomIds[r]!),
      quota: Math.floor(opts.messages / opts.clients) + (i < opts.messages % opts.clients ? 1 : 0),
      sends: [],
      acked: new Set(),
    }));
    await waitUntil(() => clients.every((c) => isUp(c.core)), { timeoutMs: 30_000, what: "every client to connect" });
    await mapLimit(clients, 8, async (c) => {
      for (const roomId of c.rooms) {
        const res = await c.core.joinRoom(roomId);
        if (!res.ok) throw new Error(`client ${c.index} room:join ${roomId}: ${res.error.code}`);
      }
    });
    // Catch-up runs only for loaded timelines, and a timeline loads when its room is shown: show
    // each joined room once (setActiveRoom loads its latest page), then page back to seq 1.
    for (const c of clients) for (const roomId of c.rooms) c.core.setActiveRoom(roomId);
    const memberRooms = (c: TestClient) => [DEFAULT_ROOM_ID, ...c.rooms];
    await waitUntil(
      () => {
        let all = true;
        for (const c of clients) {
          for (const roomId of memberRooms(c)) {
            if (c.core.store.getState().timelines[roomId]?.loaded) continue;
            all = false;
            c.core.setActiveRoom(roomId); // a load lost to a timeout is asked for again
          }
        }
        return all;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: "every member room's timeline to load" },
    );
    for (const c of clients) {
      for (const roomId of memberRooms(c)) {
        for (let page = 0; page < 100 && c.core.store.getState().timelines[roomId]?.hasOlder; page++) await c.core.loadOlder(roomId);
      }
    }
    log(`${opts.rooms} rooms, memberships ${clients.map((c) => c.rooms.length).join("")}, timelines loaded`);

    // ---- acks: a pending entry removed means the server answered with the stored message ----
    for (const c of clients) {
      const mine = new Set<string>();
      c.core.store.subscribe((state, prev) => {
        if (state.pending === prev.pending) return;
        for (const id of prev.pendingOrder) if (!state.pending[id] && mine.has(id)) c.acked.add(id);
        for (const id of state.pendingOrder) mine.add(id);
      });
    }

    // ---- load with faults ----------------------------------------------------------------------
    let sent = 0;
    let kills = 0;
    let cuts = 0;
    let cutConnections = 0;
    let restarting: Promise<void> | null = null;
    let fatal: Error | null = null;
    const killAt = (k: number) => (opts.messages * (k + 0.5)) / opts.kills;
    const cutAt = (j: number) => (opts.messages * (j + 0.5)) / opts.cuts;
    const pendingOf = (c: TestClient) => c.core.store.getState().pendingOrder.length;
    const totalAcked = () => clients.reduce((n, c) => n + c.acked.size, 0);
    const connected = () => clients.filter((c) => c.core.store.getState().connection.status === "connected").length;

    const killAndRestart = async (s: ServerProcess) => {
      if (await s.kill()) kills++;
      log(`kill ${kills}/${opts.kills} at sent=${sent}`);
      // A short, bounded outage: long enough that every client notices, short enough to keep the run brisk.
      await sleep(200 + Math.floor(random() * 800));
      await s.start();
      log(`server back (pid ${s.pid()})`);
    };

    // The harness shares the box with the server: report its own load, so a slow run can be told
    // apart from a slow server.
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    let lastCpu = process.cpuUsage();
    let lastServer = { pid: server.pid(), ms: serverCpuMs(server.pid()) };
    const load = () => {
      const cpu = process.cpuUsage(lastCpu);
      lastCpu = process.cpuUsage();
      const pid = server?.pid() ?? null;
      const ms = serverCpuMs(pid);
      // After a restart the counter belongs to a new process: count it from zero.
      const serverDelta = ms === null ? null : ms - (pid === lastServer.pid ? (lastServer.ms ?? 0) : 0);
      lastServer = { pid, ms };
      const text = `harness cpu=${Math.round((cpu.user + cpu.system) / 1000 / PROGRESS_EVERY_MS * 100)}% lag p99=${Math.round(loopDelay.percentile(99) / 1e6)}ms, server cpu=${serverDelta === null ? "?" : Math.round((serverDelta / PROGRESS_EVERY_MS) * 100) + "%"}`;
      loopDelay.reset();
      return text;
    };

    const sendDeadline = Date.now() + opts.sendTimeout * 1000;
    let tokens = 0;
    let lastTick = Date.now();
    let lastProgress = Date.now();
    let cursor = 0;
    const faultsOwed = () => kills < opts.kills || cuts < opts.cuts;
    while ((sent < opts.messages || faultsOwed() || restarting) && !fatal) {
      if (Date.now() > sendDeadline) {
        log(`send phase deadline reached: sent=${sent}/${opts.messages} kills=${kills} cuts=${cuts}`);
        break;
      }
      const t = Date.now();
      tokens = Math.min(tokens + ((t - lastTick) / 1000) * opts.rate, opts.rate);
      lastTick = t;
      for (let scanned = 0; scanned < clients.length && tokens >= 1 && sent < opts.messages; scanned++) {
        const c = clients[cursor]!;
        cursor = (cursor + 1) % clients.length;
        if (c.sends.length >= c.quota || pendingOf(c) >= opts.inFlight) continue;
        const counter = c.sends.length;
        const roomId = c.rooms[counter % c.rooms.length]!;
        const body = `fault c${c.index} #${counter}`;
        const res = c.core.send(roomId, body);
        if (!res.ok) throw new Error(`client ${c.index} send refused: ${res.code}`);
        c.sends.push({ clientId: res.clientId, roomId, body, counter });
        sent++;
        tokens--;
      }
      // Faults are spread by progress, not by clock, so they land through the whole run however
      // fast it goes; once sending is done, any still owed happen at once.
      const progress = sent >= opts.messages ? Infinity : sent;
      if (!restarting && kills < opts.kills && progress >= killAt(kills)) {
        restarting = killAndRestart(server)
          .catch((e: unknown) => void (fatal = e instanceof Error ? e : new Error(String(e))))
          .finally(() => (restarting = null));
      }
      if (cuts < opts.cuts && progress >= cutAt(cuts)) {
        // Every tenth cut takes every connection down; the others a random 10-50 %.
        const fraction = cuts % 10 === 9 ? 1 : 0.1 + random() * 0.4;
        const n = proxy.cut(fraction, random);
        // Only a cut that ended a connection counts; with none live, try again next tick.
        if (n > 0) {
          cuts++;
          cutConnections += n;
        }
      }
      if (t - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = t;
        log(`sent=${sent} acked=${totalAcked()} pending=${clients.reduce((n, c) => n + pendingOf(c), 0)} connected=${connected()}/${clients.length} kills=${kills} cuts=${cuts} (${cutConnections} connections); ${load()}`);
      }
      await sleep(TICK_MS);
    }
    if (restarting) await restarting;
    loopDelay.disable();
    if (fatal) throw fatal;
    log(`sending done: sent=${sent} kills=${kills} cuts=${cuts} (${cutConnections} connections cut, ${proxy.accepted()} accepted)`);

    // ---- drain: every outbox empty, every member room caught up to the database ----------------
    const live = new Database(dbPath, { readonly: true, fileMustExist: true });
    const lastSeqs = live.prepare("SELECT id, last_seq FROM rooms");
    const behind = (lastSeq: Map<string, number>) =>
      clients.filter((c) => {
        const s = c.core.store.getState();
        return s.pendingOrder.length > 0 || memberRooms(c).some((r) => (s.timelines[r]?.lastSeq ?? -1) < (lastSeq.get(r) ?? 0));
      });
    let stragglers: TestClient[] = [];
    try {
      await waitUntil(
        () => {
          const rows = lastSeqs.all() as { id: string; last_seq: number }[];
          stragglers = behind(new Map(rows.map((r) => [r.id, r.last_seq])));
          return stragglers.length === 0;
        },
        { timeoutMs: opts.drainTimeout * 1000, intervalMs: 250, what: "outboxes to empty and timelines to catch up" },
      );
      log("drained: every outbox empty, every timeline at the room's last seq");
    } catch (e) {
      log(`${(e as Error).message}; ${stragglers.length} clients not settled`);
      const rows = lastSeqs.all() as { id: string; last_seq: number }[];
      const dbLast = new Map(rows.map((r) => [r.id, r.last_seq]));
      for (const c of stragglers.slice(0, 5)) {
        const s = c.core.store.getState();
        const pend = s.pendingOrder.map((id) => s.pending[id]!).map((p) => `${p.status}/${p.attempts}/${p.error}`);
        const lag = memberRooms(c).map((r) => `${r}:${s.timelines[r]?.lastSeq ?? "unloaded"}/${dbLast.get(r)}`);
        log(`  client ${c.index}: ${s.connection.status} pending=[${pend.join(" ")}] timelines=[${lag.join(" ")}]`);
      }
    } finally {
      live.close();
    }

    // ---- verdict -------------------------------------------------------------------------------
    const reports: ClientReport[] = clients.map((c) => {
      const s = c.core.store.getState();
      return {
        index: c.index,
        userId: c.userId,
        sends: c.sends,
        failed: s.pendingOrder.filter((id) => s.pending[id]?.status === "failed"),
        pending: [...s.pendingOrder],
        windowSize: Infinity,
        timelines: Object.fromEntries(Object.entries(s.timelines).map(([id, t]) => [id, { ids: t.ids, firstSeq: t.firstSeq, loaded: t.loaded }])),
      };
    });
    for (const core of cores) core.disconnect();
    await proxy.close();
    proxy = null;
    await server.stop();
    const verdict = verifyAgainstDb(dbPath, reports);
    const acked = totalAcked();
    for (const d of verdict.details) log(d);
    if (verdict.phantoms > 0 || verdict.reordered > 0) log(`phantoms=${verdict.phantoms} reordered=${verdict.reordered}`);
    console.log(
      `fault: clients=${clients.length} rooms=${opts.rooms} sent=${sent} acked=${acked} stored=${verdict.stored} lost=${verdict.lost} duplicated=${verdict.duplicated} gaps=${verdict.gaps} missing=${verdict.missing} extra=${verdict.extra} misordered=${verdict.misordered} kills=${kills} cuts=${cuts}`,
    );
    const problems = [
      verdict.lost > 0 && "lost",
      verdict.duplicated > 0 && "duplicated",
      verdict.gaps > 0 && "gaps",
      verdict.missing > 0 && "missing",
      verdict.extra > 0 && "extra",
      verdict.misordered > 0 && "misordered",
      verdict.phantoms > 0 && "phantoms",
      verdict.reordered > 0 && "reordered",
      sent !== opts.messages && `sent ${sent} of ${opts.messages}`,
      acked !== sent && `acked ${acked} of ${sent}`,
      kills < opts.kills && `kills ${kills} < ${opts.kills}`,
      cuts < opts.cuts && `cuts ${cuts} < ${opts.cuts}`,
    ].filter((p): p is string => typeof p === "string");
    if (problems.length > 0) log(`FAILED: ${problems.join(", ")}`);
    ok = problems.length === 0;
    return ok ? 0 : 1;
  } finally {
    for (const core of cores) core.disconnect();
    await proxy?.close();
    await server?.stop();
    if (!ok) {
      try {
        const tail = readFileSync(logPath, "utf8").split("\n").filter((l) => !l.includes(" listening on ")).slice(-20);
        if (tail.some((l) => l.trim())) log(`server log tail:\n${tail.join("\n")}`);
      } catch {
        // no log written
      }
    }
    if (opts.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    log(`done in ${elapsed()}`);
  }
}

/** CPU time (user + system, ms) a Linux process has used so far, from /proc; null elsewhere. */
function serverCpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the command name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

let opts: FaultOptions;
try {
  opts = parseFaultArgs(process.argv.slice(2));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
main(opts).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error("[fault] error:", e);
    process.exit(1);
  },
);
