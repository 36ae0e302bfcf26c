import { ok, type AckResult, type EditReply, type Message } from "@parley/shared";
import type { ChangeEntry, OutboxEntry, OutboxStorage, PersistedUpload, SendEntry } from "./api.js";
import { backoffDelay, type CoreContext } from "./context.js";
import { sortOutbox } from "./outbox.js";
import {
  addChange,
  addPendingWithUploads,
  addUpload,
  applyMessageUpdate,
  attachmentIdsOf,
  completeUpload,
  confirmPending,
  removeChange,
  removePending,
  removeUpload,
  updateChange,
  updatePending,
  uploadsState,
} from "./reconcile.js";
import type { ChangeCommand, ChatState, PendingChange, PendingMessage, UploadJob } from "./state.js";
import type { Transport } from "./transport.js";
import { UPLOAD_LOST } from "./uploads.js";

/**
 * The wait after a RATE_LIMITED answer that (against the protocol) carries no retryAfterMs: about
 * one window of the server's sustained send budget.
 */
const RATE_LIMIT_FALLBACK_MS = 1_000;
/**
 * Codes that will fail the same way on every retry: the message shows as failed at once. A reply
 * to a message that is gone (or deleted) stays refused too.
 */
const PERMANENT_SEND_ERRORS = new Set([
  "MESSAGE_BLANK",
  "MESSAGE_TOO_LONG",
  "MESSAGE_INVALID",
  "INVALID_PAYLOAD",
  "NOT_A_MEMBER",
  "ROOM_NOT_FOUND",
  "UNAUTHENTICATED",
  "MESSAGE_NOT_FOUND",
  "MESSAGE_DELETED",
  // An attachment id the server does not take (gone, or already on another message): the same
  // ids fail again; the user attaches the file anew.
  "ATTACHMENT_NOT_FOUND",
]);
/** The same for edits, deletes and reactions: the message or the change itself is refused. */
const PERMANENT_CHANGE_ERRORS = new Set([
  "MESSAGE_NOT_FOUND",
  "NOT_YOUR_MESSAGE",
  "MESSAGE_NOT_EDITABLE",
  "MESSAGE_DELETED",
  "EMOJI_INVALID",
  "TOO_MANY_REACTIONS",
  "NOT_A_MEMBER",
  "INVALID_PAYLOAD",
  "MESSAGE_BLANK",
  "MESSAGE_TOO_LONG",
  "MESSAGE_INVALID",
  "UNAUTHENTICATED",
]);

/** What the caller gives for a new change; the sender adds its id, time and status. */
export type NewChange = Omit<PendingChange, "changeId" | "createdAt" | "status" | "attempts" | "error">;

/**
 * Delivery of what the user did: the outbox (sends, and edits, deletes and reactions) is persisted,
 * sent one entry at a time in the order the user acted while connected, retried with backoff,
 * idempotent (client id for sends; edits carry their base version, deletes and reaction sets are
 * idempotent by nature), and waits (not fails) when the server says RATE_LIMITED.
 */
export interface OutboxSender {
  /** Loads entries written by this or another tab; drops ones another tab confirmed or discarded. */
  reload(): void;
  /** Sends queued entries one at a time, in order, while connected. */
  flush(): Promise<void>;
  /**
   * Persists a new message and shows it as pending (the caller flushes). `uploadIds`: the files
   * of the composer it takes; it goes out once they are uploaded.
   */
  add(roomId: string, body: string, replyToId: string | null, uploadIds?: readonly string[]): PendingMessage;
  /**
   * Persists a new change and shows it over its message (the caller flushes). A reaction replaces
   * an unsent earlier one on the same message and emoji: only the last intent needs to go out.
   */
  addChange(change: NewChange): PendingChange;
  /**
   * Queues a failed message again. `restart(uploadId)` starts a failed upload again and says
   * whether it could; files it cannot restart are dropped from the message (a message left with
   * nothing is discarded).
   */
  retry(clientId: string, restart?: (uploadId: string) => boolean): void;
  /** Drops a message from the outbox and the store. */
  discard(clientId: string): void;
  /**
   * One of a message's files finished or failed: the entry is persisted again (with the
   * attachment id, or failed) and the outbox goes on.
   */
  uploadsChanged(uploadId: string): void;
  /** The user removed a file (from the composer or a pending message); see `removeUpload`. */
  removeUpload(uploadId: string): void;
  /** Queues a failed change again; an edit re-bases on the version of the copy held now. */
  retryChange(changeId: string): void;
  /** Drops a change from the outbox and the store. */
  discardChange(changeId: string): void;
  /** Cancels a scheduled retry (the client was closed). */
  stop(): void;
}

