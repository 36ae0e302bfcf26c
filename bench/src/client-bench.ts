import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium, type Browser, type Page } from "playwright-core";
import { freePort, healthy } from "./lib/server-process.js";
import { sleep, waitUntil } from "./lib/wait.js";
import { MAX_SEED_MESSAGES, seedRoom } from "./seed.js";

/**
 * `pnpm bench:client` (issue 4): the web app against one room of 100,000 messages, in headless
 * Chromium at a laptop viewport. Prints exactly one line on stdout,
 *
 *   open_ms=<n> p95_frame_ms=<n> js_heap_mb=<n> loaded=<n>/<N>
 *
 * and exits 1 when a target is missed (the line is printed either way). Everything else (progress,
 * seeding time, diagnostics) goes to stderr.
 *
 * - open_ms: from the click on the room (the click event's timestamp) to the first frame painted
 *   with the newest message (seq N) inside the list's viewport.
 * - p95_frame_ms: 95th percentile of requestAnimationFrame deltas while scrolling from the bottom to
 *   seq 1, one step of STEP_PX (never more than the viewport) per frame.
 * - js_heap_mb: performance.memory.usedJSHeapSize after the scroll, after two forced major GCs
 *   (Chromium runs with --js-flags=--expose-gc and --enable-precise-memory-info), i.e. what the
 *   page retains, not garbage waiting for collection. The pre-GC figure goes to stderr.
 * - loaded: distinct seqs in 1..N seen inside the list's viewport during the scroll.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WEB_DIST = join(ROOT, "apps/web/dist/index.html");

const TARGETS = { openMs: 1_000, p95FrameMs: 20, jsHeapMb: 150 } as const;

/** A laptop-sized desktop window: the size the targets are defined for. */
const VIEWPORT = { width: 1280, height: 800 };

/**
 * Pixels scrolled per frame: a fast flick (36,000 px/s at 60 Hz). Capped in the page at the list's
 * clientHeight, so consecutive frames' viewports touch and no row can be skipped unseen.
 */
const DEFAULT_STEP_PX = 600;

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--enable-precise-memory-info",
  "--js-flags=--expose-gc",
];

const BENCH_USER = { nickname: "bench", password: "bench-password" };

