import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createClient } from "redis";
import { API, DEFAULT_ROOM_ID, type AckResult, type Message } from "@parley/shared";
import { hashPassword, verifyPassword } from "../../src/domain/password.js";
import type * as PasswordModule from "../../src/domain/password.js";
import { silentLogger } from "../../src/logger.js";
import { RateLimits, type RateLimitBudgets } from "../../src/security/rate-limits.js";
import type { ParleySocket } from "../../src/realtime/types.js";
import { describeWithServices, TEST_REDIS_URL } from "../helpers/pg.js";
import {
  TEST_RATE_LIMITS,
  closeAllSockets,
  collect,
  connect,
  request,
  roundTrip,
  signInOk,
  startServer,
  text,
  type ClientSocket,
  type TestServer,
} from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

// scrypt made observable: the same functions, counted, so a test can show that a refused guess
// never reached the password hash.
vi.mock("../../src/domain/password.js", async (importOriginal) => {
  const original = await importOriginal<typeof PasswordModule>();
  return { ...original, hashPassword: vi.fn(original.hashPassword), verifyPassword: vi.fn(original.verifyPassword) };
});

/**
 * Issue 10's rate limits against a real server: what is over budget is refused with RATE_LIMITED
 * and the wait (or, for typing, dropped without a word), never half-done; sign-in guessing backs
 * off before any scrypt runs. Each test runs with tight budgets so that a few requests cross them;
 * time rules (the windows, the doubling back-off) move a faked Date, nothing sleeps.
 */

let server: TestServer;
afterEach(async () => {
  vi.useRealTimers();
  closeAllSockets();
  await server?.stop();
});

async function start(budgets: Partial<RateLimitBudgets>): Promise<void> {
  server = await startServer({ rateLimits: { ...TEST_RATE_LIMITS, ...budgets } });
}

function expectRateLimited(result: AckResult<unknown>, maxWaitMs: number): number {
  if (result.ok) throw new Error("expected RATE_LIMITED, got ok");
  expect(result.error.code).toBe("RATE_LIMITED");
  const wait = result.error.retryAfterMs;
  expect(wait).toBeGreaterThan(0);
  expect(wait).toBeLessThanOrEqual(maxWaitMs);
  return wait!;
}

describe("message:send flood", () => {
  it("stores the allowance, refuses the rest with RATE_LIMITED and retryAfterMs, and accepts again after the wait", async () => {
    await start({ messageSend: { points: 5, durationSec: 60 }, messageBurst: { points: 10, durationSec: 60 } });
    const a = await signInOk(server.url, "flooder");
    const b = await signInOk(server.url, "bystander");
    const flooder = await connect(server.url, a.cookie);
    const bystander = await connect(server.url, b.cookie);
    const seen = collect(bystander, "message:created");

    const sends = Array.from({ length: 40 }, (_, i) => text(DEFAULT_ROOM_ID, `flood ${i}`));
    const results = await Promise.all(sends.map((payload) => request(flooder, "message:send", payload)));
    const accepted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(accepted).toHaveLength(15);
    expect(refused).toHaveLength(25);
    for (const r of refused) expectRateLimited(r, 60_000);

    const stored = await server.storage.getMessages(DEFAULT_ROOM_ID, { latest: true, limit: 200 });
    const floodStored = stored.messages.filter((m) => m.authorId === a.user.id && m.kind === "text");
    expect(floodStored).toHaveLength(15);
    await roundTrip(bystander);
    expect(seen.filter((m) => m.authorId === a.user.id)).toHaveLength(15);

    // A refused message is not half-stored: after the wait, the same client id is accepted once.
    const firstRefused = sends[results.findIndex((r) => !r.ok)]!;
    // 60 s later (a faked Date), from a new socket: the budget is the user's, and a socket opened
    // before the jump would take the jump for a missed heartbeat (engine.io-client checks pings
    // against Date) and drop.
    flooder.close();
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    vi.setSystemTime(Date.now() + 60_001);
    const later = await connect(server.url, a.cookie);
    const again = await request(later, "message:send", firstRefused);
    expect(again.ok).toBe(true);
    const after = await server.storage.getMessages(DEFAULT_ROOM_ID, { latest: true, limit: 200 });
    expect(after.messages.filter((m: Message) => m.clientId === firstRefused.clientId)).toHaveLength(1);
  });

  it("is per user: another user's sends go through while one user is refused", async () => {
    await start({ messageSend: { points: 2, durationSec: 60 }, messageBurst: { points: 1, durationSec: 60 } });
    const a = await signInOk(server.url, "flooder");
    const b = await signInOk(server.url, "bystander");
    const flooder = await connect(server.url, a.cookie);
    const bystander = await connect(server.url, b.cookie);
    await Promise.all(Array.from({ length: 10 }, (_, i) => request(flooder, "message:send", text(DEFAULT_ROOM_ID, `x${i}`))));
    expectRateLimited(await request(flooder, "message:send", text(DEFAULT_ROOM_ID, "more")), 60_000);
    for (let i = 0; i < 3; i++) expect((await request(bystander, "message:send", text(DEFAULT_ROOM_ID, `calm ${i}`))).ok).toBe(true);
  });
});

