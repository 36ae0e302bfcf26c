import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createApp } from "./app.js";
import { loadConfig } from "./config.js";
import { pinoLogger } from "./observability/log.js";
import { startMetricsServer } from "./observability/metrics-http.js";
import { prepareStorage } from "./domain/setup.js";
import { openStorage } from "./storage/open.js";

// The only module with side effects: configuration -> storage -> app -> listen.
const config = loadConfig();
// Structured JSON lines (pino) with request and socket ids and secrets redacted: observability/log.ts.
const logger = pinoLogger({ level: config.logLevel });
const storage = await prepareStorage(await openStorage(config.database));
const builtWeb = fileURLToPath(new URL("../../web/dist", import.meta.url));
const staticDir = config.staticDir ?? (existsSync(builtWeb) ? builtWeb : undefined);
// Rate-limit counters in Redis when the nodes share one, so a budget holds across nodes.
const limiterRedis = config.redisUrl ? await (await import("./security/rate-limit-redis.js")).connectLimiterRedis(config.redisUrl, logger) : null;
const app = createApp(
  { storage, logger },
  {
    rateLimits: config.rateLimits,
    ...(limiterRedis && { rateLimitStore: { kind: "redis" as const, client: limiterRedis.client } }),
    sessionTtlMs: config.sessionTtlMs,
    typingTtlMs: config.typingTtlMs,
    presenceGraceMs: config.presenceGraceMs,
    io: { pingInterval: config.pingIntervalMs, pingTimeout: config.pingTimeoutMs },
    secureCookie: config.secureCookie,
    staticDir,
    publicUrl: config.publicUrl,
    allowedOrigins: config.allowedOrigins,
    trustProxy: config.trustProxy,
    metricsToken: config.metrics.token,
    accessLog: true,
  },
);

let closeAdapter: (() => Promise<void>) | null = null;
if (config.redisUrl) {
  const { attachRedisAdapter } = await import("./realtime/redis-adapter.js");
  closeAdapter = await attachRedisAdapter(app.io, config.redisUrl, { logger });
}

// The admin port for Prometheus (METRICS_PORT, loopback unless METRICS_HOST): observability/metrics-http.ts.
const metricsServer = config.metrics.port === undefined ? null : await startMetricsServer({ metrics: app.metrics, logger, ...config.metrics, port: config.metrics.port });
if (metricsServer) logger.info(`metrics on http://${config.metrics.host}:${metricsServer.port}/metrics`);

app.httpServer.listen(config.port, config.host, () => {
  const address = app.httpServer.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const where = config.database.kind === "sqlite" ? `SQLite ${config.database.path}` : "PostgreSQL";
  logger.info(`listening on http://${config.host ?? "localhost"}:${port} (${where}${staticDir ? ", serving the web app" : ""})`);
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: shutting down`);
  await app.close();
  await metricsServer?.close();
  await closeAdapter?.();
  await limiterRedis?.close();
  await storage.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

// Nothing fails silently. Every listener a client can reach is crash-proof (realtime/handle.ts,
// realtime/crash-proof.ts), so reaching these handlers is a bug, and they say so in the log.
//
// An uncaught exception ends the process, as Node advises: the throw left some operation half done
// (a timer not re-armed, a map entry not removed), and a process that keeps serving in that state
// fails later in ways no log line explains. Exit code 1 lets the supervisor (systemd, Docker's
// restart policy, Kubernetes) start a fresh one; clients reconnect and catch up by seq, and a send
// is acked only after its commit, so nothing acked is lost. No graceful close: it would run in the
// very state that cannot be trusted, and could hang.
process.on("uncaughtException", (error, origin) => {
  logger.error(`${origin}: exiting, the process state can no longer be trusted`, error);
  process.exit(1);
});
// An unhandled rejection is logged and the process keeps serving (overriding Node's default of
// exiting): the rejected promise had no one waiting on it, so no operation was left half done by
// the rejection itself, and ending every user's connection would cost more than the bug does.
process.on("unhandledRejection", (reason) => {
  logger.error("unhandled promise rejection (kept running)", reason);
});
