import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createApp } from "./app.js";
import { loadConfig } from "./config.js";
import { consoleLogger } from "./logger.js";
import { openStorage } from "./storage/open.js";

// The only module with side effects: configuration -> storage -> app -> listen.
const config = loadConfig();
const storage = await openStorage(config.database);
const builtWeb = fileURLToPath(new URL("../../web/dist", import.meta.url));
const staticDir = config.staticDir ?? (existsSync(builtWeb) ? builtWeb : undefined);
const app = createApp(
  { storage, logger: consoleLogger },
  {
    sessionTtlMs: config.sessionTtlMs,
    typingTtlMs: config.typingTtlMs,
    presenceGraceMs: config.presenceGraceMs,
    secureCookie: config.secureCookie,
    staticDir,
  },
);

let closeAdapter: (() => Promise<void>) | null = null;
if (config.redisUrl) {
  const { attachRedisAdapter } = await import("./realtime/redis-adapter.js");
  closeAdapter = await attachRedisAdapter(app.io, config.redisUrl, { logger: consoleLogger });
}

app.httpServer.listen(config.port, config.host, () => {
  const address = app.httpServer.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const where = config.database.kind === "sqlite" ? `SQLite ${config.database.path}` : "PostgreSQL";
  consoleLogger.info(`listening on http://${config.host ?? "localhost"}:${port} (${where}${staticDir ? ", serving the web app" : ""})`);
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  consoleLogger.info(`${signal}: shutting down`);
  await app.close();
  await closeAdapter?.();
  await storage.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
