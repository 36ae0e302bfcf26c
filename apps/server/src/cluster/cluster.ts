import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { TypingUpdate } from "@parley/shared";
import type { TypingBus } from "../domain/typing.service.js";
import type { Logger } from "../logger.js";
import { attachRedisAdapter, type RedisAdapterHandle } from "../realtime/redis-adapter.js";
import type { ParleyServer } from "../realtime/types.js";
import { RedisBus } from "./bus.js";
import { PresenceEventSchema, RedisPresenceDirectory } from "./presence-directory.js";
import { closeRedis, connectRedis, type RedisConnection } from "./redis-connection.js";

const TypingUpdateSchema: z.ZodType<TypingUpdate> = z.object({
  roomId: z.string().min(1).max(100),
  userId: z.string().min(1).max(100),
  nickname: z.string().max(200),
  typing: z.boolean(),
});

export interface ClusterOptions {
  url: string;
  /** Prefix of every key, stream and channel (default "parley"); tests use their own. */
  key?: string;
  /** This process's id among the nodes (default: random per start, so a restart is a new node). */
  nodeId?: string;
  logger: Logger;
  presenceHeartbeatMs?: number;
  presenceNodeTtlMs?: number;
  /** Called on every Redis error of the fan-out (a metric counts them). */
  onAdapterError?: (kind: "publish" | "connection") => void;
}

/** What a node shares with the others through Redis. */
export interface Cluster {
  readonly nodeId: string;
  readonly presence: RedisPresenceDirectory;
  readonly typingBus: TypingBus;
  /** A command connection the rate limiters share. */
  readonly commands: RedisConnection;
  /** Fan-out of `io`'s broadcasts to the other nodes. */
  attach(io: ParleyServer): Promise<void>;
  /** Whether every connection is up (readiness). */
  healthy(): boolean;
  /**
   * Leaves the cluster. `lingerMs`: how long the other nodes keep counting this node's users online
   * (they are reconnecting elsewhere); unset for a test's simulated crash.
   */
  close(options?: { lingerMs?: number }): Promise<void>;
}

/** Connects a node to the others: presence and typing on a bus, broadcasts on a stream. */
export async function connectCluster(options: ClusterOptions): Promise<Cluster> {
  const key = options.key ?? "parley";
  const nodeId = options.nodeId ?? randomUUID();
  const { logger } = options;
  const commands = await connectRedis(options.url, `${key}:${nodeId}:commands`, logger);
  const subscriber = await connectRedis(options.url, `${key}:${nodeId}:bus`, logger);
  const bus = new RedisBus(commands, subscriber, key, nodeId, logger);
  const presence = await RedisPresenceDirectory.start(commands, bus.topic("presence", PresenceEventSchema), {
    key,
    nodeId,
    logger,
    ...(options.presenceHeartbeatMs !== undefined && { heartbeatMs: options.presenceHeartbeatMs }),
    ...(options.presenceNodeTtlMs !== undefined && { nodeTtlMs: options.presenceNodeTtlMs }),
  });
  const typingBus = bus.topic("typing", TypingUpdateSchema);
  let adapter: RedisAdapterHandle | null = null;

  return {
    nodeId,
    presence,
    typingBus,
    commands,
    async attach(io) {
      adapter = await attachRedisAdapter(io, options.url, {
        logger,
        key,
        name: `${key}:${nodeId}:adapter`,
        ...(options.onAdapterError && { onError: options.onAdapterError }),
      });
    },
    healthy: () => commands.isReady && subscriber.isReady && (adapter?.isReady() ?? true),
    async close({ lingerMs } = {}) {
      presence.close(lingerMs);
      await adapter?.close();
      await Promise.allSettled([closeRedis(commands), closeRedis(subscriber)]);
    },
  };
}
