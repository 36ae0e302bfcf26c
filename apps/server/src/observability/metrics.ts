import { performance } from "node:perf_hooks";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AckResult, ClientEventName } from "@parley/shared";
import { onEachAdapter, type BroadcastOptions, type LocalAdapter } from "../realtime/adapters.js";
import type { ParleyServer } from "../realtime/types.js";

/**
 * Ack latency buckets, in seconds. A command's ack is a storage round trip at most (SQLite group
 * commit: ~1 ms; PostgreSQL: a few ms), so the detail is at the low end; 5 s is past the client's
 * own timeout, where "slow" has become "failed" anyway.
 */
const ACK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Storage call latency, in seconds: the same range one step lower (a read can take 50 µs). */
const STORAGE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];
/** Recipients per broadcast: one tab, a small room, the default room with everyone in it. */
const RECIPIENT_BUCKETS = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Records one command's ack: its result (ok or the error code) and how long it took to answer. */
export interface CommandRecorder {
  /** `startedAt` is a `performance.now()` taken when the packet arrived. */
  record(startedAt: number, result: AckResult<unknown>): void;
}

/**
 * The metrics of one app. Each app has its own `Registry` (not prom-client's global one), so that
 * several apps in one process (the tests, the scale-out test's nodes) neither collide on metric
 * names nor read each other's counts. Process-wide metrics (event-loop lag, memory, GC) live in one
 * registry per process instead (see `processRegistry`), because they describe the process, not an
 * app, and each copy would start its own event-loop monitor.
 *
 * The hot paths (every command, every storage call, every broadcast) reach a label child that was
 * made once and cached, never `labels()` per call, and nothing is recorded per delivered socket.
 * A child's `inc`/`observe` still validates and hashes its labels inside prom-client: about 1 µs
 * per record (measured ~3.5 µs on a 2-core machine at load average 15, where one `performance.now()`
 * took 150 ns), a handful per `message:send`, against the hundreds of µs a send and its fan-out
 * cost. Should a profile ever show it, the next step is plain numbers read by a `collect()` hook.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly commands = new Counter({
    name: "parley_commands_total",
    help: "Client commands answered, by event and result (ok, or the error code of the ack).",
    labelNames: ["event", "result"] as const,
    registers: [this.registry],
  });
  private readonly ackSeconds = new Histogram({
    name: "parley_command_ack_seconds",
    help: "Time from a command's arrival to its ack, by event (refusals included).",
    labelNames: ["event"] as const,
    buckets: ACK_BUCKETS,
    registers: [this.registry],
  });
  private readonly broadcasts = new Counter({
    name: "parley_broadcasts_total",
    help: "Broadcasts this node emitted, by event.",
    labelNames: ["event"] as const,
    registers: [this.registry],
  });
  private readonly broadcastRecipients = new Histogram({
    name: "parley_broadcast_recipients",
    help: "Sockets on this node each broadcast this node emitted was delivered to, by event (its _sum is the deliveries).",
    labelNames: ["event"] as const,
    buckets: RECIPIENT_BUCKETS,
    registers: [this.registry],
  });
  private readonly storageSeconds = new Histogram({
    name: "parley_storage_seconds",
    help: "Storage call latency, by method (failed calls included).",
    labelNames: ["method"] as const,
    buckets: STORAGE_BUCKETS,
    registers: [this.registry],
  });
  private readonly storageErrors = new Counter({
    name: "parley_storage_errors_total",
    help: "Storage calls that rejected, by method.",
    labelNames: ["method"] as const,
    registers: [this.registry],
  });
  /**
   * Redis adapter failures (publish rejected, subscriber connection lost), by kind. Incremented by
   * the adapter's owner: `metrics.redisErrors.labels("publish").inc()`; the kinds are whatever the
   * adapter can tell apart (e.g. "publish", "subscriber", "connection").
   */
  readonly redisErrors = new Counter({
    name: "parley_redis_adapter_errors_total",
    help: "Redis adapter errors (failed publish, lost connection), by kind.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  private readonly commandRecorders = new Map<string, CommandRecorder>();
  private readonly storageTimers = new Map<string, StorageTimer>();
  private readonly broadcastChildren = new Map<string, { count: Counter.Internal; recipients: Histogram.Internal<"event"> }>();

  constructor() {
    processRegistry();
  }

  /** The recorder for `event`: its children are created on first use, then reused for every ack. */
  command(event: ClientEventName): CommandRecorder {
    let recorder = this.commandRecorders.get(event);
    if (recorder) return recorder;
    const latency = this.ackSeconds.labels(event);
    const ok = this.commands.labels(event, "ok");
    // Error codes are a closed set (ERROR_CODES), so this map stays small; created lazily so that
    // /metrics shows the codes that happened, not every event x code pair at zero.
    const errors = new Map<string, Counter.Internal>();
    const commands = this.commands;
    recorder = {
      record(startedAt, result) {
        latency.observe((performance.now() - startedAt) / 1000);
        if (result.ok) return ok.inc();
        let counter = errors.get(result.error.code);
        if (!counter) {
          counter = commands.labels(event, result.error.code);
          errors.set(result.error.code, counter);
        }
        counter.inc();
      },
    };
    this.commandRecorders.set(event, recorder);
    return recorder;
  }

  /** Times storage calls of `method` (see storage/instrumented.ts). */
  storage(method: string): StorageTimer {
    let timer = this.storageTimers.get(method);
    if (timer) return timer;
    const latency = this.storageSeconds.labels(method);
    const errors = this.storageErrors.labels(method);
    timer = {
      done: (startedAt) => latency.observe((performance.now() - startedAt) / 1000),
      failed: (startedAt) => {
        latency.observe((performance.now() - startedAt) / 1000);
        errors.inc();
      },
    };
    this.storageTimers.set(method, timer);
    return timer;
  }

  /** Counts one broadcast of `event` that reached `recipients` sockets on this node. */
  broadcast(event: string, recipients: number): void {
    let children = this.broadcastChildren.get(event);
    if (!children) {
      children = { count: this.broadcasts.labels(event), recipients: this.broadcastRecipients.labels(event) };
      this.broadcastChildren.set(event, children);
    }
    children.count.inc();
    children.recipients.observe(recipients);
  }

  /**
   * Connects the metrics to the app's Socket.IO server: the connection gauge, broadcast fan-out, and
   * the lookup `handle()` uses to find the command recorders (`metricsOf`).
   */
  observeIo(io: ParleyServer): void {
    servers.set(io, this);
    // Read at scrape time: nothing to keep in step on connect and disconnect, and always right.
    new Gauge({
      name: "parley_socket_connections",
      help: "Sockets connected to this node (signed in, past the handshake).",
      registers: [this.registry],
      collect() {
        this.set(io.of("/").sockets.size);
      },
    });
    new Gauge({
      name: "parley_engine_connections",
      help: "Engine.IO connections to this node, handshakes in progress included.",
      registers: [this.registry],
      collect() {
        this.set(io.engine.clientsCount);
      },
    });
    countBroadcasts(io, this);
  }

  /** The Prometheus text exposition: this app's metrics, then the process's. */
  async exposition(): Promise<string> {
    const [app, process] = await Promise.all([this.registry.metrics(), processRegistry().metrics()]);
    return `${app}\n${process}`;
  }

  readonly contentType = this.registry.contentType;
}

export interface StorageTimer {
  done(startedAt: number): void;
  failed(startedAt: number): void;
}

const servers = new WeakMap<object, Metrics>();

/**
 * The metrics of the app that owns `io`, if any. A lookup by server rather than a parameter so that
 * `handle()` and its callers keep their signatures; it runs once per handler registration, not per
 * packet.
 */
export function metricsOf(io: object): Metrics | undefined {
  return servers.get(io);
}

let processMetrics: Registry | undefined;

/**
 * Default metrics whose scrape walks every connection: `process_open_fds` lists /proc/self/fd, the
 * handle and resource gauges list every libuv handle. With 19,466 sockets a scrape took 94–111 ms
 * of the event loop (16 ms with 1,000: `pnpm bench:sockets`, issue 15), about half a second at
 * 100,000, every scrape interval, for every user. Left out; what they grew with is counted for
 * free by `parley_socket_connections` and `parley_engine_connections`, and `process_max_fds` stays.
 */
export const COSTLY_DEFAULT_METRICS = [
  "process_open_fds",
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
] as const;

/**
 * prom-client's default metrics (event-loop lag and its percentiles, CPU, memory, heap, GC), once
 * per process, in a registry of their own (not the global default one), without the ones whose
 * cost grows with the connections (COSTLY_DEFAULT_METRICS). Under their standard names
 * (`process_*`, `nodejs_*`), without a prefix, so that the usual Node.js dashboards and alerts work
 * unchanged.
 */
export function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
    for (const name of COSTLY_DEFAULT_METRICS) processMetrics.removeSingleMetric(name);
  }
  return processMetrics;
}