describe("other command budgets", () => {
  it("refuses room:create, dm:open and searches over their budgets with RATE_LIMITED", async () => {
    await start({ roomCreate: { points: 2, durationSec: 3600 }, dmOpen: { points: 1, durationSec: 60 }, search: { points: 3, durationSec: 10 } });
    const a = await signInOk(server.url, "ana");
    const b = await signInOk(server.url, "ben");
    const c = await signInOk(server.url, "cy");
    const ana = await connect(server.url, a.cookie);

    expect((await request(ana, "room:create", { name: "one" })).ok).toBe(true);
    expect((await request(ana, "room:create", { name: "two" })).ok).toBe(true);
    expectRateLimited(await request(ana, "room:create", { name: "three" }), 3_600_000);

    expect((await request(ana, "dm:open", { userId: b.user.id })).ok).toBe(true);
    expectRateLimited(await request(ana, "dm:open", { userId: c.user.id }), 60_000);

    // rooms:list and users:search share one budget.
    expect((await request(ana, "rooms:list", {})).ok).toBe(true);
    expect((await request(ana, "users:search", { query: "b" })).ok).toBe(true);
    expect((await request(ana, "rooms:list", { query: "o" })).ok).toBe(true);
    expectRateLimited(await request(ana, "users:search", { query: "c" }), 10_000);
    // Unlimited commands still answer.
    expect((await request(ana, "session:sync", {})).ok).toBe(true);
  });
});

describe("typing", () => {
  it("is throttled, not refused: every start is acked ok, the ones over budget are not broadcast, a stop always is", async () => {
    await start({ typing: { points: 2, durationSec: 60 } });
    const a = await signInOk(server.url, "typist");
    const b = await signInOk(server.url, "watcher");
    const typist = await connect(server.url, a.cookie);
    const watcher = await connect(server.url, b.cookie);
    const seen = collect(watcher, "typing:updated");

    const acks = await Promise.all(Array.from({ length: 6 }, () => request(typist, "typing:start", { roomId: DEFAULT_ROOM_ID })));
    expect(acks.every((r) => r.ok)).toBe(true);
    await roundTrip(watcher);
    expect(seen.filter((u) => u.typing)).toHaveLength(2);

    expect((await request(typist, "typing:stop", { roomId: DEFAULT_ROOM_ID })).ok).toBe(true);
    await roundTrip(watcher);
    expect(seen.at(-1)).toMatchObject({ userId: a.user.id, typing: false });
  });
});

describe("socket caps", () => {
  it("refuses a handshake over the per-user or per-IP cap with connect_error RATE_LIMITED, and counts closed sockets out", async () => {
    await start({ socketsPerUser: 2, socketsPerIp: 3 });
    const a = await signInOk(server.url, "tabby");
    const b = await signInOk(server.url, "other");
    const tab1 = await connect(server.url, a.cookie);
    await connect(server.url, a.cookie);
    const overUser = await connect(server.url, a.cookie).catch((e: Error & { data?: { code?: string } }) => e);
    expect(overUser).toBeInstanceOf(Error);
    expect((overUser as Error).message).toBe("RATE_LIMITED");
    expect((overUser as Error & { data?: { code?: string } }).data?.code).toBe("RATE_LIMITED");

    await connect(server.url, b.cookie);
    const overIp = await connect(server.url, b.cookie).catch((e: Error & { data?: { message?: string } }) => e);
    expect((overIp as Error).message).toBe("RATE_LIMITED");
    expect((overIp as Error & { data?: { message?: string } }).data?.message).toMatch(/network/);

    const id = tab1.id!;
    tab1.close();
    await waitFor(() => expect(server.app.io.of("/").sockets.has(id)).toBe(false));
    const back: ClientSocket = await connect(server.url, b.cookie);
    expect(back.connected).toBe(true);
  });
});

