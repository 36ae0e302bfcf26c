import { createClient, type RedisClientType } from "redis";
import type { Logger } from "../logger.js";

export type RedisConnection = RedisClientType;

/**
 * A Redis connection for one job of the node (commands, pub/sub subscriber, the adapter), named so
 * that `CLIENT LIST` shows which node and job it belongs to (and the tests can cut one).
 *
 * Resolves once connected: a node does not serve before Redis answers, because a node without its
 * cluster view would show its users a wrong presence and miss other nodes' broadcasts. After that an
 * outage is logged once (node-redis emits 'error' on every reconnect attempt, and an 'error' without
 * a listener would crash the process), and node-redis reconnects and re-subscribes on its own.
 */
export async function connectRedis(url: string, name: string, logger: Logger, onError?: () => void): Promise<RedisConnection> {
  const client: RedisConnection = createClient({
    url,
    name,
    // Reconnect quickly, and keep trying: a node is useless to its users without Redis, and the
    // supervisor restarting it would not bring Redis back sooner.
    socket: { reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2_000) },
  });
  let failing = false;
  client.on("error", (error: unknown) => {
    onError?.();
    if (failing) return;
    failing = true;
    logger.error(`redis ${name}: connection failed, retrying`, error);
  });
  client.on("ready", () => {
    if (!failing) return;
    failing = false;
    logger.info(`redis ${name}: reconnected`);
  });
  await client.connect();
  return client;
}

/** Closes a connection: waits for queued commands when connected, else drops it (it would wait forever). */
export async function closeRedis(client: RedisConnection): Promise<void> {
  if (client.isReady) await client.close();
  else client.destroy();
}
