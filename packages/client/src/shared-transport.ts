import { fail, type AckResult, type ClientEventName, type ClientPayload, type ClientReplies, type ServerToClientEvents } from "@parley/shared";
import type { CoreContext } from "./context.js";
import type { ConnectionStatus } from "./state.js";
import { asCoreSocket, createSocketTransport, requestsOver, type CoreSocket, type Transport, type TransportOptions } from "./transport.js";

/**
 * One connection per browser (ADR 0017). Every tab of a signed-in account runs its own client
 * core (store, outbox, sync, event table) over a SharedTransport. The tab holding the account's
 * Web Lock is the leader: its SharedTransport opens the only socket and serves the others over a
 * BroadcastChannel. The others (followers) send their commands to the leader, which emits them on
 * its socket and posts the ack back, and they apply the server events the leader rebroadcasts.
 *
 * Why nothing is lost or doubled when the leader goes: a follower's command in flight to a leader
 * that is gone is failed at once (like a send whose connection dropped): the outbox sends it again
 * through the next leader, and the server answers a repeated client id with the stored message.
 * A command is run only by the leader it was addressed to, and an ack is taken only once, so a
 * command is never run twice by two leaders or settled twice. Events are not counted on: every
 * follower catches up by seq each time its leader's socket (re)connects, as after any reconnect
 * (ADR 0002), and the store merges by seq and id.
 */

/** What the tabs say to each other on the channel. */
export type RelayMessage =
  /** A follower asks the leader to say where it stands (it just opened). */
  | { t: "hello"; from: string }
  /**
   * The leader's connection state, posted on every change and in answer to `hello`. `since`: when
   * this tab became leader; a status from an earlier leader is stale.
   */
  | { t: "status"; leader: string; since: number; connected: boolean; error: string | null }
  /** A follower's command for the leader `to`; `timeoutMs` null: no ack is awaited (typing). */
  | { t: "cmd"; id: string; from: string; to: string; event: ClientEventName; payload: unknown; timeoutMs: number | null }
  /** The leader's answer to command `id` of tab `to`; `result` null: the server did not answer in time. */
  | { t: "ack"; id: string; to: string; result: AckResult<unknown> | null }
  /** A server event the leader's socket received, for every other tab. */
  | { t: "event"; leader: string; event: keyof ServerToClientEvents; args: unknown[] };

/** The channel between the tabs of one account (a BroadcastChannel in the browser, a fake in tests). */
export interface RelayChannel {
  /** Delivered to every other tab, never back to this one (BroadcastChannel's rule). */
  postMessage(message: RelayMessage): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: (message: RelayMessage) => void): () => void;
}

/** The leader's own socket as the relay uses it: the core's slice plus every event it receives. */
export type LeaderSocket = CoreSocket & { onAny(listener: (event: string, ...args: unknown[]) => void): unknown };

export interface SharedTransportOptions {
  channel: RelayChannel;
  /** This tab's id, unique per page load. */
  tabId: string;
  /** Opens the leader's socket (default: Socket.IO through `createSocketTransport`; tests give a fake server). */
  openSocket?: (ctx: CoreContext, options: TransportOptions) => { transport: Transport; socket: LeaderSocket };
}

const openSocketIo: NonNullable<SharedTransportOptions["openSocket"]> = (ctx, options) => {
  const { transport, socket } = createSocketTransport(ctx, options);
  return { transport, socket: asCoreSocket(socket) as LeaderSocket };
};

/** A transport that relays through the leader tab until `promote()` makes this tab the leader. */
export interface SharedTransport extends Transport {
  /** This tab now holds the lock: open the socket and serve the other tabs. Idempotent. */
  promote(): void;
  readonly role: "leader" | "follower";
}

/**
 * Why 2 s on top of the ack timeout: the leader itself times the command out after `timeoutMs`
 * and answers `null`; the margin covers the hop over the channel both ways (microseconds
 * normally, a busy main thread at worst). Past it the leader is taken as unresponsive and the
 * command as unanswered, which the outbox retries.
 */
export const RELAY_MARGIN_MS = 2_000;

const offlineNow = () => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;

type Listener = (...args: unknown[]) => void;

