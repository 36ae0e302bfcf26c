import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createApp } from "./app.js";
import { loadConfig } from "./config.js";
import { pinoLogger } from "./observability/log.js";
import { startMetricsServer } from "./observability/metrics-http.js";
import { prepareStorage } from "./domain/setup.js";
import { openStorage } from "./storage/open.js";
import { openBlobStore } from "./blobs/open.js";

// The only module with side effects: configuration -> storage -> app -> listen.
const config = loadConfig();
// Structured JSON lines (pino) with request and socket ids and secrets redacted: observability/log.ts.
const logger = pinoLogger({ level: config.logLevel });
const storage = await prepareStorage(await openStorage(config.database, logger));
const blobs = await openBlobStore(config.blobs, { logger });
const builtWeb = fileURLToPath(new URL("../../web/dist", import.meta.url));
const staticDir = config.staticDir ?? (existsSync(builtWeb) ? builtWeb : undefined);
// With Redis the node is one of several: presence, typing, broadcasts and rate-limit counters are
// shared through it (cluster/cluster.ts). Connected before serving anyone.
const cluster = config.redisUrl
  ? await (await import("./cluster/cluster.js")).connectCluster({
      url: config.redisUrl,
      key: config.redisKey,
      logger,
      presenceHeartbeatMs: config.presenceHeartbeatMs,
      presenceNodeTtlMs: config.presenceNodeTtlMs,
      // Called only once the adapter is attached, after `app` exists.
      onAdapterError: (kind) => app.metrics.redisErrors.labels(kind).inc(),
    })
  : null;
const app = createApp(
  { storage, blobs, logger: logger, ...(cluster && { cluster }) },
  {
    rateLimits: config.rateLimits,
    ...(cluster && { rateLimitStore: { kind: "redis" as const, client: cluster.commands } }),
    sessionTtlMs: config.sessionTtlMs,
    typingTtlMs: config.typingTtlMs,
    presenceGraceMs: config.presenceGraceMs,
    ...(cluster && { roomHeadCheckMs: config.roomHeadCheckMs }),
    io: { pingInterval: config.pingIntervalMs, pingTimeout: config.pingTimeoutMs },
    secureCookie: config.secureCookie,
    staticDir,
    publicUrl: config.publicUrl,
    allowedOrigins: config.allowedOrigins,
    trustProxy: config.trustProxy,
    metricsToken: config.metrics.token,
    accessLog: true,
    uploads: config.uploads,
    adminNicknames: config.adminNicknames,
  },
);
await cluster?.attach(app.io);

// The admin port for Prometheus (METRICS_PORT, loopback unless METRICS_HOST): observability/metrics-http.ts.
const metricsServer = config.metrics.port === undefined ? null : await startMetricsServer({ metrics: app.metrics, logger, ...config.metrics, port: config.metrics.port });
if (metricsServer) logger.info(`metrics on http://${config.metrics.host}:${metricsServer.port}/metrics`);

app.httpServer.listen(config.port, config.host, () => {
  const address = app.httpServer.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const where = config.database.kind === "sqlite" ? `SQLite ${config.database.path}` : "PostgreSQL";
  const node = cluster ? `, node ${cluster.nodeId} of a Redis cluster` : "";
  logger.info(`listening on http://${config.host ?? "localhost"}:${port} (${where}${node}${staticDir ? ", serving the web app" : ""})`);
});

/**
 * SIGTERM/SIGINT: drain (see App.drain), leave the cluster, flush and close the storage, exit 0 —
 * all within SHUTDOWN_TIMEOUT_MS (10 s), after which the process exits 1 whatever is left, because
 * an orchestrator's SIGKILL would come soon after anyway.
 */
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  const started = Date.now();
  logger.info(`${signal}: draining`);
  setTimeout(() => {
    logger.error(`shutdown took longer than ${config.shutdownTimeoutMs} ms: exiting anyway`);
    process.exit(1);
  }, config.shutdownTimeoutMs).unref();
  try {
    // Half the budget for commands in flight; the rest is closing sockets, Redis and the storage.
    const unanswered = await app.drain(config.shutdownTimeoutMs / 2);
    if (unanswered > 0) logger.error(`${unanswered} command(s) still unanswered at shutdown; their clients send them again elsewhere`);
    // The other nodes keep this node's users online while they reconnect elsewhere.
    await cluster?.close({ lingerMs: config.presenceGraceMs + 2_000 });
    await metricsServer?.close();
    await blobs.close();
    await storage.close();
    logger.info(`stopped in ${Date.now() - started} ms`);
    process.exit(0);
  } catch (error) {
    logger.error("shutdown failed", error);
    process.exit(1);
  }
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
