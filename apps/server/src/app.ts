import { existsSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { join } from "node:path";
import express, { type NextFunction, type Request, type Response } from "express";
import type { ServerOptions } from "socket.io";
import { API, LIMITS, type UploadLimits } from "@parley/shared";
import type { BlobStore } from "./blobs/blob-store.js";
import { AuthService } from "./domain/auth.service.js";
import { FileService } from "./domain/file.service.js";
import { SearchService } from "./domain/search.service.js";
import { MessageService } from "./domain/message.service.js";
import { ModerationService } from "./domain/moderation.service.js";
import { Permissions } from "./domain/permissions.js";
import { PresenceService, type PresenceDirectory } from "./domain/presence.service.js";
import { RoomService } from "./domain/room.service.js";
import { TypingService, type TypingBus } from "./domain/typing.service.js";
import type { ScryptParams } from "./domain/password.js";
import { authRoutes, sendError } from "./http/auth.routes.js";
import { fileRoutes } from "./http/file.routes.js";
import { avatarRoutes } from "./http/avatar.routes.js";
import { ProfileService } from "./domain/profile.service.js";
import { broadcastProfile } from "./realtime/profile.handlers.js";
import { createOriginPolicy } from "./http/origin.js";
import { refuseCrossSiteWrites, securityHeaders } from "./http/security.js";
import { consoleLogger, type Logger } from "./logger.js";
import { createDrain } from "./realtime/drain.js";
import { watchRoomHeads } from "./realtime/heads.js";
import { requestContext, requestLogger } from "./observability/log.js";
import { Metrics } from "./observability/metrics.js";
import { METRICS_PATH, serveMetrics } from "./observability/metrics-http.js";
import { createIo } from "./realtime/io.js";
import { broadcastCreated } from "./realtime/message-broadcasts.js";
import { DEFAULT_BUDGETS, RateLimits, expressIp, type LimiterStore, type RateLimitBudgets } from "./security/rate-limits.js";
import { channel, type ParleyServer } from "./realtime/types.js";
import type { Services } from "./services.js";
import { instrumentStorage } from "./storage/instrumented.js";
import type { Storage } from "./storage/storage.js";

export interface AppDeps {
  storage: Storage;
  /** Where the bytes of files go (blobs/open.ts); the caller opens and closes it, like the storage. */
  blobs: BlobStore;
  logger?: Logger;
  /** What the node shares with other nodes (cluster/cluster.ts); unset: a single node, all in memory. */
  cluster?: AppCluster;
}

/** The parts of a cluster connection the app uses. */
export interface AppCluster {
  presence: PresenceDirectory;
  typingBus: TypingBus;
  /** Whether the node's Redis connections are up (readiness). */
  healthy(): boolean;
}

export interface AppOptions {
  sessionTtlMs?: number;
  typingTtlMs?: number;
  presenceGraceMs?: number;
  secureCookie?: boolean;
  /** Directory of the built SPA; served with an index.html fallback when given. */
  staticDir?: string | undefined;
  /** Rate-limit budgets (default: DEFAULT_BUDGETS, the production ones); tests that send fast pass generous ones. */
  rateLimits?: RateLimitBudgets;
  /** Where rate-limit counters live (default: memory); Redis when nodes share one. */
  rateLimitStore?: LimiterStore;
  /** Extra Socket.IO server options (the Redis adapter, test timeouts). */
  io?: Partial<ServerOptions>;
  /** The app's public URL (PUBLIC_URL); its origin is allowed. Unset: the request's Host header. */
  publicUrl?: string | undefined;
  /** More allowed browser origins (ALLOWED_ORIGINS), normalised. */
  allowedOrigins?: readonly string[];
  /** Express `trust proxy` (TRUST_PROXY): makes `req.secure` and `req.ip` right behind a proxy. */
  trustProxy?: boolean | number | string;
  /** scrypt parameters for new password hashes (default: OWASP's minimum); tests pass cheap ones. */
  passwordParams?: ScryptParams;
  /** How often expired sessions are deleted (default: hourly). */
  sessionPurgeIntervalMs?: number;
  /**
   * How often the node checks the heads of its rooms for a missed last broadcast (realtime/heads.ts).
   * Unset or 0: off — a single node cannot miss its own broadcasts; main.ts turns it on with Redis.
   */
  roomHeadCheckMs?: number;
  /** METRICS_TOKEN: /metrics on this port answers only with `Authorization: Bearer <token>`; unset: 404 (observability/metrics-http.ts). */
  metricsToken?: string | undefined;
  /** One log line per HTTP request (main.ts turns it on; tests keep their output quiet). */
  accessLog?: boolean;
  /** Upload limits (FILE_MAX_BYTES, UPLOAD_DAILY_BYTES, UPLOAD_STALL_MS); defaults: DEFAULT_UPLOADS. */
  uploads?: Partial<UploadOptions>;
  /** ADMIN_NICKNAMES: admins besides the first account (ADR 0016). */
  adminNicknames?: readonly string[];
}

export interface UploadOptions extends UploadLimits {
  /** An upload whose bytes stop arriving for this long is ended with 408 UPLOAD_STALLED. */
  stallTimeoutMs: number;
}

/** 25 MiB a file, 1 GiB a day, 30 s without a byte. */
export const DEFAULT_UPLOADS: UploadOptions = { fileMaxBytes: 25 * 1024 * 1024, dailyMaxBytes: 1024 * 1024 * 1024, stallTimeoutMs: 30_000 };

export interface App {
  httpServer: HttpServer;
  io: ParleyServer;
  services: Services;
  /** This app's metrics (its own registry): main.ts serves them on the admin port too. */
  metrics: Metrics;
  /** Stops accepting, disconnects every socket, stops timers. Does not close the storage. */
  close(): Promise<void>;
  /**
   * Graceful shutdown (SIGTERM): health checks answer "draining" and new socket connections are
   * refused, so a load balancer sends nothing new; commands already received finish and are acked
   * (waiting at most `timeoutMs`), newer ones are left unanswered for the client to send again
   * elsewhere; then every socket is closed, which makes the clients reconnect (through the
   * balancer, to another node), and `close()` runs (the listener closes with it). Resolves with the
   * number of commands still unanswered at the end.
   */
  drain(timeoutMs: number): Promise<number>;
}

/** Builds the whole server without listening: main.ts listens, tests listen on port 0. */
export function createApp(deps: AppDeps, options: AppOptions = {}): App {
  const logger = deps.logger ?? consoleLogger;
  const metrics = new Metrics();
  // Everything the app does with storage is timed (parley_storage_seconds); the caller's own
  // reference (main.ts closing it, tests reading it) stays the plain one.
  const storage = instrumentStorage(deps.storage, metrics);
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", options.trustProxy ?? false);
  const httpServer = createServer(app);
  const originPolicy = createOriginPolicy({ publicUrl: options.publicUrl, allowedOrigins: options.allowedOrigins });
  // First, so that every response (errors included) carries its X-Request-Id.
  app.use(requestContext(logger, { accessLog: options.accessLog ?? false }));

  // Created before the io so that the io's handlers and the HTTP routes share one instance. The
  // presence and typing callbacks reach the io through `io` below once it exists.
  let io: ParleyServer | null = null;
  // Presence and typing are told to this node's sockets only: with several nodes each node keeps
  // its own copy of both (fed by the cluster bus) and tells its own sockets, so nothing of them
  // travels through the broadcast adapter.
  const presence = new PresenceService(
    options.presenceGraceMs ?? 3000,
    (update) => {
      // Every user is a member of the default room, so telling everyone equals telling each room
      // the user is in.
      io?.local.emit("presence:updated", update);
    },
    deps.cluster?.presence,
    (userId, at) => {
      profiles.seen(userId, at).catch((e: unknown) => logger.error("recording last seen failed", e));
    },
  );
  const typing = new TypingService(
    options.typingTtlMs ?? LIMITS.typingTtlMs,
    (update) => {
      io?.local.to(channel.room(update.roomId)).emit("typing:updated", update);
    },
    deps.cluster?.typingBus ?? null,
  );
  const uploads: UploadOptions = { ...DEFAULT_UPLOADS, ...options.uploads };
  const uploadLimits = { fileMaxBytes: uploads.fileMaxBytes, dailyMaxBytes: uploads.dailyMaxBytes };
  const permissions = new Permissions(storage, options.adminNicknames ?? []);
  const moderation = new ModerationService(storage, permissions);
  const rooms = new RoomService(storage, (userId) => presence.isOnline(userId), uploadLimits, permissions);
  const files = new FileService(storage, deps.blobs, uploadLimits);
  const profiles = new ProfileService(storage, deps.blobs, files, (profile, roomIds) => {
    if (io) broadcastProfile(io, profile, roomIds);
  });
  const services: Services = {
    auth: new AuthService(storage, {
      sessionTtlMs: options.sessionTtlMs ?? 30 * 24 * 60 * 60 * 1000,
      ...(options.passwordParams && { passwordParams: options.passwordParams }),
      onUserCreated: async (user) => {
        const notice = await rooms.announceNewUser(user);
        if (io) broadcastCreated(io, notice);
      },
    }),
    messages: new MessageService(storage, moderation),
    rooms,
    moderation,
    search: new SearchService(storage),
    files,
    profiles,
    typing,
    presence,
    limits: new RateLimits(options.rateLimits ?? DEFAULT_BUDGETS, logger, options.rateLimitStore),
  };
  const drain = createDrain();
  io = createIo(httpServer, services, storage, logger, options.io, originPolicy, drain);
  const ioServer = io;
  const heads = options.roomHeadCheckMs ? watchRoomHeads(ioServer, storage, logger, options.roomHeadCheckMs) : null;
  metrics.observeIo(ioServer);

  // Expired sessions are refused already; the purge only keeps the table from growing forever.
  // Hourly is plenty for that and costs one indexed DELETE.
  const purge = setInterval(() => {
    services.auth.purgeExpiredSessions().catch((e: unknown) => logger.error("purging expired sessions failed", e));
  }, options.sessionPurgeIntervalMs ?? 60 * 60 * 1000);
  purge.unref();

  app.use(securityHeaders());
  // After createIo's authentication middleware, so the cap knows the user.
  ioServer.use(services.limits.socketCaps(expressIp(app)));

  // Before the SPA fallback, which would otherwise answer a GET /metrics with index.html.
  app.get(METRICS_PATH, (req, res) => serveMetrics(req, res, metrics, { token: options.metricsToken, requireToken: true }, requestLogger(res, logger)));
  // Liveness: the process serves. 503 while draining, so a load balancer stops sending new
  // connections here. Dependencies are readiness's business: a database outage must not make an
  // orchestrator restart every node.
  app.get(API.health, (_req, res) => {
    if (drain.draining()) return void res.status(503).json({ status: "draining" });
    res.json({ status: "ok" });
  });
  // Readiness: this node can serve a user now (storage answers, Redis connections are up).
  app.get(API.ready, async (_req, res) => {
    if (drain.draining()) return void res.status(503).json({ status: "draining" });
    let storageOk = true;
    try {
      await storage.ping();
    } catch (e) {
      requestLogger(res, logger).error("readiness: storage ping failed", e);
      storageOk = false;
    }
    const clusterOk = deps.cluster ? deps.cluster.healthy() : true;
    const checks = { storage: storageOk ? "ok" : "unavailable", redis: deps.cluster ? (clusterOk ? "ok" : "unavailable") : "unused" };
    res.status(storageOk && clusterOk ? 200 : 503).json({ status: storageOk && clusterOk ? "ready" : "unavailable", checks });
  });
  app.use(
    "/api",
    refuseCrossSiteWrites(originPolicy, (_req, res) => sendError(res, 403, "FORBIDDEN_ORIGIN", "Requests from other sites are not accepted.")),
  );
  // Before the JSON parser: an upload's body is the file, whatever type it claims.
  app.use(fileRoutes(services, logger, { stallTimeoutMs: uploads.stallTimeoutMs }));
  app.use(avatarRoutes(services, logger, { stallTimeoutMs: uploads.stallTimeoutMs }));
  app.use(express.json({ limit: "16kb" }));
  app.use(authRoutes(services, () => ioServer, logger, options.secureCookie ?? false));
  app.use("/api", (_req, res) => sendError(res, 404, "INVALID_PAYLOAD", "No such API endpoint."));

  if (options.staticDir && existsSync(join(options.staticDir, "index.html"))) {
    const dir = options.staticDir;
    app.use(express.static(dir, { index: false, maxAge: "1h" }));
    // The SPA owns every other GET path (client-side routes); index.html is never cached.
    app.use((req, res, next) => {
      if (req.method !== "GET" && req.method !== "HEAD") return next();
      res.setHeader("Cache-Control", "no-cache");
      res.sendFile(join(dir, "index.html"));
    });
  }

  // Malformed JSON and other body errors: a clear 4xx, never a stack trace.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err === "object" && err !== null && "status" in err ? Number(err.status) : 500;
    if (status === 413) return sendError(res, 413, "INVALID_PAYLOAD", "The request body is too large.");
    if (status >= 400 && status < 500) return sendError(res, status, "INVALID_PAYLOAD", "The request body is not valid JSON.");
    requestLogger(res, logger).error("http request failed", err);
    sendError(res, 500, "INTERNAL", "Something went wrong on the server.");
  });

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(purge);
      heads?.stop();
      typing.close();
      presence.close();
      await new Promise<void>((resolve) => {
        ioServer.close(() => resolve());
        // io.close() closes the HTTP server too but waits for keep-alive connections; end them.
        httpServer.closeAllConnections();
      });
    })());

  return {
    httpServer,
    io: ioServer,
    services,
    metrics,
    close,
    drain: async (timeoutMs) => {
      // The listener stays open while commands finish, so the balancer's health checks read
      // "draining"; new socket connections are refused meanwhile (createIo's allowRequest).
      const left = await drain.start(timeoutMs);
      await closeConnectionsAfterWrites(ioServer, 1_000);
      await close();
      return left;
    },
  };
}

/**
 * Closes every connection once what it was sent is written: engine.io's own close waits for its
 * write buffer to drain (the last acks of a drain are in it), where io.close() discards the buffer.
 * The clients see a transport close and reconnect. Waits at most `timeoutMs`.
 */
async function closeConnectionsAfterWrites(io: ParleyServer, timeoutMs: number): Promise<void> {
  const closed: Promise<void>[] = [];
  for (const socket of io.of("/").sockets.values()) {
    const conn = socket.conn;
    closed.push(new Promise((resolve) => conn.once("close", () => resolve())));
    conn.close();
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(closed), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