interface Options {
  messages: number;
  build: boolean;
  stepPx: number;
  scrollTimeoutS: number;
  keep: boolean;
  /** Diagnostic: CPU-profile the page for this many seconds of the scroll (0: off). */
  profileS: number;
  /** Diagnostic: record a Chrome trace of the page for this many seconds of the scroll and print where the renderer's main thread spent them (0: off). */
  traceS: number;
  /** Diagnostic: wiggle the list at scrollTop 0 (see PAGE_SCRIPT) to get past a list that loads older pages only on scroll events. */
  nudgeAtTop: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: "string", default: "100000" },
      "no-build": { type: "boolean", default: false },
      "step-px": { type: "string", default: String(DEFAULT_STEP_PX) },
      "scroll-timeout-s": { type: "string", default: "900" },
      keep: { type: "boolean", default: false },
      "nudge-at-top": { type: "boolean", default: false },
      profile: { type: "string", default: "0" },
      trace: { type: "string", default: "0" },
    },
    strict: true,
  });
  const int = (name: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}, got ${raw}`);
    return n;
  };
  return {
    messages: int("messages", values.messages, 1, MAX_SEED_MESSAGES),
    build: !values["no-build"] || !existsSync(WEB_DIST),
    stepPx: int("step-px", values["step-px"], 1, 10_000),
    scrollTimeoutS: int("scroll-timeout-s", values["scroll-timeout-s"], 1, 3_600),
    keep: values.keep,
    nudgeAtTop: values["nudge-at-top"],
    profileS: int("profile", values.profile, 0, 600),
    traceS: int("trace", values.trace, 0, 600),
  };
}

const log = (line: string) => process.stderr.write(`[bench:client] ${line}\n`);

/**
 * Runs inside the page (installed with addInitScript, so it exists before the app's own code). Kept
 * as plain JavaScript in a string: tsx/esbuild would wrap a function passed to page.evaluate in
 * `__name(...)` helpers that do not exist in the page.
 *
 * Everything it keeps is small and fixed-size (a Uint8Array bitmap of seen seqs, one number per
 * frame), so the bench adds well under 1 MB to the heap it measures.
 */
const PAGE_SCRIPT = `(() => {
  const LIST = '[data-testid="message-list"], [role="log"]';
  const ROW = '[data-testid="message"][data-seq]';
  const listOf = (el) => el.closest(LIST);
  const inView = (el, list) => {
    const r = el.getBoundingClientRect(), c = list.getBoundingClientRect();
    return r.height > 0 && r.bottom > c.top && r.top < c.bottom;
  };
  const afterPaint = (fn) => requestAnimationFrame(() => { const ch = new MessageChannel(); ch.port1.onmessage = () => fn(performance.now()); ch.port2.postMessage(0); });
  const B = { open: null, scroll: null, longTasks: { count: 0, totalMs: 0, maxMs: 0 } };
  window.__parleyBench = B;
  try {
    new PerformanceObserver((list) => {
      if (!B.scroll || B.scroll.done) return;
      for (const e of list.getEntries()) { B.longTasks.count++; B.longTasks.totalMs += e.duration; B.longTasks.maxMs = Math.max(B.longTasks.maxMs, e.duration); }
    }).observe({ type: 'longtask', buffered: false });
  } catch {}

  B.armOpen = (roomId, seq) => { B.open = { roomId, seq, t0: null, t1: null, failed: null }; };
  document.addEventListener('click', (e) => {
    const o = B.open;
    if (!o || o.t0 !== null || !(e.target instanceof Element)) return;
    const item = e.target.closest('[data-testid="room-item"]');
    if (!item || item.getAttribute('data-room-id') !== o.roomId) return;
    o.t0 = e.timeStamp;
    const poll = () => {
      const row = document.querySelector('[data-testid="message"][data-seq="' + o.seq + '"]');
      const list = row && listOf(row);
      if (row && list && inView(row, list)) return afterPaint((t) => { o.t1 = t; });
      if (performance.now() - o.t0 > 60000) { o.failed = 'seq ' + o.seq + ' not visible after 60 s'; return; }
      requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  }, true);

  B.startScroll = (n, stepPx, timeoutMs, nudgeAtTop) => {
    const s = B.scroll = {
      n, seen: new Uint8Array(n + 1), count: 0, minSeq: Infinity, deltas: [], last: null,
      done: false, reason: null, t0: performance.now(), t1: null, atTopFrames: 0, maxStep: 0, nudges: 0,
    };
    const frame = (ts) => {
      if (s.done) return;
      if (s.last !== null) s.deltas.push(ts - s.last);
      s.last = ts;
      const list = document.querySelector(LIST);
      if (!list) { s.done = true; s.reason = 'message list not found'; return; }
      const c = list.getBoundingClientRect();
      for (const row of list.querySelectorAll(ROW)) {
        const r = row.getBoundingClientRect();
        if (r.height === 0 || r.bottom <= c.top || r.top >= c.bottom) continue;
        const seq = Number(row.getAttribute('data-seq'));
        if (!(seq >= 1 && seq <= n)) continue;
        if (!s.seen[seq]) { s.seen[seq] = 1; s.count++; }
        if (seq < s.minSeq) s.minSeq = seq;
      }
      if (s.seen[1]) { s.done = true; s.reason = 'reached seq 1'; s.t1 = performance.now(); return; }
      if (performance.now() - s.t0 > timeoutMs) { s.done = true; s.reason = 'timed out'; s.t1 = performance.now(); return; }
      if (list.scrollTop === 0) s.atTopFrames++;
      if (nudgeAtTop && list.scrollTop === 0) {
        // At the top, scrollTop -= step changes nothing and fires no scroll event; a user would
        // wiggle the wheel. 0 -> 1 -> 0 fires scroll events without skipping anything.
        list.scrollTop = 1;
        s.nudges++;
      } else {
        const step = Math.min(stepPx, list.clientHeight);
        s.maxStep = Math.max(s.maxStep, step);
        list.scrollTop -= step;
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  };
  B.progress = () => {
    const s = B.scroll;
    return s && { count: s.count, minSeq: s.minSeq === Infinity ? null : s.minSeq, frames: s.deltas.length, done: s.done, reason: s.reason,
      elapsedMs: (s.t1 ?? performance.now()) - s.t0, atTopFrames: s.atTopFrames, maxStep: s.maxStep, nudges: s.nudges };
  };
  B.frames = () => B.scroll ? B.scroll.deltas : [];
  B.missing = (limit) => {
    const s = B.scroll, out = [];
    if (!s) return out;
    for (let q = 1; q <= s.n && out.length < limit; q++) if (!s.seen[q]) out.push(q);
    return out;
  };
  B.heap = () => {
    const m = performance.memory;
    return m ? { used: m.usedJSHeapSize, total: m.totalJSHeapSize } : null;
  };
  B.gc = () => { if (typeof window.gc !== 'function') return false; window.gc(); window.gc(); return true; };
  B.snapshot = () => {
    const list = document.querySelector(LIST);
    if (!list) return null;
    const c = list.getBoundingClientRect();
    const rows = [...list.querySelectorAll(ROW)].map((r) => ({ seq: Number(r.getAttribute('data-seq')), top: Math.round(r.getBoundingClientRect().top - c.top), h: Math.round(r.getBoundingClientRect().height) }));
    const top = list.querySelector('.list-top');
    return { scrollTop: list.scrollTop, scrollHeight: list.scrollHeight, clientHeight: list.clientHeight, busy: list.getAttribute('aria-busy'),
      top: top ? top.textContent : null, rows: rows.slice(0, 8).concat(rows.length > 8 ? [{ seq: -1, top: rows.length, h: 0 }] : []).concat(rows.slice(-3)) };
  };
  B.dom = () => ({ nodes: document.getElementsByTagName('*').length, rows: document.querySelectorAll(ROW).length });
})();`;

interface ScrollProgress {
  count: number;
  minSeq: number | null;
  frames: number;
  done: boolean;
  reason: string | null;
  elapsedMs: number;
  atTopFrames: number;
  maxStep: number;
  nudges: number;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function buildWeb(): void {
  log("building the web app (pnpm --filter @parley/web build; --no-build skips it when apps/web/dist exists)");
  const r = spawnSync("pnpm", ["--filter", "@parley/web", "build"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr], timeout: 300_000 });
  if (r.status !== 0) throw new Error(`web build failed (exit ${r.status ?? r.signal ?? r.error?.message})`);
}

/** The built server, serving apps/web/dist, as a child process of this one (killed by pid in `stop`). */
async function startServer(dbPath: string, logPath: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const out = openSync(logPath, "a");
  // `node --import tsx`, not the tsx CLI: one process, so the pid we signal is the server itself.
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "apps/server/src/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATABASE_URL: `file:${dbPath}`, NODE_ENV: "production" },
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));
  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    if (await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)])) return;
    child.kill("SIGKILL");
    await Promise.race([exit, sleep(5_000)]);
  };
  try {
    await waitUntil(async () => exited || (await healthy(url)), { timeoutMs: 30_000, intervalMs: 100, what: `${url}/healthz` });
    if (exited) throw new Error("server exited during start-up");
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}; server log:\n${readFileSync(logPath, "utf8").slice(-2_000)}`);
  }
  return { url, stop };
}

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: "domcontentloaded", timeout: 30_000 });
  await page.getByLabel("Nickname").fill(BENCH_USER.nickname, { timeout: 30_000 });
  await page.getByLabel("Password").fill(BENCH_USER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

/**
 * A CDP CPU profile of the page; on stop, prints the functions with the most self time (and
 * "(garbage collector)", "(program)": rendering and layout) to stderr.
 */
async function startProfile(page: Page): Promise<{ stop: () => Promise<void> }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  await cdp.send("Profiler.start");
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      const { profile } = (await cdp.send("Profiler.stop")) as unknown as {
        profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
      };
      await cdp.detach();
      const path = join(tmpdir(), `parley-client-bench-${Date.now()}.cpuprofile`);
      writeFileSync(path, JSON.stringify(profile));
      log(`profile: written to ${path}`);
      const self = new Map<number, number>();
      profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
      const byName = new Map<string, number>();
      let total = 0;
      for (const node of profile.nodes) {
        const us = self.get(node.id) ?? 0;
        total += us;
        const f = node.callFrame;
        const file = f.url ? f.url.slice(f.url.lastIndexOf("/") + 1) : "";
        const name = `${f.functionName || "(anonymous)"}${file ? ` ${file}:${f.lineNumber + 1}:${f.columnNumber + 1}` : ""}`;
        byName.set(name, (byName.get(name) ?? 0) + us);
      }
      const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 25);
      log(`profile: ${Math.round(total / 1000)} ms sampled; top self time:`);
      for (const [name, us] of top) log(`  ${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`);
    },
  };
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string };
}

