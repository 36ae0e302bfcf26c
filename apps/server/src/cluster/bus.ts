import type { z } from "zod";
import type { Logger } from "../logger.js";
import type { RedisConnection } from "./redis-connection.js";

/** One topic between the nodes: what a node publishes, every other node hears once. */
export interface BusTopic<T> {
  publish(payload: T): void;
  listen(handler: (payload: T) => void): void;
}

/**
 * Node-to-node events over Redis pub/sub, for state every node keeps a copy of (presence, typing).
 * At most once by design: a node that misses an event meanwhile (Redis restarting, its subscriber
 * reconnecting) is corrected by the owner of that state — presence by the periodic resync from
 * Redis, typing by its TTL. So a publish while Redis is unreachable is dropped, not queued: queued
 * typing events would arrive stale after an outage.
 */
export class RedisBus {
  constructor(
    private readonly pub: RedisConnection,
    private readonly sub: RedisConnection,
    private readonly key: string,
    private readonly nodeId: string,
    private readonly logger: Logger,
  ) {}

  /** `schema` checks what other nodes send: a node from another version must not crash this one. */
  topic<T>(name: string, schema: z.ZodType<T>): BusTopic<T> {
    const channel = `${this.key}:bus:${name}`;
    return {
      publish: (payload) => {
        if (!this.pub.isReady) return;
        this.pub.publish(channel, JSON.stringify({ n: this.nodeId, d: payload })).catch(() => {
          // The connection dropped with the publish in flight: the same as a publish while down.
        });
      },
      listen: (handler) => {
                void this.sub
          .subscribe(channel, (raw) => {
            let message: { n?: unknown; d?: unknown };
            try {
              message = JSON.parse(raw) as { n?: unknown; d?: unknown };
            } catch {
              return this.logger.error(`cluster bus ${name}: unreadable event dropped`);
            }
            // Our own events were applied when published.
            if (message.n === this.nodeId) return;
            const payload = schema.safeParse(message.d);
            if (!payload.success) return this.logger.error(`cluster bus ${name}: malformed event dropped`);
            try {
              handler(payload.data);
            } catch (error) {
              // A bad event from another node must not end this one.
              this.logger.error(`cluster bus ${name}: handling an event failed`, error);
            }
          })
          .catch((error: unknown) => this.logger.error(`cluster bus ${name}: subscribe failed`, error));
      },
    };
  }
}
