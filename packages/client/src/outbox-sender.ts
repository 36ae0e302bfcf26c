import type { AckResult, Message } from "@parley/shared";
import type { OutboxEntry, OutboxStorage } from "./api.js";
import { backoffDelay, type CoreContext } from "./context.js";
import { sortOutbox } from "./outbox.js";
import { addPending, confirmPending, removePending, updatePending } from "./reconcile.js";
import type { PendingMessage } from "./state.js";
import type { Transport } from "./transport.js";

/**
 * The wait after a RATE_LIMITED answer that (against the protocol) carries no retryAfterMs: about
 * one window of the server's sustained send budget.
 */
const RATE_LIMIT_FALLBACK_MS = 1_000;
/** Codes that will fail the same way on every retry: the message shows as failed at once. */
const PERMANENT_ERRORS = new Set(["MESSAGE_BLANK", "MESSAGE_TOO_LONG", "MESSAGE_INVALID", "INVALID_PAYLOAD", "NOT_A_MEMBER", "ROOM_NOT_FOUND", "UNAUTHENTICATED"]);

/**
 * Delivery of what the user wrote: the outbox is persisted, sent in order one at a time while
 * connected, retried with backoff, idempotent by client id, and waits (not fails) when the server
 * says RATE_LIMITED.
 */
export interface OutboxSender {
  /** Loads entries written by this or another tab; drops ones another tab confirmed or discarded. */
  reload(): void;
  /** Sends queued messages one at a time, in order, while connected. */
  flush(): Promise<void>;
  /** Persists a new message and shows it as pending (the caller flushes). */
  add(roomId: string, body: string): PendingMessage;
  /** Queues a failed message again. */
  retry(clientId: string): void;
  /** Drops a message from the outbox and the store. */
  discard(clientId: string): void;
  /** Cancels a scheduled retry (the client was closed). */
  stop(): void;
}

