import type { Server as HttpServer } from "node:http";
import { parse as parseCookie } from "cookie";
import { Server, type ServerOptions } from "socket.io";
import { SOCKET_PATH } from "@parley/shared";
import { sessionTokenFromCookies } from "../http/cookies.js";
import { createOriginPolicy, type OriginPolicy } from "../http/origin.js";
import { DomainError } from "../domain/errors.js";
import { withContext, type Logger } from "../logger.js";
import type { Services } from "../services.js";
import type { Storage } from "../storage/storage.js";
import { singleRoomFanout } from "./adapters.js";
import { corkWritesPerTurn } from "./cork.js";
import { crashProofConnection, crashProofMiddleware } from "./crash-proof.js";
import { createDrain, type Drain } from "./drain.js";
import { CommandTable } from "./handle.js";
import { registerMessageHandlers } from "./message.handlers.js";
import { registerModerationHandlers } from "./moderation.handlers.js";
import { registerRoomHandlers } from "./room.handlers.js";
import { registerProfileHandlers } from "./profile.handlers.js";
import { channel, type ParleyServer, type ParleySocket } from "./types.js";

/** The error a refused handshake carries: `connect_error` with message "UNAUTHENTICATED". */
function unauthenticated(): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error("UNAUTHENTICATED"), {
    data: { code: "UNAUTHENTICATED", message: "Sign in to connect." },
  });
}

/**
 * setTimeout's longest delay (2^31-1 ms, ~24.8 days); a longer one fires at once. Sessions live up
 * to SESSION_TTL_DAYS (30 by default), so a far expiry is reached in steps.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Disconnects `socket` when its session expires: one timer per socket, to the expiry instant.
 * Why a timer and not a periodic sweep: the expiry is known at the handshake, a timer fires at the
 * right moment (a sweep is late by up to its period, or costs a pass over every socket each
 * period), and Node keeps thousands of timers cheaply. The client's reconnect then meets the
 * handshake's own expiry check and stops with UNAUTHENTICATED.
 */
function disconnectAtExpiry(socket: { disconnect(close: boolean): unknown }, expiresAt: number, now: () => number): { current: NodeJS.Timeout } {
  const handle = { current: undefined as unknown as NodeJS.Timeout };
  const arm = () => {
    const left = expiresAt - now();
    if (left <= 0) {
      socket.disconnect(true);
      return;
    }
    handle.current = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    // A pending expiry must not keep a stopping process alive.
    handle.current.unref();
  };
  arm();
  return handle;
}

export const DEFAULT_PING_INTERVAL_MS = 15_000;
export const DEFAULT_PING_TIMEOUT_MS = 10_000;

