import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import {
  SOCKET_PATH,
  fail,
  type AckResult,
  type ClientEventName,
  type ClientPayload,
  type ClientReplies,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from "@parley/shared";
import { backoffDelay, type CoreContext } from "./context.js";
import type { ConnectionStatus } from "./state.js";

export type ParleyClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * What the core uses of a connection: the slice of Socket.IO's client socket it calls. A tab that
 * relays through another tab's socket (shared-transport.ts, ADR 0017) gives the same slice, so the
 * outbox, sync and the event table run unchanged over either.
 */
export interface CoreSocket {
  readonly connected: boolean;
  /** Like Socket.IO's: the promise rejects when no ack came within `ms`. */
  timeout(ms: number): {
    emitWithAck<E extends ClientEventName>(event: E, payload: ClientPayload<E>): Promise<AckResult<ClientReplies[E]>>;
  };
  /** A command whose ack is not awaited (typing). */
  emit<E extends ClientEventName>(event: E, payload: ClientPayload<E>, ack: (result: AckResult<ClientReplies[E]>) => void): void;
  on<E extends keyof ServerToClientEvents>(event: E, listener: ServerToClientEvents[E]): unknown;
}

/** The socket and the connection state in the store: connects, reconnects, follows online/offline. */
export interface Transport {
  readonly socket: CoreSocket;
  /** One command with an ack; a lost ack or no connection becomes an `INTERNAL` failure. */
  request<E extends ClientEventName>(event: E, payload: ClientPayload<E>, timeoutMs?: number): Promise<AckResult<ClientReplies[E]>>;
  /**
   * A read the client cannot do without (sync, catch-up, a room's first page): retried with
   * backoff while connected when the server did not answer or failed internally. Refusals (not a
   * member, unknown room) are final; a disconnect ends the tries, and the next connect resyncs.
   */
  requestUntilAnswered<E extends ClientEventName>(event: E, payload: ClientPayload<E>): Promise<AckResult<ClientReplies[E]>>;
  /** Settles when the current connection drops, so an in-flight send stops waiting for its ack. */
  connectionLost(): Promise<"disconnected">;
  /** Opens the socket unless the browser says it is offline (then waits for `online`). */
  open(): void;
  /** Closes the socket and stops following online/offline. */
  close(): void;
}

/** How the client makes its transport (ChatClientOptions.transport); `createTransport` by default. */
export type TransportFactory = (ctx: CoreContext, options: TransportOptions) => Transport;

export interface TransportOptions {
  url: string | undefined;
  socketOptions: Partial<ManagerOptions & SocketOptions> | undefined;
  /** Called on every (re)connect, after the connection state says so. */
  onConnect(): void;
}

const offlineNow = () => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;

/**
 * `request` and `requestUntilAnswered` over any CoreSocket (the socket's own, or a relayed one).
 */
export function requestsOver(ctx: CoreContext, socket: CoreSocket): Pick<Transport, "request" | "requestUntilAnswered"> {
  function request<E extends ClientEventName>(event: E, payload: ClientPayload<E>, timeoutMs = ctx.ackTimeoutMs): Promise<AckResult<ClientReplies[E]>> {
    if (!socket.connected) return Promise.resolve(fail("INTERNAL", "Not connected") as AckResult<ClientReplies[E]>);
    return socket.timeout(timeoutMs).emitWithAck(event, payload).catch(() => fail("INTERNAL", "The server did not answer in time") as AckResult<ClientReplies[E]>);
  }

  async function requestUntilAnswered<E extends ClientEventName>(event: E, payload: ClientPayload<E>): Promise<AckResult<ClientReplies[E]>> {
    for (let attempt = 1; ; attempt++) {
      const result = await request(event, payload);
      if (result.ok || result.error.code !== "INTERNAL" || attempt >= ctx.maxAttempts || !socket.connected || ctx.closed) return result;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt)));
      if (!socket.connected || ctx.closed) return result;
    }
  }

  return { request, requestUntilAnswered };
}

/**
 * Socket.IO's typed socket as a CoreSocket. Its `emitWithAck` and `on` cannot take a generic event
 * name (their types are resolved per name); CoreSocket's signatures pair names and payloads instead.
 */
export function asCoreSocket(socket: ParleyClientSocket): CoreSocket {
  return socket as unknown as CoreSocket;
}

/** The transport over a socket of this tab's own, and that socket (a relaying leader listens to all of it). */
export function createSocketTransport(ctx: CoreContext, options: TransportOptions): { transport: Transport; socket: ParleyClientSocket } {
  const { setConnection } = ctx;
  const socketOptions: Partial<ManagerOptions & SocketOptions> = {
    path: SOCKET_PATH,
    autoConnect: false,
    withCredentials: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5_000,
    ...options.socketOptions,
  };
  const socket: ParleyClientSocket = options.url ? io(options.url, socketOptions) : io(socketOptions);

  const { request, requestUntilAnswered } = requestsOver(ctx, asCoreSocket(socket));

  let connectionLost: Promise<"disconnected"> = new Promise(() => {});
  let signalConnectionLost: () => void = () => {};
  function armConnectionLost() {
    connectionLost = new Promise((resolve) => (signalConnectionLost = () => resolve("disconnected")));
  }

  socket.on("connect", () => {
    armConnectionLost();
    setConnection({ status: "connected", attempt: 0, error: null });
    options.onConnect();
  });
  socket.on("disconnect", (reason) => {
    signalConnectionLost();
    const status: ConnectionStatus = offlineNow() ? "offline" : "reconnecting";
    setConnection({ status, catchingUp: false });
    // The server closed this socket (sign-out elsewhere, or it restarted cleanly): socket.io does
    // not reconnect by itself then. Trying again tells a dead session (UNAUTHENTICATED) apart.
    // Offline, the `online` listener does that instead.
    if (reason === "io server disconnect" && !ctx.closed && !offlineNow()) socket.connect();
  });
  socket.on("connect_error", (err) => {
    if (err.message === "UNAUTHENTICATED") {
      setConnection({ status: "offline", error: "UNAUTHENTICATED" });
      return;
    }
    setConnection({ status: offlineNow() ? "offline" : "reconnecting", error: err.message });
    // A refusal by a middleware is not retried by socket.io; anything else is.
    if (!socket.active && !ctx.closed) setTimeout(() => !ctx.closed && !socket.connected && !offlineNow() && socket.connect(), 2_000);
  });
  socket.io.on("reconnect_attempt", (attempt) => setConnection({ attempt, status: offlineNow() ? "offline" : "reconnecting" }));

  // While the browser says it is offline, every request would fail (and log an error in the
  // console): stop socket.io's reconnection attempts, and reconnect at once when it is back.
  const onlineListener = () => {
    if (ctx.closed) return;
    socket.io.reconnection(true);
    if (!socket.connected) {
      setConnection({ status: "reconnecting" });
      socket.connect();
    }
  };
  const offlineListener = () => {
    if (ctx.closed) return;
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

  const transport: Transport = {
    socket: asCoreSocket(socket),
    request,
    requestUntilAnswered,
    connectionLost: () => connectionLost,
    open() {
      if (offlineNow()) {
        offlineListener();
        return;
      }
      if (!socket.connected && !socket.active) socket.connect();
    },
    close() {
      socket.disconnect();
      g.removeEventListener?.("online", onlineListener);
      g.removeEventListener?.("offline", offlineListener);
    },
  };
  return { transport, socket };
}

/** The default TransportFactory: one socket of this tab's own. */
export const createTransport: TransportFactory = (ctx, options) => createSocketTransport(ctx, options).transport;
