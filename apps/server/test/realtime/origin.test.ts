import type { AddressInfo } from "node:net";
import { io as ioClient } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { SOCKET_PATH } from "@parley/shared";
import { createApp, type App, type AppOptions } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { TEST_PASSWORD_PARAMS, signInOk } from "../helpers/server.js";
import { prepareStorage } from "../../src/domain/setup.js";
import { testBlobStore } from "../helpers/blobs.js";

/**
 * Issue 10, cross-site WebSocket hijacking: every Socket.IO handshake, polling and websocket,
 * passes the origin allowlist (io.ts allowRequest). Polling is probed with raw HTTP requests,
 * websocket with socket.io-client, which in Node sends whatever Origin `extraHeaders` says.
 */

const running: { app: App; storage: SqliteStorage }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.app.close();
    await r.storage.close();
  }
});

async function start(options: AppOptions = {}): Promise<{ url: string; port: number }> {
  const storage = await prepareStorage(new SqliteStorage(":memory:"));
  const app = createApp({ storage, blobs: await testBlobStore(), logger: silentLogger }, { passwordParams: TEST_PASSWORD_PARAMS, ...options });
  running.push({ app, storage });
  await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
  const { port } = app.httpServer.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port };
}

/** The engine.io polling handshake a browser's first request makes; returns the HTTP status. */
async function pollingHandshake(url: string, origin: string | undefined): Promise<number> {
  const res = await fetch(`${url}${SOCKET_PATH}/?EIO=4&transport=polling`, { headers: origin === undefined ? {} : { origin } });
  await res.arrayBuffer();
  return res.status;
}

/** A websocket-only Socket.IO connection with the session cookie; "connected" or the refusal. */
function websocket(url: string, cookie: string, origin: string | undefined): Promise<string> {
  const socket = ioClient(url, {
    path: SOCKET_PATH,
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    extraHeaders: origin === undefined ? { cookie } : { cookie, origin },
  });
  return new Promise((resolve) => {
    socket.once("connect", () => {
      socket.close();
      resolve("connected");
    });
    socket.once("connect_error", (err) => {
      socket.close();
      resolve(`refused: ${err.message}`);
    });
  });
}

describe("origin allowlist on the Socket.IO handshake", () => {
  it("allows the app's own origin (from the Host header) and clients that send no Origin", async () => {
    const { url } = await start();
    const { cookie } = await signInOk(url, "alice");
    expect(await pollingHandshake(url, url)).toBe(200);
    expect(await pollingHandshake(url, undefined)).toBe(200);
    expect(await websocket(url, cookie, url)).toBe("connected");
    // Bots and tests: no Origin header at all (documented in README/ADR 0008).
    expect(await websocket(url, cookie, undefined)).toBe("connected");
  });

  it("refuses foreign, null and look-alike origins, on polling and on websocket", async () => {
    const { url, port } = await start();
    const { cookie } = await signInOk(url, "alice");
    const refused = [
      "http://evil.example",
      "null",
      `http://127.0.0.1:${port}.evil.example`,
      `http://evil-127.0.0.1:${port}`,
      `http://127.0.0.1:${port + 1}`,
      "http://127.0.0.1",
      `http://localhost:${port}`,
      `${url}/`,
    ];
    for (const origin of refused) {
      expect({ origin, status: await pollingHandshake(url, origin) }).toEqual({ origin, status: 403 });
      expect({ origin, ws: await websocket(url, cookie, origin) }).toEqual({ origin, ws: expect.stringMatching(/^refused/) });
    }
  });

  it("allows ALLOWED_ORIGINS exactly (the Vite dev server on another port), and nothing like them", async () => {
    const { url } = await start({ allowedOrigins: ["http://localhost:5173"] });
    const { cookie } = await signInOk(url, "alice");
    expect(await pollingHandshake(url, "http://localhost:5173")).toBe(200);
    expect(await websocket(url, cookie, "http://localhost:5173")).toBe("connected");
    expect(await pollingHandshake(url, "http://localhost:5174")).toBe(403);
    expect(await websocket(url, cookie, "http://localhost:5173.evil.example")).toMatch(/^refused/);
  });

  it("with PUBLIC_URL, allows that origin and no longer trusts the Host header", async () => {
    const { url } = await start({ publicUrl: "https://chat.example.com" });
    const { cookie } = await signInOk(url, "alice");
    expect(await pollingHandshake(url, "https://chat.example.com")).toBe(200);
    expect(await websocket(url, cookie, "https://chat.example.com")).toBe("connected");
    expect(await pollingHandshake(url, url)).toBe(403);
    expect(await websocket(url, cookie, url)).toMatch(/^refused/);
  });
});
