import { io as ioClient } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID, SOCKET_PATH } from "@parley/shared";
import type { Logger } from "../../src/logger.js";
import { crashProofMiddleware } from "../../src/realtime/crash-proof.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { closeAllSockets, connect, requestOk, roundTrip, signInOk, startServer, text, type TestServer } from "../helpers/server.js";

/** A logger that keeps what it is given: these tests cause server errors on purpose. */
function capturingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, info: () => {}, error: (message) => errors.push(message) };
}

/** The connect_error of a handshake that is refused. */
function connectError(url: string, cookie: string): Promise<Error & { data?: { code?: string } }> {
  const socket = ioClient(url, { path: SOCKET_PATH, extraHeaders: { cookie }, transports: ["websocket"], forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => {
      socket.close();
      reject(new Error("the handshake was accepted"));
    });
    socket.once("connect_error", (err) => {
      socket.close();
      resolve(err);
    });
  });
}

let server: TestServer | undefined;
afterEach(async () => {
  closeAllSockets();
  await server?.stop();
  server = undefined;
});

describe("no listener outside handle() can crash the process (issue 10)", () => {
  it.each([
    ["throws", () => {
      throw new Error("boom in middleware");
    }],
    ["rejects", () => Promise.reject(new Error("async boom in middleware"))],
  ] as const)("a handshake middleware that %s refuses with INTERNAL and a log line; the server keeps serving", async (_what, middleware) => {
    const logger = capturingLogger();
    server = await startServer({ logger });
    const { cookie } = await signInOk(server.url, "ann");
    const bystander = await connect(server.url, (await signInOk(server.url, "bob")).cookie);
    server.app.io.use(crashProofMiddleware(logger, middleware));

    const err = await connectError(server.url, cookie);
    expect(err.message).toBe("INTERNAL");
    expect(err.data?.code).toBe("INTERNAL");
    expect(logger.errors).toEqual(["handshake middleware failed"]);
    expect((await requestOk(bystander, "message:send", text(DEFAULT_ROOM_ID, "still here"))).body).toBe("still here");
  });

  it("a connection setup that throws disconnects that socket only, logged; the next connection works", async () => {
    const logger = capturingLogger();
    let failNext = false;
    class FailingStorage extends SqliteStorage {
      // Synchronous, like a driver that throws before returning its promise.
      override listRoomIdsForUser(userId: string): Promise<string[]> {
        if (failNext) {
          failNext = false;
          throw new Error("storage exploded synchronously");
        }
        return super.listRoomIdsForUser(userId);
      }
    }
    server = await startServer({ logger, openStorage: (path) => new FailingStorage(path) });
    const bystander = await connect(server.url, (await signInOk(server.url, "bob")).cookie);
    const { cookie } = await signInOk(server.url, "ann");

    failNext = true;
    const victim = await connect(server.url, cookie);
    if (victim.connected) await new Promise((resolve) => victim.once("disconnect", resolve));
    expect(logger.errors).toEqual(["connection setup failed"]);

    const again = await connect(server.url, cookie);
    await roundTrip(again);
    expect((await requestOk(bystander, "message:send", text(DEFAULT_ROOM_ID, "still here"))).body).toBe("still here");
  });
});
