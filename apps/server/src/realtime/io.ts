import { ServerResponse, type IncomingMessage, type Server as HttpServer } from "node:http";
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
import { SessionExpiries } from "./session-expiry.js";
import { channel, type ParleyServer, type ParleySocket } from "./types.js";

/** The error a refused handshake carries: `connect_error` with message "UNAUTHENTICATED". */
function unauthenticated(): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error("UNAUTHENTICATED"), {
    data: { code: "UNAUTHENTICATED", message: "Sign in to connect." },
  });
}

const expiriesByServer = new WeakMap<ParleyServer, SessionExpiries>();
/** The session timers of a server createIo made (tests: a session whose sockets all closed has none). */
export function sessionExpiriesOf(io: ParleyServer): SessionExpiries | undefined {
  return expiriesByServer.get(io);
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
  // engine.io answers a WebSocket upgrade through a stand-in response (its WebSocketResponse, the
  // `res` its middlewares get) whose `req` is the upgrade's request, and that stand-in stays
  // reachable until the TCP socket closes (a "close" listener on the socket closes over it): every
  // idle socket kept its request, headers, raw headers and parsed query (issue 15; a bare
  // Socket.IO server pays it too). The stand-in is needed until the 101's headers are written
  // (middlewares set headers through it); engine.io emits "headers" then, and it lets go.
  const upgradeResponses = new WeakMap<IncomingMessage, { req: unknown }>();
  io.engine.use((req: IncomingMessage, res: unknown, next: () => void) => {
    if (!(res instanceof ServerResponse) && typeof res === "object" && res !== null && "req" in res) upgradeResponses.set(req, res);
    next();
  });
  io.engine.on("headers", (_headers: unknown, req: IncomingMessage) => {
    const upgrade = upgradeResponses.get(req);
    if (upgrade) upgrade.req = null;
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

  // Each session's sockets on this node end when it expires (one timer per session, not per socket).
  // A throw in a timer's callback would end the process: logged instead.
  const expiries = new SessionExpiries(services.auth.clock, (sessionId) => {
    try {
      io.local.in(channel.session(sessionId)).disconnectSockets(true);
    } catch (error) {
      withContext(logger, { sessionId }).error("closing an expired session's sockets failed", error);
    }
  });
  expiriesByServer.set(io, expiries);

  // What a socket's end undoes; one function for every socket (Socket.IO calls it with the socket as `this`).
  function onDisconnect(this: ParleySocket): void {
    // A throw here would be an uncaught exception (the process exits): log it instead.
    try {
      // The socket has left its rooms by now: an empty session room is a session with no socket here.
      if (!this.nsp.adapter.rooms.has(channel.session(this.data.sessionId))) expiries.unwatch(this.data.sessionId);
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
    // Last: a session that expired since the handshake ends this socket at once, and the socket's
    // end must find its presence counted and its disconnect handler there to undo it.
    if (session) expiries.watch(sessionId, session.expiresAt);
  }));

  return io;
}
