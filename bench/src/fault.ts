/**
 * `pnpm test:fault` — the proof of issue 5: an acked message is stored once and delivered to every
 * member exactly once, in the same order, and nothing a client sent is lost, while the server is
 * SIGKILLed and connections are cut under load. See docs/decisions/0004-fault-test.md.
 *
 * Faults (issue 9): kills; cuts, every other one a TCP reset instead of a FIN; freezes, where the
 * proxy stops forwarding but keeps both sockets open (a half-open connection) for longer than the
 * server's ping interval + timeout, read from its handshake, so only the heartbeat can end them.
 * A third of the clients keep the product's default window instead of whole rooms: their windows
 * trim under live traffic and catch-up, and halfway through each scrolls back past its window and
 * down again; the verdict checks each holds a contiguous, exact suffix of every member room.
 *
 * Real parts only: the server is apps/server/src/main.ts in a child process on a SQLite file, the
 * clients are the product's realtime core (createChatClient), and the verdict is read from the
 * database file after the server stopped.
 *
 * Changes (issue 11): through the whole run clients also edit and delete their own messages and
 * set and clear reactions on anyone's, through the same outbox as sends; after the drain every
 * message every client holds must be in its stored state (body, deleted, who reacted with what).
 *
 * Prints one line on stdout, `fault: clients=… rooms=… sent=… acked=… stored=… lost=… duplicated=…
 * gaps=… missing=… extra=… misordered=… kills=… cuts=… resets=… freezes=… frozen=… frozen_left=…
 * windowed=… scrolls=… changes=… refused=… diverged=…`, progress on stderr; exits 1 unless nothing
 * was lost, duplicated, out of place or diverged (in the database or in any client), every send and
 * change was acked (a change may be refused only because the message was deleted meanwhile), every
 * planned fault happened, and every client on a frozen connection left it for a new one before the
 * freeze ended.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { io as ioClient } from "socket.io-client";
import { createChatClient, DEFAULT_WINDOW_SIZE, memoryOutbox, type ChatClient } from "@parley/client";
import { DEFAULT_ROOM_ID, LIMITS, SESSION_COOKIE, SOCKET_PATH, type AckResult, type Message } from "@parley/shared";
import { parseFaultArgs, type FaultOptions } from "./lib/args.js";
import { isBehind, isUp, reportOf, trackAcks } from "./lib/clients.js";
import { login } from "./lib/login.js";
import { planMemberships } from "./lib/plan.js";
import { startProxy, type FaultProxy, type Freeze } from "./lib/proxy.js";
import { createServerProcess, readPingConfig, type ServerProcess } from "./lib/server-process.js";
import { sqliteReader, verifyAgainstDb, type ClientReport, type RoomHead, type SendRecord } from "./lib/verify.js";
import { verifyChangesAgainstDb, type ClientMessages } from "./lib/verify-changes.js";
import { mapLimit, seededRandom, sleep, waitUntil } from "./lib/wait.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = "fault-test-password";
/** The control loop's period: token bucket refill, fault triggers. */
const TICK_MS = 20;
const PROGRESS_EVERY_MS = 5_000;
/**
 * A freeze outlasts the server's ping interval + ping timeout by this much: the longest either end
 * can take to notice a silent connection is one interval (the last ping came just before the
 * freeze) plus the timeout, and timers on a busy box fire late.
 */
const FREEZE_MARGIN_MS = 5_000;
/**
 * How much longer a freeze waits for frozen clients still on their connection. A client's ping
 * timer restarts when a ping *arrives*, and a ping the server sent just before the freeze can sit
 * in the socket buffers for seconds when the harness is busy, so a client can notice later than
 * interval + timeout after the freeze began (49 s seen with 45 s settings). Past this grace, a
 * client still on its frozen connection fails the run.
 */
const FREEZE_GRACE_MS = 20_000;
/** History messages in flight at once while filling rooms (setup, not under test). */
const HISTORY_IN_FLIGHT = 100;
/** Pages a windowed client scrolls back past its window before coming down again. */
const SCROLL_BACK_PAGES = 2;
/** The emoji clients react with: few, so reactions pile up on the same chips and get cleared again. */
const REACTIONS = ["👍", "🎉", "❤️", "😂", "👀"] as const;
/**
 * The one refusal a change may get in a correct run: its message was deleted (by its author, in
 * another client) between the click and the server; the product then shows the change as failed.
 */
