import { createAdapter } from "@socket.io/redis-streams-adapter";
import { consoleLogger, type Logger } from "../logger.js";
import { closeRedis, connectRedis, type RedisConnection } from "../cluster/redis-connection.js";
import type { ParleyServer } from "./types.js";

export interface RedisAdapterHandle {
  /** Whether the publishing connection is up. */
  isReady(): boolean;
  close(): Promise<void>;
}

export interface RedisAdapterOptions {
  logger?: Logger;
  /**
   * Prefix of the stream and channels (default "parley"). Only nodes with the same key hear each
   * other: tests give each run its own, so that runs sharing one Redis do not cross-talk.
   */
  key?: string;
  /** Called on every Redis error of the adapter: a failed publish, or the connection failing (a metric counts them). */
  onError?: (kind: "publish" | "connection") => void;
  /** The connection's name in `CLIENT LIST` (default `<key>:adapter`). */
  name?: string;
}

/** Broadcasts kept in the stream for a node whose reader is away (approximate trim, ADR 0010). */
const STREAM_MAX_LEN = 10_000;

/**
 * Connects `io` to the other server nodes through a Redis stream (the Socket.IO Redis Streams
 * adapter), so that `io.to(room).emit(...)` on one node reaches the sockets of that room on every
 * node. Why a stream and not pub/sub (ADR 0010): each node reads the stream from the offset it
 * reached, so a node whose reading connection dropped gets what was published meanwhile when it
 * is back, instead of losing it.
 *
 * What a stream cannot cover is a publish that never reached Redis (Redis down, the connection
 * dropped with the XADD in flight). Then the broadcast still goes to this node's own sockets at
 * once (see below) and the other nodes' clients learn of it from the room heads (realtime/heads.ts)
 * or their next catch-up. Publishing fails fast while the connection is down instead of waiting in
 * node-redis' offline queue: the adapter delivers locally only after the publish settles, and a
 * queued publish would hold every local broadcast of this node for the length of the outage.
 *
 * Connection state recovery stays off (ADR 0008), though this adapter could carry it across nodes.
 *
 * Resolves once connected. `close` ends the connection (after `io.close()`).
 */
export async function attachRedisAdapter(io: ParleyServer, url: string, options: RedisAdapterOptions = {}): Promise<RedisAdapterHandle> {
  const logger = options.logger ?? consoleLogger;
  const prefix = options.key ?? "parley";
  const onError = options.onError ?? (() => {});
  const client = await connectRedis(url, options.name ?? `${prefix}:adapter`, logger, () => onError("connection"));
  handleDuplicateSubscribes(client);
  const factory = createAdapter(client, {
    streamName: `${prefix}:stream`,
    channelPrefix: `${prefix}:sio`,
    maxLen: STREAM_MAX_LEN,
    // Our packets are JSON (no binary attachments): skip the adapter's per-message binary scan.
    onlyPlaintext: true,
    // A closing node's reader notices the close when its blocking read returns: keep that short.
    blockTimeInMs: 1_000,
  });
  // Socket.IO constructs the adapter with `new`: a function (not an arrow) returning an object.
  io.adapter(function wrappedAdapter(nsp: unknown) {
    const adapter = factory(nsp);
    const publish = adapter.doPublish.bind(adapter) as (message: unknown) => Promise<unknown>;
    adapter.doPublish = (message: Parameters<typeof adapter.doPublish>[0]) => {
      if (!client.isReady) {
        onError("publish");
        return Promise.reject(new Error("Redis is unavailable"));
      }
      return Promise.resolve(publish(message)).catch((error: unknown) => {
        onError("publish");
        throw error;
      });
    };
    return adapter;
  } as unknown as Parameters<ParleyServer["adapter"]>[0]);

  let closed = false;
  return {
    isReady: () => client.isReady,
    close: async () => {
      if (closed) return;
      closed = true;
      await closeRedis(client);
    },
  };
}

/**
 * The adapter (0.3.1) subscribes on a duplicate of `client` without handling the promise, and
 * disconnects that duplicate when it closes: a node stopped while the SUBSCRIBE is still pending (right
 * after start, or while Redis is down) got an unhandled rejection ("Disconnects client"; found by the
 * cluster test, reproduced in redis-adapter.test.ts). The duplicates made from this client get their
 * subscribe promises handled here; the connection's own errors are logged by connectRedis.
 */
function handleDuplicateSubscribes(client: RedisConnection): void {
  const duplicate = client.duplicate.bind(client);
  client.duplicate = ((...args: Parameters<typeof client.duplicate>) => {
    const copy = duplicate(...args);
    const subscribe = copy.subscribe.bind(copy) as (...a: unknown[]) => Promise<unknown>;
    (copy as { subscribe: unknown }).subscribe = (...a: unknown[]) => {
      const pending = subscribe(...a);
      pending.catch(() => {});
      return pending;
    };
    return copy;
  }) as typeof client.duplicate;
}
