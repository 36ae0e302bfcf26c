import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createChatClient, memoryOutbox, selectRoomMessages, type ChatClient, type ChatState } from "@parley/client";
import { DEFAULT_ROOM_ID, type Message } from "@parley/shared";
import type { Logger } from "../../src/logger.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import type { NewMessage } from "../../src/storage/storage.js";
import { closeAllSockets, signInOk, startServer, type TestServer } from "../helpers/server.js";
import { WAIT_TIMEOUT_MS } from "../helpers/wait.js";

/**
 * The client core's promise for a send that does not get through (README, "Delivery guarantee"):
 * after 5 attempts while connected it ends *failed*, whether the server refused it or never
 * answered; an attempt cut short by a lost connection does not count, so an outage never fails a
 * message by itself.
 *
 * Attempts, ack timeouts and backoff are rules about time, so the test owns the clock: setTimeout
 * is faked before the client is created (its socket.io Manager binds setTimeout then, so the ack
 * timeouts and reconnection delays are fake too), and the test moves time by exactly the ack
 * timeout or backoff it expects. The server is real and answers over a real socket; everything
 * else is awaited as an event (a store change, a send reaching the storage), never slept on.
 */

// Kept small so that a whole run (5 timeouts + 7.5 s of backoff) moves the fake clock well under
// the 25 s after which engine.io would start pinging.
const ACK_TIMEOUT_MS = 1_000;
/** The client core's backoff after attempts 1..4 (BACKOFF_BASE_MS * 2^(n-1)). */
const BACKOFF_MS = [500, 1_000, 2_000, 4_000];
const RECONNECT_DELAY_MS = 100;

// Captured before any test fakes them: the guard below must fire on the real clock.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** Settles with `promise`, or fails the test after WAIT_TIMEOUT_MS of real time saying what it waited for. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const guard = realSetTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_TIMEOUT_MS);
    promise.then(
      (value) => (realClearTimeout(guard), resolve(value)),
      (error: unknown) => (realClearTimeout(guard), reject(error instanceof Error ? error : new Error(String(error)))),
    );
  });
}

type SendMode = "store" | "fail" | "hang";

/** SQLite whose user sends (appends with a client id) can be made to fail or never finish. */
class ControlledStorage extends SqliteStorage {
  mode: SendMode = "store";
  /** Client ids of every user send that reached the storage, in arrival order. */
  readonly sends: string[] = [];
  private waiters: (() => void)[] = [];

  override async appendMessage(input: NewMessage): Promise<{ message: Message; created: boolean }> {
    if (input.clientId === null) return super.appendMessage(input); // join notices
    this.sends.push(input.clientId);
    for (const wake of this.waiters.splice(0)) wake();
    if (this.mode === "fail") throw new Error("simulated storage failure");
    if (this.mode === "hang") return new Promise(() => {});
    return super.appendMessage(input);
  }

  /** Resolves once `count` user sends have reached the storage. */
  untilSends(count: number): Promise<void> {
    return within(
      new Promise<void>((resolve) => {
        const check = () => (this.sends.length >= count ? resolve() : this.waiters.push(check));
        check();
      }),
      `send #${count} to reach the server`,
    );
  }
}

let server: TestServer;
let storage: ControlledStorage;
let serverErrors: string[];
let client: ChatClient;

beforeEach(async () => {
  serverErrors = [];
  // The server logs each failed append (and answers INTERNAL); recorded, not printed, because the
  // failures are the point of these tests.
  const logger: Logger = { info: () => {}, error: (message) => void serverErrors.push(message) };
  server = await startServer({
    logger,
    presenceGraceMs: 60_000,
    openStorage: (path) => (storage = new ControlledStorage(path)),
  });
  const { cookie } = await signInOk(server.url, "ana");
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  client = createChatClient({
    url: server.url,
    outbox: memoryOutbox(),
    ackTimeoutMs: ACK_TIMEOUT_MS,
    socketOptions: {
      transports: ["websocket"],
      extraHeaders: { cookie },
      reconnectionDelay: RECONNECT_DELAY_MS,
      reconnectionDelayMax: RECONNECT_DELAY_MS,
      randomizationFactor: 0,
    },
  });
  client.connect();
  await until((s) => s.connection.status === "connected" && !s.connection.catchingUp && s.me !== null, "the first sync");
});
afterEach(async () => {
  vi.useRealTimers();
  client.disconnect();
  closeAllSockets();
  await server.stop();
});

/** Resolves once the store satisfies `predicate` (checked now and on every change). */
function until(predicate: (s: ChatState) => boolean, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      if (predicate(client.store.getState())) return resolve();
      const unsubscribe = client.store.subscribe((s) => {
        if (!predicate(s)) return;
        unsubscribe();
        resolve();
      });
    }),
    what,
  );
}

const pendingOf = (clientId: string) => client.store.getState().pending[clientId];

/** Waits until the client has counted `attempts` failed attempts and set its backoff timer. */
async function untilAttempts(clientId: string, attempts: number): Promise<void> {
  await until((s) => s.pending[clientId]?.attempts === attempts, `attempt ${attempts} to be counted`);
}

/** Cuts the client's connection the way a network failure does (no disconnect packet), then lets it reconnect. */
async function dropConnection(): Promise<void> {
  const sockets = [...server.app.io.of("/").sockets.values()];
  expect(sockets).toHaveLength(1);
  sockets[0]!.conn.close();
  await until((s) => s.connection.status !== "connected", "the client to notice the drop");
  await vi.advanceTimersByTimeAsync(RECONNECT_DELAY_MS);
  await until((s) => s.connection.status === "connected", "the client to reconnect");
}

