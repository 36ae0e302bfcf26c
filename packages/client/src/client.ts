import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import { createStore } from "zustand/vanilla";
import {
  LIMITS,
  SOCKET_PATH,
  fail,
  type AckResult,
  type ClientEventName,
  type ClientPayload,
  type ClientReplies,
  type ClientToServerEvents,
  type Message,
  type ServerToClientEvents,
} from "@parley/shared";
import type { ChatClient, ChatClientEvents, OutboxEntry, OutboxStorage } from "./api.js";
import { sortOutbox } from "./outbox.js";
import {
  DEFAULT_WINDOW_SIZE,
  addPending,
  applyLiveMessage,
  applyPresence,
  applySync,
  applyTyping,
  confirmPending,
  expireTyping,
  leaveRoomLocally,
  markReadLocally,
  mergeMessages,
  removePending,
  updatePending,
  upsertRoom,
} from "./reconcile.js";
import { createInitialState, type ChatState, type ConnectionStatus, type PendingMessage } from "./state.js";

export type ParleyClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ChatClientOptions {
  /** Server origin; omit in the browser to use the page's origin. */
  url?: string;
  outbox: OutboxStorage;
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
  /** How long to wait for an ack before a send attempt counts as failed. */
  ackTimeoutMs?: number;
  /** Attempts made while connected before a message shows as failed. */
  maxSendAttempts?: number;
  /** Messages kept per room (see DEFAULT_WINDOW_SIZE). */
  windowSize?: number;
  /** Messages fetched per history page. */
  pageSize?: number;
  now?: () => number;
  randomId?: () => string;
}

/**
 * Why these numbers: an ack normally arrives in milliseconds; 10 s covers a slow commit on a busy
 * server without leaving the user staring at "sending" for long. Five attempts with backoff
 * (0.5, 1, 2, 4 s) ride out a server restart before the message shows as failed; attempts are
 * only counted while connected, so an outage of any length never fails a message by itself.
 */
const ACK_TIMEOUT_MS = 10_000;
const MAX_SEND_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8_000;
/**
 * The wait after a RATE_LIMITED answer that (against the protocol) carries no retryAfterMs: about
 * one window of the server's sustained send budget.
 */
const RATE_LIMIT_FALLBACK_MS = 1_000;
/** Codes that will fail the same way on every retry: the message shows as failed at once. */
const PERMANENT_ERRORS = new Set(["MESSAGE_BLANK", "MESSAGE_TOO_LONG", "MESSAGE_INVALID", "INVALID_PAYLOAD", "NOT_A_MEMBER", "ROOM_NOT_FOUND", "UNAUTHENTICATED"]);

/**
 * The realtime core: one socket, one store. It owns delivery: the outbox (persisted, sent in order
 * one at a time, retried with backoff, idempotent by client id), catch-up by seq after every
 * (re)connect and on every gap, and reconciliation of everything the server says into the store.
 */
