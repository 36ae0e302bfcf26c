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

/** The socket and the connection state in the store: connects, reconnects, follows online/offline. */
export interface Transport {
  readonly socket: ParleyClientSocket;
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

export interface TransportOptions {
  url: string | undefined;
  socketOptions: Partial<ManagerOptions & SocketOptions> | undefined;
  /** Called on every (re)connect, after the connection state says so. */
  onConnect(): void;
}

const offlineNow = () => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;

export function createTransport(ctx: CoreContext, options: TransportOptions): Transport {
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

  function request<E extends ClientEventName>(event: E, payload: ClientPayload<E>, timeoutMs = ctx.ackTimeoutMs): Promise<AckResult<ClientReplies[E]>> {
    if (!socket.connected) return Promise.resolve(fail("INTERNAL", "Not connected") as AckResult<ClientReplies[E]>);
    // The typed emitWithAck cannot take a generic event name; payload and reply types are checked
    // by this function's signature instead.
    const timed = socket.timeout(timeoutMs) as unknown as {
      emitWithAck(e: E, p: ClientPayload<E>): Promise<AckResult<ClientReplies[E]>>;
    };
    return timed.emitWithAck(event, payload).catch(() => fail("INTERNAL", "The server did not answer in time") as AckResult<ClientReplies[E]>);
  }

  async function requestUntilAnswered<E extends ClientEventName>(event: E, payload: ClientPayload<E>): Promise<AckResult<ClientReplies[E]>> {
    for (let attempt = 1; ; attempt++) {
      const result = await request(event, payload);
      if (result.ok || result.error.code !== "INTERNAL" || attempt >= ctx.maxAttempts || !socket.connected || ctx.closed) return result;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt)));
      if (!socket.connected || ctx.closed) return result;
    }
  }

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

  return {
    socket,
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
}
