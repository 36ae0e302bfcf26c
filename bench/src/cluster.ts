/**
 * `pnpm test:cluster` — issue 12's multi-node fault test: three Parley nodes behave like one chat
 * while a node dies, Redis restarts and connections are cut.
 *
 * Its own infrastructure, shared with no other run: a fresh PostgreSQL database
 * (`parley_cluster_<random>`, dropped at the end), a `redis-server` child on a free port, and N
 * server nodes (child processes on that database and that Redis) behind a TCP balancer of the
 * test's own (round robin per connection, a node refusing connects skipped; proxy.ts + balancer.ts),
 * all on 127.0.0.1. The clients are the product's realtime core (createChatClient) on WebSocket
 * only: Socket.IO's long-polling needs every request of a session on one node, which a per-connection
 * round robin does not give.
 *
 * Under a burst of sends through the clients' outboxes: one node SIGKILLed (its clients reconnect
 * through the balancer to the others; it is started again later); once it is back, another node
 * with clients on it SIGTERMed (the graceful drain: in-flight commands acked, later ones left for the
 * outboxes to send elsewhere; it must exit 0 within 10 s, measured from the signal, and is started
 * again); Redis SIGKILLed and started again empty on its port (the nodes' Redis clients must
 * reconnect by themselves); and connections cut (FIN or RST) at the balancer. The nodes run with
 * the server's default presence timings (PRESENCE_* not passed).
 *
 * Verdict, from PostgreSQL (verify.ts, the single-node fault test's): every send acked and stored
 * once, no holes in any room's seqs, and every client holding every message of its rooms once in
 * seq order. Then presence: the node with the most clients is SIGKILLed with them on it, every
 * client disconnects, the node is started again, and a probe user connects to each node directly
 * and reads `onlineUserIds` from `session:sync`; any other user a node still reports is a ghost
 * (polled until none, or until the presence grace + 15 s node TTL + a margin have passed).
 * Last, the two-tab check (tabsCheck): a user with a tab on n0 and one on n1, watched from n2; n0
 * SIGKILLed, the user must stay online on n2 for 16 s (node TTL + a heartbeat + margin), then n1
 * SIGKILLed, the user must be offline on n2 within 15 s; both are started again.
 *
 * Prints one line on stdout, `cluster: nodes=… clients=… sent=… acked=… stored=… lost=…
 * duplicated=… gaps=… node_kills=… redis_restarts=… ghost_online=…`, progress on stderr, with two
 * lines of the form `sigterm: node=n1 exit_code=0 exit_ms=… clients_moved=… clients_on_node=…` and
 * `presence: survived_one_node_death=yes offline_after_ms=…`. In the stdout line `node_kills` counts
 * the presence checks' kills too (SIGTERMs are not kills), `duplicated` also counts copies a client
 * holds twice (verify's `extra`), and `gaps` also
 * counts messages a client lacks or holds out of seq order (`missing`, `misordered`); stderr has
 * the breakdown. Exits 1 unless lost, duplicated, gaps and ghost_online are all 0, every send was
 * acked, every planned fault happened, every SIGTERMed node exited 0 within 10 s, and the two-tab
 * user stayed online through one node's death and was offline within 15 s of the second's.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { io as ioClient, type Socket } from "socket.io-client";
import { createChatClient, memoryOutbox, type ChatClient } from "@parley/client";
import { DEFAULT_ROOM_ID, SESSION_COOKIE, SOCKET_PATH, type AckResult, type SyncData } from "@parley/shared";
import { isBehind, isUp, reportOf, trackAcks } from "./lib/clients.js";
import { parseClusterArgs, SERVER_PRESENCE_GRACE_MS, type ClusterOptions } from "./lib/cluster-args.js";
import { login } from "./lib/login.js";
import { createRunDatabase, postgresReader, type RunDatabase } from "./lib/pg-store.js";
import { planMemberships } from "./lib/plan.js";
import { startProxy, type FaultProxy } from "./lib/proxy.js";
import { createRedisProcess, type RedisProcess } from "./lib/redis-process.js";
import { createServerProcess, serverCommand, type ServerProcess } from "./lib/server-process.js";
import { verifyAgainstStore, type RoomHead, type SendRecord } from "./lib/verify.js";
import { mapLimit, seededRandom, sleep, waitUntil } from "./lib/wait.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = "cluster-test-password";
/** The control loop's period: token bucket refill, fault triggers. */
const TICK_MS = 20;
const PROGRESS_EVERY_MS = 5_000;
/** Issue 12: a SIGKILLed node's users are offline on every other node within 15 s. */
const NODE_TTL_MS = 15_000;
/** On top of grace + TTL in the default presence wait: timers fire late on a busy 2-core box. */
const PRESENCE_MARGIN_MS = 5_000;
/** How often the presence check asks every node again. */
const PRESENCE_POLL_MS = 1_000;
/** One sign-in over HTTP (scrypt, on a 2-core box shared with three nodes and other runs). */
const LOGIN_TIMEOUT_MS = 30_000;
/** Three nodes starting at once on tsx compile the server three times on two cores. */
const NODE_START_TIMEOUT_MS = 60_000;
/** Issue 12: a SIGTERMed node drains and exits 0 within 10 s (the server's SHUTDOWN_TIMEOUT_MS). */
const TERM_EXIT_BOUND_MS = 10_000;
/** How long a SIGTERMed node may take before it is SIGKILLed: past the bound, so a slow exit is measured, not cut. */
const TERM_GRACE_MS = 15_000;
/** How long a SIGTERMed node's clients get to reconnect to another node (backoff 100 ms to 1 s, a busy box). */
const TERM_MOVE_WAIT_MS = 10_000;
/**
 * The tabs check's watch after the first node dies: the server's default PRESENCE_NODE_TTL_MS (10 s)
 * + one PRESENCE_HEARTBEAT_MS (3 s), when the dead node's entry is dropped, + 3 s of margin; the
 * user must be online in every read of that window.
 */
