/** The server's logger: an interface so tests can capture (and fail on) unexpected errors. */
export interface Logger {
  info(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
  /**
   * A logger whose every line carries `bindings` (a request id, a socket id). Optional, so a test's
   * capturing logger stays two functions; `withContext` falls back to the logger itself.
   */
  child?(bindings: LogBindings): Logger;
}

/** What identifies the subject of a log line: `reqId`, `socketId`, `userId`. Never a secret. */
export type LogBindings = Readonly<Record<string, string>>;

/** The logger itself with `bindings` on every line when it can carry them, else the logger as is. */
export function withContext(logger: Logger, bindings: LogBindings): Logger {
  return logger.child ? logger.child(bindings) : logger;
}

/** Plain console lines: the default of createApp and the tests (pino in production: main.ts). */
export const consoleLogger: Logger = prefixed("[parley]");

function prefixed(prefix: string): Logger {
  return {
    info: (message, ...rest) => console.log(`${prefix} ${message}`, ...rest),
    error: (message, ...rest) => console.error(`${prefix} ${message}`, ...rest),
    child: (bindings) => prefixed(`${prefix.slice(0, -1)} ${Object.entries(bindings).map(([k, v]) => `${k}=${v}`).join(" ")}]`),
  };
}

export const silentLogger: Logger = { info: () => {}, error: () => {} };
