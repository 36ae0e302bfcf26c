import type { IncomingMessage } from "node:http";
import type { Express } from "express";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { ClientEventName } from "@parley/shared";
import { DomainError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { CommandGuard } from "../realtime/handle.js";
import type { ParleyServer, ParleySocket } from "../realtime/types.js";

/** `points` actions per fixed window of `durationSec` seconds (rate-limiter-flexible's model). */
export interface Budget {
  points: number;
  /** Whole seconds: the Redis store keeps windows as key expiries in seconds. */
  durationSec: number;
}

/** Every budget the server enforces. Defaults and the reason for each number: DEFAULT_BUDGETS. */
export interface RateLimitBudgets {
  /** message:send per user, sustained. */
  messageSend: Budget;
  /** message:send per user on top of the sustained rate: a paste or an outbox flush. */
  messageBurst: Budget;
  roomCreate: Budget;
  dmOpen: Budget;
  /** rooms:list, users:search, search:messages and profiles:get together, per user. */
  search: Budget;
  /** Moderation commands and reports together, per user (each is a write, most a broadcast). */
  moderation: Budget;
  /** profile:update, room:notify and avatar uploads together, per user (issue 14). */
  profile: Budget;
  /** File uploads per user (each is an HTTP request of up to FILE_MAX_BYTES, and for images a decode). */
  upload: Budget;
  /** typing:start per user; over budget it is dropped silently (the indicator is only cosmetic). */
  typing: Budget;
  /**
   * Wrong passwords in a row for one nickname from one IP before sign-in backs off: `points`
   * failures are free, then each further one doubles a block that starts at `durationSec`.
   */
  signInConsecutive: Budget;
  /** Wrong passwords from one IP (any nickname) per window; then the IP is refused for the rest of it. */
  signInPerIp: Budget;
  /** Accounts created from one IP per window. */
  accountsPerIp: Budget;
  /** Sockets open at once, per user and per IP (per node: the cap protects a node's memory and file descriptors). */
  socketsPerUser: number;
  socketsPerIp: number;
}

/**
 * The defaults, and why:
 *
 * - message:send 5/s sustained plus a burst of 30 per 30 s: nobody types more than a few messages a
 *   second for long, while pasting 30 lines or flushing an outbox after a reconnect sends a burst.
 *   The burst goes through at once; what is over both budgets is refused with RATE_LIMITED and
 *   `retryAfterMs` (under 1 s: the sustained window), and the client core keeps it queued and
 *   sends it then, so a 200-message offline flush is delayed (~35 s), never lost. A flood of
 *   5,000 stores 35 plus 5 a second and costs the server one map lookup per refused packet.
 * - room:create 20 per hour: setting up a team's rooms takes a handful; each room is a row and a
 *   broadcast to every member forever, so a script must not be able to create thousands.
 * - dm:open 30 per minute: opening a DM is a click on a person; 30 clicks a minute is more than a
 *   human makes, and every new DM is a row.
 * - searches 30 per 10 s: the dialogs search as the user types (debounced), a request per pause;
 *   each search is a LIKE scan, the most expensive read a client can ask for.
 * - moderation 60 per minute: kicks, bans, roles, room settings, mutes, reports and their lists; a
 *   moderator clearing out a raid acts a few times a minute, and each is a stored, audited write.
 * - uploads 60 per minute: pasting or dropping ten files at a time, a few times; the bytes are
 *   bounded by the daily quota (UPLOAD_DAILY_BYTES), this bounds the requests and image decodes.
 * - profile changes 30 per minute: a profile is edited now and then, and a notification level set
 *   per room; each change is a write and (for a profile) a broadcast to every room the user is in,
 *   which for the default room is everyone, so a script toggling its status must not be able to
 *   make every client redraw many times a second.
 * - typing 10 per 10 s: the client repeats typing:start every 2 s while typing (5 per 10 s),
 *   switching rooms adds a few; every start is a broadcast to the room.
 * - sign-in: 5 wrong passwords in a row for one nickname from one IP, then a block of 60 s that
 *   doubles with each further failure (the rate-limiter-flexible brute-force recipe): a person
 *   mistyping gets 5 tries, a guesser gets ~20 a day. Consumed only on failure and reset on
 *   success, and keyed by nickname+IP so that a guesser elsewhere cannot lock the owner out.
 *   Checked before scrypt runs, so a refused guess costs no 32 MiB hash.
 * - 100 wrong passwords per IP per day: guessing many nicknames from one address; large enough
 *   for an office behind one NAT whose people mistype.
 * - 30 accounts per IP per hour: a class or a team signing up together behind one NAT; each account
 *   costs a scrypt hash and a "joined" notice in #general.
 * - 20 sockets per user: one per tab, on a few devices. 200 per IP: an office behind one NAT.
 */
export const DEFAULT_BUDGETS: RateLimitBudgets = {
  messageSend: { points: 5, durationSec: 1 },
  messageBurst: { points: 30, durationSec: 30 },
  roomCreate: { points: 20, durationSec: 60 * 60 },
  dmOpen: { points: 30, durationSec: 60 },
  search: { points: 30, durationSec: 10 },
  moderation: { points: 60, durationSec: 60 },
  profile: { points: 30, durationSec: 60 },
  upload: { points: 60, durationSec: 60 },
  typing: { points: 10, durationSec: 10 },
  signInConsecutive: { points: 5, durationSec: 60 },
  signInPerIp: { points: 100, durationSec: 24 * 60 * 60 },
  accountsPerIp: { points: 30, durationSec: 60 * 60 },
  socketsPerUser: 20,
  socketsPerIp: 200,
};

/** Every budget's points (and socket caps) times `factor`: for test and benchmark servers only. */
export function scaleBudgets(budgets: RateLimitBudgets, factor: number): RateLimitBudgets {
  const scale = (b: Budget): Budget => ({ ...b, points: Math.max(1, Math.round(b.points * factor)) });
  return {
    messageSend: scale(budgets.messageSend),
    messageBurst: scale(budgets.messageBurst),
    roomCreate: scale(budgets.roomCreate),
    dmOpen: scale(budgets.dmOpen),
    search: scale(budgets.search),
    moderation: scale(budgets.moderation),
    profile: scale(budgets.profile),
    upload: scale(budgets.upload),
    typing: scale(budgets.typing),
    signInConsecutive: scale(budgets.signInConsecutive),
    signInPerIp: scale(budgets.signInPerIp),
    accountsPerIp: scale(budgets.accountsPerIp),
    socketsPerUser: Math.max(1, Math.round(budgets.socketsPerUser * factor)),
    socketsPerIp: Math.max(1, Math.round(budgets.socketsPerIp * factor)),
  };
}

/** A node-redis client (the library the Socket.IO adapter already uses). */
export type RedisClientLike = object;

/** Where counters live: this process, or Redis so that limits hold across nodes. */
export type LimiterStore = { kind: "memory" } | { kind: "redis"; client: RedisClientLike; keyPrefix?: string };

/** Longest sign-in back-off: a day, whatever the count, so the owner can always come back. */
const MAX_SIGN_IN_BLOCK_SEC = 24 * 60 * 60;
/** "Consecutive" failures are counted within a day: a failure a day after the last starts over. */
const CONSECUTIVE_WINDOW_SEC = 24 * 60 * 60;

const COMMAND_BUDGETS = {
  "message:send": "messageSend",
  // Every change is a broadcast to the room and a stored version, like a message: one budget for
  // writing and changing, so toggling reactions in a loop costs what sending in a loop costs.
  "message:edit": "messageSend",
  "message:delete": "messageSend",
  "reaction:set": "messageSend",
  "room:create": "roomCreate",
  "dm:open": "dmOpen",
  "rooms:list": "search",
  "users:search": "search",
  "search:messages": "search",
  "room:update": "moderation",
  "room:setRole": "moderation",
  "room:kick": "moderation",
  "room:ban": "moderation",
  "room:unban": "moderation",
  "room:bans": "moderation",
  "room:invite": "moderation",
  "room:audit": "moderation",
  "user:mute": "moderation",
  "message:report": "moderation",
  "reports:list": "moderation",
  "report:resolve": "moderation",
  "admin:setActive": "moderation",
  "profiles:get": "search",
  "profile:update": "profile",
  "room:notify": "profile",
} as const satisfies Partial<Record<ClientEventName, keyof RateLimitBudgets>>;
type LimitedCommand = keyof typeof COMMAND_BUDGETS;

type Consumer = Pick<RateLimiterAbstract, "consume">;

/**
 * The refusal. Built without a stack trace: a flood makes thousands a second, a refusal's stack says
 * nothing, and capturing it was the largest single cost of refusing (~11 µs of ~40 µs per packet
 * in a CPU profile of `pnpm bench:abuse`).
 */
function rateLimited(retryAfterMs: number, what: string): DomainError {
  const ms = Math.max(1, Math.ceil(retryAfterMs));
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new DomainError("RATE_LIMITED", `Too many ${what}. Try again in ${Math.ceil(ms / 1000)} s.`, ms);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Past this many remembered blocks, expired ones are swept (one entry per user and budget). */
const MAX_REMEMBERED_BLOCKS = 10_000;

/**
 * A socket refused this many times within one spent window is ignoring `retryAfterMs`: the server
 * stops reading from its connection for the rest of the window (at most MAX_READ_PAUSE_MS at a
 * time), so TCP pushes back on the sender. Why: refusing costs ~40 µs of the one event loop per
 * packet (parse, guard, ack), and libuv hands over a flooding socket's whole backlog at once (up
 * to 32 reads of 64 KiB), so answering 5,000 refusals in one go held every other user's packets
 * back by half a second. Paused, a flood is refused one read (~650 packets) per window, and
 * everyone else's packets are read in between. The client core sends one message per
 * `retryAfterMs` (one refusal per window), so 100 is far above any well-behaved client.
 */
const REFUSALS_BEFORE_PAUSE = 100;
/**
 * Longest single pause: well under the heartbeat (ping interval + timeout, 45 s), whose pongs
 * arrive on the same connection, so a paused socket is never dropped as dead; a longer block
 * (room:create's hour) just pauses again after each read.
 */
const MAX_READ_PAUSE_MS = 1_000;

/**
 * Every rate limit of one server node, built on rate-limiter-flexible: memory counters on one node,
 * Redis counters (with an in-memory insurance limiter, so a Redis outage neither blocks everyone nor
 * lifts every limit) when the nodes share a Redis.
 */
export class RateLimits {
  private readonly commands: Record<"messageSend" | "roomCreate" | "dmOpen" | "search" | "moderation" | "profile", Consumer>;
  private readonly typing: RateLimiterAbstract;
  private readonly uploads: RateLimiterAbstract;
  private readonly consecutiveFailures: RateLimiterAbstract;
  private readonly signInBlocks: RateLimiterAbstract;
  private readonly failuresPerIp: RateLimiterAbstract;
  private readonly accountsPerIp: RateLimiterAbstract;
  private readonly socketsByUser = new Map<string, number>();
  private readonly socketsByIp = new Map<string, number>();
  /** `${budget}|${userId}` -> epoch ms until which that budget is known to be spent (see commandGuard). */
  private readonly blockedUntil = new Map<string, number>();
  /** Who each counted connection is (socketCaps), until it is released. Keyed by the engine connection. */
  private readonly counted = new WeakMap<object, { userId: string; ip: string }>();
  /** Refusals per socket within the current spent window (see countRefusal). */
  private readonly refusals = new WeakMap<ParleySocket, { until: number; count: number }>();

  constructor(
    readonly budgets: RateLimitBudgets,
    private readonly logger: Logger,
    store: LimiterStore = { kind: "memory" },
  ) {
    const make = (name: string, budget: Budget): RateLimiterAbstract => {
      const options = { points: budget.points, duration: budget.durationSec };
      if (store.kind === "memory") return new RateLimiterMemory({ ...options, keyPrefix: name });
      return new RateLimiterRedis({
        ...options,
        storeClient: store.client,
        useRedisPackage: true,
        // Without this, node-redis queues commands while disconnected and every command would wait
        // for the reconnect; with it, the insurance limiter answers at once.
        rejectIfRedisNotReady: true,
        keyPrefix: `${store.keyPrefix ?? "parley:rl"}:${name}`,
        insuranceLimiter: new RateLimiterMemory({ ...options, keyPrefix: `${name}:insurance` }),
      });
    };
    this.commands = {
      messageSend: new BurstyRateLimiter(make("send", budgets.messageSend), make("send-burst", budgets.messageBurst)),
      roomCreate: make("room-create", budgets.roomCreate),
      dmOpen: make("dm-open", budgets.dmOpen),
      search: make("search", budgets.search),
      moderation: make("moderation", budgets.moderation),
      profile: make("profile", budgets.profile),
    };
    this.typing = make("typing", budgets.typing);
    this.uploads = make("upload", budgets.upload);
    // Counts only; never refuses (the points are out of reach). The block below does the refusing.
    this.consecutiveFailures = make("signin-fails", { points: Number.MAX_SAFE_INTEGER, durationSec: CONSECUTIVE_WINDOW_SEC });
    this.signInBlocks = make("signin-block", { points: 1, durationSec: MAX_SIGN_IN_BLOCK_SEC });
    this.failuresPerIp = make("signin-ip", budgets.signInPerIp);
    this.accountsPerIp = make("accounts-ip", budgets.accountsPerIp);
  }

  /**
   * The guard for socket commands: refuses a command over its sender's budget with RATE_LIMITED.
   *
   * Once a budget refuses, this node remembers until when (the windows are fixed, so nothing can
   * change before then) and refuses the rest of a flood synchronously, without asking the store:
   * no promise chain per packet, and no Redis round trip per packet when the store is Redis.
   */
  readonly commandGuard: CommandGuard = (event, socket) => {
    if (!(event in COMMAND_BUDGETS)) return;
    const userId = socket.data.userId;
    const budget = COMMAND_BUDGETS[event as LimitedCommand];
    const what = budget === "messageSend" ? "messages" : "requests";
    const key = `${budget}|${userId}`;
    const until = this.blockedUntil.get(key);
    if (until !== undefined) {
      const wait = until - Date.now();
      if (wait > 0) {
        this.countRefusal(socket, until);
        throw rateLimited(wait, what);
      }
      this.blockedUntil.delete(key);
    }
    return this.consume(this.commands[budget], userId, what, (msBeforeNext) => this.rememberBlock(key, msBeforeNext));
  };

  /** Counts a refusal; a socket that keeps sending into a spent budget stops being read (REFUSALS_BEFORE_PAUSE). */
  private countRefusal(socket: ParleySocket, until: number) {
    const seen = this.refusals.get(socket);
    const count = seen && seen.until === until ? seen.count + 1 : 1;
    this.refusals.set(socket, { until, count });
    if (count >= REFUSALS_BEFORE_PAUSE) pauseReading(socket, Math.min(until - Date.now(), MAX_READ_PAUSE_MS));
  }

  private rememberBlock(key: string, msBeforeNext: number) {
    if (this.blockedUntil.size >= MAX_REMEMBERED_BLOCKS) {
      const now = Date.now();
      for (const [k, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(k);
    }
    this.blockedUntil.set(key, Date.now() + msBeforeNext);
  }

  /** True when this typing:start may be broadcast; false means drop it silently. */
  async typingAllowed(userId: string): Promise<boolean> {
    try {
      await this.typing.consume(userId);
      return true;
    } catch (error) {
      if (error instanceof RateLimiterRes) return false;
      this.logger.error("typing limiter failed", error);
      return true;
    }
  }

  // ---- sign-in --------------------------------------------------------------------------------

  /** Before any password work: throws RATE_LIMITED while this nickname+IP or this IP is blocked. */
  async checkSignIn(nickname: string, ip: string): Promise<void> {
    const [block, perIp] = await Promise.all([
      this.read(this.signInBlocks, signInKey(nickname, ip)),
      this.read(this.failuresPerIp, ip),
    ]);
    const waits: number[] = [];
    // msBeforeNext <= 0: the window is over but the store has not dropped the key yet.
    if (block && block.consumedPoints > this.signInBlocks.points && block.msBeforeNext > 0) waits.push(block.msBeforeNext);
    if (perIp && perIp.consumedPoints >= this.budgets.signInPerIp.points && perIp.msBeforeNext > 0) waits.push(perIp.msBeforeNext);
    if (waits.length > 0) throw rateLimited(Math.max(...waits), "sign-in attempts");
  }

  /** A wrong password: counts against nickname+IP (exponential back-off) and the IP's daily budget. */
  async signInFailed(nickname: string, ip: string): Promise<void> {
    const key = signInKey(nickname, ip);
    const [count] = await Promise.all([this.countFailure(key), this.failuresPerIp.consume(ip).catch(() => undefined)]);
    const free = this.budgets.signInConsecutive.points;
    if (count === null || count < free) return;
    const seconds = Math.min(this.budgets.signInConsecutive.durationSec * 2 ** (count - free), MAX_SIGN_IN_BLOCK_SEC);
    await this.signInBlocks.block(key, seconds).catch((error: unknown) => this.logger.error("sign-in block failed", error));
  }

  /** A right password: the owner's consecutive failures from this IP start over. */
  async signInSucceeded(nickname: string, ip: string): Promise<void> {
    const key = signInKey(nickname, ip);
    await Promise.all([this.consecutiveFailures.delete(key), this.signInBlocks.delete(key)]).catch((error: unknown) =>
      this.logger.error("sign-in reset failed", error),
    );
  }

  /** Before creating an account (and hashing its password): throws RATE_LIMITED over the IP's budget. */
  async accountCreation(ip: string): Promise<void> {
    await this.consume(this.accountsPerIp, ip, "new accounts from this network");
  }

  /** One avatar upload or removal by `userId` (the profile budget); throws RATE_LIMITED over it. */
  async profileChange(userId: string): Promise<void> {
    await this.consume(this.commands.profile, userId, "profile changes");
  }

  /** One file upload by `userId`; throws RATE_LIMITED over the budget. */
  async upload(userId: string): Promise<void> {
    await this.consume(this.uploads, userId, "uploads");
  }

  // ---- sockets --------------------------------------------------------------------------------

  /**
   * A Socket.IO middleware (after authentication): refuses a handshake over the per-user or per-IP
   * cap with `connect_error` "RATE_LIMITED", and counts the socket until its connection closes.
   */
  socketCaps(ipOf: (req: IncomingMessage) => string): Parameters<ParleyServer["use"]>[0] {
    return (socket: ParleySocket, next) => {
      const userId = socket.data.userId;
      const ip = ipOf(socket.request);
      const byUser = this.socketsByUser.get(userId) ?? 0;
      const byIp = this.socketsByIp.get(ip) ?? 0;
      if (byUser >= this.budgets.socketsPerUser || byIp >= this.budgets.socketsPerIp) {
        const message = byUser >= this.budgets.socketsPerUser ? "Too many open tabs for this account." : "Too many connections from this network.";
        return next(Object.assign(new Error("RATE_LIMITED"), { data: { code: "RATE_LIMITED", message } }));
      }
      this.socketsByUser.set(userId, byUser + 1);
      this.socketsByIp.set(ip, byIp + 1);
      this.counted.set(socket.conn, { userId, ip });
      // A socket that passes the middlewares but whose transport closes before it connects emits no
      // "disconnect"; the engine connection's "close" covers that case. Shared listeners (no
      // closure per socket: issue 15); releasing twice is a no-op.
      socket.on("disconnect", this.releaseOnDisconnect);
      socket.conn.on("close", this.releaseOnClose);
      next();
    };
  }

  // socketCaps' listeners, one pair per RateLimits shared by every socket: Node calls a listener
  // with its emitter as `this` (the socket, or its engine connection).
  private readonly releaseOnDisconnect = ((limits: RateLimits) =>
    function (this: ParleySocket) {
      limits.releaseConnection(this.conn);
    })(this);
  private readonly releaseOnClose = ((limits: RateLimits) =>
    function (this: object) {
      limits.releaseConnection(this);
    })(this);

  /** Uncounts a connection socketCaps counted (once: later calls find nothing). */
  releaseConnection(conn: object): void {
    const entry = this.counted.get(conn);
    if (!entry) return;
    this.counted.delete(conn);
    decrement(this.socketsByUser, entry.userId);
    decrement(this.socketsByIp, entry.ip);
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** Consumes a point; throws RATE_LIMITED when over budget. A store failure is logged and allowed. */
  private async consume(limiter: Consumer, key: string, what: string, onRefused?: (msBeforeNext: number) => void): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        onRefused?.(error.msBeforeNext);
        throw rateLimited(error.msBeforeNext, what);
      }
      this.logger.error("rate limiter failed", error);
    }
  }

  private async read(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | null> {
    try {
      return await limiter.get(key);
    } catch (error) {
      this.logger.error("rate limiter read failed", error);
      return null;
    }
  }

  private async countFailure(key: string): Promise<number | null> {
    try {
      return (await this.consecutiveFailures.consume(key)).consumedPoints;
    } catch (error) {
      if (error instanceof RateLimiterRes) return error.consumedPoints;
      this.logger.error("sign-in failure count failed", error);
      return null;
    }
  }
}

/** The ws WebSocket under a websocket transport (engine.io keeps it as `transport.socket`). */
interface PausableWs {
  pause(): void;
  resume(): void;
  readonly isPaused: boolean;
}

/**
 * Stops reading from a socket's connection for `ms` (websocket transport only: a polling client
 * sends at most one 64 KiB request at a time anyway). Packets already read are still handled.
 */
function pauseReading(socket: ParleySocket, ms: number) {
  const ws = (socket.conn as unknown as { transport?: { name?: string; socket?: Partial<PausableWs> } }).transport;
  const raw = ws?.name === "websocket" ? ws.socket : undefined;
  if (!raw || typeof raw.pause !== "function" || typeof raw.resume !== "function" || raw.isPaused) return;
  const pausable = raw as PausableWs;
  pausable.pause();
  const timer = setTimeout(() => pausable.resume(), Math.max(1, ms));
  timer.unref();
}

const signInKey = (nickname: string, ip: string) => `${nickname.toLowerCase()}|${ip}`;

function decrement(map: Map<string, number>, key: string) {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

/**
 * The client IP of a socket handshake, the way Express computes `req.ip` for HTTP (its `trust proxy`
 * setting decides whether X-Forwarded-For counts), so HTTP and sockets agree on who a client is.
 */
export function expressIp(app: Express): (req: IncomingMessage) => string {
  return (req) => {
    const view = Object.assign(Object.create(app.request) as { ip?: string }, { app, headers: req.headers, socket: req.socket, connection: req.socket });
    return view.ip ?? req.socket.remoteAddress ?? "unknown";
  };
}
