import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../logger.js";
import type { Metrics } from "./metrics.js";

/** Where Prometheus scrapes: the same path on the main port and on the admin port. */
export const METRICS_PATH = "/metrics";

/**
 * Who may read /metrics. The numbers are not secrets, but they describe the load and the errors of
 * the service to anyone who can read them, so they are never public by default:
 * - on the main port (public, behind the load balancer) only with `Authorization: Bearer
 *   <METRICS_TOKEN>`; with no token configured the path does not exist there (404), so an operator
 *   who sets nothing exposes nothing;
 * - on the admin port (METRICS_PORT, bound to 127.0.0.1 unless METRICS_HOST says otherwise) to
 *   whoever can reach that interface, and with METRICS_TOKEN set, only with the token there too.
 */
export type MetricsAccess = { token: string | undefined };

/**
 * Answers a request for /metrics: 404 when no token is configured and `requireToken` (the main
 * port), 401 with `WWW-Authenticate` for a missing or wrong token, else the exposition.
 */
export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  metrics: Metrics,
  access: MetricsAccess & { requireToken: boolean },
  logger: Logger,
): Promise<void> {
  if (access.token === undefined && access.requireToken) return plain(res, 404, "Not found\n");
  if (access.token !== undefined && !bearerMatches(req.headers.authorization, access.token)) {
    res.setHeader("WWW-Authenticate", 'Bearer realm="metrics"');
    return plain(res, 401, "Unauthorized\n");
  }
  try {
    const body = await metrics.exposition();
    res.writeHead(200, { "Content-Type": metrics.contentType, "Cache-Control": "no-store" });
    res.end(body);
  } catch (error) {
    logger.error("collecting metrics failed", error);
    plain(res, 500, "Collecting metrics failed\n");
  }
}

function plain(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
  res.end(body);
}

/**
 * Compares the header's token with the configured one in constant time. Both are hashed first so
 * that the comparison neither fails on different lengths nor reveals the token's length by timing.
 */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match) return false;
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

export interface MetricsServer {
  server: Server;
  /** The port it listens on (the configured one, or the one the OS chose for 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * The admin listener: /metrics only (everything else 404), on its own port and interface, so that
 * Prometheus scrapes a node directly instead of through the public load balancer.
 */
export async function startMetricsServer(options: {
  metrics: Metrics;
  port: number;
  host: string;
  token: string | undefined;
  logger: Logger;
}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== METRICS_PATH || (req.method !== "GET" && req.method !== "HEAD")) return plain(res, 404, "Not found\n");
    void serveMetrics(req, res, options.metrics, { token: options.token, requireToken: false }, options.logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