// ---- sign-in ----------------------------------------------------------------------------------

interface LoginReply {
  status: number;
  retryAfter: string | undefined;
  body: { error?: { code: string; retryAfterMs?: number } };
}

/** POST /api/auth/login from a chosen loopback address (127.0.0.x all reach the server on Linux). */
function loginFrom(localAddress: string, nickname: string, password: string): Promise<LoginReply> {
  const url = new URL(server.url + API.login);
  const payload = JSON.stringify({ nickname, password });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", localAddress, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (data += chunk));
        res.on("end", () => {
          const retryAfter = res.headers["retry-after"];
          resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, body: JSON.parse(data) as LoginReply["body"] });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe("sign-in guessing", () => {
  const verify = vi.mocked(verifyPassword);
  const hash = vi.mocked(hashPassword);
  beforeEach(async () => {
    await start({ signInConsecutive: { points: 5, durationSec: 60 }, signInPerIp: { points: 100, durationSec: 86_400 } });
    expect((await loginFrom("127.0.0.1", "owner", "the-right-one")).status).toBe(200);
    verify.mockClear();
    hash.mockClear();
  });

  it("refuses the 6th wrong password within a minute without running scrypt; the right password from another IP still works", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    for (let i = 1; i <= 5; i++) {
      const r = await loginFrom("127.0.0.1", "owner", `guess-${i}-x`);
      expect(r.status).toBe(401);
      expect(r.body.error?.code).toBe("WRONG_PASSWORD");
      if (i < 5) vi.setSystemTime(Date.now() + 10_000); // five guesses within a minute
    }
    expect(verify).toHaveBeenCalledTimes(5);

    const sixth = await loginFrom("127.0.0.1", "owner", "guess-6-x");
    expect(sixth.status).toBe(429);
    expect(sixth.body.error?.code).toBe("RATE_LIMITED");
    expect(sixth.body.error?.retryAfterMs).toBeGreaterThan(55_000);
    expect(sixth.body.error?.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(sixth.retryAfter).toBe("60");
    // Even the right password waits from this IP: the guesser cannot test a guess during the block.
    expect((await loginFrom("127.0.0.1", "owner", "the-right-one")).status).toBe(429);
    expect(verify).toHaveBeenCalledTimes(5);

    // The owner elsewhere is not locked out.
    expect((await loginFrom("127.0.0.2", "owner", "the-right-one")).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(6);
  });

  it("doubles the back-off with each further failure, and a success starts the count over", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    for (let i = 1; i <= 5; i++) expect((await loginFrom("127.0.0.1", "owner", `guess-${i}-x`)).status).toBe(401);
    expect((await loginFrom("127.0.0.1", "owner", "nope-nope")).body.error?.retryAfterMs).toBeLessThanOrEqual(60_000);

    vi.setSystemTime(Date.now() + 60_001);
    expect((await loginFrom("127.0.0.1", "owner", "guess-6-x")).status).toBe(401);
    const second = await loginFrom("127.0.0.1", "owner", "guess-7-x");
    expect(second.status).toBe(429);
    expect(second.body.error?.retryAfterMs).toBeGreaterThan(60_000);
    expect(second.body.error?.retryAfterMs).toBeLessThanOrEqual(120_000);

    vi.setSystemTime(Date.now() + 120_001);
    expect((await loginFrom("127.0.0.1", "owner", "the-right-one")).status).toBe(200);
    // Counted from zero again: five more tries before a block.
    for (let i = 1; i <= 5; i++) expect((await loginFrom("127.0.0.1", "owner", `again-${i}-x`)).status).toBe(401);
    expect((await loginFrom("127.0.0.1", "owner", "again-6-x")).status).toBe(429);
  });

  it("limits wrong passwords per IP across nicknames", async () => {
    await server.stop();
    await start({ signInConsecutive: { points: 5, durationSec: 60 }, signInPerIp: { points: 3, durationSec: 86_400 } });
    for (const nick of ["n1", "n2", "n3", "n4"]) expect((await loginFrom("127.0.0.1", nick, "the-right-one")).status).toBe(200);
    for (const nick of ["n1", "n2", "n3"]) expect((await loginFrom("127.0.0.1", nick, "wrong-password")).status).toBe(401);
    verify.mockClear();
    const refused = await loginFrom("127.0.0.1", "n4", "wrong-password");
    expect(refused.status).toBe(429);
    expect(verify).not.toHaveBeenCalled();
    expect((await loginFrom("127.0.0.2", "n4", "the-right-one")).status).toBe(200);
  });
});

describe("account creation", () => {
  it("is limited per IP, before the new password is hashed; existing accounts still sign in", async () => {
    await start({ accountsPerIp: { points: 2, durationSec: 3600 } });
    const hash = vi.mocked(hashPassword);
    expect((await loginFrom("127.0.0.1", "first", "password-1")).status).toBe(200);
    expect((await loginFrom("127.0.0.1", "second", "password-1")).status).toBe(200);
    hash.mockClear();
    const third = await loginFrom("127.0.0.1", "third", "password-1");
    expect(third.status).toBe(429);
    expect(third.body.error?.code).toBe("RATE_LIMITED");
    expect(Number(third.retryAfter)).toBeGreaterThan(0);
    expect(hash).not.toHaveBeenCalled();
    expect((await loginFrom("127.0.0.1", "first", "password-1")).status).toBe(200);
    expect((await loginFrom("127.0.0.2", "third", "password-1")).status).toBe(200);
  });
});

// ---- across nodes ---------------------------------------------------------------------------

describeWithServices(["PARLEY_TEST_REDIS_URL"], "with the Redis store", () => {
  const budgets: RateLimitBudgets = { ...TEST_RATE_LIMITS, messageSend: { points: 3, durationSec: 60 }, messageBurst: { points: 2, durationSec: 60 } };
  const refusedCode = async (p: Promise<void> | void) => {
    try {
      await p;
      return "ok";
    } catch (e) {
      return (e as { code?: string }).code;
    }
  };

  /** The guard reads only the sender's user id (and, when refusing, counts per socket object). */
  const socketOf = (userId: string) => ({ data: { userId } }) as unknown as ParleySocket;

  it("holds one budget across nodes", async () => {
    const clients = [createClient({ url: TEST_REDIS_URL! }), createClient({ url: TEST_REDIS_URL! })];
    await Promise.all(clients.map((c) => c.connect()));
    try {
      // Each run its own prefix, so runs sharing one Redis do not share counters.
      const keyPrefix = `parley-test:${randomUUID()}`;
      const [node1, node2] = clients.map((client) => new RateLimits(budgets, silentLogger, { kind: "redis", client, keyPrefix }).commandGuard);
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await refusedCode(node1!("message:send", socketOf("user-1"))));
      expect(results).toEqual(["ok", "ok", "ok", "ok", "ok"]);
      expect(await refusedCode(node2!("message:send", socketOf("user-1")))).toBe("RATE_LIMITED");
      // Another user has a budget of their own.
      const other = new RateLimits(budgets, silentLogger, { kind: "redis", client: clients[1]!, keyPrefix }).commandGuard;
      expect(await refusedCode(other("message:send", socketOf("user-2")))).toBe("ok");
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it("falls back to per-node limits (the insurance limiter) while Redis is unreachable", async () => {
    const down = createClient({ url: "redis://127.0.0.1:1", socket: { reconnectStrategy: false } });
    const guard = new RateLimits(budgets, silentLogger, { kind: "redis", client: down, keyPrefix: `parley-test:${randomUUID()}` }).commandGuard;
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await refusedCode(guard("message:send", socketOf("user-1"))));
    expect(results).toEqual(["ok", "ok", "ok", "ok", "ok", "RATE_LIMITED"]);
  });
});