export function createChatClient(options: ChatClientOptions): ChatClient {
  const now = options.now ?? Date.now;
  const randomId = options.randomId ?? (() => globalThis.crypto.randomUUID());
  const ackTimeoutMs = options.ackTimeoutMs ?? ACK_TIMEOUT_MS;
  const maxAttempts = options.maxSendAttempts ?? MAX_SEND_ATTEMPTS;
  const windowSize = options.windowSize ?? DEFAULT_WINDOW_SIZE;
  // The largest page the server allows: scrolling through a long room costs half the round trips
  // (and store merges) of 100-message pages, and 200 rows still render in one frame.
  const pageSize = Math.min(options.pageSize ?? LIMITS.pageMax, LIMITS.pageMax);
  const outbox = options.outbox;

  const store = createStore<ChatState>(() => createInitialState());
  const set = (fn: (s: ChatState) => ChatState) => store.setState(fn(store.getState()), true);
  const listeners: { [E in keyof ChatClientEvents]: Set<ChatClientEvents[E]> } = { message: new Set() };

  const socketOptions: Partial<ManagerOptions & SocketOptions> = {
    path: SOCKET_PATH,
    autoConnect: false,
    withCredentials: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5_000,
    ...options.socketOptions,
  };
  const socket: ParleyClientSocket = options.url ? io(options.url, socketOptions) : io(socketOptions);

  let closed = false;
  let orderCounter = 0;
  /** Per room, the oldest seq the reader has on screen while reading back (see `keepInView`). */
  const inView = new Map<string, number>();
  /**
   * Per room, the first seq of the window when an older page was requested. Until that page lands,
   * messages arriving at the newest end must not trim the oldest end: the page (ending just before
   * that seq) would no longer touch the window and be dropped, and in a busy room scrolling back
   * would silently fail again and again (seen in the fault test: up to 48 tries for one page).
   */
  const olderFrom = new Map<string, number>();
  const keepFrom = (roomId: string): number | null => {
    const a = inView.get(roomId);
    const b = olderFrom.get(roomId);
    if (a === undefined) return b ?? null;
    return b === undefined ? a : Math.min(a, b);
  };

  const setConnection = (patch: Partial<ChatState["connection"]>) =>
    set((s) => ({ ...s, connection: { ...s.connection, ...patch } }));

  function request<E extends ClientEventName>(event: E, payload: ClientPayload<E>, timeoutMs = ackTimeoutMs): Promise<AckResult<ClientReplies[E]>> {
    if (!socket.connected) return Promise.resolve(fail("INTERNAL", "Not connected") as AckResult<ClientReplies[E]>);
    // The typed emitWithAck cannot take a generic event name; payload and reply types are checked
    // by this function's signature instead.
    const timed = socket.timeout(timeoutMs) as unknown as {
      emitWithAck(e: E, p: ClientPayload<E>): Promise<AckResult<ClientReplies[E]>>;
    };
    return timed.emitWithAck(event, payload).catch(() => fail("INTERNAL", "The server did not answer in time") as AckResult<ClientReplies[E]>);
  }

  /**
   * A read the client cannot do without (sync, catch-up, a room's first page): retried with
   * backoff while connected when the server did not answer or failed internally. Refusals (not a
   * member, unknown room) are final; a disconnect ends the tries, and the next connect resyncs.
   */
  async function requestUntilAnswered<E extends ClientEventName>(event: E, payload: ClientPayload<E>): Promise<AckResult<ClientReplies[E]>> {
    for (let attempt = 1; ; attempt++) {
      const result = await request(event, payload);
      if (result.ok || result.error.code !== "INTERNAL" || attempt >= maxAttempts || !socket.connected || closed) return result;
      await new Promise((resolve) => setTimeout(resolve, Math.min(BACKOFF_BASE_MS * 2 ** (attempt - 1), BACKOFF_MAX_MS)));
      if (!socket.connected || closed) return result;
    }
  }

  // ---- outbox ---------------------------------------------------------------------------------

  const toPending = (e: OutboxEntry): PendingMessage => ({
    clientId: e.clientId,
    roomId: e.roomId,
    body: e.body,
    createdAt: e.createdAt,
    status: e.failed ? "failed" : "sending",
    attempts: 0,
    error: e.error,
  });

  /** Loads entries written by this or another tab; drops ones another tab confirmed or discarded. */
  function reloadOutbox() {
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

  /** Sends queued messages one at a time, in order, while connected. */
  async function flush(): Promise<void> {
    if (flushing || closed || backoffTimer) return;
    flushing = true;
    try {
      while (socket.connected && !closed) {
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

  /** Settles when the current connection drops, so an in-flight send stops waiting for its ack. */
  let connectionLost: Promise<"disconnected"> = new Promise(() => {});
  let signalConnectionLost: () => void = () => {};
  function armConnectionLost() {
    connectionLost = new Promise((resolve) => (signalConnectionLost = () => resolve("disconnected")));
  }

  async function sendOnce(p: PendingMessage): Promise<"done" | "retry-later"> {
    let result: AckResult<Message>;
    try {
      const acked = socket
        .timeout(ackTimeoutMs)
        .emitWithAck("message:send", { roomId: p.roomId, clientId: p.clientId, body: p.body });
      const outcome = await Promise.race([acked, connectionLost]);
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
        const r = confirmPending(s, p.clientId, result.data, windowSize, keepFrom(p.roomId));
        behind = r.behind;
        return r.state;
      });
      if (behind) void catchUp(p.roomId);
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
    const delay = Math.min(BACKOFF_BASE_MS * 2 ** (attempts - 1), BACKOFF_MAX_MS);
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

  // ---- catch-up -------------------------------------------------------------------------------

  const catchingUp = new Map<string, Promise<void>>();

  /**
   * Fetches everything after the window's last seq until the room's end. One run per room at a
   * time; a gap seen during a run starts another run after it.
   */
  function catchUp(roomId: string): Promise<void> {
    const running = catchingUp.get(roomId);
    if (running) {
      const again = running.then(() => catchUp(roomId));
      return again;
    }
    const run = (async () => {
      for (;;) {
        const t = store.getState().timelines[roomId];
        if (!t?.loaded || !t.following || !socket.connected) return;
        const result = await requestUntilAnswered("messages:fetch", { roomId, afterSeq: t.lastSeq, limit: LIMITS.pageMax });
        if (!result.ok) return;
        set((s) => mergeMessages(s, roomId, result.data.messages, "newer", windowSize, keepFrom(roomId)));
        if (!result.data.hasMore) return;
      }
    })().finally(() => catchingUp.delete(roomId));
    catchingUp.set(roomId, run);
    return run;
  }

  async function loadLatest(roomId: string): Promise<void> {
    const result = await requestUntilAnswered("messages:fetch", { roomId, limit: pageSize });
    if (!result.ok) return;
    set((s) => mergeMessages(s, roomId, result.data.messages, "latest", windowSize));
    // A live message that arrived while the page was on its way was not held (the window did not
    // exist yet) and is newer than the page: fetch it now.
    if (store.getState().timelines[roomId]?.hasNewer) await catchUp(roomId);
  }

  /** After every (re)connect: rooms and counts from the server, then every held room caught up. */
  async function resync(): Promise<void> {
    setConnection({ catchingUp: true });
    try {
      const result = await requestUntilAnswered("session:sync", {});
      // Without a fresh room list the outbox and the rooms already held still catch up.
      if (result.ok) set((s) => applySync(s, result.data));
      void flush();
      const s = store.getState();
      const work: Promise<void>[] = [];
      for (const [roomId, t] of Object.entries(s.timelines)) if (t.loaded) work.push(catchUp(roomId));
      if (s.activeRoomId && !s.timelines[s.activeRoomId]?.loaded) work.push(loadLatest(s.activeRoomId));
      await Promise.all(work);
    } finally {
      setConnection({ catchingUp: false });
    }
  }

  // ---- socket events --------------------------------------------------------------------------

  const offlineNow = () => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;

  socket.on("connect", () => {
    armConnectionLost();
    setConnection({ status: "connected", attempt: 0, error: null });
    void resync();
  });
  socket.on("disconnect", (reason) => {
    signalConnectionLost();
    const status: ConnectionStatus = offlineNow() ? "offline" : "reconnecting";
    setConnection({ status, catchingUp: false });
    // The server closed this socket (sign-out elsewhere, or it restarted cleanly): socket.io does
    // not reconnect by itself then. Trying again tells a dead session (UNAUTHENTICATED) apart.
    // Offline, the `online` listener does that instead.
    if (reason === "io server disconnect" && !closed && !offlineNow()) socket.connect();
  });
  socket.on("connect_error", (err) => {
    if (err.message === "UNAUTHENTICATED") {
      setConnection({ status: "offline", error: "UNAUTHENTICATED" });
      return;
    }
    setConnection({ status: offlineNow() ? "offline" : "reconnecting", error: err.message });
    // A refusal by a middleware is not retried by socket.io; anything else is.
    if (!socket.active && !closed) setTimeout(() => !closed && !socket.connected && !offlineNow() && socket.connect(), 2_000);
  });
  socket.io.on("reconnect_attempt", (attempt) => setConnection({ attempt, status: offlineNow() ? "offline" : "reconnecting" }));

  socket.on("message:created", (message) => {
    let behind = false;
    set((s) => {
      const r = applyLiveMessage(s, message, windowSize, keepFrom(message.roomId));
      behind = r.behind;
      return r.state;
    });
    if (message.clientId !== null && message.authorId === store.getState().me?.id) outbox.remove(message.clientId);
    if (behind) void catchUp(message.roomId);
    for (const listener of listeners.message) listener(message);
  });
  socket.on("room:upserted", (room) => set((s) => upsertRoom(s, room)));
  socket.on("room:removed", ({ roomId }) => set((s) => leaveRoomLocally(s, roomId)));
  socket.on("typing:updated", (update) => {
    if (update.userId === store.getState().me?.id) return;
    set((s) => applyTyping(s, update, now() + LIMITS.typingLocalTtlMs));
    scheduleTypingSweep();
  });
  socket.on("presence:updated", (update) => set((s) => applyPresence(s, update, () => ({ id: randomId(), at: now() }))));

  let typingSweep: ReturnType<typeof setTimeout> | null = null;
  function scheduleTypingSweep() {
    if (typingSweep) return;
    typingSweep = setTimeout(() => {
      typingSweep = null;
      const t = now();
      let active = false;
      set((s) => {
        const r = expireTyping(s, t);
        active = r.active;
        return r.state;
      });
      if (active) scheduleTypingSweep();
    }, 1_000);
  }

  // While the browser says it is offline, every request would fail (and log an error in the
  // console): stop socket.io's reconnection attempts, and reconnect at once when it is back.
  const onlineListener = () => {
    if (closed) return;
    socket.io.reconnection(true);
    if (!socket.connected) {
      setConnection({ status: "reconnecting" });
      socket.connect();
    }
  };
  const offlineListener = () => {
    if (closed) return;
    socket.io.reconnection(false);
    if (!socket.connected) {
      // Cancels the attempt scheduled or under way; `connect()` starts afresh when online.
      socket.disconnect();
      setConnection({ status: "offline" });
    }
  };
  const g = globalThis as { addEventListener?: (e: string, l: () => void) => void; removeEventListener?: (e: string, l: () => void) => void };
  g.addEventListener?.("online", onlineListener);
  g.addEventListener?.("offline", offlineListener);
  const unsubscribeOutbox = outbox.subscribe?.(() => reloadOutbox());

  // ---- typing (outgoing) ----------------------------------------------------------------------

  const typingSent = new Map<string, number>();

  const client: ChatClient = {
    store,
    connect() {
      closed = false;
      if (store.getState().pendingOrder.length === 0) reloadOutbox();
      if (offlineNow()) {
        offlineListener();
        return;
      }
      if (!socket.connected && !socket.active) socket.connect();
    },
    disconnect() {
      closed = true;
      if (backoffTimer) clearTimeout(backoffTimer);
      backoffTimer = null;
      if (typingSweep) clearTimeout(typingSweep);
      typingSweep = null;
      socket.disconnect();
      g.removeEventListener?.("online", onlineListener);
      g.removeEventListener?.("offline", offlineListener);
      unsubscribeOutbox?.();
      setConnection({ status: "offline", attempt: 0 });
    },
    send(roomId, body) {
      if (body.trim().length === 0) return { ok: false, code: "MESSAGE_BLANK" };
      if (body.length > LIMITS.messageMax) return { ok: false, code: "MESSAGE_TOO_LONG" };
      const pending: PendingMessage = { clientId: randomId(), roomId, body, createdAt: now(), status: "sending", attempts: 0, error: null };
      // Persist before showing: once the user sees "sending", a reload cannot lose it.
      persist(pending, orderCounter++);
      set((s) => addPending(s, pending));
      client.setTyping(roomId, false);
      void flush();
      return { ok: true, clientId: pending.clientId };
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
    setActiveRoom(roomId) {
      set((s) => ({ ...s, activeRoomId: roomId }));
      if (roomId && !store.getState().timelines[roomId]?.loaded) void loadLatest(roomId);
    },
    loadOlder: (roomId) => loadPage(roomId, "older"),
    loadNewer: (roomId) => loadPage(roomId, "newer"),
    async jumpToLatest(roomId) {
      if (!store.getState().timelines[roomId]?.hasNewer) return;
      await loadLatest(roomId);
    },
    keepInView(roomId, seq) {
      if (seq === null) inView.delete(roomId);
      else inView.set(roomId, seq);
    },
    markRead(roomId, seq) {
      const room = store.getState().rooms[roomId];
      if (!room || seq <= room.lastReadSeq) return;
      set((s) => markReadLocally(s, roomId, seq));
      void request("room:read", { roomId, seq }).then((r) => {
        if (r.ok) set((s) => upsertRoom(s, r.data));
      });
    },
    setTyping(roomId, typing) {
      if (!socket.connected) return;
      const last = typingSent.get(roomId);
      if (typing) {
        if (last !== undefined && now() - last < LIMITS.typingRefreshMs) return;
        typingSent.set(roomId, now());
        socket.emit("typing:start", { roomId }, () => {});
      } else if (last !== undefined) {
        typingSent.delete(roomId);
        socket.emit("typing:stop", { roomId }, () => {});
      }
    },
    createRoom: (name) => request("room:create", { name }).then((r) => (applyRoomReply(r), r)),
    joinRoom: (roomId) => request("room:join", { roomId }).then((r) => (applyRoomReply(r), r)),
    async leaveRoom(roomId) {
      const r = await request("room:leave", { roomId });
      if (r.ok) set((s) => leaveRoomLocally(s, roomId));
      return r;
    },
    listRooms: (query) => request("rooms:list", query === undefined ? {} : { query }),
    listMembers: (roomId) => request("room:members", { roomId }),
    openDm: (userId) => request("dm:open", { userId }).then((r) => (applyRoomReply(r), r)),
    searchUsers: (query) => request("users:search", { query }),
    on(event, listener) {
      listeners[event].add(listener);
      return () => void listeners[event].delete(listener);
    },
  };

  /** The page before (older) or after (newer) a room's window, while the user scrolls. */
  async function loadPage(roomId: string, direction: "older" | "newer"): Promise<void> {
    const flag = direction === "older" ? "loadingOlder" : "loadingNewer";
    const t = store.getState().timelines[roomId];
    if (!t?.loaded || t[flag] || !(direction === "older" ? t.hasOlder : t.hasNewer)) return;
    const setFlag = (s: ChatState, value: boolean): ChatState => {
      const current = s.timelines[roomId];
      return current && current[flag] !== value ? { ...s, timelines: { ...s.timelines, [roomId]: { ...current, [flag]: value } } } : s;
    };
    set((s) => setFlag(s, true));
    const cursor = direction === "older" ? { beforeSeq: t.firstSeq } : { afterSeq: t.lastSeq };
    if (direction === "older") olderFrom.set(roomId, t.firstSeq);
    try {
      const result = await request("messages:fetch", { roomId, ...cursor, limit: pageSize });
      // The merge and clearing the flag are one store update: one list render per page.
      set((s) => setFlag(result.ok ? mergeMessages(s, roomId, result.data.messages, direction, windowSize, keepFrom(roomId)) : s, false));
    } catch (error) {
      set((s) => setFlag(s, false));
      throw error;
    } finally {
      if (direction === "older") olderFrom.delete(roomId);
    }
  }

  function applyRoomReply(r: AckResult<ChatState["rooms"][string]>) {
    if (r.ok) set((s) => upsertRoom(s, r.data));
  }

  return client;
}
