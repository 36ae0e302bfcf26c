import { applyProfiles } from "./profiles.js";
import type { ManagerOptions, SocketOptions } from "socket.io-client";
import { createStore } from "zustand/vanilla";
import { LIMITS, type AckResult, type Message } from "@parley/shared";
import type { ChatClient, ChatClientEvents, OutboxStorage, UploadTransport } from "./api.js";
import { ACK_TIMEOUT_MS, MAX_SEND_ATTEMPTS, createCoreContext } from "./context.js";
import { createOutboxSender, type NewChange } from "./outbox-sender.js";
import { DEFAULT_WINDOW_SIZE, applyHeldCopies, leaveRoomLocally, markReadLocally, upsertRoom, uploadsState } from "./reconcile.js";
import { applyMutes, applyReport, dismissRemoval, replaceOpenReports, setMutedLocally } from "./moderation.js";
import { bindServerEvents, createServerEvents } from "./server-events.js";
import { createInitialState, type ChatState } from "./state.js";
import { createSync } from "./sync.js";
import { selectComposerUploads } from "./selectors.js";
import { createTransport, type TransportFactory } from "./transport.js";
import { createUploader } from "./uploads.js";

export type { CoreSocket, ParleyClientSocket, Transport, TransportFactory, TransportOptions } from "./transport.js";

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
  /**
   * How files are uploaded (the web app: XMLHttpRequest). Without it `attach` refuses every file
   * (bots and tests that do not send files).
   */
  uploads?: UploadTransport;
  /**
   * How the client reaches the server (default: a socket of its own). The web app's shared
   * connection (ADR 0017) gives a transport that relays through the leader tab's socket.
   */
  transport?: TransportFactory;
}

/**
 * The realtime core: one socket, one store. It owns delivery: the outbox (persisted, sent in order
 * one at a time, retried with backoff, idempotent by client id), catch-up by seq after every
 * (re)connect and on every gap, and reconciliation of everything the server says into the store.
 *
 * The parts: transport.ts (socket and connection state), outbox-sender.ts, sync.ts (resync,
 * catch-up, paging) and server-events.ts (one entry per server event, each calling a pure reducer
 * from reconcile.ts). This function wires them and answers the UI's commands.
 */
