/**
 * The cluster test's load balancing, as a pure policy the TCP proxy asks for each new connection:
 * round robin over the backends that are up, the way a TCP (layer 4) balancer with passive health
 * checks does it (nginx's `max_fails=1 fail_timeout=…`, HAProxy's `observe layer4`). Every TCP
 * connection is placed on its own, so a client that reconnects lands wherever the rotation is: a
 * killed node's clients spread over the others.
 */

export interface RoundRobin {
  /**
   * The backends to try for a new connection, in order: the backends up, starting at the rotation's
   * cursor, then those marked down (a last resort, oldest mark first: when every backend failed
   * recently, one of them may be back). The cursor moves past the first one.
   */
  next(now: number): number[];
  /**
   * A connect to `backend` failed at `now`: it counts as down for the hold time, and when it was the
   * rotation's last pick, the rotation also moves past the backend the connection tries next.
   */
  failed(backend: number, now: number): void;
  /** A connect to `backend` succeeded: it is up again at once. */
  succeeded(backend: number): void;
}

/**
 * How long a backend whose connect failed is passed over. Short: a restarted node should get
 * connections again within a client's reconnect delay, and a connect refused on loopback costs
 * well under a millisecond, so trying a down node once a second is nothing.
 */
export const DEFAULT_DOWN_FOR_MS = 1_000;

export function roundRobin(backends: readonly number[], { downForMs = DEFAULT_DOWN_FOR_MS } = {}): RoundRobin {
  if (backends.length === 0) throw new Error("roundRobin needs at least one backend");
  /** When each backend was last marked down; absent when up. */
  const downSince = new Map<number, number>();
  let cursor = 0;
  const isDown = (b: number, now: number) => {
    const since = downSince.get(b);
    return since !== undefined && now - since < downForMs;
  };
  return {
    next(now) {
      const rotated = backends.map((_, i) => backends[(cursor + i) % backends.length]!);
      const up = rotated.filter((b) => !isDown(b, now));
      const down = rotated.filter((b) => isDown(b, now)).sort((a, b) => downSince.get(a)! - downSince.get(b)!);
      const order = [...up, ...down];
      cursor = (backends.indexOf(order[0]!) + 1) % backends.length;
      return order;
    },
    failed(backend, now) {
      downSince.set(backend, now);
      // The connection that found it down goes on to the next backend in line: the rotation moves
      // past that one too, or the next connection would land on it again and it would get twice
      // its share (a, down, c, c, a, ...).
      if (cursor === (backends.indexOf(backend) + 1) % backends.length) cursor = (cursor + 1) % backends.length;
    },
    succeeded(backend) {
      downSince.delete(backend);
    },
  };
}
