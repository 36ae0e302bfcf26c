import { vi } from "vitest";

/**
 * How long a test waits for something that should happen "soon". vi.waitFor's default (1 s) is a
 * timing window, not a safety net: on a busy 2-core machine with other test runs, a reconnect or a
 * cross-node broadcast has been seen to take longer. A condition that holds returns at the first
 * check that sees it, so a generous limit costs nothing when things work and only delays the report
 * when they do not.
 */
export const WAIT_TIMEOUT_MS = 10_000;

/** `vi.waitFor` with WAIT_TIMEOUT_MS: retries `check` until it stops throwing. */
export function waitFor<T>(check: () => T | Promise<T>, options: { timeout?: number; interval?: number } = {}): Promise<T> {
  return vi.waitFor(check, { timeout: options.timeout ?? WAIT_TIMEOUT_MS, interval: options.interval ?? 20 });
}