interface InFlight {
  leader: string;
  resolve(result: AckResult<unknown>): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export function createSharedTransport(ctx: CoreContext, options: TransportOptions & SharedTransportOptions): SharedTransport {
  const { channel, tabId } = options;
  const { setConnection } = ctx;
  /** Server-event listeners the core bound, kept to bind them to the socket on promotion. */
  const listeners = new Map<string, Set<Listener>>();
  let role: "leader" | "follower" = "follower";
  let opened = false;

  // ---- follower side --------------------------------------------------------------------------

  let leaderId: string | null = null;
  let leaderSince = -Infinity;
  let leaderConnected = false;
  const inFlight = new Map<string, InFlight>();

  let connectionLost: Promise<"disconnected"> = new Promise(() => {});
  let signalConnectionLost: () => void = () => {};
  const armConnectionLost = () => {
    connectionLost = new Promise((resolve) => (signalConnectionLost = () => resolve("disconnected")));
  };

  /** Every command sent to a leader that is gone fails now, not at its timeout: the outbox resends it. */
  function failInFlight(reason: string): void {
    for (const [id, f] of inFlight) {
      clearTimeout(f.timer);
      inFlight.delete(id);
      f.reject(new Error(reason));
    }
  }

  function followerUp(): void {
    leaderConnected = true;
    armConnectionLost();
    setConnection({ status: "connected", attempt: 0, error: null });
    // Catch-up by seq from here (ADR 0002): the leader's socket joined its rooms before it said
    // "connected", and every event it gets from now on is relayed after that status.
    if (!ctx.closed) options.onConnect();
  }

  function followerDown(error: string | null): void {
    const wasUp = leaderConnected;
    leaderConnected = false;
    failInFlight("The leader tab lost its connection");
    if (wasUp) signalConnectionLost();
    const status: ConnectionStatus = error === "UNAUTHENTICATED" || offlineNow() ? "offline" : "reconnecting";
    setConnection({ status, catchingUp: false, ...(error !== null ? { error } : {}) });
  }

  function onStatus(m: Extract<RelayMessage, { t: "status" }>): void {
    if (m.since < leaderSince) return; // from a leader that has been replaced
    if (m.leader !== leaderId) {
      // A new leader: whatever the old one had in hand is lost with it.
      if (leaderConnected) followerDown(null);
      failInFlight("The leader tab changed");
      leaderId = m.leader;
      leaderSince = m.since;
    }
    if (m.connected && !leaderConnected) followerUp();
    else if (!m.connected) followerDown(m.error);
  }

  function relay(event: ClientEventName, payload: unknown, timeoutMs: number | null): Promise<AckResult<unknown>> {
    const to = leaderId;
    if (!leaderConnected || to === null) return Promise.reject(new Error("Not connected"));
    const id = ctx.randomId();
    channel.postMessage({ t: "cmd", id, from: tabId, to, event, payload, timeoutMs });
    if (timeoutMs === null) return Promise.resolve(fail("INTERNAL", "No ack awaited"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        inFlight.delete(id);
        reject(new Error("The leader tab did not answer in time"));
      }, timeoutMs + RELAY_MARGIN_MS);
      inFlight.set(id, { leader: to, resolve, reject, timer });
    });
  }

  function onAck(m: Extract<RelayMessage, { t: "ack" }>): void {
    if (m.to !== tabId) return;
    const f = inFlight.get(m.id);
    // Settled already (timed out, or its leader was replaced and it was failed): a late ack is
    // dropped; the command's retry gets its own.
    if (!f) return;
    inFlight.delete(m.id);
    clearTimeout(f.timer);
    if (m.result === null) f.reject(new Error("The server did not answer in time"));
    else f.resolve(m.result);
  }

  function onEvent(m: Extract<RelayMessage, { t: "event" }>): void {
    if (role !== "follower") return;
    for (const l of listeners.get(m.event) ?? []) l(...m.args);
  }

  // ---- leader side ----------------------------------------------------------------------------

  let own: { transport: Transport; socket: LeaderSocket } | null = null;
  let since = 0;
  let stopStatusWatch: (() => void) | null = null;

  function statusNow(): RelayMessage {
    const c = ctx.store.getState().connection;
    return { t: "status", leader: tabId, since, connected: own?.socket.connected === true, error: c.error === "UNAUTHENTICATED" ? c.error : null };
  }

  /**
   * The server tells the user's *other* sockets of a read (`room:read` answers the reader and sends
   * `room:upserted` with `socket.to(user)`): with one socket for the browser, the other tabs sit
   * behind the reader's socket and would never hear of it. The leader passes the answer on as that
   * event: to its own core when a follower read, and to every other tab.
   */
  function echoRead(event: ClientEventName, result: AckResult<unknown>, fromFollower: boolean): void {
    if (event !== "room:read" || !result.ok) return;
    if (fromFollower) for (const l of listeners.get("room:upserted") ?? []) l(result.data);
    channel.postMessage({ t: "event", leader: tabId, event: "room:upserted", args: [result.data] });
  }

  function runCommand(m: Extract<RelayMessage, { t: "cmd" }>): void {
    const socket = own?.socket;
    // Addressed to the tab that led before this one: its sender has failed it and will send it
    // again to this tab. Running it too could apply it twice (a read, a join are not idempotent).
    if (!socket || m.to !== tabId) return;
    const core = socket;
    const event = m.event;
    const payload = m.payload as ClientPayload<typeof event>;
    if (m.timeoutMs === null) {
      core.emit(event, payload, () => {});
      return;
    }
    if (!socket.connected) {
      // Socket.IO would buffer it until the reconnect; the follower is told "not answered" now and
      // its outbox or sync goes again after the reconnect, as this tab's own would.
      channel.postMessage({ t: "ack", id: m.id, to: m.from, result: null });
      return;
    }
    core
      .timeout(m.timeoutMs)
      .emitWithAck(event, payload)
      .then(
        (result) => {
          channel.postMessage({ t: "ack", id: m.id, to: m.from, result });
          echoRead(event, result, true);
        },
        () => channel.postMessage({ t: "ack", id: m.id, to: m.from, result: null }),
      );
  }

  function promote(): void {
    if (role === "leader") return;
    role = "leader";
    // Commands sent to the previous leader are lost with it; the outbox resends through this tab.
    if (leaderConnected) followerDown(null);
    failInFlight("This tab became the leader");
    leaderId = tabId;
    since = Math.max(Date.now(), leaderSince + 1);
    leaderSince = since;
    own = (options.openSocket ?? openSocketIo)(ctx, { url: options.url, socketOptions: options.socketOptions, onConnect: options.onConnect });
    for (const [event, set] of listeners) for (const l of set) own.socket.on(event as keyof ServerToClientEvents, l as never);
    // Every server event goes to the other tabs too (the core's table is bound above for this one).
    own.socket.onAny((event: string, ...args: unknown[]) => {
      channel.postMessage({ t: "event", leader: tabId, event: event as keyof ServerToClientEvents, args });
    });
    // Every store update passes here (each message): only a change of what followers see is posted.
    const post = () => {
      const m = statusNow();
      const key = m.t === "status" ? `${m.connected}:${m.error}` : "";
      if (key !== last) {
        last = key;
        channel.postMessage(m);
      }
    };
    let last = "";
    stopStatusWatch = ctx.store.subscribe(post);
    post();
    if (opened && !ctx.closed) own.transport.open();
  }

  const unsubscribe = channel.subscribe((m) => {
    switch (m.t) {
      case "hello":
        if (role === "leader") channel.postMessage(statusNow());
        return;
      case "status":
        if (role === "follower") onStatus(m);
        return;
      case "cmd":
        if (role === "leader") runCommand(m);
        return;
      case "ack":
        onAck(m);
        return;
      case "event":
        onEvent(m);
        return;
    }
  });

  // ---- what the core sees -----------------------------------------------------------------------

  const socket: CoreSocket = {
    get connected() {
      return own ? own.socket.connected : leaderConnected;
    },
    timeout(ms) {
      return {
        emitWithAck<E extends ClientEventName>(event: E, payload: ClientPayload<E>): Promise<AckResult<ClientReplies[E]>> {
          if (own) {
            return own.transport.socket
              .timeout(ms)
              .emitWithAck(event, payload)
              .then((result) => {
                echoRead(event, result, false);
                return result;
              });
          }
          return relay(event, payload, ms) as Promise<AckResult<ClientReplies[E]>>;
        },
      };
    },
    emit(event, payload, ack) {
      if (own) own.transport.socket.emit(event, payload, ack);
      else void relay(event, payload, null).catch(() => {});
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as Listener);
      if (own) own.socket.on(event, listener as never);
    },
  };

  const { request, requestUntilAnswered } = requestsOver(ctx, socket);

  return {
    socket,
    request,
    requestUntilAnswered,
    connectionLost: () => (own ? own.transport.connectionLost() : connectionLost),
    open() {
      opened = true;
      if (own) own.transport.open();
      else {
        setConnection({ status: offlineNow() ? "offline" : "reconnecting" });
        channel.postMessage({ t: "hello", from: tabId });
      }
    },
    close() {
      opened = false;
      failInFlight("Closed");
      unsubscribe();
      stopStatusWatch?.();
      if (own) {
        own.transport.close();
        // The next leader announces itself; until then the others are without a connection.
        channel.postMessage({ t: "status", leader: tabId, since, connected: false, error: null });
      }
    },
    promote,
    get role() {
      return role;
    },
  };
}

/**
 * The slice of the Web Locks API the election uses (`navigator.locks`), so tests can give a fake.
 */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

/**
 * Waits for the exclusive lock `name` and holds it until `stop()` (or the page's end, when the
 * browser releases it): `onLeader` runs once the lock is granted. Every tab of the account queues
 * for the same lock, so when the leader's page goes (closed, reloaded, crashed) the browser grants
 * it to the next tab at once.
 */
export function electLeader(locks: LockManagerLike, name: string, onLeader: () => void): { stop(): void } {
  const abort = new AbortController();
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  locks
    .request(name, { signal: abort.signal }, async () => {
      if (abort.signal.aborted) return;
      onLeader();
      await held;
    })
    // AbortError: stopped while still waiting for the lock.
    .catch(() => {});
  return {
    stop() {
      abort.abort();
      release();
    },
  };
}
