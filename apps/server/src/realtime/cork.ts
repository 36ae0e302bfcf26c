import type { Socket as NetSocket } from "node:net";
import type { ParleyServer } from "./types.js";

/**
 * Write batching for the websocket transport: every TCP socket that gets a write in an event-loop
 * turn is corked on that first write and uncorked at the end of the turn (by a timer: see
 * corkForTurn), so everything it was sent in that turn leaves in one `writev` syscall instead of
 * one syscall per packet.
 *
 * Why: a broadcast is already encoded once (socket.io-adapter pre-computes the WebSocket frame and
 * passes it as `wsPreEncodedFrame`), so what a fan-out costs per recipient is the write syscall, not
 * JSON. Group commit (SqliteStorage.appendMessage) resolves a whole turn's sends at once, so one
 * check phase emits a batch of `message:created` broadcasts plus the acks; uncorked, every one of
 * them is its own `write()` per recipient. Measured with `pnpm bench:load`: see
 * docs/decisions/0006-write-batching.md.
 *
 * The hook points, read from engine.io 6.6 and ws 8 (there is no public API for this):
 * - engine.io `Server` emits `"flush"` (socket, writeBuffer) from `Socket.flush()`, right before it
 *   hands buffered packets to `transport.send()`. Every data write (events, acks, pings, the
 *   post-upgrade flush) goes through `Socket.flush()`, so one server-wide listener sees the first
 *   write of every socket in a turn, with no per-connection listener to add or remove.
 * - the websocket transport keeps the `ws` WebSocket as `transport.socket`, and `ws` keeps the
 *   `net.Socket` as `_socket`. The transport is read at flush time, so a connection that started on
 *   polling is corked from its first flush after the upgrade; polling flushes are left alone (an
 *   HTTP response is one write already).
 * If any of these is missing (another engine.io / ws version, a uWebSockets or WebTransport
 * transport), the flush is simply not corked: this is an optimisation, never a requirement.
 *
 * The broadcast fast path (issue 15): a broadcast reaches each recipient through engine.io's
 * `Socket.write` → `sendPacket` (a packet object, `packetCreate`, the write buffer) → `flush` (two
 * `flush` and two `drain` events, a callback list) → the transport → `ws`'s `sendFrame` (two
 * writes with a callback, whose completion emits `drain` and `ready` again): measured with
 * `pnpm bench:load --compare`, that per-recipient machinery, not JSON and not the syscall, was
 * what Parley paid over the raw server. The frame itself was already built once per broadcast. So
 * every connection's `write` is replaced by a shared function that writes a broadcast's frame
 * straight to the (corked) TCP socket when nothing of that connection is queued above TCP
 * (`idleWebSocketTcp`), and hands every other packet (acks, direct emits, pings, anything while a
 * write is in flight, polling) to engine.io's own `write`. Same bytes, same order, same socket.
 *
 * Latency: at most one loop iteration. While a socket is corked, `ws` write callbacks wait for the
 * uncork, so engine.io holds further packets in its own write buffer (transport not writable) and
 * flushes them as one batch from the released callback, which is corked and uncorked again within
 * the same turn: a socket's packets of one turn leave in two writes (its first packet, then the
 * rest) instead of one per packet. Nothing is reordered or dropped.
 */
/**
 * The timer the uncork runs on, taken when this module loads: a test that fakes the global timers
 * of its process (vi.useFakeTimers, to step a client's retry delays) must not stop the server in
 * the same process from sending what it wrote.
 */
const turnTimer = globalThis.setTimeout;

/**
 * The least time between two uncorks. Under load the uncork is what costs: one write syscall per
 * socket with something to send (writev was a third of the server's CPU at 60,000 and at 200,000
 * deliveries/s), however little it has. Spacing the uncorks lets each carry more frames per
 * socket; when nothing was uncorked in the last gap (a quiet server) the uncork runs as soon as
 * before, so only a busy server adds latency, and at most the gap.
 *
 * Measured with `pnpm bench:load --compare --servers parley` (issue 15, alternating runs, server
 * pinned to one core): 3 ms against none gave an acked-send p99 at 1,000 messages/s into 200
 * members of 52, 44, 38 ms against 66, 96, 60. 10 ms against 3 ms: the server's CPU at 60,000
 * deliveries/s 0.48, 0.44 of a core against 0.84, 0.71 (the raw `ws` server: 0.38), at 200,000
 * 0.57, 0.54 against 0.73, 0.80, with the acked-send p99 34, 29 ms against 27, 33 and the
 * deliveries' p99 at 60,000/s 22 ms either way.
 */