/** No further send is on its way: a request on the same socket is answered after any earlier one. */
async function settle(): Promise<void> {
  expect((await client.listRooms()).ok).toBe(true);
}

describe("a send that does not get through", () => {
  it("ends failed after 5 attempts the server refused, with its error, and is not tried again", async () => {
    storage.mode = "fail";
    const sent = client.send(DEFAULT_ROOM_ID, "doomed");
    if (!sent.ok) throw new Error(sent.code);

    for (let attempt = 1; attempt < 5; attempt++) {
      await storage.untilSends(attempt);
      await untilAttempts(sent.clientId, attempt);
      expect(pendingOf(sent.clientId)).toMatchObject({ status: "sending", error: "INTERNAL" });
      await vi.advanceTimersByTimeAsync(BACKOFF_MS[attempt - 1]!);
    }
    await storage.untilSends(5);
    await until((s) => s.pending[sent.clientId]?.status === "failed", "the message to fail");
    expect(pendingOf(sent.clientId)).toMatchObject({ status: "failed", error: "INTERNAL", body: "doomed" });
    // Kept (as failed) for Retry and Discard, also across a reload.
    expect(client.store.getState().pendingOrder).toEqual([sent.clientId]);

    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(storage.sends).toEqual(Array.from({ length: 5 }, () => sent.clientId));
    expect(serverErrors).toHaveLength(5);
  });

  it("ends failed after 5 attempts that got no ack in time", async () => {
    storage.mode = "hang";
    const sent = client.send(DEFAULT_ROOM_ID, "into the void");
    if (!sent.ok) throw new Error(sent.code);

    for (let attempt = 1; attempt <= 5; attempt++) {
      await storage.untilSends(attempt);
      // Just short of the ack timeout, the attempt is still running.
      await vi.advanceTimersByTimeAsync(ACK_TIMEOUT_MS - 1);
      expect(pendingOf(sent.clientId)).toMatchObject({ status: "sending", attempts: attempt - 1 });
      await vi.advanceTimersByTimeAsync(1);
      if (attempt === 5) break;
      await untilAttempts(sent.clientId, attempt);
      expect(pendingOf(sent.clientId)).toMatchObject({ status: "sending", error: "TIMEOUT" });
      await vi.advanceTimersByTimeAsync(BACKOFF_MS[attempt - 1]!);
    }
    await until((s) => s.pending[sent.clientId]?.status === "failed", "the message to fail");
    expect(pendingOf(sent.clientId)).toMatchObject({ status: "failed", error: "TIMEOUT" });
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(storage.sends).toHaveLength(5);
  });

  it("does not count an attempt cut short by a lost connection", async () => {
    storage.mode = "hang";
    const sent = client.send(DEFAULT_ROOM_ID, "patience");
    if (!sent.ok) throw new Error(sent.code);

    // Two attempts time out while connected...
    for (let attempt = 1; attempt <= 2; attempt++) {
      await storage.untilSends(attempt);
      await vi.advanceTimersByTimeAsync(ACK_TIMEOUT_MS);
      await untilAttempts(sent.clientId, attempt);
      await vi.advanceTimersByTimeAsync(BACKOFF_MS[attempt - 1]!);
    }
    // ...the third is cut short by a lost connection: it does not count, and the message is sent
    // again as soon as the client is back.
    await storage.untilSends(3);
    await dropConnection();
    await storage.untilSends(4);
    expect(pendingOf(sent.clientId)).toMatchObject({ status: "sending", attempts: 2 });

    // Three more timeouts make five counted attempts: failed, after six sends.
    for (let attempt = 3; attempt <= 5; attempt++) {
      await storage.untilSends(attempt + 1);
      await vi.advanceTimersByTimeAsync(ACK_TIMEOUT_MS);
      if (attempt === 5) break;
      await untilAttempts(sent.clientId, attempt);
      expect(pendingOf(sent.clientId)?.status).toBe("sending");
      await vi.advanceTimersByTimeAsync(BACKOFF_MS[attempt - 1]!);
    }
    await until((s) => s.pending[sent.clientId]?.status === "failed", "the message to fail");
    expect(pendingOf(sent.clientId)).toMatchObject({ status: "failed", error: "TIMEOUT" });
    expect(storage.sends).toHaveLength(6);
  });

  it("never fails a message through lost connections alone, and delivers it once the server answers", async () => {
    storage.mode = "hang";
    const sent = client.send(DEFAULT_ROOM_ID, "still here");
    if (!sent.ok) throw new Error(sent.code);

    // More lost connections than the attempt limit, each while a send was waiting for its ack.
    for (let send = 1; send <= 6; send++) {
      await storage.untilSends(send);
      await dropConnection();
      expect(pendingOf(sent.clientId)).toMatchObject({ status: "sending", attempts: 0 });
    }
    await storage.untilSends(7);
    storage.mode = "store";
    await dropConnection();
    await storage.untilSends(8);

    await until((s) => s.pendingOrder.length === 0, "the message to be confirmed");
    const shown = selectRoomMessages(client.store.getState(), DEFAULT_ROOM_ID).filter((m) => m.kind === "text");
    expect(shown.map((m) => m.body)).toEqual(["still here"]);
    const stored = await server.storage.getMessages(DEFAULT_ROOM_ID, { latest: true, limit: 50 });
    expect(stored.messages.filter((m) => m.clientId === sent.clientId)).toHaveLength(1);
  });
});