export function createChatClient(options: ChatClientOptions): ChatClient {
  const store = createStore<ChatState>(() => createInitialState());
  const ctx = createCoreContext(store, {
    now: options.now ?? Date.now,
    randomId: options.randomId ?? (() => globalThis.crypto.randomUUID()),
    ackTimeoutMs: options.ackTimeoutMs ?? ACK_TIMEOUT_MS,
    maxAttempts: options.maxSendAttempts ?? MAX_SEND_ATTEMPTS,
    windowSize: options.windowSize ?? DEFAULT_WINDOW_SIZE,
    // The largest page the server allows: scrolling through a long room costs half the round trips
    // (and store merges) of 100-message pages, and 200 rows still render in one frame.
    pageSize: Math.min(options.pageSize ?? LIMITS.pageMax, LIMITS.pageMax),
  });
  const { set, now } = ctx;
  const outbox = options.outbox;
  const listeners: { [E in keyof ChatClientEvents]: Set<ChatClientEvents[E]> } = { message: new Set() };

  // The parts call each other only once the socket is connected, after all of them exist.
  const transport = (options.transport ?? createTransport)(ctx, {
    url: options.url,
    socketOptions: options.socketOptions,
    onConnect: () => {
      // After the sync: it says whether I moderate anything (my roles, admin).
      void sync.resync().then(refreshReports);
      uploader.resume();
    },
  });
  const { socket, request, requestUntilAnswered } = transport;
  const sender = createOutboxSender(ctx, transport, outbox, {
    catchUp: (roomId) => sync.catchUp(roomId),
    catchUpChanges: (roomId) => sync.catchUpChanges(roomId),
    keepFrom: (roomId) => sync.keepFrom(roomId),
  });
  const sync = createSync(ctx, transport, { flush: () => sender.flush() });
  const uploader = createUploader(
    ctx,
    transport,
    options.uploads,
    {
      // Uploads go over HTTP to the same origin as the socket (the page's own in the browser).
      baseUrl: options.url ? options.url.replace(/\/+$/, "") : "",
      isOffline: () => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false,
    },
    { onDone: (id) => sender.uploadsChanged(id), onFailed: (id) => sender.uploadsChanged(id) },
  );
  const events = createServerEvents(ctx, {
    outbox,
    catchUp: sync.catchUp,
    catchUpChanges: sync.catchUpChanges,
    refreshRooms: sync.refreshRooms,
    refreshReports: () => refreshReports(),
    keepFrom: sync.keepFrom,
    onMessage: (message) => {
      for (const listener of listeners.message) listener(message);
    },
  });
  bindServerEvents(socket, events.table);
  const unsubscribeOutbox = outbox.subscribe?.(() => sender.reload());

  // ---- typing (outgoing) ----------------------------------------------------------------------

  const typingSent = new Map<string, number>();

  /** The held copy of a message, wherever its room is (changes are only made to held messages). */
  function findHeld(messageId: string): Message | undefined {
    for (const messages of Object.values(store.getState().messages)) {
      const m = messages[messageId];
      if (m) return m;
    }
    return undefined;
  }

  /** Queues a change and starts the outbox. */
  function queueChange(change: NewChange): { ok: true; changeId: string } {
    const c = sender.addChange(change);
    void sender.flush();
    return { ok: true, changeId: c.changeId };
  }

  const client: ChatClient = {
    store,
    connect() {
      ctx.closed = false;
      const s = store.getState();
      if (s.pendingOrder.length === 0 && s.changeOrder.length === 0) sender.reload();
      transport.open();
    },
    disconnect() {
      ctx.closed = true;
      sender.stop();
      uploader.stop();
      events.stop();
      transport.close();
      unsubscribeOutbox?.();
      ctx.setConnection({ status: "offline", attempt: 0 });
    },
    send(roomId, body, options) {
      const files = selectComposerUploads(store.getState(), roomId);
      if (body.trim().length === 0 && files.length === 0) return { ok: false, code: "MESSAGE_BLANK" };
      if (body.length > LIMITS.messageMax) return { ok: false, code: "MESSAGE_TOO_LONG" };
      if (files.some((f) => f.status === "failed")) return { ok: false, code: "UPLOAD_FAILED" };
      const pending = sender.add(
        roomId,
        body,
        options?.replyToId ?? null,
        files.map((f) => f.uploadId),
      );
      client.setTyping(roomId, false);
      void sender.flush();
      return { ok: true, clientId: pending.clientId };
    },
    edit(messageId, body) {
      if (body.trim().length === 0) return { ok: false, code: "MESSAGE_BLANK" };
      if (body.length > LIMITS.messageMax) return { ok: false, code: "MESSAGE_TOO_LONG" };
      const held = findHeld(messageId);
      if (!held) return { ok: false, code: "MESSAGE_NOT_FOUND" };
      // The base is the stored copy (the server's state), not what an earlier pending edit shows:
      // the sender re-bases this edit when that earlier one of mine is applied.
      return queueChange({ kind: "edit", roomId: held.roomId, messageId, body, baseVersion: held.version });
    },
    deleteMessage(messageId) {
      const held = findHeld(messageId);
      if (!held) return { ok: false, code: "MESSAGE_NOT_FOUND" };
      return queueChange({ kind: "delete", roomId: held.roomId, messageId });
    },
    react(messageId, emoji, on) {
      const held = findHeld(messageId);
      if (!held) return { ok: false, code: "MESSAGE_NOT_FOUND" };
      return queueChange({ kind: "react", roomId: held.roomId, messageId, emoji, on });
    },
    retryChange: (changeId) => sender.retryChange(changeId),
    discardChange: (changeId) => sender.discardChange(changeId),
    jumpTo: (roomId, seq) => sync.jumpTo(roomId, seq),
    retry: (clientId) => sender.retry(clientId, (uploadId) => uploader.retry(uploadId)),
    discard(clientId) {
      // Its uploads still running are of no use any more.
      for (const id of store.getState().pending[clientId]?.uploadIds ?? []) uploader.abort(id);
      sender.discard(clientId);
    },
    attach: (roomId, files) => uploader.attach(roomId, files),
    cancelUpload(uploadId) {
      uploader.abort(uploadId);
      sender.removeUpload(uploadId);
    },
    retryUpload(uploadId) {
      if (uploader.retry(uploadId)) {
        // A message that failed because of it waits for it again.
        const s = store.getState();
        const owner = s.uploads[uploadId]?.clientId;
        const p = owner ? s.pending[owner] : undefined;
        // Only once no other file of it is failed: retry drops those it cannot restart.
        if (p?.status === "failed" && uploadsState(s, p) !== "failed") sender.retry(p.clientId);
      }
    },
    setActiveRoom(roomId) {
      set((s) => ({ ...s, activeRoomId: roomId }));
      if (roomId && !store.getState().timelines[roomId]?.loaded) void sync.loadLatest(roomId);
    },
    loadOlder: (roomId) => sync.loadPage(roomId, "older"),
    loadNewer: (roomId) => sync.loadPage(roomId, "newer"),
    async jumpToLatest(roomId) {
      if (!store.getState().timelines[roomId]?.hasNewer) return;
      await sync.loadLatest(roomId);
    },
    keepInView: (roomId, seq) => sync.keepInView(roomId, seq),
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
    searchMessages: (query) => request("search:messages", query),
    readMessagesAfter: (roomId, afterSeq, limit) => requestUntilAnswered("messages:fetch", { roomId, afterSeq, limit: Math.min(limit, LIMITS.pageMax) }),
    updateRoom(roomId, patch) {
      const payload: { roomId: string; name?: string; topic?: string; inviteOnly?: boolean } = { roomId };
      if (patch.name !== undefined) payload.name = patch.name;
      if (patch.topic !== undefined) payload.topic = patch.topic;
      if (patch.inviteOnly !== undefined) payload.inviteOnly = patch.inviteOnly;
      return request("room:update", payload).then((r) => (applyRoomReply(r), r));
    },
    setRole: (roomId, userId, role) => request("room:setRole", { roomId, userId, role }),
    kick: (roomId, userId) => request("room:kick", { roomId, userId }),
    ban: (roomId, userId, reason) => request("room:ban", reason === undefined || reason.trim() === "" ? { roomId, userId } : { roomId, userId, reason }),
    unban: (roomId, userId) => request("room:unban", { roomId, userId }),
    listBans: (roomId) => request("room:bans", { roomId }),
    invite: (roomId, userId) => request("room:invite", { roomId, userId }),
    listAudit: (roomId, limit) => request("room:audit", limit === undefined ? { roomId } : { roomId, limit }),
    async removeMessage(messageId) {
      const r = await request("message:delete", { messageId });
      // Held copies show it at once; the live `message:updated` moves the room's version as usual.
      if (r.ok) set((s) => applyHeldCopies(s, r.data.roomId, [r.data]));
      return r;
    },
    async mute(userId, on) {
      const before = store.getState().muted;
      set((s) => setMutedLocally(s, userId, on));
      const r = await request("user:mute", { userId, on });
      // Refused or lost: back to what the server last said (the next sync settles it anyway).
      set((s) => (r.ok ? applyMutes(s, r.data.mutedUserIds) : { ...s, muted: before }));
      // A muted person's messages do not count as unread (the shared rule): the server's counts
      // of every room change with the mute, so read them again.
      if (r.ok) void sync.refreshRooms();
      return r;
    },
    reportMessage: (messageId, reason) =>
      request("message:report", reason === undefined || reason.trim() === "" ? { messageId } : { messageId, reason }),
    async listReports(query) {
      const payload: { roomId?: string; resolved?: boolean } = {};
      if (query.roomId !== undefined) payload.roomId = query.roomId;
      if (query.resolved !== undefined) payload.resolved = query.resolved;
      const r = await request("reports:list", payload);
      if (r.ok) set((s) => r.data.reduce(applyReport, s));
      return r;
    },
    async resolveReport(reportId) {
      const r = await request("report:resolve", { reportId });
      if (r.ok) set((s) => applyReport(s, r.data));
      return r;
    },
    setAccountActive: (userId, active) => request("admin:setActive", { userId, active }),
    dismissRemoval: (id) => set((s) => dismissRemoval(s, id)),
    async updateProfile(patch) {
      const r = await request("profile:update", patch);
      if (r.ok) set((s) => applyProfiles(s, [r.data]));
      return r;
    },
    async fetchProfiles(userIds) {
      const r = await request("profiles:get", { userIds: [...userIds] });
      if (r.ok) set((s) => applyProfiles(s, r.data));
      return r;
    },
    applyProfile: (profile) => set((s) => applyProfiles(s, [profile])),
    setNotifyLevel: (roomId, level) => request("room:notify", { roomId, level }).then((r) => (applyRoomReply(r), r)),
    on(event, listener) {
      listeners[event].add(listener);
      return () => void listeners[event].delete(listener);
    },
  };

  /**
   * The open reports of the rooms I moderate, after each sync: `report:updated` only tells what
   * happens while connected, so what was filed or resolved meanwhile comes from the list. Skipped
   * (no request) for a user who moderates nothing.
   */
  async function refreshReports(): Promise<void> {
    const s = store.getState();
    const moderates = s.isAdmin || Object.values(s.rooms).some((r) => r.kind === "public" && r.role !== "member");
    if (!moderates) return;
    const r = await request("reports:list", { resolved: false });
    if (r.ok) set((st) => replaceOpenReports(st, r.data));
  }

  function applyRoomReply(r: AckResult<ChatState["rooms"][string]>) {
    if (r.ok) set((s) => upsertRoom(s, r.data));
  }

  return client;
}
