import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { API, SESSION_COOKIE } from "@parley/shared";
import { closeAllSockets, connect, roundTrip, signIn, startServer, type ClientSocket, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

const errorOf = (body: unknown) => (body as { error: { code: string; message: string } }).error;

describe("POST /api/auth/login", () => {
  it("creates the account on first sign-in and sets an httpOnly session cookie", async () => {
    const res = await fetch(`${server.url}${API.login}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ nickname: "  Alice  ", password: "password123" }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { id: string; nickname: string }; created: boolean };
    expect(body.created).toBe(true);
    expect(body.user.nickname).toBe("Alice");
    const setCookie = res.headers.getSetCookie()[0] ?? "";
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[^;]+`));
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
  });

  it("signs in to the existing account with another case of the nickname and the right password", async () => {
    const first = await signIn(server.url, "Alice", "password123");
    const second = await signIn(server.url, "aLICE", "password123");
    expect(second.status).toBe(200);
    expect(second.created).toBe(false);
    expect(second.user?.id).toBe(first.user?.id);
    expect(second.user?.nickname).toBe("Alice");
    expect(second.cookie).not.toBe(first.cookie);
  });

  it("refuses a wrong password with 401 WRONG_PASSWORD and a message", async () => {
    await signIn(server.url, "Alice", "password123");
    const r = await signIn(server.url, "alice", "not-the-password");
    expect(r.status).toBe(401);
    expect(r.cookie).toBe("");
    expect(errorOf(r.body).code).toBe("WRONG_PASSWORD");
    expect(errorOf(r.body).message).toMatch(/password/i);
  });

  it.each([
    ["blank", "   "],
    ["33 characters", "x".repeat(33)],
    ["containing @", "a@b"],
  ])("refuses a nickname that is %s with 400 NICKNAME_INVALID", async (_what, nickname) => {
    const r = await signIn(server.url, nickname, "password123");
    expect(r.status).toBe(400);
    expect(errorOf(r.body).code).toBe("NICKNAME_INVALID");
    expect(errorOf(r.body).message.length).toBeGreaterThan(0);
  });

  it("accepts a 32-character nickname", async () => {
    const r = await signIn(server.url, "x".repeat(32), "password123");
    expect(r.status).toBe(200);
  });

  it("refuses a short password with 400 PASSWORD_INVALID", async () => {
    const r = await signIn(server.url, "Alice", "short");
    expect(r.status).toBe(400);
    expect(errorOf(r.body).code).toBe("PASSWORD_INVALID");
  });

  it("answers malformed JSON with 400 and an error body, not a stack trace", async () => {
    const res = await fetch(`${server.url}${API.login}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"nickname": "Alice", ',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as unknown;
    expect(errorOf(body).code).toBe("INVALID_PAYLOAD");
    expect(JSON.stringify(body)).not.toMatch(/at .*\.js/);
  });

  it("answers a request without a body with 400", async () => {
    const res = await fetch(`${server.url}${API.login}`, { method: "POST" });
    expect(res.status).toBe(400);
    expect(errorOf(await res.json()).code).toBe("INVALID_PAYLOAD");
  });
});

describe("GET /api/auth/me", () => {
  it("returns the user for a valid cookie", async () => {
    const { cookie, user } = await signIn(server.url, "Alice", "password123");
    const res = await fetch(`${server.url}${API.me}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: unknown }).user).toEqual(user);
  });

  it("answers 401 UNAUTHENTICATED without a cookie or with an unknown token", async () => {
    const none = await fetch(`${server.url}${API.me}`);
    expect(none.status).toBe(401);
    expect(errorOf(await none.json()).code).toBe("UNAUTHENTICATED");
    const bogus = await fetch(`${server.url}${API.me}`, { headers: { cookie: `${SESSION_COOKIE}=nope` } });
    expect(bogus.status).toBe(401);
  });
});