const TABS_SURVIVE_MS = 16_000;
/** Issue 12: a user whose every node died is offline within 15 s. */
const TABS_OFFLINE_BOUND_MS = 15_000;
/** The tabs check keeps reading past the bound for this long, so a late offline is measured, not just failed. */
const TABS_OFFLINE_OVERRUN_MS = 10_000;
/** Reads of the observing node during the tabs check (one fresh connection and `session:sync` each). */
const TABS_POLL_MS = 500;

interface TestClient {
  index: number;
  userId: string;
  cookie: string;
  core: ChatClient;
  rooms: string[];
  quota: number;
  sends: SendRecord[];
  acked: Set<string>;
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const log = (line: string) => console.error(`[cluster ${elapsed()}] ${line}`);

/** Everything the run started, so that any way out (return, throw, signal) ends it. */
interface Owned {
  nodes: ServerProcess[];
  redis: RedisProcess | null;
  proxy: FaultProxy | null;
  db: RunDatabase | null;
  cores: ChatClient[];
  /** Raw sockets: the tabs check's tabs. */
  sockets: Socket[];
}
const owned: Owned = { nodes: [], redis: null, proxy: null, db: null, cores: [], sockets: [] };

let tearingDown: Promise<void> | null = null;
/** Ends every child by its pid, closes the balancer, drops the database. Runs once. */
function teardown(): Promise<void> {
  tearingDown ??= (async () => {
    for (const core of owned.cores) core.disconnect();
    for (const socket of owned.sockets) socket.close();
    await owned.proxy?.close().catch(() => undefined);
    // SIGTERM first (each node closes its sockets and storage), SIGKILL after the grace.
    await Promise.allSettled(owned.nodes.map((n) => n.stop(5_000)));
    await owned.redis?.kill().catch(() => undefined);
    await owned.db?.drop().catch((e: unknown) => log(`could not drop database ${owned.db?.name}: ${(e as Error).message}`));
  })();
  return tearingDown;
}
/** Last resort on process exit (no async work possible): SIGKILL whatever child is still running. */
function killChildrenNow(): void {
  for (const pid of [...owned.nodes.map((n) => n.pid()), owned.redis?.pid() ?? null]) {
    if (pid === null) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

async function main(opts: ClusterOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "parley-cluster-"));
  const random = seededRandom(opts.seed);
  const command = serverCommand(ROOT);
  log(
    `seed=${opts.seed} nodes=${opts.nodes} clients=${opts.clients} rooms=${opts.rooms} messages=${opts.messages} kills=${opts.kills} ` +
      `terms=${opts.terms} redis_restarts=${opts.redisRestarts} cuts=${opts.cuts} rate=${opts.rate}/s ` +
      `presence_grace=${opts.presenceGraceMs ?? "default"}; logs in ${dir}`,
  );
  log(`server command: ${command.description}`);
  let ok = false;
  try {
    // ---- infrastructure ------------------------------------------------------------------------
    const db = (owned.db = await createRunDatabase(opts.pgUrl, "parley_cluster"));
    log(`database ${db.name} created`);
    const redis = (owned.redis = await createRedisProcess({ logPath: join(dir, "redis.log") }));
    await redis.start();
    log(`redis-server ${redis.url} (pid ${redis.pid()})`);
    const nodes = (owned.nodes = await Promise.all(
      Array.from({ length: opts.nodes }, (_, i) =>
        createServerProcess({
          root: ROOT,
          databaseUrl: db.url,
          redisUrl: redis.url,
          command,
          logPath: join(dir, `node-${i}.log`),
          startTimeoutMs: NODE_START_TIMEOUT_MS,
          // Every PRESENCE_* timing is the server's default unless asked otherwise: the tabs check
          // is about those defaults (issue 12's 15 s).
          env: opts.presenceGraceMs === undefined ? {} : { PRESENCE_GRACE_MS: String(opts.presenceGraceMs) },
        }),
      ),
    ));
    // The first node alone applies the migrations to the empty database; the others then start
    // together (the migration lock would serialise them anyway, but one at a time is faster on 2 cores).
    await nodes[0]!.start();
    await Promise.all(nodes.slice(1).map((n) => n.start()));
    log(`nodes ${nodes.map((n, i) => `n${i} ${n.url} (pid ${n.pid()})`).join(", ")}`);
    const nodeOfPort = new Map(nodes.map((n, i) => [n.port, i]));
    // A connection is named by the session cookie of its upgrade request, so the balancer can say
    // which node each client is on.
    const sessionCookie = new RegExp(`^cookie:.*\\b(${SESSION_COOKIE}=[^;\\r\\n]*)`, "im");
    const proxy = (owned.proxy = await startProxy(
      nodes.map((n) => n.port),
      { label: (head) => sessionCookie.exec(head)?.[1] ?? null },
    ));
    const balancerUrl = `http://127.0.0.1:${proxy.port}`;
    log(`balancer ${balancerUrl}, round robin over ${nodes.length} nodes`);

    // ---- users, rooms, memberships (setup, straight to the nodes: not under test) ---------------
    const n0 = nodes[0]!;
    // Sign-ins hash with scrypt at the product's cost (~1 s of CPU each here): two at a time (two
    // cores), each on the next node (a session made on one node must work on every node), with a
    // generous timeout, because on a loaded box four at once took over 10 s each.
    const accounts = await mapLimit(
      [...Array.from({ length: opts.clients }, (_, i) => `cluster-${i}`), "cluster-setup", "cluster-probe", "cluster-tabs"],
      2,
      (nickname, i) => login(nodes[i % nodes.length]!.url, { nickname, password: PASSWORD }, { timeoutMs: LOGIN_TIMEOUT_MS }),
    );
    const tabsAccount = accounts.pop()!;
    const probeAccount = accounts.pop()!;
    const setupAccount = accounts.pop()!;
    log(`${accounts.length + 3} users signed in`);
    const makeCore = (cookie: string, url: string) => {
      const core = createChatClient({
        url,
        outbox: memoryOutbox(),
        // WebSocket only: one TCP connection per Socket.IO session, so a per-connection balancer
        // keeps a session on one node (long-polling would scatter its requests over the nodes).
        socketOptions: { transports: ["websocket"], extraHeaders: { cookie }, reconnectionDelay: 100, reconnectionDelayMax: 1_000 },
        // Whole rooms: the verdict compares each client's rooms with the database's, seq by seq.
        windowSize: Infinity,
      });
      owned.cores.push(core);
      core.connect();
      return core;
    };
    const setup = makeCore(setupAccount.cookie, n0.url);
    await waitUntil(() => isUp(setup), { timeoutMs: 15_000, what: "the setup client to connect" });
    const roomIds: string[] = [];
    for (let r = 0; r < opts.rooms; r++) {
      const res = await setup.createRoom(`cluster-room-${r}`);
      if (!res.ok) throw new Error(`room:create cluster-room-${r}: ${res.error.code} ${res.error.message}`);
      roomIds.push(res.data.id);
    }
    setup.disconnect();

    const plan = planMemberships(opts.clients, opts.rooms);
    const clients: TestClient[] = accounts.map((a, i) => ({
      index: i,
      userId: a.user.id,
      cookie: a.cookie,
      core: makeCore(a.cookie, balancerUrl),
      rooms: plan[i]!.map((r) => roomIds[r]!),
      quota: Math.floor(opts.messages / opts.clients) + (i < opts.messages % opts.clients ? 1 : 0),
      sends: [],
      acked: new Set(),
    }));
    const memberRooms = (c: TestClient) => [DEFAULT_ROOM_ID, ...c.rooms];
    await waitUntil(() => clients.every((c) => isUp(c.core)), { timeoutMs: 30_000, what: "every client to connect through the balancer" });
    await mapLimit(clients, 8, async (c) => {
      for (const roomId of c.rooms) {
        const res = await c.core.joinRoom(roomId);
        if (!res.ok) throw new Error(`client ${c.index} room:join ${roomId}: ${res.error.code}`);
      }
    });
    // Catch-up runs only for loaded timelines, and a timeline loads when its room is shown.
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
    for (const c of clients) trackAcks(c.core, c.acked);

    /** The node a client is connected to, from the balancer's live connection named by its cookie. */
    const nodeOf = (c: TestClient): number | undefined => {
      const port = proxy.connectionsOf(c.cookie).find((k) => k.live)?.upstreamPort;
      return port === undefined || port === null ? undefined : nodeOfPort.get(port);
    };
    /** Clients per node. */
    const spread = () => {
      const perNode = nodes.map(() => 0);
      let elsewhere = 0;
      for (const c of clients) {
        const node = nodeOf(c);
        if (node === undefined) elsewhere++;
        else perNode[node]!++;
      }
      return { perNode, text: `${perNode.map((n, i) => `n${i}=${n}`).join(" ")}${elsewhere > 0 ? ` unconnected=${elsewhere}` : ""}` };
    };
    const initialSpread = spread();
    log(`${clients.length} clients up, rooms joined and loaded; clients per node: ${initialSpread.text}`);

    // ---- load with faults ----------------------------------------------------------------------
    let sent = 0;
    let nodeKills = 0;
    let nodeRestarts = 0;
    /** Node kills in the presence check (counted in node_kills too). */
    let presenceKills = 0;
    /** Node kills in the tabs check (counted in node_kills too). */
    let tabsKills = 0;
    let redisRestarts = 0;
    /** Nodes SIGKILLed mid-burst: a SIGTERM goes to another one. */
    const killedNodes = new Set<number>();
    /** The SIGTERMs mid-burst, as they went. */
    const terms: { node: number; code: number | null; signal: string | null; exitMs: number; clientsOn: number; moved: number }[] = [];
    let termRestarts = 0;
    let cuts = 0;
    let cutConnections = 0;
    let fatal: Error | null = null;
    const background = new Set<Promise<void>>();
    const inBackground = (task: () => Promise<void>) => {
      const p = task().catch((e: unknown) => void (fatal ??= e instanceof Error ? e : new Error(String(e))));
      background.add(p);
      void p.finally(() => background.delete(p));
    };
    // Faults are placed by progress, not by clock, so they land mid-burst however fast it goes:
    // kills in the first half, Redis restarts in the second, cuts spread over the whole burst. A
    // Redis restart does not wait for a killed node to be back: a node starting on a loaded box
    // takes many seconds, and waiting would push the restart past the burst. A node that starts
    // while Redis is down waits for it (node-redis retries its first connect too).
    const killAt = (k: number) => opts.messages * (0.2 + (0.3 * k) / Math.max(1, opts.kills));
    const termAt = (t: number) => opts.messages * (0.35 + (0.2 * t) / Math.max(1, opts.terms));
    const redisAt = (r: number) => opts.messages * (0.6 + (0.3 * r) / Math.max(1, opts.redisRestarts));
    const cutAt = (j: number) => (opts.messages * (j + 0.5)) / Math.max(1, opts.cuts);
    let killing = false;
    const pendingOf = (c: TestClient) => c.core.store.getState().pendingOrder.length;
    const pendingTotal = () => clients.reduce((n, c) => n + pendingOf(c), 0);
    let restartingRedis = false;
    let terminating = false;
    /** From a SIGTERM to its node's exit: the Redis restart waits, so the drain is measured on its own. */
    let draining = false;

    const killNode = async (k: number) => {
      // The node with the most clients, so the most clients must move.
      const { perNode } = spread();
      const victim = perNode.indexOf(Math.max(...perNode));
      const node = nodes[victim]!;
      const before = spread().text;
      if (!(await node.kill())) throw new Error(`node n${victim} was not running when kill ${k + 1} came`);
      nodeKills++;
      killedNodes.add(victim);
      log(`kill ${k + 1}/${opts.kills}: n${victim} SIGKILLed at sent=${sent} with ${pendingTotal()} sends pending (clients per node before: ${before})`);
      await sleep(opts.nodeDownMs);
      log(`while n${victim} was down ${opts.nodeDownMs} ms: clients per node ${spread().text}`);
      await node.start();
      nodeRestarts++;
      log(`n${victim} back (pid ${node.pid()}); new connections reach it again`);
    };
    const termNode = async (t: number) => {
      // The running node with the most clients among those not SIGKILLed: the drain must hand
      // over live clients with sends in flight, and a node other than the killed one shows that a
      // restarted cluster drains as well.
      const { perNode, text } = spread();
      let victim = -1;
      perNode.forEach((n, i) => {
        if (killedNodes.has(i) || nodes[i]!.pid() === null) return;
        if (victim < 0 || n > perNode[victim]!) victim = i;
      });
      if (victim < 0) throw new Error(`no running node left for SIGTERM ${t + 1} (every node was SIGKILLed)`);
      const node = nodes[victim]!;
      const onIt = clients.filter((c) => nodeOf(c) === victim);
      draining = true;
      log(`sigterm ${t + 1}/${opts.terms}: n${victim} SIGTERMed at sent=${sent} with ${onIt.length} clients on it and ${pendingTotal()} sends pending (${text})`);
      const exit = await node.terminate(TERM_GRACE_MS).finally(() => (draining = false));
      if (!exit) throw new Error(`node n${victim} was not running when SIGTERM ${t + 1} came`);
      // Moved: connected to another node again. The drain closed their connections; each client
      // reconnects through the balancer on its own backoff.
      const moved = () => onIt.filter((c) => nodeOf(c) !== undefined && nodeOf(c) !== victim).length;
      await waitUntil(() => moved() === onIt.length, { timeoutMs: TERM_MOVE_WAIT_MS, intervalMs: 100, what: "the drained node's clients to reconnect elsewhere" }).catch(
        () => undefined,
      );
      const record = { node: victim, code: exit.code, signal: exit.signal, exitMs: Math.round(exit.exitMs), clientsOn: onIt.length, moved: moved() };
      terms.push(record);
      console.error(
        `sigterm: node=n${victim} exit_code=${exit.code ?? `none(${exit.signal})`} exit_ms=${record.exitMs} clients_moved=${record.moved} clients_on_node=${onIt.length}` +
          (exit.killed ? ` (SIGKILLed after ${TERM_GRACE_MS} ms)` : ""),
      );
      log(`n${victim} exited; clients per node ${spread().text}`);
      await sleep(opts.nodeDownMs);
      await node.start();
      termRestarts++;
      log(`n${victim} back (pid ${node.pid()}) after its SIGTERM`);
    };
    const restartRedis = async (r: number) => {
      await redis.kill();
      log(`redis restart ${r + 1}/${opts.redisRestarts}: SIGKILLed at sent=${sent} with ${pendingTotal()} sends pending`);
      await sleep(opts.redisDownMs);
      await redis.start();
      redisRestarts++;
      log(`redis-server back on ${redis.url} (pid ${redis.pid()}), empty`);
    };

    const totalAcked = () => clients.reduce((n, c) => n + c.acked.size, 0);
    const connected = () => clients.filter((c) => c.core.store.getState().connection.status === "connected").length;
    const sendDeadline = Date.now() + opts.sendTimeout * 1000;
    const faultsOwed = () => nodeKills < opts.kills || terms.length < opts.terms || redisRestarts < opts.redisRestarts || cuts < opts.cuts;
    let tokens = 0;
    let lastTick = Date.now();
    let lastProgress = Date.now();
    let cursor = 0;
    while ((sent < opts.messages || faultsOwed() || background.size > 0) && !fatal) {
      if (Date.now() > sendDeadline) {
        log(`send phase deadline reached: sent=${sent}/${opts.messages} node_kills=${nodeKills} redis_restarts=${redisRestarts} cuts=${cuts}`);
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
        const body = `cluster c${c.index} #${counter}`;
        const res = c.core.send(roomId, body);
        if (!res.ok) throw new Error(`client ${c.index} send refused: ${res.code}`);
        c.sends.push({ clientId: res.clientId, roomId, body, counter });
        sent++;
        tokens--;
      }
      // Once sending is done, any fault still owed happens at once.
      const progress = sent >= opts.messages ? Infinity : sent;
      if (!killing && nodeKills < opts.kills && progress >= killAt(nodeKills)) {
        killing = true;
        const k = nodeKills;
        inBackground(() => killNode(k).finally(() => (killing = false)));
      }
      // After the SIGKILLed node is back (the SIGTERM must find another node with clients on it).
      if (!terminating && !killing && nodeKills >= Math.min(opts.kills, 1) && terms.length < opts.terms && progress >= termAt(terms.length)) {
        terminating = true;
        const k = terms.length;
        inBackground(() => termNode(k).finally(() => (terminating = false)));
      }
      if (!restartingRedis && !draining && redisRestarts < opts.redisRestarts && progress >= redisAt(redisRestarts)) {
        restartingRedis = true;
        const r = redisRestarts;
        inBackground(() => restartRedis(r).finally(() => (restartingRedis = false)));
      }
      if (cuts < opts.cuts && progress >= cutAt(cuts)) {
        // A random 10-50 % of the live connections; every other cut a reset (RST) instead of a close.
        const mode = cuts % 2 === 1 ? "reset" : "close";
        const n = proxy.cut(0.1 + random() * 0.4, random, mode);
        // Only a cut that ended a connection counts; with none live, try again next tick.
        if (n > 0) {
          cuts++;
          cutConnections += n;
        }
      }
      if (t - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = t;
        log(
          `sent=${sent} acked=${totalAcked()} pending=${pendingTotal()} connected=${connected()}/${clients.length} ` +
            `(${spread().text}) node_kills=${nodeKills} terms=${terms.length} redis_restarts=${redisRestarts} cuts=${cuts} (${cutConnections} connections)`,
        );
      }
      await sleep(TICK_MS);
    }
    await Promise.all(background);
    if (fatal) throw fatal;
    log(`sending done: sent=${sent} node_kills=${nodeKills} (${nodeRestarts} restarted) terms=${terms.length} (${termRestarts} restarted) redis_restarts=${redisRestarts} cuts=${cuts} (${cutConnections} connections), ${proxy.accepted()} connections accepted`);

    // ---- drain: every outbox empty, every member room caught up to the database ------------------
    const live = postgresReader(db.url);
    let stragglers: TestClient[] = [];
    try {
      await waitUntil(
        async () => {
          const heads = new Map((await live.rooms()).map((r): [string, RoomHead] => [r.id, r]));
          stragglers = clients.filter((c) => isBehind(c.core, memberRooms(c), heads));
          return stragglers.length === 0;
        },
        { timeoutMs: opts.drainTimeout * 1000, intervalMs: 250, what: "outboxes to empty and timelines to catch up" },
      );
      log(`drained: every outbox empty, every timeline at its room's last seq; clients per node: ${spread().text}`);
    } catch (e) {
      log(`${(e as Error).message}; ${stragglers.length} clients not settled`);
      const heads = new Map((await live.rooms()).map((r) => [r.id, r]));
      for (const c of stragglers.slice(0, 5)) {
        const s = c.core.store.getState();
        const pend = s.pendingOrder.map((id) => s.pending[id]!).map((p) => `${p.status}/${p.attempts}/${p.error}`);
        const lag = memberRooms(c).map((r) => `${r}:${s.timelines[r]?.lastSeq ?? "unloaded"}/${heads.get(r)?.last_seq}`);
        log(`  client ${c.index}: ${s.connection.status} pending=[${pend.join(" ")}] timelines=[${lag.join(" ")}]`);
      }
    } finally {
      await live.close();
    }
    const reports = clients.map((c) => reportOf(c.core, { ...c, windowSize: Infinity }));
    const acked = totalAcked();

    // ---- presence: nobody connected, so no node may report anyone online ---------------------------
    // The users of a node that dies with its connections open are the ones that can stay online
    // for ever (no disconnect ever runs for them): so, with --presence-kill, the node with the most
    // clients is SIGKILLed with its clients on it, then every client disconnects, and the node is
    // started again so that every node can be asked. Its users must be reported offline by every
    // node within the presence grace + the node TTL.
    const testUsers = new Set(clients.map((c) => c.userId));
    const onlineBefore = await Promise.all(nodes.map((n) => onlineOn(n.url, probeAccount.cookie)));
    log(
      `before disconnecting: ${onlineBefore.map((ids, i) => `n${i} reports ${ids.filter((id) => testUsers.has(id)).length}/${clients.length}`).join(", ")} test users online`,
    );
    let restarting: { node: number; done: Promise<void>; up: boolean } | null = null;
    if (opts.presenceKill) {
      const { perNode, text } = spread();
      const victim = perNode.indexOf(Math.max(...perNode));
      if (!(await nodes[victim]!.kill())) throw new Error(`node n${victim} was not running for the presence kill`);
      // At once: a client of the dead node would otherwise reconnect through the balancer (100 ms).
      for (const core of owned.cores) core.disconnect();
      nodeKills++;
      presenceKills++;
      log(`presence kill: n${victim} SIGKILLed with ${perNode[victim]} clients on it (${text}), then every client disconnected`);
      const r: { node: number; done: Promise<void>; up: boolean } = { node: victim, done: Promise.resolve(), up: false };
      r.done = nodes[victim]!.start().then(() => {
        r.up = true;
        nodeRestarts++;
        log(`n${victim} back (pid ${nodes[victim]!.pid()}) for the presence check`);
      });
      restarting = r;
    } else {
      for (const core of owned.cores) core.disconnect();
    }
    const presenceWaitMs = opts.presenceWait > 0 ? opts.presenceWait * 1000 : (opts.presenceGraceMs ?? SERVER_PRESENCE_GRACE_MS) + NODE_TTL_MS + PRESENCE_MARGIN_MS;
    const presenceFrom = Date.now();
    /** Users some node reports online, other than the probe itself, by node; from the last read that reached every node. */
    let ghosts = new Map<string, number[]>();
    const nodeUp = (i: number) => restarting === null || restarting.node !== i || restarting.up;
    const readGhosts = async () => {
      // A node still starting is not asked (yet): the read then cannot be the last word.
      const asked = nodes.flatMap((n, i) => (nodeUp(i) ? [i] : []));
      const answers = await Promise.all(asked.map((i) => onlineOn(nodes[i]!.url, probeAccount.cookie).catch((e: unknown) => e as Error)));
      const seen = new Map<string, number[]>();
      let complete = asked.length === nodes.length;
      answers.forEach((ids, k) => {
        if (ids instanceof Error) {
          complete = false;
          return;
        }
        for (const id of ids) if (id !== probeAccount.user.id) seen.set(id, [...(seen.get(id) ?? []), asked[k]!]);
      });
      if (complete || seen.size > 0) ghosts = seen;
      return complete && seen.size === 0;
    };
    await waitUntil(readGhosts, { timeoutMs: presenceWaitMs, intervalMs: PRESENCE_POLL_MS, what: "every node to report nobody online" }).catch(() => undefined);
    if (restarting && !restarting.up) {
      // The wait ended before the killed node was back: its answer is still owed.
      await restarting.done;
      await readGhosts();
    }
    const ghostOnline = ghosts.size;
    log(
      ghostOnline === 0
        ? `presence: no node reports anyone online ${((Date.now() - presenceFrom) / 1000).toFixed(1)} s after every client disconnected`
        : `presence: after ${((Date.now() - presenceFrom) / 1000).toFixed(0)} s, ${ghostOnline} users with no connection still reported online: ` +
            [...ghosts].slice(0, 5).map(([id, on]) => `${clientName(clients, id, setupAccount.user.id)} on ${on.map((n) => `n${n}`).join(",")}`).join("; "),
    );

    // ---- presence across node death: a user with tabs on two nodes ------------------------------
    let tabs: TabsResult | null = null;
    if (opts.tabsCheck) {
      if (restarting) await restarting.done;
      tabs = await tabsCheck(nodes, tabsAccount, probeAccount.cookie);
      nodeKills += 2;
      tabsKills += 2;
      nodeRestarts += tabs.restarted;
    }

    // ---- verdict ---------------------------------------------------------------------------------
    await owned.proxy?.close();
    owned.proxy = null;
    await Promise.allSettled(nodes.map((n) => n.stop()));
    const verdict = await verifyAgainstStore(postgresReader(db.url), reports);
    for (const d of verdict.details) log(d);
    log(
      `verdict: lost=${verdict.lost} duplicated=${verdict.duplicated} gaps=${verdict.gaps} missing=${verdict.missing} extra=${verdict.extra} ` +
        `misordered=${verdict.misordered} phantoms=${verdict.phantoms} reordered=${verdict.reordered}`,
    );
    const duplicated = verdict.duplicated + verdict.extra;
    const gaps = verdict.gaps + verdict.missing + verdict.misordered;
    console.log(
      `cluster: nodes=${nodes.length} clients=${clients.length} sent=${sent} acked=${acked} stored=${verdict.stored} lost=${verdict.lost} ` +
        `duplicated=${duplicated} gaps=${gaps} node_kills=${nodeKills} redis_restarts=${redisRestarts} ghost_online=${ghostOnline}`,
    );
    const problems = [
      verdict.lost > 0 && "lost",
      duplicated > 0 && "duplicated",
      gaps > 0 && "gaps",
      ghostOnline > 0 && "ghost_online",
      verdict.phantoms > 0 && "phantoms",
      verdict.reordered > 0 && "reordered",
      sent !== opts.messages && `sent ${sent} of ${opts.messages}`,
      acked !== sent && `acked ${acked} of ${sent}`,
      nodeKills - presenceKills - tabsKills < opts.kills && `node kills mid-burst ${nodeKills - presenceKills - tabsKills} < ${opts.kills}`,
      opts.presenceKill && presenceKills === 0 && "no presence kill",
      terms.length < opts.terms && `SIGTERMs mid-burst ${terms.length} < ${opts.terms}`,
      ...terms.flatMap((t) => [
        t.code !== 0 && `n${t.node} exited ${t.code ?? t.signal} after its SIGTERM`,
        t.exitMs > TERM_EXIT_BOUND_MS && `n${t.node} took ${t.exitMs} ms to exit after its SIGTERM (> ${TERM_EXIT_BOUND_MS})`,
        t.clientsOn === 0 && `n${t.node} had no clients when SIGTERMed`,
      ]),
      termRestarts < terms.length && `node restarts after SIGTERM ${termRestarts} < ${terms.length}`,
      tabs !== null && !tabs.survived && "the two-tab user went offline when one of their nodes died",
      tabs !== null &&
        (tabs.offlineAfterMs === null || tabs.offlineAfterMs > TABS_OFFLINE_BOUND_MS) &&
        `the two-tab user not offline within ${TABS_OFFLINE_BOUND_MS} ms of both nodes dying (${tabs.offlineAfterMs ?? "never"})`,
      nodeRestarts < nodeKills && `node restarts ${nodeRestarts} < ${nodeKills}`,
      redisRestarts < opts.redisRestarts && `redis restarts ${redisRestarts} < ${opts.redisRestarts}`,
      cuts < opts.cuts && `cuts ${cuts} < ${opts.cuts}`,
      // Clients spread over every node, or the kill and the cross-node fan-out test little.
      initialSpread.perNode.some((n) => n === 0) && `clients not on every node at the start (${initialSpread.text})`,
    ].filter((p): p is string => typeof p === "string");
    if (problems.length > 0) log(`FAILED: ${problems.join(", ")}`);
    ok = problems.length === 0;
    return ok ? 0 : 1;
  } finally {
    await teardown();
    for (let i = 0; i < opts.nodes; i++) reportCrashLines(join(dir, `node-${i}.log`), `node n${i}`);
    if (!ok) {
      for (let i = 0; i < opts.nodes; i++) logTail(join(dir, `node-${i}.log`), `node n${i}`);
    }
    if (opts.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    log(`done in ${elapsed()}`);
  }
}

/** How the tabs check went. */
interface TabsResult {
  /** The user was online in every read of the observer after the first of their two nodes died. */
  survived: boolean;
  /** From the second node's SIGKILL to the first read without the user; null if none came. */
  offlineAfterMs: number | null;
  /** Nodes started again afterwards. */
  restarted: number;
}

/**
 * Issue 12: "a user with tabs on two nodes stays online when one node dies; goes offline within
 * 15 s when both are gone", with the server's default presence timings. The user's two tabs are
 * raw sockets straight to nodes A and B that do not reconnect (a tab of a dead node that reconnected
 * through the balancer would hide the case); node C is asked, with a fresh connection each time,
 * whom it reports online. A and B are started again afterwards, so that the run ends with every
 * node up, as every other phase leaves it.
 */
async function tabsCheck(nodes: readonly ServerProcess[], user: { user: { id: string }; cookie: string }, observerCookie: string): Promise<TabsResult> {
  const [a, b, c] = [0, 1, 2].map((i) => nodes[i % nodes.length]!);
  if (nodes.length < 3) throw new Error("the tabs check needs three nodes");
  const observe = async () => (await onlineOn(c!.url, observerCookie)).includes(user.user.id);
  const tabs = [a!, b!].map((n) => {
    const socket = ioClient(n.url, { path: SOCKET_PATH, transports: ["websocket"], extraHeaders: { cookie: user.cookie }, forceNew: true, reconnection: false });
    owned.sockets.push(socket);
    return socket;
  });
  await waitUntil(() => tabs.every((t) => t.connected), { timeoutMs: 15_000, what: "the two tabs to connect to n0 and n1" });
  await waitUntil(() => observe().catch(() => false), { timeoutMs: 15_000, intervalMs: TABS_POLL_MS, what: "n2 to report the two-tab user online" });
  log("tabs: one user with a tab on n0 and one on n1; n2 reports them online");

  if (!(await a!.kill())) throw new Error("n0 was not running for the tabs check");
  const firstDeath = performance.now();
  let reads = 0;
  let failedReads = 0;
  let missingAt: number | null = null;
  /** When the last read that reached n2 started: the window counts only once one started past its end. */
  let lastReadAt = 0;
  // Bounded: the window, then at most one more read that must succeed after it.
  while (performance.now() - firstDeath < TABS_SURVIVE_MS + 10_000) {
    const at = performance.now() - firstDeath;
    const online = await observe().catch(() => null);
    if (online === null) failedReads++;
    else {
      reads++;
      lastReadAt = at;
      if (!online && missingAt === null) missingAt = at;
      if (at >= TABS_SURVIVE_MS) break;
    }
    await sleep(TABS_POLL_MS);
  }
  const watchedMs = performance.now() - firstDeath;
  const survived = missingAt === null && lastReadAt >= TABS_SURVIVE_MS;
  log(
    `tabs: n0 SIGKILLed; over ${(watchedMs / 1000).toFixed(1)} s n2 answered ${reads} reads (${failedReads} failed), ` +
      (missingAt === null ? "the user online in every one" : `the user missing from ${(missingAt / 1000).toFixed(1)} s`),
  );
  // n0 starts again while n1's death is measured: it does not have the user any more.
  const aBack = a!.start();
  aBack.catch(() => undefined);

  if (!(await b!.kill())) throw new Error("n1 was not running for the tabs check");
  const secondDeath = performance.now();
  let offlineAfterMs: number | null = null;
  while (performance.now() - secondDeath < TABS_OFFLINE_BOUND_MS + TABS_OFFLINE_OVERRUN_MS) {
    const online = await observe().catch(() => null);
    if (online === false) {
      // When the read came back: an upper bound, by one read, on when n2 let the user go.
      offlineAfterMs = Math.round(performance.now() - secondDeath);
      break;
    }
    await sleep(TABS_POLL_MS);
  }
  for (const t of tabs) t.close();
  console.error(`presence: survived_one_node_death=${survived ? "yes" : "no"} offline_after_ms=${offlineAfterMs ?? "never"}`);
  await Promise.all([aBack, b!.start()]);
  log("tabs: n0 and n1 back");
  return { survived, offlineAfterMs, restarted: 2 };
}

/**
 * The users a node reports online, asked as a fresh client on that node directly (not through the
 * balancer): `session:sync` answers with the node's view of `onlineUserIds`.
 */
async function onlineOn(nodeUrl: string, cookie: string): Promise<string[]> {
  const socket = ioClient(nodeUrl, { path: SOCKET_PATH, transports: ["websocket"], extraHeaders: { cookie }, forceNew: true, reconnection: false, timeout: 5_000 });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    });
    const result = (await socket.timeout(5_000).emitWithAck("session:sync", {})) as AckResult<SyncData>;
    if (!result.ok) throw new Error(`session:sync on ${nodeUrl}: ${result.error.code} ${result.error.message}`);
    return result.data.onlineUserIds;
  } finally {
    socket.close();
  }
}

