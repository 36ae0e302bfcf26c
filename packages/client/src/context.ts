import type { StoreApi } from "zustand/vanilla";
import type { ChatState } from "./state.js";

/**
 * Why these numbers: an ack normally arrives in milliseconds; 10 s covers a slow commit on a busy
 * server without leaving the user staring at "sending" for long. Five attempts with backoff
 * (0.5, 1, 2, 4 s) ride out a server restart before the message shows as failed; attempts are
 * only counted while connected, so an outage of any length never fails a message by itself.
 */
export const ACK_TIMEOUT_MS = 10_000;
export const MAX_SEND_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8_000;

/** The wait before retry number `attempt + 1` (see the numbers above). */
export const backoffDelay = (attempt: number): number => Math.min(BACKOFF_BASE_MS * 2 ** (attempt - 1), BACKOFF_MAX_MS);

/**
 * What the parts of the core (transport, outbox sender, sync, server events) share: the one store,
 * the clock, the resolved options, and whether the client was closed.
 */
export interface CoreContext {
  readonly store: StoreApi<ChatState>;
  /** Replaces the state with the reducer's result: one store update, one render. */
  set(fn: (s: ChatState) => ChatState): void;
  setConnection(patch: Partial<ChatState["connection"]>): void;
  now(): number;
  randomId(): string;
  /** True after `disconnect()`, until the next `connect()`. */
  closed: boolean;
  ackTimeoutMs: number;
  maxAttempts: number;
  windowSize: number;
  pageSize: number;
}

export function createCoreContext(
  store: StoreApi<ChatState>,
  options: Pick<CoreContext, "now" | "randomId" | "ackTimeoutMs" | "maxAttempts" | "windowSize" | "pageSize">,
): CoreContext {
  const set = (fn: (s: ChatState) => ChatState) => store.setState(fn(store.getState()), true);
  return {
    store,
    set,
    setConnection: (patch) => set((s) => ({ ...s, connection: { ...s.connection, ...patch } })),
    closed: false,
    ...options,
  };
}
