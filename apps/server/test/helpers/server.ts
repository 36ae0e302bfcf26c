import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io as ioClient, type Socket } from "socket.io-client";
import {
  API,
  SOCKET_PATH,
  type AckResult,
  type ClientEventName,
  type ClientPayload,
  type ClientReplies,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type User,
} from "@parley/shared";
import { createApp, type App, type AppOptions } from "../../src/app.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { DEFAULT_BUDGETS, scaleBudgets, type RateLimitBudgets } from "../../src/security/rate-limits.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { testBlobStore } from "./blobs.js";
import { prepareStorage } from "../../src/domain/setup.js";

/** Cheap scrypt parameters for tests that sign users in (the stored format is the same). */
export const TEST_PASSWORD_PARAMS = { N: 2 ** 10, r: 8, p: 1 };

/**
 * Rate limits for tests that are not about them: the production budgets times 1,000, so seeding
 * hundreds of messages or users from one socket and one IP goes through, while the limiting code
 * still runs on every command. The rate-limit tests pass their own (test/realtime/rate-limit.test.ts).
 */
export const TEST_RATE_LIMITS: RateLimitBudgets = scaleBudgets(DEFAULT_BUDGETS, 1_000);

/** A real Parley client socket, typed with the shared protocol. */
export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface StartOptions {
  /** SQLite file; a fresh temp file (deleted on stop) when omitted. */
  dbPath?: string;
  typingTtlMs?: number;
  presenceGraceMs?: number;
  sessionTtlMs?: number;
  /**
   * Opens the storage (default: a SqliteStorage on the file), e.g. a subclass whose writes a test
   * can make fail or hang. Called again on restart.
   */
  openStorage?: (dbPath: string) => SqliteStorage;
  /** Defaults to TEST_RATE_LIMITS (generous); rate-limit tests pass tight ones. */
  rateLimits?: RateLimitBudgets;
  /** Defaults to the console logger, so an unexpected server error fails the test (vitest.setup.ts). */
  logger?: Logger;
  /** More app options (METRICS_TOKEN, the access log), applied last. */
  app?: Partial<AppOptions>;
}

export interface TestServer {
  /** `http://127.0.0.1:<port>`; changes on restart. */
  url: string;
  app: App;
  storage: SqliteStorage;
  dbPath: string;
  /** Closes every socket, the app and the storage; removes the temp database it created. */
  stop(): Promise<void>;
  /** Closes app and storage, reopens the same database file and listens again on a new port. */
  restart(): Promise<void>;
}

/** Starts the real app (createApp + SqliteStorage) on 127.0.0.1, port 0. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const ownsDb = options.dbPath === undefined;
  const dbPath = options.dbPath ?? join(tmpdir(), `parley-test-${randomUUID()}`, "parley.sqlite");
  const open = async () => {
    const storage = options.openStorage ? options.openStorage(dbPath) : new SqliteStorage(dbPath);
    await prepareStorage(storage);
    // Beside the database, so a restart finds the files again and stop() removes them with it.
    const blobs = await testBlobStore(join(dbPath, "..", "blobs"));
    const app = createApp(
      options.logger ? { storage, blobs, logger: options.logger } : { storage, blobs },
      {
        // scrypt at OWASP's cost takes ~1 s here; the hashing itself is tested in password.test.ts.
        passwordParams: TEST_PASSWORD_PARAMS,
        rateLimits: options.rateLimits ?? TEST_RATE_LIMITS,
        ...(options.typingTtlMs !== undefined && { typingTtlMs: options.typingTtlMs }),
        ...(options.presenceGraceMs !== undefined && { presenceGraceMs: options.presenceGraceMs }),
        ...(options.sessionTtlMs !== undefined && { sessionTtlMs: options.sessionTtlMs }),
        ...options.app,
      },
    );
    await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
    const { port } = app.httpServer.address() as AddressInfo;
    return { storage, app, url: `http://127.0.0.1:${port}` };
  };
  const close = async (s: { app: App; storage: SqliteStorage }) => {
    await s.app.close();
    await s.storage.close();
  };

  let current = await open();
  let stopped = false;
  const server: TestServer = {
    url: current.url,
    app: current.app,
    storage: current.storage,
    dbPath,
    async stop() {
      if (stopped) return;
      stopped = true;
      await close(current);
      if (ownsDb) rmSync(join(dbPath, ".."), { recursive: true, force: true });
    },
    async restart() {
      await close(current);
      current = await open();
      server.url = current.url;
      server.app = current.app;
      server.storage = current.storage;
    },
  };
  return server;
}

export { silentLogger };

export interface SignInResult {
  /** `parley_session=<token>`, ready for a Cookie header; "" when the login failed. */
  cookie: string;
  user: User | undefined;
  created: boolean | undefined;
  status: number;
  body: unknown;
}

