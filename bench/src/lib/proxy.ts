import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { roundRobin, type RoundRobin } from "./balancer.js";

/**
 * A TCP proxy on 127.0.0.1 between the clients and the server, able to break live connections on
 * demand: the network faults of the fault test. It keeps listening while the server restarts; a
 * connection accepted then fails fast (its upstream is refused and both ends are destroyed), which
 * is what a client sees when a server is down behind a load balancer.
 *
 * With several upstreams it is also the cluster test's load balancer: each new connection goes to
 * the next upstream in a round robin (see balancer.ts), and one whose connect fails is skipped for
 * the next; only when every upstream refuses is the client's connection ended.
 *
 * Three ways to break a connection, because each takes a different path through socket.io:
 * - a *close* (`destroy()`): each end gets a FIN, the clean end of a TCP connection;
 * - a *reset* (`resetAndDestroy()`): each end gets an RST, what a crashed middlebox or a NAT that
 *   lost its entry sends; the peer sees ECONNRESET instead of an orderly end;
 * - a *freeze*: the proxy stops forwarding in both directions and keeps both sockets open, so
 *   neither end learns anything from TCP (a half-open connection: a cable pulled, a laptop lid
 *   closed). Only Engine.IO's ping timeout can notice it; the freeze ends later by resuming the
 *   forwarding (stale bytes then flow into whatever is left) or by resetting both ends.
 */
export type CutMode = "close" | "reset";

export interface FaultProxy {
  readonly port: number;
  /** Connections with both ends open right now (frozen ones included). */
  liveCount(): number;
  /**
   * Ends each live, unfrozen connection with probability `fraction` (1 = all), both ends at once,
   * by FIN (`close`) or RST (`reset`), and at least one when any is live. Returns how many it ended
   * (0 when none was live).
   */
  cut(fraction: number, random: () => number, mode?: CutMode): number;
  /**
   * Freezes round(fraction x live) of the live, unfrozen connections, at least one, chosen at
   * random; null when none was live. Connections accepted later are not frozen.
   */
  freeze(fraction: number, random: () => number): Freeze | null;
  /** Connections accepted since start (clients' connects and reconnects). */
  accepted(): number;
  /** The open connections with this label: for telling a client stuck in a handshake from one that keeps retrying. */
  connectionsOf(label: string): ConnectionInfo[];
  /** When a connection with this label last sent its first bytes (Date.now() ms), null if never. */
  lastOpenedAt(label: string): number | null;
  /** Live connections per upstream port (every upstream listed, 0 when none). */
  liveByUpstream(): Map<number, number>;
  close(): Promise<void>;
}

export interface ConnectionInfo {
  ageMs: number;
  /** The upstream port this connection went to (or is trying), null before the first try. */
  upstreamPort: number | null;
  /** The upstream (server) side has connected. */
  live: boolean;
  frozen: boolean;
  /** Bytes from the client to the server, and back. */
  bytesUp: number;
  bytesDown: number;
}

/** One freeze of some connections. */
export interface Freeze {
  /** Connections frozen. */
  readonly count: number;
  /** The labels of the frozen connections (see ProxyOptions.label), null where none was found. */
  readonly labels: readonly (string | null)[];
  /**
   * Ends the freeze: `resume` forwards again (what the far ends already gave up on then ends by
   * itself), `reset` sends RST to both ends. Connections that ended during the freeze (an RST from
   * either end errors the socket) are skipped.
   */
  end(how: "resume" | "reset"): void;
}

export interface ProxyOptions {
  host?: string;
  /**
   * Names a connection from the first bytes its client sent (the HTTP upgrade request), so a
   * freeze can say whose connections it froze.
   */
  label?: (head: string) => string | null;
}

/** A pair whose upstream has connected. */
type LivePair = Pair & { upstream: Socket };

interface Pair {
  client: Socket;
  /** The upstream socket: the one connected, or the attempt in progress. */
  upstream: Socket | null;
  upstreamPort: number | null;
  live: boolean;
  frozen: boolean;
  label: string | null;
  acceptedAt: number;
  bytesUp: number;
  bytesDown: number;
}

/**
 * `upstream`: one port, or several to balance over (round robin per connection), or a policy of
 * the caller's.
 */
