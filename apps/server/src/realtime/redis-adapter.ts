import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { consoleLogger, type Logger } from "../logger.js";
import type { ParleyServer } from "./types.js";

export interface RedisAdapterOptions {
  logger?: Logger;
  /**
   * Prefix of the pub/sub channels (default "socket.io"). Only nodes with the same key hear each
   * other: tests give each run its own, so that runs sharing one Redis do not cross-talk.
   */
  key?: string;
}

/**
 * Connects `io` to the other server nodes through Redis pub/sub (the Socket.IO Redis adapter), so
 * that `io.to(room).emit(...)` on one node reaches the sockets of that room on every node.
 *
 * Two connections: a connection in subscriber mode can run no other command, so publishing needs
 * its own. Resolves once both are connected: startup waits for Redis (node-redis retries with
 * backoff, errors are logged), because a node serving without fan-out would silently show its
 * users only the messages sent through it.
 *
 * After startup, a lost connection is logged, not fatal: node-redis reconnects and re-subscribes on
 * its own, and queues publishes while offline. Broadcasts that other nodes miss in the meantime
 * are recovered by the clients' catch-up by seq.
 *
 * Returns a function that closes both connections (after `io.close()`, which unsubscribes).
 */
export async function attachRedisAdapter(
  io: ParleyServer,
  url: string,
  options: RedisAdapterOptions = {},
): Promise<() => Promise<void>> {
  const logger = options.logger ?? consoleLogger;
  const pub = createClient({ url });
  const sub = pub.duplicate();
  for (const [name, client] of [
    ["publisher", pub],
    ["subscriber", sub],
  ] as const) {
    // node-redis emits 'error' on every failed reconnect attempt; log the first of each outage
    // only. Without an 'error' listener the event would crash the process.
    let failing = false;
    client.on("error", (error: unknown) => {
      if (failing) return;
      failing = true;
      logger.error(`redis ${name}: connection failed, retrying`, error);
    });
    client.on("ready", () => {
      if (!failing) return;
      failing = false;
      logger.info(`redis ${name}: reconnected`);
    });
  }
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub, options.key === undefined ? {} : { key: options.key }));

  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    // close() lets queued commands finish; a client that is not connected would wait forever for
    // that, so it is destroyed instead.
    await Promise.allSettled(
      [pub, sub].map(async (client) => {
        if (client.isReady) await client.close();
        else client.destroy();
      }),
    );
  };
}