export const MIN_UNCORK_GAP_MS = 10;
/** performance.now, taken at load like the timer (a test may fake the clock of its process). */
const now = performance.now.bind(performance);

export function corkWritesPerTurn(io: ParleyServer): FanoutStats {
  const stats: FanoutStats = { direct: 0 };
  statsByServer.set(io, stats);
  const engine = (io as { engine?: unknown }).engine as { on?: (event: string, fn: (socket: unknown) => void) => void } | undefined;
  if (typeof engine?.on !== "function") return stats;

  let corked: NetSocket[] = [];
  let scheduled = false;
  // True while the write callbacks released by an uncork run (they run in process.nextTick).
  let releasing = false;
  /** When the last uncork ran (performance.now()). */
  let lastUncork = -MIN_UNCORK_GAP_MS;
  const uncorkAll = () => {
    lastUncork = now();
    scheduled = false;
    const sockets = corked;
    corked = [];
    // A socket destroyed meanwhile is uncorked too: Writable fails its buffered writes itself.
    for (const socket of sockets) socket.uncork();
    releasing = true;
    process.nextTick(() => (releasing = false));
  };
  /** Corks `tcp` until the end of this turn (once: a socket already corked stays as it is). */
  const corkForTurn = (tcp: NetSocket) => {
    if (tcp.writableCorked > 0) return;
    tcp.cork();
    corked.push(tcp);
    if (scheduled) return;
    scheduled = true;
    // One uncork per turn for all sockets, not one per socket. A flush made by a write callback
    // that an uncork released (engine.io sending what it buffered while the socket was busy, i.e.
    // the rest of this turn's packets) is uncorked in this same turn: waiting for the next
    // setImmediate would hold the tail of every burst back a whole loop iteration.
    //
    // When: a timer (the next iteration's timers phase, >= 1 ms), not setImmediate. Most writes
    // come from a check phase — the group commit (SQLite's flush runs in setImmediate) resolves a
    // batch of sends, whose broadcasts and acks follow — and a setImmediate made there runs only in
    // the next iteration's check phase, behind everything that iteration's poll phase reads and
    // handles. The timer runs before that poll phase (or, with nothing due, bounds its wait), and
    // writes made meanwhile join the same writev. Measured with `pnpm bench:load --compare`
    // (issue 15, four alternating runs each, server pinned to one core): the acked send's p99 at
    // 1,000 messages/s into 200 members 101-117 ms with setImmediate, 60-80 ms with the timer; the
    // server's CPU at 60k deliveries/s 0.94-0.95 of a core against 0.83-0.91 (fewer, fuller
    // writevs). Setting both (whichever fires first) measured no better than setImmediate alone.
    // And no sooner than MIN_UNCORK_GAP_MS after the last uncork (rounded up: timers take whole ms).
    if (releasing) process.nextTick(uncorkAll);
    else turnTimer(uncorkAll, Math.max(0, Math.ceil(lastUncork + MIN_UNCORK_GAP_MS - now())));
  };

  engine.on("flush", (engineSocket) => {
    const tcp = tcpSocketOf(engineSocket);
    if (!tcp || tcp.destroyed) return;
    corkForTurn(tcp);
  });

  // The broadcast fast path (issue 15): every engine.io connection's `write` is replaced by one
  // shared function (an own property pointing at it: no closure per connection).
  const directWrite = function (this: EngineConnection, data: unknown, options?: WriteOptions, callback?: unknown): EngineConnection {
    const frame = options?.wsPreEncodedFrame;
    const tcp = frame && callback === undefined ? idleWebSocketTcp(this) : undefined;
    if (!tcp) return engineWrite(this).call(this, data, options, callback);
    corkForTurn(tcp);
    tcp.write(wholeFrame(frame!));
    stats.direct++;
    return this;
  };
  engine.on("connection", (conn) => {
    const c = conn as EngineConnection | null;
    if (typeof c?.write === "function" && Array.isArray(c.writeBuffer)) c.write = directWrite;
  });
  return stats;
}