/**
 * A Chrome trace of the page (the timeline categories DevTools' Performance panel records); on stop,
 * prints the self time of the renderer main thread's work by kind (script, style, layout, paint, ...)
 * to stderr: what a CPU profile lumps together as "(program)".
 */
async function startTrace(browser: Browser, page: Page): Promise<{ stop: () => Promise<void> }> {
  await browser.startTracing(page, { categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink", "v8.execute"] });
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      const buffer = await browser.stopTracing();
      const path = join(tmpdir(), `parley-client-bench-trace-${Date.now()}.json`);
      writeFileSync(path, buffer);
      log(`trace: written to ${path} (open it in DevTools' Performance panel)`);
      const parsed = JSON.parse(buffer.toString("utf8")) as { traceEvents: TraceEvent[] } | TraceEvent[];
      const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
      const main = events.find((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain");
      if (!main) {
        log("trace: no renderer main thread found");
        return;
      }
      // Self time: complete events nest on one thread; each one's time minus its children's.
      const spans = events
        .filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === "X" && typeof e.dur === "number")
        .sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
      const self = new Map<string, number>();
      const stack: { end: number; name: string }[] = [];
      let busy = 0;
      for (const e of spans) {
        while (stack.length > 0 && stack[stack.length - 1]!.end <= e.ts) stack.pop();
        const parent = stack[stack.length - 1];
        if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - e.dur!);
        else busy += e.dur!;
        self.set(e.name, (self.get(e.name) ?? 0) + e.dur!);
        stack.push({ end: e.ts + e.dur!, name: e.name });
      }
      log(`trace: renderer main thread busy ${Math.round(busy / 1000)} ms; self time by kind:`);
      for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
        log(`  ${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${name}`);
      }
    },
  };
}

