import type { AddressInfo } from "node:net";
import { expect } from "vitest";
import { createChatClient, memoryOutbox, type ChatClient, type OutboxStorage } from "@parley/client";
import { createApp, type App } from "../../src/app.js";
import { prepareStorage } from "../../src/domain/setup.js";
import { silentLogger } from "../../src/logger.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { TEST_PASSWORD_PARAMS, TEST_RATE_LIMITS } from "./server.js";
import { testBlobStore } from "./blobs.js";

/**
 * A real server for tests of the product's client core (test/client): started on a given SQLite
 * file (so a test can stop it and start it again on the same file and port, as after a crash),
 * with cheap scrypt and generous budgets as in server.ts: production scrypt (128 MiB, ~1 s on a
 * busy box) for every sign-in pushed these tests to their 20 s limit under load.
 */
export interface CoreServer {
  app: App;
  storage: SqliteStorage;
  port: number;
}

export async function startCoreServer(dbPath: string, port = 0): Promise<CoreServer> {
  const storage = await prepareStorage(new SqliteStorage(dbPath));
  const app = createApp({ storage, blobs: await testBlobStore(), logger: silentLogger }, { presenceGraceMs: 50, passwordParams: TEST_PASSWORD_PARAMS, rateLimits: TEST_RATE_LIMITS });
  await new Promise<void>((resolve) => app.httpServer.listen(port, "127.0.0.1", resolve));
  return { app, storage, port: (app.httpServer.address() as AddressInfo).port };
}

export async function stopCoreServer(r: CoreServer): Promise<void> {
  await r.app.close();
  await r.storage.close();
}

/** Signs in (creating the account) over HTTP; returns the `name=value` of the session cookie. */
export async function signInCookie(port: number, nickname: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nickname, password: "password1" }),
  });
  expect(res.status).toBe(200);
  return res.headers.getSetCookie()[0]!.split(";")[0]!;
}

/**
 * A client core for `cookie` on 127.0.0.1:`port`, with short ack timeouts and reconnect delays so
 * that fault paths run in test time; `onCreated` receives it (to disconnect it after the test).
 */
export function coreClient(port: number, cookie: string, onCreated: (c: ChatClient) => void, outbox: OutboxStorage = memoryOutbox()): ChatClient {
  const c = createChatClient({
    url: `http://127.0.0.1:${port}`,
    outbox,
    ackTimeoutMs: 2000,
    socketOptions: { transports: ["websocket"], extraHeaders: { cookie }, reconnectionDelay: 50, reconnectionDelayMax: 200 },
  });
  onCreated(c);
  return c;
}
