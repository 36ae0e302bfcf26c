import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { createChatClient, memoryOutbox, selectRoomMessages, type ChatClient } from "@parley/client";
import { DEFAULT_ROOM_ID, toWireMessage, type PresenceUpdate, type TypingUpdate } from "@parley/shared";
import { createApp, type App } from "../src/app.js";
import { connectCluster, type Cluster } from "../src/cluster/cluster.js";
import { prepareStorage } from "../src/domain/setup.js";
import type { RateLimitBudgets } from "../src/security/rate-limits.js";
import type { Logger } from "../src/logger.js";
import { PostgresStorage } from "../src/storage/postgres/postgres-storage.js";
import { TEST_PG_URL, TEST_REDIS_URL, createTestDatabase, describeWithServices, type TestDatabase, type TestSchema } from "./helpers/pg.js";
import { TEST_PASSWORD_PARAMS, TEST_RATE_LIMITS, closeAllSockets, collect, connect, nextEvent, request, requestOk, signInOk, text, type ClientSocket } from "./helpers/server.js";
import { waitFor } from "./helpers/wait.js";
import { testBlobStore } from "./helpers/blobs.js";

/** Quiet, but any server error still fails the test (vitest.setup.ts fails on console.error). */
const logger: Logger = { info: () => {}, error: (message, ...rest) => console.error(`[parley] ${message}`, ...rest) };

// Short cluster timings, so that a dead node is noticed in about a second. The production ones
// (3 s heartbeat, 10 s TTL) are proven by `pnpm test:cluster` with real processes.
const HEARTBEAT_MS = 200;
const NODE_TTL_MS = 1_000;
const GRACE_MS = 300;
const HEAD_CHECK_MS = 300;

interface Node {
  id: string;
  url: string;
  app: App;
  cluster: Cluster;
  storage: PostgresStorage;
  closed: boolean;
}

