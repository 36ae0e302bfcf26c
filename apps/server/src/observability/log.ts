import { randomUUID } from "node:crypto";
import type { RequestHandler, Response } from "express";
import { pino, type DestinationStream, type Logger as Pino } from "pino";
import { withContext, type Logger } from "../logger.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Where a secret could sit in a log line, redacted to "[redacted]" whatever logs it. Parley's own
 * lines never carry these (a log line says what happened and to whom, by id), so this is the net
 * under a future `logger.error("…", req)` or an error object that copied a request's headers: the
 * session token (the cookie, `auth.token` of a bot's handshake, the `Set-Cookie` answer), the
 * Authorization header (METRICS_TOKEN), and passwords and their hashes.
 *
 * Extra values reach a line as `err` (an Error) or `detail` (anything else; see `pinoLogger`), so
 * the paths are written under any top-level key, one and two levels deep.
 */
export const REDACT_PATHS = [
  "password",
  "passwordHash",
  "token",
  "tokenHash",
  "cookie",
  "authorization",
  ...["*", "*.*"].flatMap((under) => [
    `${under}.password`,
    `${under}.passwordHash`,
    `${under}.token`,
    `${under}.tokenHash`,
    `${under}.cookie`,
    `${under}.authorization`,
    `${under}.headers.cookie`,
    `${under}.headers.authorization`,
    `${under}.headers["set-cookie"]`,
    `${under}.handshake.headers.cookie`,
    `${under}.handshake.headers.authorization`,
    `${under}.handshake.auth.token`,
  ]),
];

export interface PinoLoggerOptions {
  level: LogLevel;
  /** Where lines go (default: stdout); tests pass a stream that captures them. */
  destination?: DestinationStream;
}

/**
 * The production logger: one JSON object per line (pino), with `level`, `time`, `msg`, the line's
 * bindings (`reqId`, `socketId`, `userId`) and secrets redacted. JSON in development too: one
 * format everywhere, and `pnpm dev | npx pino-pretty` makes it readable without a dependency.
 *
 * Errors and worse go to stderr, the rest to stdout, as the console logger did (a supervisor may
 * watch stderr). Writes are synchronous: the line an uncaught exception logs right before
 * `process.exit(1)` must not be lost in a buffer, and Parley logs little per request.
 */
export function pinoLogger(options: PinoLoggerOptions): Logger {
  const root = pino(
    {
      level: options.level,
      base: { service: "parley", pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination ?? pino.multistream(
      [
        { level: "trace", stream: pino.destination({ dest: 1, sync: true }) },
        { level: "error", stream: pino.destination({ dest: 2, sync: true }) },
      ],
      { dedupe: true },
    ),
  );
  return adapt(root);
}

/**
 * The `Logger` interface over a pino logger. The interface is console-shaped (`message, ...rest`)
 * so call sites read the same with either; an Error becomes `err` (pino serialises its stack),
 * anything else `detail`.
 */
function adapt(log: Pino): Logger {
  const fields = (rest: unknown[]): Record<string, unknown> | undefined => {
    if (rest.length === 0) return undefined;
    const [first, ...more] = rest;
    if (first instanceof Error) return more.length === 0 ? { err: first } : { err: first, detail: more.length === 1 ? more[0] : more };
    return { detail: rest.length === 1 ? first : rest };
  };
  return {
    info: (message, ...rest) => {
      const extra = fields(rest);
      if (extra) log.info(extra, message);
      else log.info(message);
    },
    error: (message, ...rest) => {
      const extra = fields(rest);
      if (extra) log.error(extra, message);
      else log.error(message);
    },
    child: (bindings) => adapt(log.child(bindings)),
  };
}

/**
 * An `X-Request-Id` a client or proxy sent is kept when it is short and plain (so a proxy's id joins
 * its log lines to ours), else replaced: it is echoed in a header and written to every line, so it
 * must not carry a newline, a quote or a megabyte.
 */
const SANE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

const LOG_KEY = "parleyLog";

/**
 * Gives every HTTP request an id: the sane `X-Request-Id` it came with or a new UUID, echoed in the
 * response's `X-Request-Id` and bound to the request's logger (`requestLogger(res)`). With
 * `accessLog`, one line per request when its response is finished: method, path without its query
 * string (a query is where a future secret would be), status and duration.
 */
export function requestContext(logger: Logger, options: { accessLog?: boolean } = {}): RequestHandler {
  return (req, res, next) => {
    const given = req.headers["x-request-id"];
    const reqId = typeof given === "string" && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader("X-Request-Id", reqId);
    const log = withContext(logger, { reqId });
    res.locals[LOG_KEY] = log;
    if (options.accessLog) {
      const startedAt = performance.now();
      res.once("finish", () => {
        const path = req.originalUrl.split("?", 1)[0] ?? "";
        const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
        log.info(`${req.method} ${path} ${res.statusCode} ${durationMs}ms`, { method: req.method, path, status: res.statusCode, durationMs });
      });
    }
    next();
  };
}

/** The logger bound to this response's request id (`fallback` outside `requestContext`). */
export function requestLogger(res: Response, fallback: Logger): Logger {
  const log: unknown = res.locals[LOG_KEY];
  return log && typeof log === "object" && "error" in log ? (log as Logger) : fallback;
}
