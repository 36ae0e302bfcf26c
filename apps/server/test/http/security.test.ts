import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { API, SECURE_SESSION_COOKIE, SESSION_COOKIE, type SessionResponse } from "@parley/shared";
import { createApp, type App, type AppOptions } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { TEST_PASSWORD_PARAMS, connect } from "../helpers/server.js";
import { prepareStorage } from "../../src/domain/setup.js";
import { testBlobStore } from "../helpers/blobs.js";

/** Issue 10, HTTP: security headers, cross-site writes refused, the HTTPS session cookie. */

const running: { app: App; storage: SqliteStorage }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.app.close();
    await r.storage.close();
  }
});

async function start(options: AppOptions = {}): Promise<string> {
  const storage = await prepareStorage(new SqliteStorage(":memory:"));
  const app = createApp({ storage, blobs: await testBlobStore(), logger: silentLogger }, { passwordParams: TEST_PASSWORD_PARAMS, ...options });
  running.push({ app, storage });
  await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(app.httpServer.address() as AddressInfo).port}`;
}

const login = (url: string, nickname: string, headers: Record<string, string> = {}) =>
  fetch(`${url}${API.login}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ nickname, password: "password123" }),
  });

describe("security headers", () => {
  it("sends a CSP without inline script or style, frame-ancestors 'none', nosniff and a referrer policy; no HSTS over http", async () => {
    const url = await start();
    const res = await fetch(`${url}${API.session}`);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("upgrade-insecure-requests");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("strict-transport-security")).toBeNull();
  });

  it("adds HSTS when the request came over HTTPS through a trusted proxy", async () => {
    const url = await start({ trustProxy: "loopback" });
    const res = await fetch(`${url}${API.session}`, { headers: { "x-forwarded-proto": "https" } });
    expect(res.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
    expect(res.headers.get("content-security-policy")).toContain("upgrade-insecure-requests");
  });

  it("ignores X-Forwarded-Proto from a proxy it does not trust", async () => {
    const url = await start();
    const res = await fetch(`${url}${API.session}`, { headers: { "x-forwarded-proto": "https" } });
    expect(res.headers.get("strict-transport-security")).toBeNull();
  });
});

describe("cross-site writes", () => {
  it.each([
    ["a foreign Origin", { origin: "http://evil.example" }],
    ["Origin null", { origin: "null" }],
    ["a sibling port", { origin: "http://127.0.0.1:1" }],
    ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }],
  ])("refuses sign-in, sign-out and sign-out-everywhere with %s (403 FORBIDDEN_ORIGIN)", async (_, headers) => {
    const url = await start();
    const refused = [
      await login(url, "alice", headers),
      await fetch(`${url}${API.logout}`, { method: "POST", headers }),
      await fetch(`${url}${API.logoutAll}`, { method: "POST", headers }),
    ];
    for (const res of refused) {
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: { code: "FORBIDDEN_ORIGIN", message: expect.any(String) } });
    }
  });

  it("accepts the app's own origin, same-origin fetch metadata, and clients that send neither", async () => {
    const url = await start();
    expect((await login(url, "alice", { origin: url, "sec-fetch-site": "same-origin" })).status).toBe(200);
    expect((await login(url, "alice")).status).toBe(200);
    expect((await fetch(`${url}${API.logout}`, { method: "POST", headers: { origin: url } })).status).toBe(204);
  });

  it("leaves GET alone (a cross-site GET changes nothing)", async () => {
    const url = await start();
    expect((await fetch(`${url}${API.session}`, { headers: { origin: "http://evil.example", "sec-fetch-site": "cross-site" } })).status).toBe(200);
  });
});

describe("session cookie over HTTPS", () => {
  it("is Secure and __Host- prefixed, and that name signs in HTTP routes and the socket", async () => {
    const url = await start({ trustProxy: "loopback" });
    const res = await login(url, "alice", { "x-forwarded-proto": "https" });
    expect(res.status).toBe(200);
    const setCookie = res.headers.getSetCookie()[0] ?? "";
    expect(setCookie).toMatch(new RegExp(`^${SECURE_SESSION_COOKIE}=[^;]+`));
    expect(setCookie).toMatch(/; Secure/i);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).not.toMatch(/Domain=/i);
    const cookie = setCookie.split(";")[0]!;
    const me = await fetch(`${url}${API.me}`, { headers: { cookie } });
    expect(((await me.json()) as SessionResponse).user.nickname).toBe("alice");
    const socket = await connect(url, cookie);
    expect(socket.connected).toBe(true);
    socket.close();
  });

  it("is neither over plain http (a browser would drop a Secure cookie there)", async () => {
    const url = await start();
    const setCookie = (await login(url, "alice")).headers.getSetCookie()[0] ?? "";
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(setCookie).not.toMatch(/; Secure/i);
  });
});
