import type { ParleyServer } from "./types.js";

/** A broadcast's filters, as Socket.IO hands them to the adapter. */
export interface BroadcastOptions {
  rooms: Set<string>;
  except?: Set<string>;
}

/** What of socket.io-adapter's in-memory `Adapter` (the base of the cluster adapters too) Parley reaches. */
export interface LocalAdapter {
  rooms: Map<string, Set<string>>;
  sids: Map<string, Set<string>>;
  nsp: { sockets: Map<string, unknown> };
  broadcast(packet: { data?: unknown[] }, opts: BroadcastOptions): unknown;
  apply(opts: BroadcastOptions, callback: (socket: unknown) => void): void;
}

interface Watch {
  hooks: ((adapter: LocalAdapter) => LocalAdapter)[];
  current: LocalAdapter;
}
const watched = new WeakMap<object, Watch>();

/**
 * Runs `hook` on the main namespace's adapter now and on every adapter it is given later: the
 * adapter is replaced when the Redis adapter is attached (cluster.ts, after createApp), so the
 * namespace's `adapter` property is watched. One watcher per namespace, whatever the hooks (the
 * broadcast metrics, the single-room fan-out), applied in the order they were added.
 */
export function onEachAdapter(io: ParleyServer, hook: (adapter: LocalAdapter) => LocalAdapter): void {
  const nsp = io.of("/") as unknown as { adapter: LocalAdapter };
  const watch = watched.get(nsp);
  if (watch) {
    watch.hooks.push(hook);
    watch.current = hook(watch.current);
    return;
  }
  const created: Watch = { hooks: [hook], current: hook(nsp.adapter) };
  watched.set(nsp, created);
  Object.defineProperty(nsp, "adapter", {
    configurable: true,
    enumerable: true,
    get: () => created.current,
    set: (adapter: LocalAdapter) => {
      created.current = created.hooks.reduce((a, h) => h(a), adapter);
    },
  });
}

/**
 * The fan-out of a broadcast to one room with no exceptions — every message, change and typing
 * event — walks the room's socket ids and nothing else. socket.io-adapter's `apply` serves any
 * set of rooms, so it collects the ids it reached in a new Set, checked and grown once per
 * recipient, to skip a socket in two of the rooms: a CPU profile at 200,000 deliveries/s (issue
 * 15) put `apply` at 3.7 % of the server's time of its own, above the direct write to each socket
 * (1.4 %). A single room's ids are distinct already. Other broadcasts take the adapter's own path.
 * The cluster adapters deliver their local part and what other nodes publish through the same
 * `apply`, so this serves them too.
 */
export function singleRoomFanout(io: ParleyServer): void {
  onEachAdapter(io, (adapter) => {
    const general = adapter.apply;
    if (typeof general !== "function" || !(adapter.rooms instanceof Map)) return adapter;
    adapter.apply = function (this: LocalAdapter, opts, callback) {
      if (opts.rooms.size !== 1 || (opts.except !== undefined && opts.except.size > 0)) return general.call(this, opts, callback);
      const ids = this.rooms.get(opts.rooms.values().next().value!);
      if (!ids) return;
      const sockets = this.nsp.sockets;
      for (const id of ids) {
        const socket = sockets.get(id);
        if (socket) callback(socket);
      }
    };
    return adapter;
  });
}
