import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on 127.0.0.1 between the clients and the server, able to cut live connections on
 * demand: the network fault of the fault test. It keeps listening while the server restarts; a
 * connection accepted then fails fast (its upstream is refused and both ends are destroyed), which
 * is what a client sees when a server is down behind a load balancer.
 */
export interface FaultProxy {
  readonly port: number;
  /** Connections with both ends open right now. */
  liveCount(): number;
  /**
   * Destroys each live connection with probability `fraction` (1 = all), both ends at once, and at
   * least one when any is live. Returns how many it destroyed (0 when none was live).
   */
  cut(fraction: number, random: () => number): number;
  /** Connections accepted since start (clients' connects and reconnects). */
  accepted(): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  live: boolean;
}

export async function startProxy(upstreamPort: number, host = "127.0.0.1"): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let acceptedCount = 0;

  const server: Server = createServer((client) => {
    acceptedCount++;
    client.setNoDelay(true);
    const upstream = connect({ port: upstreamPort, host });
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream, live: false };
    pairs.add(pair);
    const drop = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    upstream.once("connect", () => (pair.live = true));
    // Data written before the upstream connects is buffered by net.Socket, so piping at once is safe.
    client.pipe(upstream);
    upstream.pipe(client);
    for (const socket of [client, upstream]) {
      socket.on("error", drop);
      socket.on("close", drop);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    liveCount: () => [...pairs].filter((p) => p.live).length,
    accepted: () => acceptedCount,
    cut(fraction, random) {
      const live = [...pairs].filter((p) => p.live);
      if (live.length === 0) return 0;
      let victims = live.filter(() => random() < fraction);
      if (victims.length === 0) victims = [live[Math.floor(random() * live.length)]!];
      for (const p of victims) {
        pairs.delete(p);
        p.client.destroy();
        p.upstream.destroy();
      }
      return victims.length;
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