describeWithServices(["PARLEY_TEST_PG_URL", "PARLEY_TEST_REDIS_URL"], "cluster: presence, typing and the tail guard across nodes", () => {
  let runDb: TestDatabase;
  let db: TestSchema;
  let nodes: Node[] = [];
  let chatClients: ChatClient[] = [];
  /** Each test its own keys, streams and channels, so no state crosses tests or runs. */
  let key: string;
  let redis: ReturnType<typeof createClient>;

  beforeAll(async () => {
    runDb = await createTestDatabase(TEST_PG_URL!);
    redis = createClient({ url: TEST_REDIS_URL! });
    await redis.connect();
  });
  afterAll(async () => {
    await redis.close();
    await runDb.drop();
  });
  beforeEach(async () => {
    db = await runDb.createSchema();
    key = `parley-test-${randomUUID()}`;
    nodes = [];
    chatClients = [];
  });
  afterEach(async () => {
    for (const client of chatClients) client.disconnect();
    closeAllSockets();
    for (const node of nodes) await stopNode(node);
    await db.drop();
  });

  /** A node on the shared database and Redis; `adapter: false` makes one that hears no broadcast. */
  async function startNode(options: { adapter?: boolean; heads?: boolean; rateLimits?: RateLimitBudgets } = {}): Promise<Node> {
    const id = `node${nodes.length + 1}`;
    const storage = await prepareStorage(new PostgresStorage(db.url, { logger }));
    const cluster = await connectCluster({ url: TEST_REDIS_URL!, key, nodeId: id, logger, presenceHeartbeatMs: HEARTBEAT_MS, presenceNodeTtlMs: NODE_TTL_MS });
    const app = createApp(
      { storage, blobs: await testBlobStore(), logger, cluster },
      {
        passwordParams: TEST_PASSWORD_PARAMS,
        rateLimits: options.rateLimits ?? TEST_RATE_LIMITS,
        // Counters in Redis, as main.ts sets them up: one budget whichever node a client uses.
        rateLimitStore: { kind: "redis", client: cluster.commands, keyPrefix: `${key}:rl` },
        presenceGraceMs: GRACE_MS,
        ...(options.heads !== false && { roomHeadCheckMs: HEAD_CHECK_MS }),
      },
    );
    if (options.adapter !== false) await cluster.attach(app.io);
    await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
    const { port } = app.httpServer.address() as AddressInfo;
    const node: Node = { id, url: `http://127.0.0.1:${port}`, app, cluster, storage, closed: false };
    nodes.push(node);
    return node;
  }

  async function stopNode(node: Node): Promise<void> {
    if (node.closed) return;
    node.closed = true;
    await node.cluster.close();
    await node.app.close();
    await node.storage.close();
  }

  /**
   * A crash as the other nodes see it: the node stops talking to Redis at once (no heartbeat, no
   * goodbye, its presence entry left to expire) and its sockets drop.
   */
  async function crash(node: Node): Promise<void> {
    await stopNode(node);
  }

  /** Signs `nickname` in on `node` and opens a socket there, ready once its rooms are joined. */
  async function socketOn(node: Node, nickname: string): Promise<{ socket: ClientSocket; userId: string; cookie: string }> {
    const { cookie, user } = await signInOk(node.url, nickname);
    const socket = await connect(node.url, cookie);
    await requestOk(socket, "session:sync", {});
    return { socket, userId: user.id, cookie };
  }

  const onlineOn = async (socket: ClientSocket) => (await requestOk(socket, "session:sync", {})).onlineUserIds;
  const went = (userId: string, online: boolean) => (u: PresenceUpdate) => u.userId === userId && u.online === online;
  /** Whether `node` still lists `userId` among its users in Redis (its grace delay not yet over). */
  const holds = async (node: Node, userId: string) => (await redis.hExists(`${key}:presence:users:${node.id}`, userId)) === 1;

  it("shows a user online on every node while any tab of theirs is connected, and offline everywhere after the last", async () => {
    const [a, b] = [await startNode(), await startNode()];
    const observer = await socketOn(b, "observer");
    const seen = collect(observer.socket, "presence:updated");

    const alice = await socketOn(a, "alice");
    await waitFor(() => expect(seen.some(went(alice.userId, true))).toBe(true));
    expect(await onlineOn(observer.socket)).toContain(alice.userId);

    // A second tab on the other node; the first closes and node A's grace delay passes.
    const aliceOnB = await connect(b.url, alice.cookie);
    await requestOk(aliceOnB, "session:sync", {});
    alice.socket.close();
    await waitFor(async () => expect(await holds(a, alice.userId)).toBe(false));
    expect(await onlineOn(observer.socket)).toContain(alice.userId);
    expect(a.app.services.presence.isOnline(alice.userId)).toBe(true);

    // The last tab closes: offline on both nodes, announced once.
    const offline = nextEvent(observer.socket, "presence:updated", went(alice.userId, false));
    aliceOnB.close();
    await offline;
    expect(await onlineOn(observer.socket)).not.toContain(alice.userId);
    await waitFor(() => expect(a.app.services.presence.isOnline(alice.userId)).toBe(false));
    expect(seen.filter((u) => u.userId === alice.userId).map((u) => u.online)).toEqual([true, false]);
  });

  it("takes a crashed node's users offline on the others within its TTL, but not a user with a tab elsewhere", async () => {
    const [a, b] = [await startNode(), await startNode()];
    const observer = await socketOn(b, "observer");
    const bob = await socketOn(a, "bob");
    const alice = await socketOn(a, "alice");
    const aliceOnB = await connect(b.url, alice.cookie);
    await requestOk(aliceOnB, "session:sync", {});
    await waitFor(async () => expect(await onlineOn(observer.socket)).toEqual(expect.arrayContaining([bob.userId, alice.userId])));
    const seen = collect(observer.socket, "presence:updated");

    const crashedAt = Date.now();
    await crash(a);
    await nextEvent(observer.socket, "presence:updated", went(bob.userId, false));
    // The TTL plus one heartbeat, with room for a busy machine.
    expect(Date.now() - crashedAt).toBeLessThan(NODE_TTL_MS + HEARTBEAT_MS + 2_000);
    const online = await onlineOn(observer.socket);
    expect(online).toContain(alice.userId);
    expect(online).not.toContain(bob.userId);
    expect(seen.some((u) => u.userId === alice.userId)).toBe(false);
    // The dead node's entries are gone from Redis, not left for every node to read forever.
    await waitFor(async () => expect(await redis.sIsMember(`${key}:presence:nodes`, a.id)).toBe(0));
    expect(await redis.exists(`${key}:presence:users:${a.id}`)).toBe(0);
  });

  it("writes a node's users again when Redis lost them (a restart without persistence)", async () => {
    const [a, b] = [await startNode(), await startNode()];
    const observer = await socketOn(b, "observer");
    const alice = await socketOn(a, "alice");
    await waitFor(async () => expect(await onlineOn(observer.socket)).toContain(alice.userId));

    const seen = collect(observer.socket, "presence:updated");

    // What a Redis restart leaves: none of this deployment's keys.
    const keys = await redis.keys(`${key}:presence:*`);
    await redis.del(keys);
    await waitFor(async () => expect(await holds(a, alice.userId)).toBe(true));
    // Two whole beats of each node after the loss: both wrote themselves again and read the other.
    for (let i = 0; i < 2; i++) await Promise.all([a.cluster.presence.beat(), b.cluster.presence.beat()]);
    for (let i = 0; i < 2; i++) await Promise.all([a.cluster.presence.beat(), b.cluster.presence.beat()]);
    expect(await redis.sMembers(`${key}:presence:nodes`)).toHaveLength(2);
    expect(await onlineOn(observer.socket)).toContain(alice.userId);
    // Nobody saw alice leave and come back.
    expect(seen.filter((u) => u.userId === alice.userId)).toEqual([]);
  });

  it("shows typing on other nodes, and ends it everywhere when the typist sends from a tab on another node", async () => {
    const [a, b] = [await startNode(), await startNode()];
    const watcherA = await socketOn(a, "watcher-a");
    const watcherB = await socketOn(b, "watcher-b");
    const alice = await socketOn(a, "alice");
    const aliceOnB = await connect(b.url, alice.cookie);
    await requestOk(aliceOnB, "session:sync", {});
    const isAlice = (typing: boolean) => (u: TypingUpdate) => u.userId === alice.userId && u.typing === typing;

    const startedOnB = nextEvent(watcherB.socket, "typing:updated", isAlice(true));
    const startedOnA = nextEvent(watcherA.socket, "typing:updated", isAlice(true));
    await requestOk(alice.socket, "typing:start", { roomId: DEFAULT_ROOM_ID });
    await Promise.all([startedOnA, startedOnB]);

    const stoppedOnA = nextEvent(watcherA.socket, "typing:updated", isAlice(false));
    const stoppedOnB = nextEvent(watcherB.socket, "typing:updated", isAlice(false));
    await requestOk(aliceOnB, "message:send", text(DEFAULT_ROOM_ID, "done typing"));
    await Promise.all([stoppedOnA, stoppedOnB]);
  });

  it("delivers a room's last message to a node that heard no broadcast of it, within 5 s, with nothing sent after", async () => {
    const a = await startNode();
    // Node B has no fan-out at all: everything it learns of node A's messages, it learns from the
    // room heads. (A node whose Redis connection is down is the same, for as long as it is down.)
    const b = await startNode({ adapter: false });
    const alice = await socketOn(a, "alice");
    const side = await requestOk(alice.socket, "room:create", { name: "side" });

    const { cookie } = await signInOk(b.url, "bob");
    const bob = createChatClient({ url: b.url, outbox: memoryOutbox(), socketOptions: { transports: ["websocket"], extraHeaders: { cookie } } });
    chatClients.push(bob);
    bob.connect();
    bob.setActiveRoom(DEFAULT_ROOM_ID);
    await waitFor(() => expect(bob.store.getState().timelines[DEFAULT_ROOM_ID]?.loaded).toBe(true));
    await bob.joinRoom(side.id);
    bob.setActiveRoom(DEFAULT_ROOM_ID);
    await waitFor(() => expect(bob.store.getState().rooms[side.id]).toBeDefined());

    const sentAt = Date.now();
    const last = await requestOk(alice.socket, "message:send", text(DEFAULT_ROOM_ID, "the last word"));
    const elsewhere = await requestOk(alice.socket, "message:send", text(side.id, "in the side room"));
    // The open room shows the message; the other room's unread count counts its message.
    await waitFor(() => expect(selectRoomMessages(bob.store.getState(), DEFAULT_ROOM_ID).map((m) => m.id)).toContain(last.id), { timeout: 5_000 });
    await waitFor(() => expect(bob.store.getState().rooms[side.id]).toMatchObject({ lastSeq: elsewhere.seq, unreadCount: 1 }), { timeout: 5_000 });
    expect(Date.now() - sentAt).toBeLessThan(5_000);
  });

  it("hands a node the broadcasts published while its stream reader was cut off, from where it stopped reading", async () => {
    // No room heads on node B: what reaches bob here came through the stream.
    const a = await startNode();
    const b = await startNode({ heads: false });
    const alice = await socketOn(a, "alice");
    const bob = await socketOn(b, "bob");

    // Node B's reader is the adapter connection blocked in XREAD.
    const clients = (await redis.sendCommand(["CLIENT", "LIST"])) as unknown as string;
    const readers = clients
      .split("\n")
      .filter((line) => line.includes(` name=${key}:${b.id}:adapter `) && / cmd=xread/.test(line))
      .map((line) => /(?:^| )id=(\d+)/.exec(line)?.[1]);
    expect(readers).toHaveLength(1);
    await redis.sendCommand(["CLIENT", "KILL", "ID", readers[0]!]);

    const send = text(DEFAULT_ROOM_ID, "while you were away");
    const received = nextEvent(bob.socket, "message:created", (m) => m.clientId === send.clientId);
    const sent = await requestOk(alice.socket, "message:send", send);
    expect(await received).toEqual(toWireMessage(sent));
  });

  it("holds one send budget for a user whichever node their tabs are on", async () => {
    // 3 a minute plus a burst of 2: five sends, then refusals, counted across both nodes.
    const rateLimits: RateLimitBudgets = { ...TEST_RATE_LIMITS, messageSend: { points: 3, durationSec: 60 }, messageBurst: { points: 2, durationSec: 60 } };
    const [a, b] = [await startNode({ rateLimits }), await startNode({ rateLimits })];
    const alice = await socketOn(a, "alice");
    const aliceOnB = await connect(b.url, alice.cookie);
    const results: string[] = [];
    for (let i = 0; i < 6; i++) {
      const result = await request(i % 2 === 0 ? alice.socket : aliceOnB, "message:send", text(DEFAULT_ROOM_ID, `m${i}`));
      results.push(result.ok ? "ok" : result.error.code);
    }
    expect(results).toEqual(["ok", "ok", "ok", "ok", "ok", "RATE_LIMITED"]);
  });
});