export async function startProxy(upstream: number | readonly number[] | RoundRobin, { host = "127.0.0.1", label }: ProxyOptions = {}): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  const openedAt = new Map<string, number>();
  const upstreamPorts = typeof upstream === "number" ? [upstream] : isPortList(upstream) ? [...upstream] : [];
  const policy = isPortList(upstream) || typeof upstream === "number" ? roundRobin(upstreamPorts) : upstream;
  let acceptedCount = 0;

  const server: Server = createServer((client) => {
    acceptedCount++;
    client.setNoDelay(true);
    const pair: Pair = { client, upstream: null, upstreamPort: null, live: false, frozen: false, label: null, acceptedAt: Date.now(), bytesUp: 0, bytesDown: 0 };
    pairs.add(pair);
    const drop = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on("error", drop);
    client.on("close", drop);

    // Nothing reads the client until an upstream is connected: what it sends meanwhile waits in
    // its socket and goes to whichever upstream accepts (a 'data' listener added now would put the
    // stream in flowing mode and drop those bytes).
    const joined = (up: Socket, port: number) => {
      policy.succeeded(port);
      pair.live = true;
      up.setNoDelay(true);
      // More 'data' listeners next to the pipe see the same chunks and change nothing else.
      client.on("data", (chunk: Buffer) => (pair.bytesUp += chunk.length));
      up.on("data", (chunk: Buffer) => (pair.bytesDown += chunk.length));
      if (label) {
        client.once("data", (chunk: Buffer) => {
          pair.label = label(chunk.toString("latin1"));
          if (pair.label !== null) openedAt.set(pair.label, Date.now());
        });
      }
      client.pipe(up);
      up.pipe(client);
      up.on("error", drop);
      up.on("close", drop);
    };
    const attempt = (order: readonly number[]) => {
      const [port, ...rest] = order;
      if (port === undefined || !pairs.has(pair)) return drop();
      const up = connect({ port, host });
      pair.upstream = up;
      pair.upstreamPort = port;
      const refused = () => {
        up.destroy();
        policy.failed(port, Date.now());
        attempt(rest);
      };
      up.once("error", refused);
      up.once("connect", () => {
        up.off("error", refused);
        // The client may have gone while the upstream was connecting.
        if (!pairs.has(pair)) return void up.destroy();
        joined(up, port);
      });
    };
    attempt(policy.next(Date.now()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const endPair = (p: Pair, mode: CutMode) => {
    pairs.delete(p);
    for (const socket of [p.client, p.upstream]) {
      if (!socket) continue;
      if (mode === "reset" && !socket.destroyed) socket.resetAndDestroy();
      else socket.destroy();
    }
  };
  const candidates = () => [...pairs].filter((p): p is LivePair => p.live && p.upstream !== null && !p.frozen);
  const pick = (fraction: number, random: () => number) => {
    const live = candidates();
    if (live.length === 0) return [];
    const victims = live.filter(() => random() < fraction);
    return victims.length > 0 ? victims : [live[Math.floor(random() * live.length)]!];
  };
  /** Exactly round(fraction * live) connections (at least one), chosen at random. */
  const sample = (fraction: number, random: () => number) => {
    const live = candidates();
    const k = Math.min(live.length, Math.max(1, Math.round(fraction * live.length)));
    // A partial Fisher-Yates shuffle: the first k are a uniform sample.
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(random() * (live.length - i));
      [live[i], live[j]] = [live[j]!, live[i]!];
    }
    return live.slice(0, k);
  };

  return {
    port,
    liveCount: () => [...pairs].filter((p) => p.live).length,
    accepted: () => acceptedCount,
    connectionsOf: (label) =>
      [...pairs]
        .filter((p) => p.label === label)
        .map((p) => ({ ageMs: Date.now() - p.acceptedAt, upstreamPort: p.upstreamPort, live: p.live, frozen: p.frozen, bytesUp: p.bytesUp, bytesDown: p.bytesDown })),
    lastOpenedAt: (label) => openedAt.get(label) ?? null,
    liveByUpstream() {
      const counts = new Map<number, number>(upstreamPorts.map((port) => [port, 0]));
      for (const p of pairs) if (p.live && p.upstreamPort !== null) counts.set(p.upstreamPort, (counts.get(p.upstreamPort) ?? 0) + 1);
      return counts;
    },
    cut(fraction, random, mode = "close") {
      const victims = pick(fraction, random);
      for (const p of victims) endPair(p, mode);
      return victims.length;
    },
    freeze(fraction, random) {
      // An exact share: every frozen client idles for the whole freeze, so a lucky draw of many
      // would stretch the run.
      const victims = sample(fraction, random);
      if (victims.length === 0) return null;
      for (const p of victims) {
        p.frozen = true;
        // Unpiped and paused, a socket reads at most one buffer's worth and then leaves the rest in
        // the kernel: TCP flow control then stalls the sender, exactly like a dead path.
        p.client.unpipe(p.upstream);
        p.upstream.unpipe(p.client);
        p.client.pause();
        p.upstream.pause();
      }
      return {
        count: victims.length,
        labels: victims.map((p) => p.label),
        end(how) {
          for (const p of victims) {
            if (!pairs.has(p)) continue;
            if (how === "reset") {
              endPair(p, "reset");
            } else {
              p.frozen = false;
              p.client.pipe(p.upstream);
              p.upstream.pipe(p.client);
            }
          }
        },
      };
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const isPortList = (u: number | readonly number[] | RoundRobin): u is readonly number[] => Array.isArray(u);