const isChangeEntry = (e: OutboxEntry): e is ChangeEntry => e.kind === "edit" || e.kind === "delete" || e.kind === "react";

function toPending(e: SendEntry): PendingMessage {
  return {
    clientId: e.clientId,
    roomId: e.roomId,
    body: e.body,
    // Entries stored before replies existed have no field.
    replyToId: e.replyToId ?? null,
    createdAt: e.createdAt,
    status: e.failed ? "failed" : "sending",
    attempts: 0,
    error: e.error,
    // Nor before files existed.
    uploadIds: (e.attachments ?? []).map((a) => a.uploadId),
  };
}

/**
 * A persisted file as an upload job of this page: done if the outbox has its attachment; if not,
 * and this page does not have it already (it uploads it), its bytes are gone (UPLOAD_LOST).
 */
function toUploadJob(e: SendEntry, u: PersistedUpload): UploadJob {
  const base = { uploadId: u.uploadId, roomId: e.roomId, name: u.name, size: u.size, type: u.type, attempts: 0, clientId: e.clientId };
  return u.attachment
    ? { ...base, progress: 1, status: "done", attachment: u.attachment, error: null }
    : { ...base, progress: 0, status: "failed", attachment: null, error: UPLOAD_LOST };
}

/**
 * A reloaded send entry into the store: its files as upload jobs (kept as they are when this page
 * holds them), then its status: failed when the entry says so, or when a file of it can no longer
 * be uploaded. That failure is the store's only: the entry stays as it is in the outbox, because
 * another tab that holds the bytes may still finish it (its next write brings the attachment here).
 */
function reloadSend(s: ChatState, e: SendEntry): ChatState {
  let next = s;
  for (const u of e.attachments ?? []) {
    const job = next.uploads[u.uploadId];
    if (!job) next = addUpload(next, toUploadJob(e, u));
    else if (u.attachment && job.status !== "done") next = completeUpload(next, u.uploadId, u.attachment);
  }
  const held = next.pending[e.clientId];
  const pending = held ?? toPending(e);
  let status: PendingMessage["status"] = e.failed ? "failed" : "sending";
  let error = e.error;
  if (!e.failed && uploadsState(next, pending) === "failed") {
    status = "failed";
    error = pending.uploadIds.map((id) => next.uploads[id]).find((j) => j?.status === "failed")?.error ?? UPLOAD_LOST;
  }
  if (!held) return addPendingWithUploads(next, { ...pending, status, error });
  if (held.status !== status) return updatePending(next, e.clientId, { status, error });
  return next;
}

function toChange(e: ChangeEntry): PendingChange {
  return { ...commandOf(e), changeId: e.clientId, createdAt: e.createdAt, status: e.failed ? "failed" : "sending", attempts: 0, error: e.error };
}

function toChangeEntry(c: PendingChange, order: number): ChangeEntry {
  return { ...commandOf(c), clientId: c.changeId, createdAt: c.createdAt, order, failed: c.status === "failed", error: c.error };
}

/**
 * The command of an entry or a pending change, optional fields only when set: a persisted entry
 * never holds `"body": undefined` (exactOptionalPropertyTypes), and the other shape's own fields
 * do not leak into it.
 */
function commandOf(x: ChangeCommand): ChangeCommand {
  const c: ChangeCommand = { kind: x.kind, roomId: x.roomId, messageId: x.messageId };
  if (x.body !== undefined) c.body = x.body;
  if (x.baseVersion !== undefined) c.baseVersion = x.baseVersion;
  if (x.emoji !== undefined) c.emoji = x.emoji;
  if (x.on !== undefined) c.on = x.on;
  return c;
}

