import { z } from "zod";
import type { PresenceUpdate } from "@parley/shared";
import type { PresenceDirectory } from "../domain/presence.service.js";
import type { Logger } from "../logger.js";
import type { BusTopic } from "./bus.js";
import type { RedisConnection } from "./redis-connection.js";

export const PresenceEventSchema = z.object({
  node: z.string().min(1).max(100),
  ver: z.number().int().nonnegative(),
  userId: z.string().min(1).max(100),
  nickname: z.string().max(200),
  online: z.boolean(),
});
export type PresenceEvent = z.infer<typeof PresenceEventSchema>;

export interface RedisPresenceOptions {
  /** Key prefix shared by the nodes of one deployment. */
  key: string;
  nodeId: string;
  /** How often a node renews its heartbeat and re-reads the other nodes (default 3 s). */
  heartbeatMs?: number;
  /** A node silent this long is dead, and its users leave (default 10 s). */
  nodeTtlMs?: number;
  logger: Logger;
}

interface NodeView {
  /** The version of the node's user set this view reflects; -1 when it must be read again. */
  ver: number;
  users: Map<string, string>;
}

/**
 * Presence shared by every node through Redis. Each node owns a hash of the users it has
 * (`<key>:presence:users:<node>`) with a version counter bumped in the same transaction, and a
 * heartbeat key that expires `nodeTtlMs` after its last renewal. Every node keeps a copy of every
 * other node's hash, so `isOnline` stays a map lookup on the hot path:
 *
 * - a change is written, then published on the bus with its version: the other nodes apply it at
 *   once (no poll between a user arriving and everyone seeing it);
 * - every `heartbeatMs` a node renews its heartbeat and re-reads each node whose version differs from
 *   its copy (a missed or out-of-order event), and drops the nodes whose heartbeat expired — a
 *   SIGKILLed node's users go offline everywhere within `nodeTtlMs + heartbeatMs` (13 s);
 * - Redis losing its data (a restart without persistence) shows as the node's own heartbeat missing
 *   at renewal, and the node writes its whole user set again.
 *
 * A user is online while any node has them; the service calls back when that flips.
 */
export class RedisPresenceDirectory implements PresenceDirectory {
  private readonly mine = new Map<string, string>();
  private readonly others = new Map<string, NodeView>();
  /** Every online user, with how many nodes have them. */
  private readonly online = new Map<string, { nickname: string; nodes: number }>();
  private onChange: (update: PresenceUpdate) => void = () => {};
  private readonly heartbeatMs: number;
  private readonly nodeTtlMs: number;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private closed = false;
  /** Our hash in Redis may not match `mine` (a write failed): write it whole at the next beat. */
  private rewrite = true;
  private failing = false;
  private started = false;
  /**
   * Until then, nodes missing from Redis are not dropped: Redis lost its data (our own heartbeat
   * was gone) and the other nodes have not written theirs again yet. Dropping them would show all
   * their users offline and back a beat later.
   */
  private settleUntil = 0;
  private readonly k: {
    nodes: string;
    alive(node: string): string;
    users(node: string): string;
    ver(node: string): string;
  };

  private constructor(
    private readonly redis: RedisConnection,
    private readonly topic: BusTopic<PresenceEvent>,
    private readonly options: RedisPresenceOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 3_000;
    this.nodeTtlMs = options.nodeTtlMs ?? 10_000;
    const prefix = `${options.key}:presence`;
    this.k = {
      nodes: `${prefix}:nodes`,
      alive: (node) => `${prefix}:alive:${node}`,
      users: (node) => `${prefix}:users:${node}`,
      ver: (node) => `${prefix}:ver:${node}`,
    };
  }

