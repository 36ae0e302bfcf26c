import { existsSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { join } from "node:path";
import express, { type NextFunction, type Request, type Response } from "express";
import type { ServerOptions } from "socket.io";
import { API, LIMITS } from "@parley/shared";
import { AuthService } from "./domain/auth.service.js";
import { MessageService } from "./domain/message.service.js";
import { PresenceService } from "./domain/presence.service.js";
import { RoomService } from "./domain/room.service.js";
import { TypingService } from "./domain/typing.service.js";
import type { ScryptParams } from "./domain/password.js";
import { authRoutes, sendError } from "./http/auth.routes.js";
import { createOriginPolicy } from "./http/origin.js";
import { refuseCrossSiteWrites, securityHeaders } from "./http/security.js";
import { consoleLogger, type Logger } from "./logger.js";
import { requestContext, requestLogger } from "./observability/log.js";
import { Metrics } from "./observability/metrics.js";
import { METRICS_PATH, serveMetrics } from "./observability/metrics-http.js";
import { createIo } from "./realtime/io.js";
import { DEFAULT_BUDGETS, RateLimits, expressIp, type LimiterStore, type RateLimitBudgets } from "./security/rate-limits.js";
import { channel, type ParleyServer } from "./realtime/types.js";
import type { Services } from "./services.js";
import { instrumentStorage } from "./storage/instrumented.js";
import type { Storage } from "./storage/storage.js";

export interface AppDeps {
  storage: Storage;
  logger?: Logger;
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
  /** METRICS_TOKEN: /metrics on this port answers only with `Authorization: Bearer <token>`; unset: 404 (observability/metrics-http.ts). */
  metricsToken?: string | undefined;
  /** One log line per HTTP request (main.ts turns it on; tests keep their output quiet). */
  accessLog?: boolean;
}

export interface App {
  httpServer: HttpServer;
  io: ParleyServer;
  services: Services;
  /** This app's metrics (its own registry): main.ts serves them on the admin port too. */
  metrics: Metrics;
  /** Stops accepting, disconnects every socket, stops timers. Does not close the storage. */
  close(): Promise<void>;
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
  const presence = new PresenceService(options.presenceGraceMs ?? 3000, (update) => {
    // Every user is a member of the default room, so telling everyone equals telling each room
    // the user is in.
    io?.emit("presence:updated", update);
  });
  const typing = new TypingService(options.typingTtlMs ?? LIMITS.typingTtlMs, (update) => {
    io?.to(channel.room(update.roomId)).emit("typing:updated", update);
  });
  const rooms = new RoomService(storage, (userId) => presence.isOnline(userId));
  const services: Services = {
    auth: new AuthService(storage, {
      sessionTtlMs: options.sessionTtlMs ?? 30 * 24 * 60 * 60 * 1000,
      ...(options.passwordParams && { passwordParams: options.passwordParams }),
      onUserCreated: async (user) => {
        const notice = await rooms.announceNewUser(user);
        io?.to(channel.room(notice.roomId)).emit("message:created", notice);
      },
    }),
    messages: new MessageService(storage),
    rooms,
    typing,
    presence,
    limits: new RateLimits(options.rateLimits ?? DEFAULT_BUDGETS, logger, options.rateLimitStore),
  };
  io = createIo(httpServer, services, storage, logger, options.io, originPolicy);
  const ioServer = io;
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
  app.get(API.health, async (_req, res) => {
    try {
      await storage.ping();
      res.json({ status: "ok" });
    } catch (e) {
      requestLogger(res, logger).error("health check failed", e);
      res.status(503).json({ status: "unavailable" });
    }
  });
  app.use(
    "/api",
    refuseCrossSiteWrites(originPolicy, (_req, res) => sendError(res, 403, "FORBIDDEN_ORIGIN", "Requests from other sites are not accepted.")),
  );
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

  return {
    httpServer,
    io: ioServer,
    services,
    metrics,
    close: async () => {
      clearInterval(purge);
      typing.close();
      presence.close();
      await new Promise<void>((resolve) => {
        ioServer.close(() => resolve());
        // io.close() closes the HTTP server too but waits for keep-alive connections; end them.
        httpServer.closeAllConnections();
      });
    },
  };
}