/** One entry due to go out: a send or a change. */
type Due = { kind: "send"; entry: PendingMessage } | { kind: "change"; entry: PendingChange };

export function createOutboxSender(
  ctx: CoreContext,
  transport: Transport,
  outbox: OutboxStorage,
  deps: {
    catchUp(roomId: string): Promise<void>;
    catchUpChanges(roomId: string): Promise<void>;
    keepFrom(roomId: string): number | null;
  },
): OutboxSender {
  const { store, set, setConnection, now, ackTimeoutMs, maxAttempts, windowSize } = ctx;
  const { socket } = transport;
  let orderCounter = 0;
  /**
   * Each entry's `order` (the tie-breaker after createdAt), kept here rather than in the store: it
   * decides only which entry goes out next, and sends and changes share one sequence of it.
   */
  const orders = new Map<string, number>();
  /** The entry whose ack is awaited: it is on the wire and can no longer be replaced. */
  let inFlight: string | null = null;

  function reload() {
    const entries = sortOutbox(outbox.load());
    const stored = new Set(entries.map((e) => e.clientId));
    set((s) => {
      let next = s;
      for (const id of s.pendingOrder) if (!stored.has(id)) next = removePending(next, id);
      for (const id of s.changeOrder) if (!stored.has(id)) next = removeChange(next, id);
      for (const e of entries) {
        if (isChangeEntry(e)) {
          const held = next.changes[e.clientId];
          if (!held) next = addChange(next, toChange(e));
          else if (e.failed !== (held.status === "failed")) next = updateChange(next, e.clientId, { status: e.failed ? "failed" : "sending", error: e.error });
        } else {
          next = reloadSend(next, e);
        }
      }
      return next;
    });
    for (const e of entries) orders.set(e.clientId, e.order);
    orderCounter = Math.max(orderCounter, ...entries.map((e) => e.order + 1));
    void flush();
  }

  function persistSend(p: PendingMessage, order: number) {
    orders.set(p.clientId, order);
    const entry: SendEntry = { clientId: p.clientId, roomId: p.roomId, body: p.body, replyToId: p.replyToId, createdAt: p.createdAt, order, failed: p.status === "failed", error: p.error };
    if (p.uploadIds.length > 0) {
      const { uploads } = store.getState();
      entry.attachments = p.uploadIds.flatMap((id) => {
        const u = uploads[id];
        return u ? [{ uploadId: id, name: u.name, size: u.size, type: u.type, attachment: u.attachment }] : [];
      });
    }
    outbox.put(entry);
  }

  function persistChange(c: PendingChange, order: number) {
    orders.set(c.changeId, order);
    outbox.put(toChangeEntry(c, order));
  }

  /**
   * The entry to send next: the earliest still `sending`, sends and changes together, in the
   * outbox order (createdAt, then order, then id), so a change never overtakes what the user did
   * before it (a reaction to a reply waits for the reply) and vice versa.
   */
  function nextDue(s: ChatState): Due | null {
    const due: Due[] = [];
    /**
     * Sends whose files are still uploading. Each holds back what the user did after it in its
     * room (a later message, a reaction to it), so the room's order is kept; other rooms go on,
     * since a slow upload in one room should not hold the conversation in every other.
     */
    const waiting: Due[] = [];
    for (const id of s.pendingOrder) {
      const p = s.pending[id];
      if (p?.status !== "sending") continue;
      if (uploadsState(s, p) === "waiting") waiting.push({ kind: "send", entry: p });
      else due.push({ kind: "send", entry: p });
    }
    for (const id of s.changeOrder) {
      const c = s.changes[id];
      if (c?.status === "sending") due.push({ kind: "change", entry: c });
    }
    let best: Due | null = null;
    for (const d of due) {
      if (waiting.some((w) => w.entry.roomId === d.entry.roomId && compareDue(w, d) < 0)) continue;
      if (!best || compareDue(d, best) < 0) best = d;
    }
    return best;
  }

  const idOf = (d: Due): string => (d.kind === "send" ? d.entry.clientId : d.entry.changeId);
  /** The outbox order of sortOutbox: createdAt, then order, then id. */
  const compareDue = (a: Due, b: Due): number =>
    a.entry.createdAt - b.entry.createdAt || (orders.get(idOf(a)) ?? 0) - (orders.get(idOf(b)) ?? 0) || idOf(a).localeCompare(idOf(b));

  let flushing = false;
  let backoffTimer: ReturnType<typeof setTimeout> | null = null;

  async function flush(): Promise<void> {
    if (flushing || ctx.closed || backoffTimer) return;
    flushing = true;
    try {
      while (socket.connected && !ctx.closed) {
        const s = store.getState();
        const due = nextDue(s);
        if (!due) {
          // Everything the server made wait has gone out: the "slow down" notice can go.
          if (s.connection.rateLimitedUntil !== null) setConnection({ rateLimitedUntil: null });
          return;
        }
        inFlight = idOf(due);
        let result: "done" | "retry-later";
        try {
          result = due.kind === "send" ? await sendOnce(due.entry) : await changeOnce(due.entry);
        } finally {
          inFlight = null;
        }
        if (result === "retry-later") return;
      }
    } finally {
      flushing = false;
    }
  }

  async function sendOnce(p: PendingMessage): Promise<"done" | "retry-later"> {
    const files = uploadsState(store.getState(), p);
    if (files === "failed") {
      // A file of it is gone (failed, or lost in a reload): it cannot go as written.
      markFailed("send", p.clientId, p.error ?? UPLOAD_LOST);
      return "done";
    }
    let result: AckResult<Message>;
    try {
      const attachmentIds = attachmentIdsOf(store.getState(), p);
      const payload = {
        roomId: p.roomId,
        clientId: p.clientId,
        body: p.body,
        ...(p.replyToId !== null ? { replyToId: p.replyToId } : {}),
        ...(attachmentIds.length > 0 ? { attachmentIds } : {}),
      };
      const acked = socket.timeout(ackTimeoutMs).emitWithAck("message:send", payload);
      const outcome = await Promise.race([acked, transport.connectionLost()]);
      // The ack can no longer arrive on this connection; the next connect resends (idempotently).
      if (outcome === "disconnected") return "retry-later";
      result = outcome;
    } catch {
      // No ack: lost in a disconnect or the server is slow. The retry is safe: the server answers
      // a repeated client id with the message it stored the first time.
      return scheduleRetry("send", p.clientId, "TIMEOUT");
    }
    if (!store.getState().pending[p.clientId]) return "done"; // discarded or confirmed meanwhile
    if (result.ok) {
      outbox.remove(p.clientId);
      let behind = false;
      let changesBehind = false;
      set((s) => {
        const r = confirmPending(s, p.clientId, result.data, windowSize, deps.keepFrom(p.roomId));
        behind = r.behind;
        changesBehind = r.changesBehind;
        return r.state;
      });
      if (behind) void deps.catchUp(p.roomId);
      if (changesBehind) void deps.catchUpChanges(p.roomId);
      return "done";
    }
    if (PERMANENT_SEND_ERRORS.has(result.error.code)) {
      markFailed("send", p.clientId, result.error.code);
      return "done";
    }
    if (result.error.code === "RATE_LIMITED") return waitForBudget(result.error.retryAfterMs);
    return scheduleRetry("send", p.clientId, result.error.code);
  }

  /** One change's command, its reply brought to one shape (an edit also says whether it lost). */
  function emitChange(c: PendingChange): Promise<AckResult<EditReply>> {
    const timed = socket.timeout(ackTimeoutMs);
    const asReply = (r: AckResult<Message>): AckResult<EditReply> => (r.ok ? ok({ message: r.data, conflict: false }) : r);
    switch (c.kind) {
      case "edit":
        return timed.emitWithAck("message:edit", { messageId: c.messageId, body: c.body ?? "", baseVersion: c.baseVersion ?? 0 });
      case "delete":
        return timed.emitWithAck("message:delete", { messageId: c.messageId }).then(asReply);
      case "react":
        return timed.emitWithAck("reaction:set", { messageId: c.messageId, emoji: c.emoji ?? "", on: c.on ?? true }).then(asReply);
    }
  }

  async function changeOnce(c: PendingChange): Promise<"done" | "retry-later"> {
    let result: AckResult<EditReply>;
    try {
      const outcome = await Promise.race([emitChange(c), transport.connectionLost()]);
      if (outcome === "disconnected") return "retry-later";
      result = outcome;
    } catch {
      // Safe to repeat: an applied edit is answered as unchanged (same body), deletes and reaction
      // sets are idempotent.
      return scheduleRetry("change", c.changeId, "TIMEOUT");
    }
    if (result.ok) {
      const { message, conflict } = result.data;
      const stillHeld = store.getState().changes[c.changeId] !== undefined;
      let changesBehind = false;
      set((s) => {
        let next = s;
        if (stillHeld && conflict) next = updateChange(next, c.changeId, { status: "failed", error: "EDIT_CONFLICT" });
        else next = removeChange(next, c.changeId);
        if (!conflict && c.kind === "edit") next = rebaseLaterEdits(next, c.messageId, message.version);
        // The server's state of the message, whatever became of the change (even if it was
        // discarded meanwhile): applied by version like any other copy.
        const r = applyMessageUpdate(next, message);
        changesBehind = r.changesBehind;
        return r.state;
      });
      if (stillHeld && conflict) {
        // Kept (failed) so the UI can offer the text again; it no longer shows over the winner.
        const failed = store.getState().changes[c.changeId];
        if (failed) persistChange(failed, orders.get(c.changeId) ?? orderCounter++);
      } else {
        outbox.remove(c.changeId);
      }
      if (!conflict && c.kind === "edit") {
        for (const later of Object.values(store.getState().changes)) {
          if (later.kind === "edit" && later.messageId === c.messageId && later.status === "sending") persistChange(later, orders.get(later.changeId) ?? orderCounter++);
        }
      }
      if (changesBehind) void deps.catchUpChanges(c.roomId);
      return "done";
    }
    if (!store.getState().changes[c.changeId]) return "done"; // discarded meanwhile
    if (PERMANENT_CHANGE_ERRORS.has(result.error.code)) {
      markFailed("change", c.changeId, result.error.code);
      return "done";
    }
    if (result.error.code === "RATE_LIMITED") return waitForBudget(result.error.retryAfterMs);
    return scheduleRetry("change", c.changeId, result.error.code);
  }

  /**
   * My edit was applied: my later edits of the same message were made on top of it (the user saw
   * its body), so their base becomes the version it produced. Left as they were, they would lose
   * to my own edit as a conflict.
   */
  function rebaseLaterEdits(s: ChatState, messageId: string, version: number): ChatState {
    let next = s;
    for (const id of s.changeOrder) {
      const later = s.changes[id];
      if (later?.kind === "edit" && later.messageId === messageId && later.status === "sending" && later.baseVersion !== version) {
        next = updateChange(next, id, { baseVersion: version });
      }
    }
    return next;
  }

  /**
   * Back-pressure, not failure: the server takes the entry after `retryAfterMs`. It stays
   * *sending* with its attempts untouched (a refusal for speed says nothing about the entry), and
   * the whole outbox waits behind it, so the order the user acted in is kept.
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

  function scheduleRetry(kind: Due["kind"], id: string, code: string): "done" | "retry-later" {
    // Attempts while disconnected do not count: the outbox waits for the next connect.
    if (!socket.connected) return "retry-later";
    const s = store.getState();
    const current = kind === "send" ? s.pending[id] : s.changes[id];
    if (!current) return "done"; // discarded meanwhile
    const attempts = current.attempts + 1;
    if (attempts >= maxAttempts) {
      markFailed(kind, id, code);
      return "done";
    }
    set((st) => (kind === "send" ? updatePending(st, id, { attempts, error: code }) : updateChange(st, id, { attempts, error: code })));
    const delay = backoffDelay(attempts);
    backoffTimer = setTimeout(() => {
      backoffTimer = null;
      void flush();
    }, delay);
    return "retry-later";
  }

  function markFailed(kind: Due["kind"], id: string, code: string) {
    if (kind === "send") {
      set((s) => updatePending(s, id, { status: "failed", error: code }));
      const p = store.getState().pending[id];
      if (p) persistSend(p, orderCounter++);
    } else {
      set((s) => updateChange(s, id, { status: "failed", error: code }));
      const c = store.getState().changes[id];
      if (c) persistChange(c, orderCounter++);
    }
  }

  return {
    reload,
    flush,
    add(roomId, body, replyToId, uploadIds = []) {
      const pending: PendingMessage = {
        clientId: ctx.randomId(),
        roomId,
        body,
        replyToId,
        createdAt: now(),
        status: "sending",
        attempts: 0,
        error: null,
        uploadIds: [...uploadIds],
      };
      // Persist before showing: once the user sees "sending", a reload cannot lose it.
      persistSend(pending, orderCounter++);
      set((s) => addPendingWithUploads(s, pending));
      return pending;
    },
    addChange(input) {
      const change: PendingChange = { ...input, changeId: ctx.randomId(), createdAt: now(), status: "sending", attempts: 0, error: null };
      const s = store.getState();
      const replaced =
        change.kind === "react"
          ? s.changeOrder.filter((id) => {
              const c = s.changes[id];
              return id !== inFlight && c?.kind === "react" && c.messageId === change.messageId && c.emoji === change.emoji;
            })
          : [];
      persistChange(change, orderCounter++);
      for (const id of replaced) {
        outbox.remove(id);
        orders.delete(id);
      }
      set((st) => addChange(replaced.reduce(removeChange, st), change));
      return change;
    },
    retry(clientId, restart = () => false) {
      const held = store.getState().pending[clientId];
      if (!held) return;
      // Files that failed: uploaded again if they can be, otherwise the message goes without them.
      for (const id of held.uploadIds) {
        const job = store.getState().uploads[id];
        if (job?.status === "failed" && !restart(id)) {
          const r = removeUpload(store.getState(), id);
          set(() => r.state);
          if (r.discarded) {
            outbox.remove(clientId);
            orders.delete(clientId);
            return;
          }
        }
      }
      const p = store.getState().pending[clientId];
      if (!p) return;
      set((s) => updatePending(s, clientId, { status: "sending", attempts: 0, error: null }));
      persistSend({ ...p, status: "sending", error: null }, orderCounter++);
      void flush();
    },
    uploadsChanged(uploadId) {
      const s = store.getState();
      const owner = s.uploads[uploadId]?.clientId;
      const p = owner ? s.pending[owner] : undefined;
      if (!p) return;
      persistSend(p, orders.get(p.clientId) ?? orderCounter++);
      void flush();
    },
    removeUpload(uploadId) {
      const s = store.getState();
      const owner = s.uploads[uploadId]?.clientId ?? null;
      const r = removeUpload(s, uploadId);
      set(() => r.state);
      if (r.discarded) {
        outbox.remove(r.discarded);
        orders.delete(r.discarded);
        return;
      }
      const p = owner ? store.getState().pending[owner] : undefined;
      if (!p) return;
      persistSend(p, orders.get(p.clientId) ?? orderCounter++);
      // Its last unfinished file may have been the one removed: it can go now.
      void flush();
    },
    discard(clientId) {
      outbox.remove(clientId);
      orders.delete(clientId);
      set((s) => removePending(s, clientId));
    },
    retryChange(changeId) {
      const s = store.getState();
      const c = s.changes[changeId];
      if (!c) return;
      const patch: Partial<PendingChange> = { status: "sending", attempts: 0, error: null };
      // Re-based on the copy held now: retrying an edit that lost means "my text over the winner".
      const held = s.messages[c.roomId]?.[c.messageId];
      if (c.kind === "edit" && held) patch.baseVersion = held.version;
      set((st) => updateChange(st, changeId, patch));
      persistChange({ ...c, ...patch }, orderCounter++);
      void flush();
    },
    discardChange(changeId) {
      outbox.remove(changeId);
      orders.delete(changeId);
      set((s) => removeChange(s, changeId));
    },
    stop() {
      if (backoffTimer) clearTimeout(backoffTimer);
      backoffTimer = null;
    },
  };
}