  /** Registers the node and reads the others' users before the node serves anyone. */
  static async start(redis: RedisConnection, topic: BusTopic<PresenceEvent>, options: RedisPresenceOptions): Promise<RedisPresenceDirectory> {
    const directory = new RedisPresenceDirectory(redis, topic, options);
    topic.listen((event) => directory.applyEvent(event));
    await directory.beat();
    directory.timer = setInterval(() => void directory.beat(), directory.heartbeatMs);
    directory.timer.unref();
    return directory;
  }

  listen(onChange: (update: PresenceUpdate) => void): void {
    this.onChange = onChange;
  }

  add(userId: string, nickname: string): void {
    if (this.mine.has(userId)) return;
    this.mine.set(userId, nickname);
    this.count(userId, nickname, +1);
    this.write(userId, nickname, true);
  }

  remove(userId: string): void {
    const nickname = this.mine.get(userId);
    if (nickname === undefined) return;
    this.mine.delete(userId);
    this.count(userId, nickname, -1);
    this.write(userId, nickname, false);
  }

  isOnline(userId: string): boolean {
    return this.online.has(userId);
  }

  onlineUserIds(): string[] {
    return [...this.online.keys()];
  }

  /**
   * Stops the heartbeat. The node's entry is left to expire `lingerMs` from now rather than
   * deleted: its users are reconnecting to other nodes meanwhile, and deleting at once would show
   * them offline and back online. A test simulating a crash passes nothing and the entry expires
   * like a killed node's.
   */
  close(lingerMs?: number): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (lingerMs !== undefined && this.redis.isReady) {
      this.redis.set(this.k.alive(this.options.nodeId), "1", { expiration: { type: "PX", value: Math.max(1, lingerMs) } }).catch(() => {});
    }
  }

  /** One heartbeat and resync now (tests; the interval runs it otherwise). */
  async beat(): Promise<void> {
    if (this.closed) return;
    // One at a time: during an outage a beat waits on the reconnect, and beats must not pile up.
    if (this.ticking) return this.ticking;
    this.ticking = this.runBeat()
      .then(() => {
        if (this.failing) this.options.logger.info("presence: Redis answers again");
        this.failing = false;
      })
      .catch((error: unknown) => {
        // A beat cut short by close() is not a failure.
        if (this.closed) return;
        if (!this.failing) this.options.logger.error("presence: heartbeat failed, retrying", error);
        this.failing = true;
      })
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  private async runBeat(): Promise<void> {
    const self = this.options.nodeId;
    const { k } = this;
    // The heartbeat; its previous value says whether Redis still had us.
    const had = await this.redis.set(k.alive(self), "1", { expiration: { type: "PX", value: this.nodeTtlMs }, GET: true });
    const own = this.redis.multi();
    if (had === null && this.started) this.settleUntil = Date.now() + this.nodeTtlMs;
    this.started = true;
    if (had === null || this.rewrite) {
      this.rewrite = false;
      own.del(k.users(self));
      if (this.mine.size > 0) own.hSet(k.users(self), Object.fromEntries(this.mine));
      own.incr(k.ver(self));
    }
    // Our keys outlive a missed beat or two but not a dead node for long (the others delete them
    // sooner, when they see the heartbeat gone); the node set goes when the last node is gone.
    own.sAdd(k.nodes, self).pExpire(k.users(self), this.nodeTtlMs * 3).pExpire(k.ver(self), this.nodeTtlMs * 3).pExpire(k.nodes, this.nodeTtlMs * 3);
    await own.exec();

    const members = await this.redis.sMembers(k.nodes);
    const nodes = members.filter((n) => n !== self);
    const probe = this.redis.multi().exists(k.alive(self));
    for (const node of nodes) probe.exists(k.alive(node)).get(k.ver(node));
    const replies = (await probe.exec()) as unknown[];
    // We registered ourselves a moment ago: if that is gone, Redis lost its data in between.
    if (!members.includes(self) || Number(replies[0]) !== 1) this.settleUntil = Date.now() + this.nodeTtlMs;
    const settling = Date.now() < this.settleUntil;
    if (!settling) for (const node of this.others.keys()) if (!nodes.includes(node)) this.dropNode(node);
    const stale: string[] = [];
    for (const [i, node] of nodes.entries()) {
      if (Number(replies[1 + 2 * i]) !== 1) {
        if (settling) continue;
        this.dropNode(node);
        // Anyone may tidy up after a dead node, but only if it is still dead: a node that was only
        // slow renews its heartbeat and must not lose its users to our delete.
        await this.redis.eval(
          "if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]); redis.call('DEL', KEYS[3], KEYS[4]) end return 0",
          { keys: [k.alive(node), k.nodes, k.users(node), k.ver(node)], arguments: [node] },
        );
        continue;
      }
      const ver = Number(replies[2 + 2 * i] ?? 0);
      if (this.others.get(node)?.ver !== ver) stale.push(node);
    }
    for (const node of stale) {
      const [users, ver] = (await this.redis.multi().hGetAll(k.users(node)).get(k.ver(node)).exec()) as unknown as [Record<string, string>, string | null];
      // No version: the node's keys vanished since the probe (it died, or Redis lost its data).
      // An empty read then means nothing; the next beat decides.
      if (ver === null) continue;
      this.replaceNode(node, Number(ver), new Map(Object.entries(users ?? {})));
    }
  }

  private write(userId: string, nickname: string, online: boolean): void {
    const self = this.options.nodeId;
    if (!this.redis.isReady) {
      this.rewrite = true;
      return;
    }
    const tx = this.redis.multi();
    if (online) tx.hSet(this.k.users(self), userId, nickname);
    else tx.hDel(this.k.users(self), userId);
    tx.incr(this.k.ver(self));
    tx.exec().then(
      (replies) => this.topic.publish({ node: self, ver: Number((replies as unknown[])[1]), userId, nickname, online }),
      () => {
        this.rewrite = true;
      },
    );
  }

  private applyEvent(event: PresenceEvent): void {
    if (this.closed || event.node === this.options.nodeId) return;
    let view = this.others.get(event.node);
    if (!view) {
      // A node we have not read yet: apply, and read it whole at the next beat.
      view = { ver: -1, users: new Map() };
      this.others.set(event.node, view);
    } else if (view.ver >= 0 && event.ver <= view.ver) {
      return; // Already in the copy we read.
    }
    if (event.online && !view.users.has(event.userId)) {
      view.users.set(event.userId, event.nickname);
      this.count(event.userId, event.nickname, +1);
    } else if (!event.online && view.users.has(event.userId)) {
      view.users.delete(event.userId);
      this.count(event.userId, event.nickname, -1);
    }
    // An event skipped one: read the node again at the next beat.
    view.ver = view.ver >= 0 && event.ver === view.ver + 1 ? event.ver : -1;
  }

  private replaceNode(node: string, ver: number, users: Map<string, string>): void {
    const before = this.others.get(node)?.users ?? new Map<string, string>();
    this.others.set(node, { ver, users });
    for (const [userId, nickname] of before) if (!users.has(userId)) this.count(userId, nickname, -1);
    for (const [userId, nickname] of users) if (!before.has(userId)) this.count(userId, nickname, +1);
  }

  private dropNode(node: string): void {
    const view = this.others.get(node);
    if (!view) return;
    this.others.delete(node);
    for (const [userId, nickname] of view.users) this.count(userId, nickname, -1);
  }

  private count(userId: string, nickname: string, delta: 1 | -1): void {
    const entry = this.online.get(userId);
    if (delta > 0) {
      if (entry) entry.nodes += 1;
      else {
        this.online.set(userId, { nickname, nodes: 1 });
        this.onChange({ userId, nickname, online: true });
      }
      return;
    }
    if (!entry) return;
    entry.nodes -= 1;
    if (entry.nodes > 0) return;
    this.online.delete(userId);
    this.onChange({ userId, nickname: entry.nickname, online: false });
  }
}