/**
 * Counts every broadcast this node emits, and how many of its own sockets each one reaches, by
 * wrapping the `broadcast` of every adapter the namespace gets (`onEachAdapter`: the Redis adapter
 * replaces the first one).
 *
 * What this does not count: a broadcast another node emitted and this node delivers (a cluster
 * adapter hands those to the in-memory adapter's `broadcast` directly, not through the instance);
 * it is counted on the node that emitted it, which is where "fan-out per broadcast" belongs. The
 * count reads the adapter's room sets (O(1) for one room without exceptions, the common case):
 * there is no work per delivered socket.
 */
function countBroadcasts(io: ParleyServer, metrics: Metrics): void {
  onEachAdapter(io, (adapter) => {
    const original = adapter.broadcast;
    adapter.broadcast = function (packet, opts) {
      const event = packet.data?.[0];
      // Counted before sending: a cluster adapter's broadcast is async, and the rooms then are what
      // the in-memory part delivers to.
      metrics.broadcast(typeof event === "string" ? event : "(none)", localRecipients(adapter, opts));
      return original.call(this, packet, opts);
    };
    return adapter;
  });
}

/** How many local sockets a broadcast to `opts` reaches, as the in-memory adapter computes it. */
function localRecipients(adapter: LocalAdapter, { rooms, except }: BroadcastOptions): number {
  const noExceptions = !except || except.size === 0;
  if (noExceptions && rooms.size === 0) return adapter.sids.size;
  if (noExceptions && rooms.size === 1) {
    const [room] = rooms;
    return adapter.rooms.get(room!)?.size ?? 0;
  }
  const excluded = new Set<string>();
  for (const room of except ?? []) for (const id of adapter.rooms.get(room) ?? []) excluded.add(id);
  if (rooms.size === 0) {
    let n = 0;
    for (const id of adapter.sids.keys()) if (!excluded.has(id)) n++;
    return n;
  }
  const reached = new Set<string>();
  for (const room of rooms) for (const id of adapter.rooms.get(room) ?? []) if (!excluded.has(id)) reached.add(id);
  return reached.size;
}
