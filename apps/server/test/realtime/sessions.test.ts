import { afterEach, describe, expect, it } from "vitest";
import { API } from "@parley/shared";
import { AuthService } from "../../src/domain/auth.service.js";
import { hashPassword } from "../../src/domain/password.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { waitFor } from "../helpers/wait.js";
import { closeAllSockets, connect, roundTrip, signInOk, startServer, type ClientSocket, type TestServer } from "../helpers/server.js";
import { prepareStorage } from "../../src/domain/setup.js";
import { sessionExpiriesOf } from "../../src/realtime/io.js";

/** Issue 10, sessions: expiry closes sockets, sign out everywhere, sessions per device, purge, re-hash. */

let server: TestServer | undefined;
afterEach(async () => {
  closeAllSockets();
  await server?.stop();
  server = undefined;
});

const disconnected = (socket: ClientSocket) => new Promise<string>((resolve) => socket.once("disconnect", (reason) => resolve(reason)));
const status = async (url: string, cookie: string) => (await fetch(`${url}${API.me}`, { headers: { cookie } })).status;

describe("session lifetime on open sockets", () => {
  it("disconnects a socket when its session expires, and the reconnect is refused", async () => {
    // Long enough to connect on a busy machine, short enough for a test; the socket waits on the
    // server's timer (one per session, to the expiry) rather than on a sleep here.
    server = await startServer({ sessionTtlMs: 3000 });
    const { cookie } = await signInOk(server.url, "alice");
    const socket = await connect(server.url, cookie);
    expect(await disconnected(socket)).toBe("io server disconnect");
    await expect(connect(server.url, cookie)).rejects.toThrow("UNAUTHENTICATED");
  });
});

describe("session timers", () => {
  it("ends every socket of the session with one timer, kept while any of them is open", async () => {
    // Long enough for four sockets to connect on a busy machine before the session ends.
    server = await startServer({ sessionTtlMs: 6000 });
    const expiries = sessionExpiriesOf(server.app.io)!;
    const { cookie } = await signInOk(server.url, "alice");
    const { cookie: other } = await signInOk(server.url, "bob");
    const [first, second, third] = await Promise.all([connect(server.url, cookie), connect(server.url, cookie), connect(server.url, cookie)]);
    const bobs = await connect(server.url, other);
    await Promise.all([roundTrip(first!), roundTrip(bobs)]);
    expect(expiries.size).toBe(2);
    // One of alice's sockets closing leaves the timer: the other two still end at the expiry.
    const closed = disconnected(first!);
    first!.disconnect();
    await closed;
    await waitFor(() => expect(server!.app.io.of("/").sockets.size).toBe(3));
    expect(expiries.size).toBe(2);
    // Bob's only socket closing drops his session's timer.
    bobs.disconnect();
    await waitFor(() => expect(expiries.size).toBe(1));
    expect(await Promise.all([disconnected(second!), disconnected(third!)])).toEqual(["io server disconnect", "io server disconnect"]);
    expect(expiries.size).toBe(0);
  });
});

describe("an expiry racing the handshake", () => {
  it("ends a socket whose session expired between the middleware's check and the connection, and leaves no ghost presence", async () => {
    // The middleware's lookup finds the session still valid but ending now: by the connection
    // handler it is past, so the socket ends at once.
    let lookups = 0;
    class ExpiringInBetween extends SqliteStorage {
      override async findSession(tokenHash: string, now: number) {
        const found = await super.findSession(tokenHash, now);
        lookups++;
        return found && lookups === 1 ? { ...found, expiresAt: Date.now() } : found;
      }
    }
    server = await startServer({ openStorage: (path) => new ExpiringInBetween(path), presenceGraceMs: 0 });
    const { cookie, user } = await signInOk(server.url, "alice");
    lookups = 0;
    const socket = await connect(server.url, cookie).catch(() => null);
    await waitFor(() => expect(socket?.connected ?? false).toBe(false));
    expect(lookups).toBeGreaterThanOrEqual(1);
    await waitFor(() => expect(server!.app.io.of("/").sockets.size).toBe(0));
    await waitFor(() => expect(server!.app.services.presence.isOnline(user.id)).toBe(false));
    expect(sessionExpiriesOf(server.app.io)!.size).toBe(0);
  });
});