export function createOutboxSender(
  ctx: CoreContext,
  transport: Transport,
  outbox: OutboxStorage,
  deps: { catchUp(roomId: string): Promise<void>; keepFrom(roomId: string): number | null },
): OutboxSender {
  const { store, set, setConnection, now, ackTimeoutMs, maxAttempts, windowSize } = ctx;
  const { socket } = transport;
  let orderCounter = 0;

  const toPending = (e: OutboxEntry): PendingMessage => ({
    clientId: e.clientId,
    roomId: e.roomId,
    body: e.body,
    createdAt: e.createdAt,
    status: e.failed ? "failed" : "sending",
    attempts: 0,
    error: e.error,
  });

  function reload() {
    const entries = sortOutbox(outbox.load());
    const stored = new Set(entries.map((e) => e.clientId));
    set((s) => {
      let next = s;
      for (const id of s.pendingOrder) if (!stored.has(id)) next = removePending(next, id);
      for (const e of entries) {
        if (!next.pending[e.clientId]) next = addPending(next, toPending(e));
        else if (e.failed !== (next.pending[e.clientId]!.status === "failed"))
          next = updatePending(next, e.clientId, { status: e.failed ? "failed" : "sending", error: e.error });
      }
      return next;
    });
    orderCounter = Math.max(orderCounter, ...entries.map((e) => e.order + 1));
    void flush();
  }

  function persist(p: PendingMessage, order: number) {
    outbox.put({ clientId: p.clientId, roomId: p.roomId, body: p.body, createdAt: p.createdAt, order, failed: p.status === "failed", error: p.error });
  }

  let flushing = false;
  let backoffTimer: ReturnType<typeof setTimeout> | null = null;

  async function flush(): Promise<void> {
    if (flushing || ctx.closed || backoffTimer) return;
    flushing = true;
    try {
      while (socket.connected && !ctx.closed) {
        const s = store.getState();
        const clientId = s.pendingOrder.find((id) => s.pending[id]?.status === "sending");
        if (!clientId) {
          // Everything the server made wait has gone out: the "slow down" notice can go.
          if (s.connection.rateLimitedUntil !== null) setConnection({ rateLimitedUntil: null });
          return;
        }
        const p = s.pending[clientId]!;
        const result = await sendOnce(p);
        if (result === "retry-later") return;
      }
    } finally {
      flushing = false;
    }
  }

  async function sendOnce(p: PendingMessage): Promise<"done" | "retry-later"> {
    let result: AckResult<Message>;
    try {
      const acked = socket
        .timeout(ackTimeoutMs)
        .emitWithAck("message:send", { roomId: p.roomId, clientId: p.clientId, body: p.body });
      const outcome = await Promise.race([acked, transport.connectionLost()]);
      // The ack can no longer arrive on this connection; the next connect resends (idempotently).
      if (outcome === "disconnected") return "retry-later";
      result = outcome;
    } catch {
      // No ack: lost in a disconnect or the server is slow. The retry is safe: the server answers
      // a repeated client id with the message it stored the first time.
      return scheduleRetry(p, "TIMEOUT");
    }
    if (!store.getState().pending[p.clientId]) return "done"; // discarded or confirmed meanwhile
    if (result.ok) {
      outbox.remove(p.clientId);
      let behind = false;
      set((s) => {
        const r = confirmPending(s, p.clientId, result.data, windowSize, deps.keepFrom(p.roomId));
        behind = r.behind;
        return r.state;
      });
      if (behind) void deps.catchUp(p.roomId);
      return "done";
    }
    if (PERMANENT_ERRORS.has(result.error.code)) {
      markFailed(p.clientId, result.error.code);
      return "done";
    }
    if (result.error.code === "RATE_LIMITED") return waitForBudget(result.error.retryAfterMs);
    return scheduleRetry(p, result.error.code);
  }

  /**
   * Back-pressure, not failure: the server takes the message after `retryAfterMs`. It stays
   * *sending* with its attempts untouched (a refusal for speed says nothing about the message), and
   * the whole outbox waits behind it, so the order the user wrote in is kept.
   */
  function waitForBudget(retryAfterMs: number | undefined): "retry-later" {
    const delay = Math.max(1, retryAfterMs ?? RATE_LIMIT_FALLBACK_MS);
    setConnection({ rateLimitedUntil: now() + delay });
    backoffTimer = setTimeout(() => {
      backoffTimer = null;
      void flush();
    }, delay);
    return "retry-later";
  }

  function scheduleRetry(p: PendingMessage, code: string): "done" | "retry-later" {
    // Attempts while disconnected do not count: the outbox waits for the next connect.
    if (!socket.connected) return "retry-later";
    const attempts = (store.getState().pending[p.clientId]?.attempts ?? 0) + 1;
    if (attempts >= maxAttempts) {
      markFailed(p.clientId, code);
      return "done";
    }
    set((s) => updatePending(s, p.clientId, { attempts, error: code }));
    const delay = backoffDelay(attempts);
    backoffTimer = setTimeout(() => {
      backoffTimer = null;
      void flush();
    }, delay);
    return "retry-later";
  }

  function markFailed(clientId: string, code: string) {
    set((s) => updatePending(s, clientId, { status: "failed", error: code }));
    const p = store.getState().pending[clientId];
    if (p) persist(p, orderCounter++);
  }

  return {
    reload,
    flush,
    add(roomId, body) {
      const pending: PendingMessage = { clientId: ctx.randomId(), roomId, body, createdAt: now(), status: "sending", attempts: 0, error: null };
      // Persist before showing: once the user sees "sending", a reload cannot lose it.
      persist(pending, orderCounter++);
      set((s) => addPending(s, pending));
      return pending;
    },
    retry(clientId) {
      const p = store.getState().pending[clientId];
      if (!p) return;
      set((s) => updatePending(s, clientId, { status: "sending", attempts: 0, error: null }));
      persist({ ...p, status: "sending", error: null }, orderCounter++);
      void flush();
    },
    discard(clientId) {
      outbox.remove(clientId);
      set((s) => removePending(s, clientId));
    },
    stop() {
      if (backoffTimer) clearTimeout(backoffTimer);
      backoffTimer = null;
    },
  };
}
