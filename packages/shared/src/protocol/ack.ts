import type { ErrorCode, ErrorInfo } from "./errors.js";

/**
 * The ack envelope: every client-to-server event with a reply answers with exactly one of these.
 * A discriminated union, so a client must check `ok` before reading `data`.
 */
export type AckResult<T> = { ok: true; data: T } | { ok: false; error: ErrorInfo };

/** The callback type of an event whose reply carries `T`. */
export type Ack<T> = (result: AckResult<T>) => void;

export function ok<T>(data: T): AckResult<T> {
  return { ok: true, data };
}

/** A failed ack; `retryAfterMs` only for `RATE_LIMITED` (see ErrorInfo). */
export function fail(code: ErrorCode, message: string, retryAfterMs?: number): { ok: false; error: ErrorInfo } {
  return { ok: false, error: retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs } };
}
