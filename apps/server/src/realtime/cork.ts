import type { Socket as NetSocket } from "node:net";
import type { ParleyServer } from "./types.js";

/**
 * Write batching for the websocket transport: every TCP socket that gets a write in an event-loop
 * turn is corked on that first write and uncorked in `setImmediate`, so everything it was sent in
 * that turn leaves in one `writev` syscall instead of one syscall per packet.
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
 * Latency: at most one loop iteration. While a socket is corked, `ws` write callbacks wait for the
 * uncork, so engine.io holds further packets in its own write buffer (transport not writable) and
 * flushes them as one batch from the released callback, which is corked and uncorked again within
 * the same turn: a socket's packets of one turn leave in two writes (its first packet, then the
 * rest) instead of one per packet. Nothing is reordered or dropped.
 */
export function corkWritesPerTurn(io: ParleyServer): void {
  const engine = (io as { engine?: unknown }).engine as { on?: (event: string, fn: (socket: unknown) => void) => void } | undefined;
  if (typeof engine?.on !== "function") return;

  let corked: NetSocket[] = [];
  let scheduled = false;
  // True while the write callbacks released by an uncork run (they run in process.nextTick).
  let releasing = false;
  const uncorkAll = () => {
    scheduled = false;
    const sockets = corked;
    corked = [];
    // A socket destroyed meanwhile is uncorked too: Writable fails its buffered writes itself.
    for (const socket of sockets) socket.uncork();
    releasing = true;
    process.nextTick(() => (releasing = false));
  };

  engine.on("flush", (engineSocket) => {
    const tcp = tcpSocketOf(engineSocket);
    if (!tcp || tcp.destroyed || tcp.writableCorked > 0) return;
    tcp.cork();
    corked.push(tcp);
    if (scheduled) return;
    scheduled = true;
    // One uncork per turn for all sockets, not one per socket. A flush made by a write callback
    // that an uncork released (engine.io sending what it buffered while the socket was busy, i.e.
    // the rest of this turn's packets) is uncorked in this same turn: waiting for the next
    // setImmediate would hold the tail of every burst back a whole loop iteration.
    if (releasing) process.nextTick(uncorkAll);
    else setImmediate(uncorkAll);
  });
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
