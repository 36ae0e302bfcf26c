import { withContext, type Logger } from "../logger.js";
import type { ParleySocket } from "./types.js";

/**
 * Wrappers for the two listeners Socket.IO calls outside `handle()`: the handshake middleware and
 * the `connection` handler. Socket.IO calls both from inside its packet parser, so a throw there
 * (sync, or a rejection of an async listener) is an uncaught exception that ends the process for
 * everyone (issue 10). `handle()` does the same for every command.
 */

/** The error a handshake refused for a server fault carries: `connect_error` "INTERNAL". */
function internal(): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error("INTERNAL"), {
    data: { code: "INTERNAL", message: "Something went wrong on the server. Please try again." },
  });
}

type Next = (err?: Error) => void;

/**
 * A middleware whose throw or rejection refuses the handshake with INTERNAL plus a log line instead
 * of escaping. `next` is passed on at most once: after a throw that followed a verdict, the verdict
 * stands (Socket.IO does not expect a second call).
 */
export function crashProofMiddleware(
  logger: Logger,
  middleware: (socket: ParleySocket, next: Next) => void | Promise<void>,
): (socket: ParleySocket, next: Next) => void {
  return (socket, next) => {
    let called = false;
    const once: Next = (err) => {
      if (called) return;
      called = true;
      next(err);
    };
    const fail = (error: unknown) => {
      withContext(logger, { socketId: socket.id }).error("handshake middleware failed", error);
      once(internal());
    };
    try {
      const result = middleware(socket, once);
      if (result) result.then(undefined, fail);
    } catch (error) {
      fail(error);
    }
  };
}

/**
 * A `connection` handler whose throw or rejection disconnects that one socket plus a log line. A
 * socket whose setup stopped halfway may lack handlers or rooms; its client reconnects, gets a
 * whole setup and catches up by seq, which is better than a socket that silently misses events.
 */
export function crashProofConnection(
  logger: Logger,
  onConnection: (socket: ParleySocket) => void | Promise<void>,
): (socket: ParleySocket) => void {
  return (socket) => {
    const fail = (error: unknown) => {
      withContext(logger, { socketId: socket.id }).error("connection setup failed", error);
      try {
        socket.disconnect(true);
      } catch (disconnectError) {
        logger.error("disconnecting after a failed setup failed", disconnectError);
      }
    };
    try {
      const result = onConnection(socket);
      if (result) result.then(undefined, fail);
    } catch (error) {
      fail(error);
    }
  };
}