const statsByServer = new WeakMap<object, FanoutStats>();
/** The fast path's counts for a server corkWritesPerTurn was installed on. */
export function fanoutStatsOf(io: ParleyServer): FanoutStats | undefined {
  return statsByServer.get(io);
}

/** How often the fast path was taken (tests read it: a fast path that is never taken would pass every other test). */
export interface FanoutStats {
  /** Broadcast packets written straight to a TCP socket, bypassing engine.io's queue. */
  direct: number;
}

interface WriteOptions {
  /** The WebSocket frame socket.io-adapter computed once per broadcast (`Sender.frame`: header and payload). */
  wsPreEncodedFrame?: Buffer[];
}

/** The parts of an engine.io Socket the fast path reads (engine.io 6.6; internal, hence checked). */
interface EngineConnection {
  readyState?: string;
  upgrading?: boolean;
  writeBuffer?: unknown[];
  transport?: { name?: unknown; writable?: unknown; perMessageDeflate?: unknown; socket?: WsSocketInternals };
  write: (data: unknown, options?: WriteOptions, callback?: unknown) => EngineConnection;
}

interface WsSocketInternals {
  readyState?: number;
  _socket?: unknown;
  _sender?: { _state?: unknown; _queue?: unknown[] };
}

/** engine.io's own `write` (the prototype's), for every packet the fast path leaves alone. */
function engineWrite(conn: EngineConnection): EngineConnection["write"] {
  return (Object.getPrototypeOf(conn) as EngineConnection).write;
}

/**
 * The TCP socket a broadcast frame may be written to directly, or undefined when engine.io must
 * handle the packet. Direct is only safe when nothing of this connection is queued anywhere above
 * TCP, so the frame cannot overtake an earlier packet: engine.io open, not upgrading, its write
 * buffer empty and its websocket transport writable (no write in flight), `ws` open with its
 * sender idle (`_state` 0 = DEFAULT: not compressing, not reading a Blob; nothing queued), no
 * per-message deflate. Every later packet then goes through engine.io and ws to the same TCP
 * socket after this one, so order holds either way.
 */
function idleWebSocketTcp(conn: EngineConnection): NetSocket | undefined {
  if (conn.readyState !== "open" || conn.upgrading || conn.writeBuffer?.length !== 0) return undefined;
  const transport = conn.transport;
  if (transport?.name !== "websocket" || transport.writable !== true || transport.perMessageDeflate) return undefined;
  const ws = transport.socket;
  const sender = ws?._sender;
  if (ws?.readyState !== 1 || sender?._state !== 0 || sender._queue?.length !== 0) return undefined;
  const tcp = ws._socket as Partial<NetSocket> | undefined;
  if (typeof tcp?.write !== "function" || typeof tcp.cork !== "function" || tcp.destroyed || !tcp.writable) return undefined;
  return tcp as NetSocket;
}

/**
 * A pre-encoded frame as one buffer, made once per broadcast and shared by every recipient: one
 * buffered write per socket instead of two (header, then payload) before the turn's writev.
 */
const joinedFrames = new WeakMap<Buffer[], Buffer>();
function wholeFrame(frame: Buffer[]): Buffer {
  if (frame.length === 1) return frame[0]!;
  let joined = joinedFrames.get(frame);
  if (!joined) joinedFrames.set(frame, (joined = Buffer.concat(frame)));
  return joined;
}

/** The TCP socket under an engine.io connection on the websocket transport, else undefined. */
function tcpSocketOf(engineSocket: unknown): NetSocket | undefined {
  const transport = (engineSocket as { transport?: { name?: unknown; socket?: { _socket?: unknown } } } | null)?.transport;
  if (transport?.name !== "websocket") return undefined;
  const tcp = transport.socket?._socket as Partial<NetSocket> | null | undefined;
  return typeof tcp?.cork === "function" && typeof tcp.uncork === "function" && typeof tcp.writableCorked === "number"
    ? (tcp as NetSocket)
    : undefined;
}