describe("a sign-out racing the handshake", () => {
  it("disconnects a socket whose session ended between the middleware's check and the connection", async () => {
    // The middleware's lookup is the first findSession of a handshake, the connection's re-check
    // the second: the session is deleted in between, as a sign-out landing there would.
    let lookups = 0;
    class RevokedInBetween extends SqliteStorage {
      override async findSession(tokenHash: string, now: number) {
        lookups++;
        if (lookups === 2) await this.deleteSession(tokenHash);
        return super.findSession(tokenHash, now);
      }
    }
    server = await startServer({ openStorage: (path) => new RevokedInBetween(path) });
    const { cookie } = await signInOk(server.url, "alice");
    lookups = 0;
    const socket = await connect(server.url, cookie);
    // The server may close it before `connect` resolves here, so poll the state instead of
    // waiting for an event that may already have fired.
    await waitFor(() => expect(socket.connected).toBe(false));
    expect(lookups).toBe(2);
    expect(server.app.io.of("/").sockets.size).toBe(0);
  });
});

describe("sign out everywhere", () => {
  it("ends every session of the user and closes all their sockets; other users stay", async () => {
    server = await startServer();
    const laptop = await signInOk(server.url, "alice");
    const phone = await signInOk(server.url, "alice");
    const bob = await signInOk(server.url, "bob");
    const laptopSocket = await connect(server.url, laptop.cookie);
    const phoneSocket = await connect(server.url, phone.cookie);
    const bobSocket = await connect(server.url, bob.cookie);
    const closed = [disconnected(laptopSocket), disconnected(phoneSocket)];

    const res = await fetch(`${server.url}${API.logoutAll}`, { method: "POST", headers: { cookie: phone.cookie } });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().join()).toMatch(/parley_session=;/);
    expect(await Promise.all(closed)).toEqual(["io server disconnect", "io server disconnect"]);
    expect(await status(server.url, laptop.cookie)).toBe(401);
    expect(await status(server.url, phone.cookie)).toBe(401);
    await expect(connect(server.url, laptop.cookie)).rejects.toThrow("UNAUTHENTICATED");
    await roundTrip(bobSocket);
    expect(bobSocket.connected).toBe(true);
    expect(await status(server.url, bob.cookie)).toBe(200);
  });

  it("needs a session (401 without one)", async () => {
    server = await startServer();
    expect((await fetch(`${server.url}${API.logoutAll}`, { method: "POST" })).status).toBe(401);
  });

  it("is not what a sign-in from a new device does: the other sessions stay", async () => {
    server = await startServer();
    const first = await signInOk(server.url, "alice");
    const socket = await connect(server.url, first.cookie);
    const second = await signInOk(server.url, "alice");
    expect(second.cookie).not.toBe(first.cookie);
    expect(await status(server.url, first.cookie)).toBe(200);
    await roundTrip(socket);
    expect(socket.connected).toBe(true);
  });
});

describe("AuthService", () => {
  const storages: SqliteStorage[] = [];
  afterEach(async () => {
    for (const s of storages.splice(0)) await s.close();
  });
  async function storage() {
    const s = await prepareStorage(new SqliteStorage(":memory:"));
    storages.push(s);
    return s;
  }

  it("re-hashes a password made with other parameters at sign-in, and only then", async () => {
    const s = await storage();
    const old = { N: 2 ** 10, r: 8, p: 1 };
    const current = { N: 2 ** 11, r: 8, p: 1 };
    await s.createUser({ nickname: "alice", passwordHash: await hashPassword("password123", old) });
    const auth = new AuthService(s, { sessionTtlMs: 60_000, passwordParams: current });
    await expect(auth.login("alice", "wrong-password")).rejects.toMatchObject({ code: "WRONG_PASSWORD" });
    expect((await s.findUserByNickname("alice"))?.passwordHash).toMatch(/^scrypt\$1024\$/);
    await auth.login("alice", "password123");
    const upgraded = (await s.findUserByNickname("alice"))!.passwordHash;
    expect(upgraded).toMatch(/^scrypt\$2048\$8\$1\$/);
    // The new hash verifies, and a second sign-in leaves it alone.
    await auth.login("alice", "password123");
    expect((await s.findUserByNickname("alice"))!.passwordHash).toBe(upgraded);
  });

  it("purges expired sessions by its clock", async () => {
    const s = await storage();
    let now = 1_000_000;
    const auth = new AuthService(s, { sessionTtlMs: 1000, now: () => now, passwordParams: { N: 2 ** 10, r: 8, p: 1 } });
    const { token } = await auth.login("alice", "password123");
    expect(await auth.purgeExpiredSessions()).toBe(0);
    now += 1000;
    expect(await auth.purgeExpiredSessions()).toBe(1);
    now = 0;
    // Gone for good, not merely refused by the clock.
    expect(await auth.authenticate(token)).toBeNull();
  });
});