interface Measured {
  openMs: number;
  p95FrameMs: number;
  jsHeapMb: number;
  loaded: number;
}

async function measure(browser: Browser, page: Page, url: string, roomId: string, n: number, options: Options): Promise<Measured> {
  let fetchesSent = 0;
  let wsBytesIn = 0;
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => {
      if (typeof f.payload === "string" && f.payload.includes('"messages:fetch"')) fetchesSent++;
    });
    ws.on("framereceived", (f) => (wsBytesIn += typeof f.payload === "string" ? f.payload.length : f.payload.byteLength));
  });
  page.on("pageerror", (e) => log(`page error: ${e.message}`));

  await signIn(page, url);
  const roomItem = page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`);
  await roomItem.waitFor({ state: "visible", timeout: 30_000 });
  // Let the default room finish loading first, so its page and rendering are not part of open_ms.
  await page.locator('[role="log"][aria-busy="false"]').first().waitFor({ timeout: 30_000 });
  await sleep(500);

  // ---- open ----
  const fetchesBeforeOpen = fetchesSent;
  await page.evaluate(`window.__parleyBench.armOpen(${JSON.stringify(roomId)}, ${n})`);
  await roomItem.click();
  let open: { t0: number | null; t1: number | null; failed: string | null } = { t0: null, t1: null, failed: null };
  await waitUntil(
    async () => {
      open = (await page.evaluate("window.__parleyBench.open")) as typeof open;
      return open.t1 !== null || open.failed !== null;
    },
    { timeoutMs: 70_000, intervalMs: 50, what: `seq ${n} visible after opening the room` },
  );
  if (open.failed || open.t0 === null || open.t1 === null) throw new Error(`open: ${open.failed ?? "no click recorded"}`);
  const openMs = open.t1 - open.t0;
  log(`open: ${Math.round(openMs)} ms (${fetchesSent - fetchesBeforeOpen} messages:fetch requests)`);
  await sleep(500);

  // ---- scroll to the first message ----
  const fetchesBeforeScroll = fetchesSent;
  const bytesBeforeScroll = wsBytesIn;
  const profiler = options.profileS > 0 ? await startProfile(page) : null;
  const tracer = options.traceS > 0 ? await startTrace(browser, page) : null;
  await page.evaluate(`window.__parleyBench.startScroll(${n}, ${options.stepPx}, ${options.scrollTimeoutS * 1000}, ${options.nudgeAtTop})`);
  const deadline = Date.now() + options.scrollTimeoutS * 1000 + 30_000;
  let progress: ScrollProgress | null = null;
  let lastLog = Date.now();
  // A scroll that sees no new message for this long is stuck (e.g. a page that never arrives):
  // stop and report instead of waiting for the overall timeout.
  const STALL_MS = 30_000;
  let lastCount = -1;
  let lastGrowth = Date.now();
  for (;;) {
    await sleep(1_000);
    progress = (await page.evaluate("window.__parleyBench.progress()")) as ScrollProgress | null;
    if (!progress) throw new Error("scroll did not start");
    if (profiler && (progress.done || progress.elapsedMs >= options.profileS * 1000)) await profiler.stop();
    if (tracer && (progress.done || progress.elapsedMs >= options.traceS * 1000)) await tracer.stop();
    if (progress.done) break;
    if (Date.now() > deadline) throw new Error("scroll loop stopped reporting");
    if (progress.count !== lastCount) {
      lastCount = progress.count;
      lastGrowth = Date.now();
    } else if (Date.now() - lastGrowth > 5_000 && Date.now() - lastLog >= 5_000) {
      lastLog = Date.now();
      log(`scroll: no new message for ${Math.round((Date.now() - lastGrowth) / 1000)} s: ${JSON.stringify(await page.evaluate("window.__parleyBench.snapshot()"))}`);
    }
    if (Date.now() - lastGrowth > STALL_MS) {
      await page.evaluate("window.__parleyBench.scroll.done = true; window.__parleyBench.scroll.reason = 'stalled'; window.__parleyBench.scroll.t1 = performance.now()");
      progress = (await page.evaluate("window.__parleyBench.progress()")) as ScrollProgress;
      break;
    }
    if (Date.now() - lastLog >= 10_000) {
      lastLog = Date.now();
      log(`scroll: ${progress.count}/${n} seen, lowest seq ${progress.minSeq}, ${progress.frames} frames, ${Math.round(progress.elapsedMs / 1000)} s`);
    }
  }
  const frames = (await page.evaluate("window.__parleyBench.frames()")) as number[];
  const longTasks = (await page.evaluate("window.__parleyBench.longTasks")) as { count: number; totalMs: number; maxMs: number };
  const dom = (await page.evaluate("window.__parleyBench.dom()")) as { nodes: number; rows: number };
  const p95FrameMs = percentile(frames, 95);
  const slow = frames.filter((d) => d > 20).length;
  log(
    `scroll: ${progress.reason} after ${round1(progress.elapsedMs / 1000)} s; ${progress.count}/${n} seqs seen; ` +
      `${frames.length} frames: p50 ${round1(percentile(frames, 50))} p95 ${round1(p95FrameMs)} p99 ${round1(percentile(frames, 99))} ` +
      `max ${round1(Math.max(...frames))} ms, ${slow} frames > 20 ms, ${progress.atTopFrames} frames at scrollTop 0 (${progress.nudges} nudges); ` +
      `step ${progress.maxStep} px; long tasks ${longTasks.count} (${Math.round(longTasks.totalMs)} ms total, max ${Math.round(longTasks.maxMs)} ms); ` +
      `${fetchesSent - fetchesBeforeScroll} messages:fetch, ${round1((wsBytesIn - bytesBeforeScroll) / 1e6)} MB received; ` +
      `DOM ${dom.nodes} elements, ${dom.rows} message rows`,
  );
  if (progress.count < n) {
    const missing = (await page.evaluate("window.__parleyBench.missing(20)")) as number[];
    log(`not seen (first 20): ${missing.join(", ")}`);
  }

  // ---- heap ----
  const before = (await page.evaluate("window.__parleyBench.heap()")) as { used: number; total: number } | null;
  const gcRan = (await page.evaluate("window.__parleyBench.gc()")) as boolean;
  const after = (await page.evaluate("window.__parleyBench.heap()")) as { used: number; total: number } | null;
  if (!after || !before) throw new Error("performance.memory is not available");
  const jsHeapMb = after.used / 2 ** 20;
  log(`heap: ${round1(before.used / 2 ** 20)} MB used before GC, ${round1(jsHeapMb)} MB after ${gcRan ? "window.gc() x2" : "NO gc (window.gc missing)"}`);

  return { openMs, p95FrameMs, jsHeapMb, loaded: progress.count };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const n = options.messages;
  if (options.build) buildWeb();

  const dir = mkdtempSync(join(tmpdir(), "parley-client-bench-"));
  const dbPath = join(dir, "parley.sqlite");
  const logPath = join(dir, "server.log");
  let server: { url: string; stop: () => Promise<void> } | null = null;
  let browser: Browser | null = null;
  const cleanUp = async () => {
    await browser?.close().catch(() => {});
    browser = null;
    await server?.stop();
    server = null;
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  };
  const onSignal = () => void cleanUp().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let result: Measured = { openMs: NaN, p95FrameMs: NaN, jsHeapMb: NaN, loaded: 0 };
  let failed = false;
  try {
    const seeded = await seedRoom({ dbPath, messages: n, benchUser: BENCH_USER });
    log(`seeded ${n} messages into #${seeded.roomName} in ${Math.round(seeded.appendMs)} ms (${Math.round(seeded.totalMs)} ms with users and room)`);

    server = await startServer(dbPath, logPath);
    log(`server on ${server.url}`);
    browser = await chromium.launch({ executablePath: process.env.PARLEY_CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: VIEWPORT });
    await context.addInitScript({ content: PAGE_SCRIPT });
    const page = await context.newPage();
    result = await measure(browser, page, server.url, seeded.roomId, n, options);
  } catch (e) {
    failed = true;
    log(`FAILED: ${(e as Error).stack ?? String(e)}`);
  } finally {
    await cleanUp();
  }

  const num = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : "NaN");
  process.stdout.write(
    `open_ms=${num(result.openMs, 0)} p95_frame_ms=${num(result.p95FrameMs, 1)} js_heap_mb=${num(result.jsHeapMb, 1)} loaded=${result.loaded}/${n}\n`,
  );
  const missed = [
    !(result.openMs < TARGETS.openMs) && `open_ms >= ${TARGETS.openMs}`,
    !(result.p95FrameMs < TARGETS.p95FrameMs) && `p95_frame_ms >= ${TARGETS.p95FrameMs}`,
    !(result.jsHeapMb < TARGETS.jsHeapMb) && `js_heap_mb >= ${TARGETS.jsHeapMb}`,
    result.loaded !== n && `loaded < ${n}`,
  ].filter((m): m is string => typeof m === "string");
  if (missed.length > 0) log(`targets missed: ${missed.join(", ")}`);
  return failed || missed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
