import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * WAL checkpoints on a thread of their own (issue 15, ADR 0019).
 *
 * A checkpoint copies the WAL's pages into the database file and fsyncs both: with
 * `synchronous = NORMAL` it is the only fsync SQLite does, and with the default autocheckpoint it
 * runs inside whichever commit pushes the WAL past 1,000 pages, on the event loop. Measured at
 * 1,000 msg/s into a room of 200 (`bench:load --compare`): group commits' p99 25 ms with inline
 * checkpoints against 4.6 ms without, and the acked-send p99 92 ms against 39 ms. So the main
 * connection turns autocheckpoint off and this worker, on a connection of its own, runs PASSIVE
 * checkpoints on a timer: PASSIVE never waits for and never blocks the writer (WAL lets a
 * checkpoint run beside one writer), and its reads, writes and fsyncs happen off the event loop.
 *
 * One thing PASSIVE cannot do beside a busy writer: get to the WAL's end. It copies the frames
 * that were there when it started; the commits made meanwhile are left for the next one, and
 * SQLite only starts the WAL over (instead of growing it) at a commit that finds every frame
 * copied. Under a steady stream of sends that never happens (measured: 14,000 frames, 57 MB, in
 * 1.5 s of back-to-back sends). So when the WAL has passed `restartFrames` since it last started
 * over, after each checkpoint the worker asks the storage to hold its group
 * commits (the sends wait in their queue; the event loop runs on) for one more checkpoint, which
 * then only has the tail to copy (a millisecond or two); the first commit after it starts the WAL
 * over. A RESTART checkpoint would do the same by taking the write lock, and the writer would wait
 * for it synchronously, on the event loop, for the whole checkpoint.
 *
 * The worker's source is a string evaluated by the Worker (not a module file): the same code then
 * runs from the TypeScript sources (tests, `pnpm dev`) and from the bundled build, which would
 * otherwise each need the worker as a separate entry. It loads the very better-sqlite3 the server
 * resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
