import { createClient } from "redis";
import type { Logger } from "../logger.js";
import type { RedisClientLike } from "./rate-limits.js";

/**
 * A Redis connection for the limiters (their own: the adapter's subscriber connection can run no
 * other command). Resolves once connected, like the adapter. Afterwards an outage is logged once and
 * the insurance limiters take over until node-redis has reconnected.
 */
export async function connectLimiterRedis(url: string, logger: Logger): Promise<{ client: RedisClientLike; close(): Promise<void> }> {
  const client = createClient({ url });
  let failing = false;
  client.on("error", (error: unknown) => {
    if (failing) return;
    failing = true;
    logger.error("redis rate limits: connection failed, limiting per node meanwhile", error);
  });
  client.on("ready", () => {
    if (failing) logger.info("redis rate limits: reconnected");
    failing = false;
  });
  await client.connect();
  return {
    client,
    close: async () => {
      if (client.isReady) await client.close();
      else client.destroy();
    },
  };
}