export function createIo(
  httpServer: HttpServer,
  services: Services,
  storage: Storage,
  logger: Logger,
  options: Partial<ServerOptions> = {},
  originPolicy: OriginPolicy = createOriginPolicy(),
  /** Graceful shutdown: once it began, new Engine.IO connections and commands are refused. */
  drain: Drain = createDrain(),
): ParleyServer {
  const io: ParleyServer = new Server(httpServer, {
    path: SOCKET_PATH,
    serveClient: false,
    // Connection state recovery is OFF (ADR 0008): Socket.IO replays a recovered socket's missed
    // packets and puts it back in its rooms while constructing it, before any middleware has
    // checked the session, so a signed-out cookie with an old pid/offset still read new messages.
    // Every client catches up by seq after each reconnect anyway, which measured faster.
    maxHttpBufferSize: 64 * 1024,
    // Heartbeat: a ping every 15 s, a connection silent 10 s past it is dead. Socket.IO's default
    // (25 s + 20 s) let a half-open connection (a NAT that forgot it, a frozen proxy) look alive for
    // up to 45 s, during which the client kept spending send attempts on acks that could not come
    // (the fault test's freezes showed 4 of 5 spent). 25 s bounds that to about two attempts; the
    // cost is one small packet per socket every 15 s. PING_INTERVAL_MS / PING_TIMEOUT_MS override.
    pingInterval: DEFAULT_PING_INTERVAL_MS,
    pingTimeout: DEFAULT_PING_TIMEOUT_MS,
    ...options,
    // Every new engine.io connection, polling or websocket, passes the origin allowlist before
    // anything else runs (a websocket upgrade of a polling session was checked at its handshake).
    // After the spread: no caller can drop it by accident.
    allowRequest: (req, callback) => {
      // A draining node takes no new connection (one that arrived on a kept-alive HTTP connection
      // after the listener closed): the client retries, and the balancer picks another node.
      if (drain.draining()) return callback("DRAINING", false);
      const origin = req.headers.origin;
      if (originPolicy.allows(origin, req.headers.host)) return callback(null, true);
      logger.info(`refused a handshake from origin ${JSON.stringify(origin)}`);
      callback("FORBIDDEN_ORIGIN", false);
    },
  });
  // The expiry of each socket's session, and its token for the re-check at connection (see below).
  const sessions = new WeakMap<object, { token: string; expiresAt: number }>();
  // One writev per TCP socket per event-loop turn instead of one write per packet (ADR 0006).
  corkWritesPerTurn(io);
  // A broadcast to one room walks that room's sockets, with no Set of ids per broadcast (issue 15).
  singleRoomFanout(io);

  // The handshake is authenticated from the httpOnly session cookie (browsers) or `auth.token`
  // (bots and tests that hold the cookie value). Crash-proof: a throw refuses with INTERNAL.
  io.use(crashProofMiddleware(logger, (socket, next) => {
    const cookies = parseCookie(socket.handshake.headers.cookie ?? "");
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const token = sessionTokenFromCookies(cookies) ?? (typeof auth?.token === "string" ? auth.token : undefined);
    if (!token) return next(unauthenticated());
    services.auth.authenticate(token).then(
      (found) => {
        if (!found) return next(unauthenticated());
        socket.data = { userId: found.user.id, nickname: found.user.nickname, sessionId: found.sessionId };
        sessions.set(socket, { token, expiresAt: found.expiresAt });
        next();
      },
      (error: unknown) => {
        withContext(logger, { socketId: socket.id }).error("handshake failed", error);
        next(new Error("INTERNAL"));
      },
    );
  }));

  // Every command handler, defined once for the server (issue 15: not once per socket).
  const commands = new CommandTable(io, logger, drain);
  registerMessageHandlers(commands, io, services);
  registerRoomHandlers(commands, io, services);
  registerModerationHandlers(commands, io, services);
  registerProfileHandlers(commands, io, services);

  // What a socket's end undoes; one function for every socket (Socket.IO calls it with the socket as `this`).
  const expiries = new WeakMap<ParleySocket, { current: NodeJS.Timeout }>();
  function onDisconnect(this: ParleySocket): void {
    // A throw here would be an uncaught exception (the process exits): log it instead.
    try {
      const expiry = expiries.get(this);
      if (expiry) clearTimeout(expiry.current);
      services.typing.dropSocket(this.id);
      services.presence.disconnected(this.data.userId);
    } catch (error) {
      withContext(logger, { socketId: this.id, userId: this.data.userId }).error("disconnect cleanup failed", error);
    }
  }

  // Crash-proof: a throw during setup disconnects that socket (logged), never the process.
  io.on("connection", crashProofConnection(logger, (socket) => {
    const { userId, nickname, sessionId } = socket.data;
    const session = sessions.get(socket);
    sessions.delete(socket);
    // Nothing reads the handshake's HTTP request or its headers (the session cookie among them)
    // after the middlewares: released, as Socket.IO's memory-usage guide suggests (issue 15: they
    // were a few KB of every idle socket). `socket.handshake` keeps its address, time and query.
    (socket.conn as unknown as { request: unknown }).request = null;
    socket.handshake.headers = {};
    // Joined at once, so that a sign-out (which disconnects `session:<id>`) or "sign out
    // everywhere" (`user:<id>`) from now on reaches this socket.
    socket.join([channel.user(userId), channel.session(sessionId)]);
    if (session) expiries.set(socket, disconnectAtExpiry(socket, session.expiresAt, services.auth.clock));
    // Commands are taken from now on (so none is dropped) but wait for `ready`: the socket joins
    // its rooms first and reads after, so nothing can fall between the two.
    const ready = Promise.all([
      // A sign-out that landed between the middleware's check and the join above disconnected
      // the session's sockets without this one; checking again after joining closes that gap.
      session ? services.auth.authenticate(session.token) : Promise.resolve(null),
      storage.listRoomIdsForUser(userId),
    ]).then(([stillValid, roomIds]) => {
      // Rejecting `ready` also refuses every command this socket sent meanwhile (the command
      // table awaits it), so nothing is sent or read on the ended session.
      if (session && !stillValid) throw new DomainError("UNAUTHENTICATED", "Your session has ended. Please sign in again.");
      socket.join(roomIds.map(channel.room));
    });
    ready.catch((error: unknown) => {
      if (!(error instanceof DomainError)) withContext(logger, { socketId: socket.id, userId }).error("joining rooms failed", error);
      socket.disconnect(true);
    });
    commands.attach(socket, ready);
    services.presence.connected(userId, nickname);
    socket.on("disconnect", onDisconnect);
  }));

  return io;
}