function clientName(clients: readonly TestClient[], userId: string, setupUserId: string): string {
  if (userId === setupUserId) return "the setup user";
  const c = clients.find((x) => x.userId === userId);
  return c ? `client ${c.index}` : `user ${userId}`;
}

/**
 * What the server logs when something escaped every handler (main.ts's last-resort handlers): not
 * part of the verdict, which is about messages and presence, but a bug to report all the same, e.g.
 * a Redis publish rejected while Redis was down (issue 12).
 */
const CRASH_LINE = /unhandled (promise )?rejection|uncaught ?exception/i;

function reportCrashLines(path: string, what: string): void {
  try {
    const lines = readFileSync(path, "utf8").split("\n").filter((l) => CRASH_LINE.test(l));
    if (lines.length > 0) log(`${what} logged ${lines.length} unhandled errors, first: ${lines[0]!.slice(0, 300)}`);
  } catch {
    // no log written
  }
}

function logTail(path: string, what: string): void {
  try {
    const tail = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() && !l.includes(" listening on ")).slice(-10);
    if (tail.length > 0) log(`${what} log tail:\n${tail.join("\n")}`);
  } catch {
    // no log written
  }
}

process.on("exit", killChildrenNow);
// A signal ends the run the same way a failure does: children stopped, database dropped.
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void Promise.race([teardown(), sleep(15_000)]).finally(() => process.exit(code));
  });
}

let opts: ClusterOptions;
try {
  opts = parseClusterArgs(process.argv.slice(2));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
main(opts).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error("[cluster] error:", e);
    process.exit(1);
  },
);