describe("POST /api/auth/logout", () => {
  it("invalidates the cookie and disconnects the sockets opened with it", async () => {
    const { cookie } = await signIn(server.url, "Alice", "password123");
    const socket = await connect(server.url, cookie);
    await roundTrip(socket);
    const disconnected = new Promise<string>((resolve) => socket.once("disconnect", resolve));
    const res = await fetch(`${server.url}${API.logout}`, { method: "POST", headers: { cookie } });
    expect(res.status).toBe(204);
    expect(await disconnected).toBe("io server disconnect");
    const me = await fetch(`${server.url}${API.me}`, { headers: { cookie } });
    expect(me.status).toBe(401);
    await expect(connect(server.url, cookie)).rejects.toThrow("UNAUTHENTICATED");
  });

  it("signs out every tab of the session: all its sockets close and cannot reconnect; another session stays", async () => {
    const session = await signIn(server.url, "Alice", "password123");
    const otherSession = await signIn(server.url, "Alice", "password123");
    const tabs = [await connect(server.url, session.cookie), await connect(server.url, session.cookie)];
    const otherTab = await connect(server.url, otherSession.cookie);
    const closed = tabs.map((tab) => new Promise<string>((resolve) => tab.once("disconnect", resolve)));

    const res = await fetch(`${server.url}${API.logout}`, { method: "POST", headers: { cookie: session.cookie } });
    expect(res.status).toBe(204);
    expect(await Promise.all(closed)).toEqual(["io server disconnect", "io server disconnect"]);

    // A tab that tries again (as the client core does after a server-side disconnect) is refused.
    const refusal = (tab: ClientSocket) =>
      new Promise<string>((resolve) => {
        tab.once("connect_error", (err) => resolve(err.message));
        tab.once("connect", () => resolve("connected"));
        tab.connect();
      });
    expect(await Promise.all(tabs.map(refusal))).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED"]);
    expect(tabs.map((tab) => tab.connected)).toEqual([false, false]);

    // The other session of the same user: still connected and served.
    expect((await roundTrip(otherTab)).me.nickname).toBe("Alice");
    expect(otherTab.connected).toBe(true);
    expect((await fetch(`${server.url}${API.me}`, { headers: { cookie: otherSession.cookie } })).status).toBe(200);
  });

  it("leaves the other sessions of the same user alone", async () => {
    const a = await signIn(server.url, "Alice", "password123");
    const b = await signIn(server.url, "Alice", "password123");
    const other = await connect(server.url, b.cookie);
    await fetch(`${server.url}${API.logout}`, { method: "POST", headers: { cookie: a.cookie } });
    expect((await fetch(`${server.url}${API.me}`, { headers: { cookie: b.cookie } })).status).toBe(200);
    // Still connected and served after the other session ended.
    expect((await roundTrip(other)).me.nickname).toBe("Alice");
    expect(other.connected).toBe(true);
  });
});

describe("socket handshake", () => {
  it("refuses a socket without a session with connect_error UNAUTHENTICATED", async () => {
    await expect(connect(server.url, "")).rejects.toThrow("UNAUTHENTICATED");
    await expect(connect(server.url, `${SESSION_COOKIE}=forged`)).rejects.toThrow("UNAUTHENTICATED");
  });

  it("accepts a socket with the session cookie", async () => {
    const { cookie, user } = await signIn(server.url, "Alice", "password123");
    const socket = await connect(server.url, cookie);
    expect((await roundTrip(socket)).me.id).toBe(user?.id);
  });
});

describe("an expired session", () => {
  // An hour, so that the jump below is a modest one; the default (30 days) follows the same rule.
  const TTL_MS = 60 * 60 * 1000;
  let expiring: TestServer | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    closeAllSockets();
    await expiring?.stop();
    expiring = undefined;
  });

  it("is refused by GET /api/auth/me (401) and by the socket handshake (UNAUTHENTICATED)", async () => {
    // Only Date is faked, before the server is built (the auth service reads Date.now): session
    // expiry is a rule about the clock, and moving the clock is the only way to test it without
    // waiting. Timers and I/O stay real, so sockets and HTTP work as usual.
    vi.useFakeTimers({ toFake: ["Date"] });
    const signedInAt = Date.now();
    expiring = await startServer({ sessionTtlMs: TTL_MS });
    const { cookie } = await signIn(expiring.url, "Alice", "password123");

    vi.setSystemTime(signedInAt + TTL_MS - 1);
    expect((await fetch(`${expiring.url}${API.me}`, { headers: { cookie } })).status).toBe(200);
    const socket = await connect(expiring.url, cookie);
    expect((await roundTrip(socket)).me.nickname).toBe("Alice");
    socket.close();

    vi.setSystemTime(signedInAt + TTL_MS);
    const me = await fetch(`${expiring.url}${API.me}`, { headers: { cookie } });
    expect(me.status).toBe(401);
    expect(errorOf(await me.json()).code).toBe("UNAUTHENTICATED");
    await expect(connect(expiring.url, cookie)).rejects.toThrow("UNAUTHENTICATED");
  });
});

describe("GET /healthz", () => {
  it("answers 200 with status ok", async () => {
    const res = await fetch(`${server.url}${API.health}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });
});
