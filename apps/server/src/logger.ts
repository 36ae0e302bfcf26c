/** The server's logger: an interface so tests can capture (and fail on) unexpected errors. */
export interface Logger {
  info(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

export const consoleLogger: Logger = {
  info: (message, ...rest) => console.log(`[parley] ${message}`, ...rest),
  error: (message, ...rest) => console.error(`[parley] ${message}`, ...rest),
};

export const silentLogger: Logger = { info: () => {}, error: () => {} };
