import type { Server as HttpServer } from "node:http";
import { parse as parseCookie } from "cookie";
import { Server, type ServerOptions } from "socket.io";
import { SESSION_COOKIE, SOCKET_PATH } from "@parley/shared";
import type { Logger } from "../logger.js";
import type { Services } from "../services.js";
import type { Storage } from "../storage/storage.js";
import { corkWritesPerTurn } from "./cork.js";
import { crashProofConnection, crashProofMiddleware } from "./crash-proof.js";
import { registerMessageHandlers } from "./message.handlers.js";
import { registerRoomHandlers } from "./room.handlers.js";
import { channel, type ParleyServer } from "./types.js";

/** The error a refused handshake carries: `connect_error` with message "UNAUTHENTICATED". */
function unauthenticated(): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error("UNAUTHENTICATED"), {
    data: { code: "UNAUTHENTICATED", message: "Sign in to connect." },
  });
}

export function createIo(
  httpServer: HttpServer,
  services: Services,
  storage: Storage,
  logger: Logger,
  options: Partial<ServerOptions> = {},
): ParleyServer {
  const io: ParleyServer = new Server(httpServer, {
    path: SOCKET_PATH,
    serveClient: false,
    // A fast path only: a recovered socket gets the packets it missed while away. Delivery does not
    // rely on it; every client still catches up by seq after each reconnect.
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: false },
    maxHttpBufferSize: 64 * 1024,
    ...options,
  });
  // One writev per TCP socket per event-loop turn instead of one write per packet (ADR 0006).
  corkWritesPerTurn(io);

  // The handshake is authenticated from the httpOnly session cookie (browsers) or `auth.token`
  // (bots and tests that hold the cookie value). Crash-proof: a throw refuses with INTERNAL.
  io.use(crashProofMiddleware(logger, (socket, next) => {
    const cookies = parseCookie(socket.handshake.headers.cookie ?? "");
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const token = cookies[SESSION_COOKIE] ?? (typeof auth?.token === "string" ? auth.token : undefined);
    if (!token) return next(unauthenticated());
    services.auth.authenticate(token).then(
      (found) => {
        if (!found) return next(unauthenticated());
        socket.data = { userId: found.user.id, nickname: found.user.nickname, sessionId: found.sessionId };
        next();
      },
      (error: unknown) => {
        logger.error("handshake failed", error);
        next(new Error("INTERNAL"));
      },
    );
  }));

  // Crash-proof: a throw during setup disconnects that socket (logged), never the process.
  io.on("connection", crashProofConnection(logger, (socket) => {
    const { userId, nickname, sessionId } = socket.data;
    // Handlers are registered synchronously (so no command is dropped) but wait for `ready`:
    // the socket joins its rooms first and reads after, so nothing can fall between the two.
    const ready = storage.listRoomIdsForUser(userId).then((roomIds) => {
      const rooms = roomIds.map(channel.room);
      // A socket restored by connection state recovery comes back in the channels it had when it
      // dropped; drop those of rooms the user left meanwhile (in another tab), or it would keep
      // receiving a room it is no longer a member of.
      if (socket.recovered) {
        const current = new Set(rooms);
        for (const name of socket.rooms) if (name.startsWith(channel.room("")) && !current.has(name)) socket.leave(name);
      }
      socket.join([channel.user(userId), channel.session(sessionId), ...rooms]);
    });
    ready.catch((error: unknown) => {
      logger.error("joining rooms failed", error);
      socket.disconnect(true);
    });
    registerMessageHandlers(io, socket, services, ready, logger);
    registerRoomHandlers(io, socket, services, ready, logger);
    services.presence.connected(userId, nickname);
    socket.on("disconnect", () => {
      services.typing.dropSocket(socket.id);
      services.presence.disconnected(userId);
    });
  }));

  return io;
}