let stopped = false;
let timer = null;
function checkpoint(held) {
  const started = performance.now();
  const row = db.pragma("wal_checkpoint(PASSIVE)")[0];
  return { type: "checkpoint", log: row.log, checkpointed: row.checkpointed, busy: row.busy, held, ms: performance.now() - started };
}
function schedule() {
  if (!stopped) timer = setTimeout(tick, workerData.intervalMs);
}
function tick() {
  timer = null;
  const result = checkpoint(false);
  parentPort.postMessage(result);
  // log counts the frames since the WAL last started over (at the checkpoint's start): past the
  // bound, the commits have not let it start over for a while.
  if (result.log >= workerData.restartFrames) parentPort.postMessage({ type: "hold" });
  else schedule();
}
parentPort.on("message", (message) => {
  if (stopped) return;
  if (message.type === "held") {
    // The commits are held: this checkpoint gets to the WAL's end, unless a write other than a
    // group commit came in between (then the next tick tries again).
    parentPort.postMessage(checkpoint(true));
    schedule();
  } else if (message.type === "checkpoint") {
    parentPort.postMessage({ ...checkpoint(false), id: message.id });
  } else if (message.type === "stop") {
    stopped = true;
    if (timer) clearTimeout(timer);
    db.close();
    parentPort.close();
  }
});
schedule();
parentPort.postMessage({ type: "ready" });
`;

export interface CheckpointerOptions {
  /** How often the worker checkpoints (1 s). A checkpoint with nothing new in the WAL costs no fsync. */
  intervalMs?: number;
  /** WAL frames (pages of 4 KiB, 4,000) past which a checkpoint is followed by one with the commits held, which finishes the WAL. */
  restartFrames?: number;
  /** The longest the commits are held, should the worker not answer. */
  holdTimeoutMs?: number;
  /** The better-sqlite3 module the thread loads: by default the one the server resolves. */
  driver?: string;
}

/** What one checkpoint did: SQLite's `wal_checkpoint` row, and how long it took. */
export interface CheckpointResult {
  /** Frames in the WAL. */
  log: number;
  /** Of those, frames copied into the database file. */
  checkpointed: number;
  /** 1 when another checkpoint was running. */
  busy: number;
  /** Whether the commits were held for it. */
  held: boolean;
  ms: number;
}

/** What the storage does for the checkpointer. */
export interface CheckpointHost {
  /** Stop starting group commits until `release`: sends queue up meanwhile. */
  hold(): void;
  release(): void;
  /** Called once if the thread fails or exits by itself (the storage checkpoints inline again). */
  failed(error: Error): void;
}

type FromWorker = { type: "ready" } | { type: "hold" } | ({ type: "checkpoint"; id?: number } & CheckpointResult);
type ToWorker = { type: "held" } | { type: "checkpoint"; id: number } | { type: "stop" };

/**
 * Every second, and a hold once the WAL has 4,000 frames (16 MB) since it last started over: at
 * 1,000 msg/s into a room of 200 (several thousand frames a second) that is a hold every second or
 * two, each a few ms during which acks wait. Against a checkpoint every 250 ms and a hold past
 * 1,000 frames (SQLite's own autocheckpoint threshold), in three alternating pairs of
 * `bench:load --compare --servers parley`, the acked-send p99 was 60, 44, 49 ms against 55, 69,
 * 52: fewer checkpoints copy each hot page (the room's row, the search state) fewer times. An idle
 * server wakes the thread once a second for nothing costlier than reading the WAL index.
 */
const DEFAULTS = { intervalMs: 1000, restartFrames: 4000, holdTimeoutMs: 200 };

export interface Checkpointer {
  /** Resolves when the worker has its connection open and checkpoints on its timer. */
  readonly ready: Promise<void>;
  /** Timed checkpoints done so far. */
  readonly count: number;
  /** Each timed checkpoint's result, as it arrives (tests and metrics). */
  onCheckpoint(listener: (result: CheckpointResult) => void): () => void;
  /** A checkpoint now, beside the writer; resolves with its result. */
  checkpoint(): Promise<CheckpointResult>;
  /** Stops the timer and closes the worker's connection; resolves when the thread has exited. */
  stop(): Promise<void>;
}

/** Starts the checkpoint thread for the database file at `path` (which must exist, in WAL mode). */
export function startCheckpointer(path: string, host: CheckpointHost, options: CheckpointerOptions = {}): Checkpointer {
  const { driver, holdTimeoutMs, ...settings } = { ...DEFAULTS, driver: createRequire(import.meta.url).resolve("better-sqlite3"), ...options };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...settings, driver, path } });
  // A storage left open (a test that forgot close) must not keep the process alive.
  worker.unref();
  const send = (message: ToWorker) => worker.postMessage(message);
  const listeners = new Set<(result: CheckpointResult) => void>();
  const requests = new Map<number, { resolve: (r: CheckpointResult) => void; reject: (e: Error) => void }>();
  let nextRequest = 1;
  let count = 0;
  let stopped = false;
  let failed = false;
  let holding: NodeJS.Timeout | null = null;
  const release = () => {
    if (!holding) return;
    clearTimeout(holding);
    holding = null;
    host.release();
  };
  let markReady: () => void = () => {};
  let failReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // Nobody need wait for ready: a failure reaches the host too.
  ready.catch(() => {});
  const fail = (error: Error) => {
    release();
    for (const r of requests.values()) r.reject(error);
    requests.clear();
    if (stopped || failed) return;
    failed = true;
    failReady(error);
    host.failed(error);
  };
  worker.on("message", (message: FromWorker) => {
    if (message.type === "ready") return markReady();
    if (message.type === "hold") {
      if (stopped) return;
      host.hold();
      holding = setTimeout(release, holdTimeoutMs).unref();
      return send({ type: "held" });
    }
    const { type: _type, id, ...result } = message;
    if (id !== undefined) {
      requests.get(id)?.resolve(result);
      requests.delete(id);
      return;
    }
    if (result.held) release();
    count += 1;
    for (const listener of listeners) listener(result);
  });
  worker.on("error", fail);
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  worker.once("exit", (code) => fail(new Error(`the checkpoint thread exited (code ${code})`)));
  return {
    ready,
    get count() {
      return count;
    },
    onCheckpoint(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    checkpoint() {
      if (stopped || failed) return Promise.reject(new Error("the checkpoint thread is not running"));
      const id = nextRequest++;
      return new Promise((resolve, reject) => {
        requests.set(id, { resolve, reject });
        send({ type: "checkpoint", id });
      });
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        release();
        send({ type: "stop" });
      }
      return exited;
    },
  };
}