/** POST /api/auth/login (signs in, or creates the account). */
export async function signIn(url: string, nickname: string, password: string): Promise<SignInResult> {
  const res = await fetch(`${url}${API.login}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nickname, password }),
  });
  const body: unknown = await res.json();
  const setCookie = res.headers.getSetCookie()[0];
  const cookie = setCookie ? setCookie.split(";")[0]! : "";
  const session = res.ok ? (body as { user: User; created: boolean }) : undefined;
  return { cookie, user: session?.user, created: session?.created, status: res.status, body };
}

/** Signs in and fails loudly when it did not work: for tests that only need a user. */
export async function signInOk(url: string, nickname: string, password = "password123"): Promise<{ cookie: string; user: User }> {
  const r = await signIn(url, nickname, password);
  if (r.status !== 200 || !r.user) throw new Error(`sign-in of ${nickname} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { cookie: r.cookie, user: r.user };
}

const openSockets = new Set<ClientSocket>();

/** Opens a real socket.io-client socket with the session cookie; resolves once connected. */
export function connect(url: string, cookie: string): Promise<ClientSocket> {
  const socket: ClientSocket = ioClient(url, {
    path: SOCKET_PATH,
    extraHeaders: { cookie },
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
  });
  openSockets.add(socket);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => {
      socket.off("connect_error");
      resolve(socket);
    });
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Closes every socket `connect` opened (call in afterEach, before stopping the server). */
export function closeAllSockets(): void {
  for (const s of openSockets) s.close();
  openSockets.clear();
}

type EventArgs<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

/**
 * The next `name` event on `socket` whose payload satisfies `predicate`. Register it BEFORE doing
 * what causes the event, then await it.
 */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  name: E,
  predicate: (payload: EventArgs<E>) => boolean = () => true,
): Promise<EventArgs<E>> {
  return new Promise((resolve) => {
    const listener = (payload: EventArgs<E>) => {
      if (!predicate(payload)) return;
      (socket.off as (ev: string, fn: unknown) => void)(name, listener);
      resolve(payload);
    };
    (socket.on as (ev: string, fn: unknown) => void)(name, listener);
  });
}

/** Records every `name` event a socket receives from now on. */
export function collect<E extends keyof ServerToClientEvents>(socket: ClientSocket, name: E): EventArgs<E>[] {
  const seen: EventArgs<E>[] = [];
  (socket.on as (ev: string, fn: unknown) => void)(name, (payload: EventArgs<E>) => seen.push(payload));
  return seen;
}

/** Sends a command and returns its ack envelope. */
export function request<E extends ClientEventName>(socket: ClientSocket, event: E, payload: ClientPayload<E>): Promise<AckResult<ClientReplies[E]>> {
  // The typed emitWithAck cannot take a generic event name; the signature above keeps callers typed.
  const timed = socket.timeout(10_000) as unknown as { emitWithAck(ev: string, p: unknown): Promise<AckResult<ClientReplies[E]>> };
  return timed.emitWithAck(event, payload);
}

/** Sends a command and returns its data, throwing when the ack is a failure. */
export async function requestOk<E extends ClientEventName>(socket: ClientSocket, event: E, payload: ClientPayload<E>): Promise<ClientReplies[E]> {
  const result = await request(socket, event, payload);
  if (!result.ok) throw new Error(`${event} failed: ${result.error.code} ${result.error.message}`);
  return result.data;
}

/**
 * A round trip on `socket`: once it resolves, every event the server emitted to this socket before
 * it handled the request has been received (Socket.IO keeps per-socket order). This is how tests
 * show that something did NOT arrive, without sleeping.
 */
export async function roundTrip(socket: ClientSocket) {
  return requestOk(socket, "session:sync", {});
}

/** A send payload with a fresh client id. */
export function text(roomId: string, body: string) {
  return { roomId, clientId: randomUUID(), body };
}