const LEGIT_REFUSALS = new Set(["MESSAGE_DELETED"]);

interface TestClient {
  index: number;
  userId: string;
  core: ChatClient;
  /** Messages kept per room: Infinity (whole rooms) or the product's default window. */
  windowSize: number;
  rooms: string[];
  quota: number;
  sends: SendRecord[];
  acked: Set<string>;
  /** Edits, deletes and reactions this client made (their change ids). */
  changes: number;
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const log = (line: string) => console.error(`[fault ${elapsed()}] ${line}`);

async function main(opts: FaultOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "parley-fault-"));
  const dbPath = join(dir, "parley.sqlite");
  const logPath = join(dir, "server.log");
  const random = seededRandom(opts.seed);
  log(
    `seed=${opts.seed} clients=${opts.clients} (${Math.min(opts.windowed, opts.clients)} windowed) rooms=${opts.rooms} history=${opts.history}/room ` +
      `messages=${opts.messages} kills=${opts.kills} cuts=${opts.cuts} freezes=${opts.freezes} rate=${opts.rate}/s db=${dbPath}`,
  );

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
    server = await createServerProcess({ root: ROOT, databaseUrl: `file:${dbPath}`, logPath });
    await server.start();
    // A connection is named by the session cookie of its upgrade request, so a freeze knows whose
    // connections it froze.
    const sessionCookie = new RegExp(`^cookie:.*\\b(${SESSION_COOKIE}=[^;\\r\\n]*)`, "im");
    proxy = await startProxy(server.port, { label: (head) => sessionCookie.exec(head)?.[1] ?? null });
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    const ping = await readPingConfig(server.url);
    const freezeMs = opts.freezeMs > 0 ? opts.freezeMs : ping.pingInterval + ping.pingTimeout + FREEZE_MARGIN_MS;
    log(`server ${server.url} (pid ${server.pid()}), proxy ${proxyUrl}; ping interval ${ping.pingInterval} ms, timeout ${ping.pingTimeout} ms, so freezes last ${freezeMs} ms`);

    // ---- users, rooms, memberships --------------------------------------------------------
    const srv = server;
    const accounts = await mapLimit(
      Array.from({ length: opts.clients + 1 }, (_, i) => (i === opts.clients ? "fault-setup" : `fault-${i}`)),
      4,
      (nickname) => login(srv.url, { nickname, password: PASSWORD }),
    );
    const setupAccount = accounts.pop()!;
    log(`${accounts.length + 1} users signed in`);

    const makeCore = (cookie: string, url: string, windowed = false) => {
      const core = createChatClient({
        url,
        outbox: memoryOutbox(),
        socketOptions: { transports: ["websocket"], extraHeaders: { cookie }, reconnectionDelay: 100, reconnectionDelayMax: 1_000 },
        // Most clients keep every message, so the final comparison sees whole rooms; windowed ones
        // run the product's default (no option), so trimming runs under faults too, and the
        // verdict checks they hold a correct suffix of each room.
        ...(windowed ? {} : { windowSize: Infinity }),
      });
      cores.push(core);
      core.connect();
      return core;
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
    if (opts.history > 0) {
      await writeHistory(srv.url, setupAccount.cookie, roomIds, opts.history);
      log(`${opts.history} history messages written into each of ${roomIds.length} rooms`);
    }

    const plan = planMemberships(opts.clients, opts.rooms);
    const windowed = Math.min(opts.windowed, opts.clients);
    // Spread over the clients (and so over room plans): client i is windowed when i * W mod N < W.
    const isWindowed = (i: number) => (i * windowed) % opts.clients < windowed;
    const clients: TestClient[] = accounts.map((a, i) => ({
      index: i,
      userId: a.user.id,
      core: makeCore(a.cookie, proxyUrl, isWindowed(i)),
      windowSize: isWindowed(i) ? DEFAULT_WINDOW_SIZE : Infinity,
      rooms: plan[i]!.map((r) => roomIds[r]!),
      quota: Math.floor(opts.messages / opts.clients) + (i < opts.messages % opts.clients ? 1 : 0),
      sends: [],
      acked: new Set(),
      changes: 0,
    }));
    const byCookie = new Map(accounts.map((a, i) => [a.cookie, clients[i]!]));
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
    // A windowed client pages back only while the page still fits: one more would trim the newest
    // end and stop the window following the room, as it does for a reader scrolling back.
    const pageFits = (c: TestClient, roomId: string) => {
      const t = c.core.store.getState().timelines[roomId];
      return t !== undefined && t.hasOlder && t.ids.length + LIMITS.pageMax <= c.windowSize;
    };
    for (const c of clients) {
      for (const roomId of memberRooms(c)) {
        for (let page = 0; page < 100 && pageFits(c, roomId); page++) await c.core.loadOlder(roomId);
      }
    }
    log(`${opts.rooms} rooms, memberships ${clients.map((c) => c.rooms.length).join("")}, windowed ${clients.map((c) => (c.windowSize < Infinity ? "w" : ".")).join("")}, timelines loaded`);

    // ---- acks: a pending entry removed means the server answered with the stored message ----
    for (const c of clients) trackAcks(c.core, c.acked);

    // ---- load with faults ----------------------------------------------------------------------
    let sent = 0;
    let kills = 0;
    let cuts = 0;
    let resets = 0;
    let cutConnections = 0;
    let freezes = 0;
    let frozenConnections = 0;
    /**
     * Frozen connections whose client opened a new connection before the freeze ended: it gave up
     * on the frozen one (its ping timeout, or its connect timeout when frozen mid-handshake). A new
     * connection, not a completed connect: on a busy harness the handshake itself can take seconds.
     */
    let frozenLeft = 0;
    /** Frozen connections the proxy could not name (no session cookie seen): not checked for noticing. */
    let frozenUnnamed = 0;
    const thawing = new Set<Promise<void>>();
    let scrolls = 0;
    const scrolling = new Set<Promise<void>>();
    let restarting: Promise<void> | null = null;
    let fatal: Error | null = null;
    const killAt = (k: number) => (opts.messages * (k + 0.5)) / opts.kills;
    const cutAt = (j: number) => (opts.messages * (j + 0.5)) / opts.cuts;
    // Freezes start early (between 5 % and 25 % of the messages), so the long freezes overlap each
    // other and the sending of the other clients instead of adding to the run.
    const freezeAt = (f: number) => opts.messages * (0.05 + (0.2 * f) / opts.freezes);
    // Windowed clients scroll back past their window once, three quarters through (their rooms
    // then hold more than a window even without history).
    const scrollAt = opts.messages * 0.75;
    const pendingOf = (c: TestClient) => c.core.store.getState().pendingOrder.length;
    const totalAcked = () => clients.reduce((n, c) => n + c.acked.size, 0);
    const connected = () => clients.filter((c) => c.core.store.getState().connection.status === "connected").length;
    // Which clients are down and why, so a client stuck reconnecting is visible in the progress line.
    const downList = () => {
      const down = clients.flatMap((c) => {
        const { status, error } = c.core.store.getState().connection;
        if (status === "connected") return [];
        // Its open connections through the proxy: one old connection with nothing back from the
        // server is a handshake waiting out its connect timeout.
        const conns = proxy!.connectionsOf(accounts[c.index]!.cookie).map((k) => `${(k.ageMs / 1000).toFixed(1)} s${k.frozen ? " frozen" : ""} ${k.bytesUp}/${k.bytesDown} B`);
        return [`c${c.index} ${status}${error ? ` (${error})` : ""}${conns.length > 0 ? ` [${conns.join(", ")}]` : ""}`];
      });
      // Sends waiting longer than two ack timeouts: who holds them, and in which state.
      const now = Date.now();
      const stuck = clients.flatMap((c) => {
        const s = c.core.store.getState();
        const old = s.pendingOrder.map((id) => s.pending[id]!).filter((p) => now - p.createdAt > 20_000);
        return old.length > 0 ? [`c${c.index} ${old.map((p) => `${p.status}/${p.attempts}/${p.error ?? "-"}/${Math.round((now - p.createdAt) / 1000)}s`).join(" ")}`] : [];
      });
      return (down.length > 0 ? `; down: ${down.slice(0, 5).join(", ")}` : "") + (stuck.length > 0 ? `; waiting: ${stuck.slice(0, 5).join(", ")}` : "");
    };

    const freezeSome = (f: Freeze, n: number) => {
      const frozen = f.labels.map((label) => (label === null ? undefined : byCookie.get(label)));
      const frozenAt = Date.now();
      // A client connected at the freeze sits on an established connection that only its ping
      // timeout can end; one still connecting was frozen mid-handshake (its connect timeout, or a
      // server kill that resets the frozen upstream, ends that one).
      const established = new Set(frozen.filter((c) => c?.core.store.getState().connection.status === "connected"));
      log(
        `freeze ${n + 1}/${opts.freezes} at sent=${sent}: ${f.count} connections (clients ${frozen.map((c) => (c ? `${c.index}${established.has(c) ? "" : " connecting"}` : "?")).join(", ")}) for ${freezeMs} ms`,
      );
      // How long each client stayed on its frozen connection before it opened another.
      const stayed = (c: TestClient | undefined) => {
        const at = c ? proxy?.lastOpenedAt(accounts[c.index]!.cookie) : null;
        return at === null || at === undefined || at <= frozenAt ? null : (at - frozenAt) / 1000;
      };
      const thaw = (async () => {
        await sleep(freezeMs);
        const allLeft = () => frozen.every((c) => c === undefined || stayed(c) !== null);
        // Only a freeze meant to outlast the heartbeat waits for clients to give up on it.
        if (freezeMs > ping.pingInterval + ping.pingTimeout && !allLeft()) {
          await waitUntil(allLeft, { timeoutMs: FREEZE_GRACE_MS, intervalMs: 100, what: "frozen clients to leave" }).catch(() => undefined);
          log(`freeze ${n + 1} held ${((Date.now() - frozenAt - freezeMs) / 1000).toFixed(1)} s longer for clients still on their frozen connection`);
        }
        // Even freezes end by forwarding again (stale bytes flow into what the ends gave up on),
        // odd ones by resetting both ends.
        const how = n % 2 === 0 ? "resume" : "reset";
        const left = frozen.filter((c) => stayed(c) !== null);
        frozenLeft += left.length;
        frozenUnnamed += frozen.filter((c) => c === undefined).length;
        f.end(how);
        const times = left.map((c) => `c${c!.index} ${stayed(c)!.toFixed(1)} s${established.has(c) ? "" : " (was connecting)"}`);
        log(`freeze ${n + 1} ended (${how}): ${left.length}/${f.count} clients had left their frozen connection for a new one: ${times.join(", ")}`);
        for (const c of frozen) if (c && !left.includes(c)) log(`  client ${c.index} is still on its frozen connection (${c.core.store.getState().connection.status})`);
      })();
      thawing.add(thaw);
      void thaw.finally(() => thawing.delete(thaw));
    };

    // Reading back past the window trims its newest end and stops it following the room; coming
    // down again (loadNewer) must find the live end, whatever faults hit on the way.
    const scrollBackAndReturn = async (c: TestClient, roomId: string) => {
      const timeline = () => c.core.store.getState().timelines[roomId];
      const up = () => waitUntil(() => isUp(c.core), { timeoutMs: 60_000, what: `client ${c.index} to reconnect while scrolling` });
      // While the window follows a busy room, live messages trim its oldest end during the page's
      // round trip, and the core drops an older page that no longer touches the window: try again
      // (bounded) until a page lands. The first one that lands overflows the window and stops it
      // following, after which nothing trims it.
      let pages = 0;
      let tries = 0;
      for (; pages < SCROLL_BACK_PAGES && tries < 100 && timeline()?.hasOlder; tries++) {
        await up();
        const before = timeline()?.firstSeq ?? 0;
        await c.core.loadOlder(roomId);
        if ((timeline()?.firstSeq ?? 0) < before) pages++;
      }
      const trimmed = timeline()?.following === false;
      let down = 0;
      for (; down < 200 && timeline()?.following === false; down++) {
        await up();
        await c.core.loadNewer(roomId);
      }
      if (trimmed) scrolls++;
      log(`client ${c.index} scrolled back ${pages} pages (${tries} tries${trimmed ? "" : ", window never trimmed"}) and down again in ${down}${timeline()?.following === false ? ", still not following" : ""}`);
    };

    // One change by client `c` in a random member room: two times in five an edit (or, one time in
    // eight, a delete) of one of its own recent messages, else a reaction set or cleared on any
    // recent message. Own messages are a small share of a busy room, so they are looked for.
    let changesMade = 0;
    const makeChange = (c: TestClient): boolean => {
      const s = c.core.store.getState();
      const roomId = memberRooms(c)[Math.floor(random() * memberRooms(c).length)]!;
      const ids = s.timelines[roomId]?.ids ?? [];
      const held = s.messages[roomId] ?? {};
      const changeable = (id: string) => {
        const m = held[id];
        return m !== undefined && m.kind === "text" && m.deletedAt === null ? m : undefined;
      };
      let made: { ok: boolean } | null = null;
      if (random() < 0.4) {
        const recent = ids.slice(-200).filter((id) => changeable(id)?.authorId === c.userId);
        const id = recent[Math.floor(random() * recent.length)];
        if (id !== undefined) made = random() < 0.125 ? c.core.deleteMessage(id) : c.core.edit(id, `fault c${c.index} edit #${c.changes}`);
      }
      if (made === null) {
        // The newest messages are the ones people react to: pick from the last 50 held.
        const m = changeable(ids[ids.length - 1 - Math.floor(random() * Math.min(50, ids.length))] ?? "");
        if (!m) return false;
        const emoji = REACTIONS[Math.floor(random() * REACTIONS.length)]!;
        const mine = m.reactions.some((r) => r.emoji === emoji && r.users.some((u) => u.id === c.userId));
        made = c.core.react(m.id, emoji, !mine);
      }
      if (!made.ok) return false;
      c.changes++;
      changesMade++;
      return true;
    };

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
    let scrollStarted = false;
    const faultsOwed = () => changesMade < opts.changes || kills < opts.kills || cuts < opts.cuts || freezes < opts.freezes || thawing.size > 0 || scrolling.size > 0;
    while ((sent < opts.messages || faultsOwed() || restarting) && !fatal) {
      if (Date.now() > sendDeadline) {
        log(`send phase deadline reached: sent=${sent}/${opts.messages} kills=${kills} cuts=${cuts} freezes=${freezes}`);
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
      // Changes keep pace with the sends: by the time a fraction of the messages went out, the same
      // fraction of the changes has been made (a few tries per tick when the pick finds nothing).
      const changesDue = opts.messages === 0 ? opts.changes : Math.min(opts.changes, Math.floor((opts.changes * sent) / opts.messages));
      for (let tries = 0; changesMade < changesDue && tries < 20; tries++) makeChange(clients[Math.floor(random() * clients.length)]!);
      // Faults are spread by progress, not by clock, so they land through the whole run however
      // fast it goes; once sending is done, any still owed happen at once.
      const progress = sent >= opts.messages ? Infinity : sent;
      if (!restarting && kills < opts.kills && progress >= killAt(kills)) {
        restarting = killAndRestart(server)
          .catch((e: unknown) => void (fatal = e instanceof Error ? e : new Error(String(e))))
          .finally(() => (restarting = null));
      }
      if (cuts < opts.cuts && progress >= cutAt(cuts)) {
        // Every tenth cut takes every connection down; the others a random 10-50 %. Every other
        // cut is a reset (RST) instead of a close (FIN).
        const fraction = cuts % 10 === 9 ? 1 : 0.1 + random() * 0.4;
        const mode = cuts % 2 === 1 ? "reset" : "close";
        const n = proxy.cut(fraction, random, mode);
        // Only a cut that ended a connection counts; with none live, try again next tick.
        if (n > 0) {
          cuts++;
          if (mode === "reset") resets++;
          cutConnections += n;
        }
      }
      if (freezes < opts.freezes && progress >= freezeAt(freezes)) {
        // A freeze takes 5-15 % of the live connections (a frozen client sends nothing until it
        // notices, so more would idle the run); with none live, try again next tick.
        const f = proxy.freeze(0.05 + random() * 0.1, random);
        if (f) {
          freezeSome(f, freezes);
          freezes++;
          frozenConnections += f.count;
        }
      }
      if (!scrollStarted && progress >= scrollAt) {
        scrollStarted = true;
        for (const c of clients.filter((c) => c.windowSize < Infinity)) {
          const task = scrollBackAndReturn(c, c.rooms[c.index % c.rooms.length]!).catch((e: unknown) => void (fatal = e instanceof Error ? e : new Error(String(e))));
          scrolling.add(task);
          void task.finally(() => scrolling.delete(task));
        }
      }
      if (t - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = t;
        log(
          `sent=${sent} acked=${totalAcked()} pending=${clients.reduce((n, c) => n + pendingOf(c), 0)} connected=${connected()}/${clients.length} ` +
            `kills=${kills} cuts=${cuts} (${cutConnections} connections) freezes=${freezes} (${thawing.size} frozen now); ${load()}${downList()}`,
        );
      }
      await sleep(TICK_MS);
    }
    if (restarting) await restarting;
    // After a deadline break a freeze may still be running: let it end first, or the drain waits on it.
    await Promise.all(thawing);
    await Promise.all(scrolling);
    loopDelay.disable();
    if (fatal) throw fatal;
    log(
      `sending done: sent=${sent} kills=${kills} cuts=${cuts} (${resets} resets, ${cutConnections} connections cut) freezes=${freezes} ` +
        `(${frozenConnections} connections, ${frozenLeft} left by their client) scrolls=${scrolls}, ${proxy.accepted()} accepted`,
    );

    // ---- drain: every outbox empty, every member room caught up to the database ----------------
    const live = sqliteReader(dbPath);
    // Settled: nothing left to send (failed changes stay, and are judged below), and every member
    // room at the database's last seq and last version (every change applied).
    const behind = (heads: Map<string, RoomHead>) => clients.filter((c) => isBehind(c.core, memberRooms(c), heads));
    let stragglers: TestClient[] = [];
    try {
      await waitUntil(
        async () => {
          const rows = await live.rooms();
          stragglers = behind(new Map(rows.map((r) => [r.id, r])));
          return stragglers.length === 0;
        },
        { timeoutMs: opts.drainTimeout * 1000, intervalMs: 250, what: "outboxes to empty and timelines to catch up" },
      );
      log("drained: every outbox empty, every timeline at the room's last seq and last version");
    } catch (e) {
      log(`${(e as Error).message}; ${stragglers.length} clients not settled`);
      const rows = await live.rooms();
      const dbLast = new Map(rows.map((r) => [r.id, r]));
      for (const c of stragglers.slice(0, 5)) {
        const s = c.core.store.getState();
        const pend = s.pendingOrder.map((id) => s.pending[id]!).map((p) => `${p.status}/${p.attempts}/${p.error}`);
        const changing = s.changeOrder.map((id) => s.changes[id]!).filter((ch) => ch.status === "sending").map((ch) => `${ch.kind}/${ch.attempts}/${ch.error}`);
        const lag = memberRooms(c).map((r) => {
          const t = s.timelines[r];
          const head = dbLast.get(r);
          return t ? `${r}:seq ${t.lastSeq}/${head?.last_seq} version ${t.version}/${head?.last_version}` : `${r}:unloaded`;
        });
        log(`  client ${c.index}: ${s.connection.status} pending=[${pend.join(" ")}] changes=[${changing.join(" ")}] timelines=[${lag.join(" ")}]`);
      }
    } finally {
      await live.close();
    }

    // ---- verdict -------------------------------------------------------------------------------
    const reports: ClientReport[] = clients.map((c) => reportOf(c.core, c));
    // Every held message's stored copy (the server's state as this client reconciled it) and the
    // changes the product gave up on, with why.
    const held: ClientMessages[] = clients.map((c) => {
      const s = c.core.store.getState();
      const messages = Object.entries(s.timelines).flatMap(([roomId, t]) =>
        t.ids.flatMap((id) => {
          const m = s.messages[roomId]?.[id];
          if (!m) return [];
          return [{ id, body: m.body, deleted: m.deletedAt !== null, reactions: Object.fromEntries(m.reactions.map((r) => [r.emoji, r.users.map((u) => u.id)])) }];
        }),
      );
      return { index: c.index, messages };
    });
    const refusals = new Map<string, number>();
    for (const c of clients) {
      const s = c.core.store.getState();
      for (const id of s.changeOrder) {
        const ch = s.changes[id];
        if (ch?.status === "failed") refusals.set(ch.error ?? "?", (refusals.get(ch.error ?? "?") ?? 0) + 1);
      }
    }
    for (const core of cores) core.disconnect();
    await proxy.close();
    proxy = null;
    await server.stop();
    const verdict = await verifyAgainstDb(dbPath, reports);
    const changeVerdict = verifyChangesAgainstDb(dbPath, held);
    for (const d of changeVerdict.details) log(d);
    const refused = [...refusals.values()].reduce((a, b) => a + b, 0);
    const wrongRefusals = [...refusals].filter(([code]) => !LEGIT_REFUSALS.has(code));
    log(
      `changes: made=${changesMade} stored edited=${changeVerdict.edited} deleted=${changeVerdict.deleted} reactions=${changeVerdict.reactions}; ` +
        `refused ${[...refusals].map(([code, n]) => `${code}=${n}`).join(" ") || "none"}; ${changeVerdict.compared} held messages compared`,
    );
    const acked = totalAcked();
    for (const d of verdict.details) log(d);
    if (verdict.phantoms > 0 || verdict.reordered > 0) log(`phantoms=${verdict.phantoms} reordered=${verdict.reordered}`);
    console.log(
      `fault: clients=${clients.length} rooms=${opts.rooms} sent=${sent} acked=${acked} stored=${verdict.stored} lost=${verdict.lost} duplicated=${verdict.duplicated} gaps=${verdict.gaps} missing=${verdict.missing} extra=${verdict.extra} misordered=${verdict.misordered} ` +
        `kills=${kills} cuts=${cuts} resets=${resets} freezes=${freezes} frozen=${frozenConnections} frozen_left=${frozenLeft} windowed=${windowed} scrolls=${scrolls} ` +
        `changes=${changesMade} refused=${refused} diverged=${changeVerdict.diverged}`,
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
      changeVerdict.diverged > 0 && "diverged",
      changesMade < opts.changes && `changes ${changesMade} of ${opts.changes}`,
      wrongRefusals.length > 0 && `changes refused with ${wrongRefusals.map(([code, n]) => `${code} (${n})`).join(", ")}`,
      sent !== opts.messages && `sent ${sent} of ${opts.messages}`,
      acked !== sent && `acked ${acked} of ${sent}`,
      kills < opts.kills && `kills ${kills} < ${opts.kills}`,
      cuts < opts.cuts && `cuts ${cuts} < ${opts.cuts}`,
      freezes < opts.freezes && `freezes ${freezes} < ${opts.freezes}`,
      // A freeze longer than the heartbeat allows must end every frozen connection at its client:
      // a client that stays on a dead connection never receives anything again.
      freezeMs > ping.pingInterval + ping.pingTimeout &&
        frozenLeft < frozenConnections - frozenUnnamed &&
        `${frozenConnections - frozenUnnamed - frozenLeft} frozen connections never left by their client (no ping timeout)`,
      frozenUnnamed > 0 && `${frozenUnnamed} frozen connections without a session cookie`,
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
        const tail = readFileSync(logPath, "utf8").split("\n").filter((l) => !l.includes("listening on ")).slice(-20);
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

/**
 * Fills each room with `perRoom` messages from the setup user, straight to the server on its own
 * socket (setup, not under test): `message:send` with acks, many in flight, so the server's group
 * commit writes them in a few transactions instead of one round trip each.
 */
async function writeHistory(url: string, cookie: string, roomIds: readonly string[], perRoom: number): Promise<void> {
  const socket = ioClient(url, { path: SOCKET_PATH, transports: ["websocket"], extraHeaders: { cookie }, forceNew: true, reconnection: false });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    });
    const sends = roomIds.flatMap((roomId, r) => Array.from({ length: perRoom }, (_, n) => ({ roomId, clientId: randomUUID(), body: `history r${r} #${n}` })));
    await mapLimit(sends, HISTORY_IN_FLIGHT, async (payload) => {
      const result = (await socket.timeout(30_000).emitWithAck("message:send", payload)) as AckResult<Message>;
      if (!result.ok) throw new Error(`history message:send: ${result.error.code} ${result.error.message}`);
    });
  } finally {
    socket.close();
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
