import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { createChatClient, memoryOutbox, selectRoomMessages, type ChatClient } from "@parley/client";
import sharp from "sharp";
import { API, DEFAULT_ROOM_ID, toWireMessage, UPLOAD_ID_HEADER, type UploadResponse, type WireMessage } from "@parley/shared";
import { createApp, type App } from "../src/app.js";
import type { Logger } from "../src/logger.js";
import { attachRedisAdapter } from "../src/realtime/redis-adapter.js";
import { PostgresStorage } from "../src/storage/postgres/postgres-storage.js";
import { TEST_PG_URL, TEST_REDIS_URL, createTestDatabase, describeWithServices, type TestDatabase, type TestSchema } from "./helpers/pg.js";
import { TEST_PASSWORD_PARAMS, TEST_RATE_LIMITS, closeAllSockets, collect, connect, nextEvent, requestOk, signInOk, text, type ClientSocket } from "./helpers/server.js";
import { waitFor } from "./helpers/wait.js";
import { prepareStorage } from "../src/domain/setup.js";
import { PostgresBlobStore } from "../src/blobs/pg-blob-store.js";

/** Quiet, but any server error still fails the test (vitest.setup.ts fails on console.error). */
const logger: Logger = { info: () => {}, error: (message, ...rest) => console.error(`[parley] ${message}`, ...rest) };

interface Node {
  url: string;
  app: App;
  storage: PostgresStorage;
  blobs: PostgresBlobStore;
  redis: { close(): Promise<void> };
}

describeWithServices(
  ["PARLEY_TEST_PG_URL", "PARLEY_TEST_REDIS_URL"],
  "scale-out: two nodes on one PostgreSQL with Redis fan-out",
  () => {
    // One database per run (DROP DATABASE forces a checkpoint: slow on a busy machine), a fresh
    // schema per test.
    let runDb: TestDatabase;
    let db: TestSchema;
    let nodes: Node[] = [];
    let chatClients: ChatClient[] = [];
    // Channels of this run only, so that other runs sharing the Redis server are not heard.
    const redisKey = `parley-test-${randomUUID()}`;

    const startNode = async (): Promise<Node> => {
      const storage = await prepareStorage(new PostgresStorage(db.url, { logger }));
      // Files in the same database, as main.ts does with PostgreSQL: any node serves any file.
      const blobs = new PostgresBlobStore(db.url, { logger });
      await blobs.init();
      const app = createApp({ storage, blobs, logger }, { passwordParams: TEST_PASSWORD_PARAMS, rateLimits: TEST_RATE_LIMITS });
      const redis = await attachRedisAdapter(app.io, TEST_REDIS_URL!, { logger, key: redisKey });
      await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
      const { port } = app.httpServer.address() as AddressInfo;
      const node = { url: `http://127.0.0.1:${port}`, app, storage, blobs, redis };
      nodes.push(node);
      return node;
    };

    /** Signs `nickname` in on `node` and opens a socket there, ready once its rooms are joined. */
    const clientOn = async (node: Node, nickname: string): Promise<ClientSocket> => {
      const { cookie } = await signInOk(node.url, nickname);
      const socket = await connect(node.url, cookie);
      // Handlers wait until the socket has joined its rooms, so once this answers the socket
      // receives every later broadcast to them.
      await requestOk(socket, "session:sync", {});
      return socket;
    };

    beforeAll(async () => {
      runDb = await createTestDatabase(TEST_PG_URL!);
    });
    afterAll(async () => {
      await runDb.drop();
    });
    /** The product's client core for `nickname`, connected to `node`, showing the default room. */
    const chatClientOn = async (node: Node, nickname: string): Promise<ChatClient> => {
      const { cookie } = await signInOk(node.url, nickname);
      const client = createChatClient({
        url: node.url,
        outbox: memoryOutbox(),
        socketOptions: { transports: ["websocket"], extraHeaders: { cookie } },
      });
      chatClients.push(client);
      client.connect();
      client.setActiveRoom(DEFAULT_ROOM_ID);
      await waitFor(() => expect(client.store.getState().timelines[DEFAULT_ROOM_ID]?.loaded).toBe(true));
      return client;
    };

    beforeEach(async () => {
      db = await runDb.createSchema();
      nodes = [];
      chatClients = [];
    });
    afterEach(async () => {
      for (const client of chatClients) client.disconnect();
      closeAllSockets();
      for (const node of nodes) {
        await node.app.close();
        await node.redis.close();
        await node.blobs.close();
        await node.storage.close();
      }
      await db.drop();
    });

    it("delivers a message sent on node A to a member connected to node B, with the same id and seq", async () => {
      const [a, b] = [await startNode(), await startNode()];
      const alice = await clientOn(a, "alice");
      const bob = await clientOn(b, "bob");

      const send = text(DEFAULT_ROOM_ID, "hello from node A");
      const received = nextEvent(bob, "message:created", (m) => m.clientId === send.clientId);
      const sent = await requestOk(alice, "message:send", send);
      expect(await received).toEqual(toWireMessage(sent));
      expect(sent).toMatchObject({ roomId: DEFAULT_ROOM_ID, body: "hello from node A", authorNickname: "alice" });

      // And back the other way.
      const reply = text(DEFAULT_ROOM_ID, "hello from node B");
      const replyReceived = nextEvent(alice, "message:created", (m) => m.clientId === reply.clientId);
      const replySent = await requestOk(bob, "message:send", reply);
      expect(await replyReceived).toEqual(toWireMessage(replySent));
      expect(replySent.seq).toBe(sent.seq + 1);
    });

    it("a file uploaded on node A comes with its message to node B, which serves it and its thumbnail", async () => {
      const [a, b] = [await startNode(), await startNode()];
      const alice = await clientOn(a, "alice");
      const { cookie: bobCookie } = await signInOk(b.url, "bob");
      const bob = await connect(b.url, bobCookie);
      await requestOk(bob, "session:sync", {});

      const image = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#48c" } }).png().toBuffer();
      const res = await fetch(`${a.url}${API.upload(DEFAULT_ROOM_ID)}?name=diagram.png`, {
        method: "POST",
        headers: { cookie: (await signInOk(a.url, "alice")).cookie, [UPLOAD_ID_HEADER]: randomUUID() },
        body: image,
      });
      expect(res.status).toBe(201);
      const { attachment } = (await res.json()) as UploadResponse;
      const send = { ...text(DEFAULT_ROOM_ID, "the diagram"), attachmentIds: [attachment.id] };
      const received = nextEvent(bob, "message:created", (m) => m.clientId === send.clientId);
      await requestOk(alice, "message:send", send);
      expect((await received).attachments).toEqual([attachment]);

      const file = await fetch(`${b.url}${API.file(attachment.id)}`, { headers: { cookie: bobCookie } });
      expect(file.status).toBe(200);
      expect(await sharp(Buffer.from(await file.arrayBuffer())).metadata()).toMatchObject({ format: "png", width: 300, height: 200 });
      const thumb = await fetch(`${b.url}${API.thumbnail(attachment.id)}`, { headers: { cookie: bobCookie } });
      expect(thumb.headers.get("content-type")).toBe("image/webp");
    });

    it("delivers every message of concurrent sends on both nodes to every socket once, with gap-free seqs", async () => {
      const [a, b] = [await startNode(), await startNode()];
      const alice = await clientOn(a, "alice");
      const bob = await clientOn(b, "bob");
      const seenByAlice = collect(alice, "message:created");
      const seenByBob = collect(bob, "message:created");

      const sends = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, `a${i}`))),
        ...Array.from({ length: 10 }, (_, i) => requestOk(bob, "message:send", text(DEFAULT_ROOM_ID, `b${i}`))),
      ]);
      const seqs = sends.map((m) => m.seq).sort((x, y) => x - y);
      const first = seqs[0]!;
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => first + i));

      // In arrival order. Raw sockets get no common order: a node emits to its own sockets at once
      // and to the other node's through Redis, so both see their own node's messages early. (The
      // one order is the client's, merged by seq: the next test.) What every socket does get is
      // each message exactly once.
      const ids = new Set(sends.map((m) => m.id));
      const arrived = (seen: WireMessage[]) => seen.filter((m) => ids.has(m.id)).map((m) => m.id);
      await waitFor(() => {
        expect(arrived(seenByAlice)).toHaveLength(20);
        expect(arrived(seenByBob)).toHaveLength(20);
      });
      for (const seen of [seenByAlice, seenByBob]) expect(new Set(arrived(seen)).size).toBe(20);
    });

    it("shows every client the same order, the stored one, when both nodes send to one room at once", async () => {
      const [a, b] = [await startNode(), await startNode()];
      const alice = await chatClientOn(a, "alice");
      const bob = await chatClientOn(b, "bob");
      const before = (await a.storage.getRoom(DEFAULT_ROOM_ID))!.lastSeq;

      // Each client core sends its own messages one at a time, in order; the two interleave.
      for (let i = 0; i < 10; i++) {
        alice.send(DEFAULT_ROOM_ID, `a${i}`);
        bob.send(DEFAULT_ROOM_ID, `b${i}`);
      }
      const shown = (c: ChatClient) =>
        selectRoomMessages(c.store.getState(), DEFAULT_ROOM_ID)
          .filter((m) => m.seq > before)
          .map((m) => m.body);
      await waitFor(() => {
        for (const c of [alice, bob]) {
          expect(c.store.getState().pendingOrder).toEqual([]);
          expect(shown(c)).toHaveLength(20);
        }
      });

      const stored = await b.storage.getMessages(DEFAULT_ROOM_ID, { afterSeq: before, limit: 100 });
      const order = stored.messages.map((m) => m.body);
      expect(stored.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => before + 1 + i));
      expect(shown(alice)).toEqual(order);
      expect(shown(bob)).toEqual(order);
      // Per sender, the order they wrote in.
      const from = (prefix: string) => order.filter((body) => body.startsWith(prefix));
      expect(from("a")).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`));
      expect(from("b")).toEqual(Array.from({ length: 10 }, (_, i) => `b${i}`));
    });

    it("reaches every tab of a user across nodes (read position sync)", async () => {
      const [a, b] = [await startNode(), await startNode()];
      const bob = await clientOn(a, "bob");
      const aliceOnA = await clientOn(a, "alice");
      // A second sign-in of alice, on the other node: her second tab.
      const { cookie } = await signInOk(b.url, "alice");
      const aliceOnB = await connect(b.url, cookie);
      await requestOk(aliceOnB, "session:sync", {});

      const message = await requestOk(bob, "message:send", text(DEFAULT_ROOM_ID, "read me"));
      const synced = nextEvent(aliceOnB, "room:upserted", (r) => r.id === DEFAULT_ROOM_ID && r.lastReadSeq === message.seq);
      await requestOk(aliceOnA, "room:read", { roomId: DEFAULT_ROOM_ID, seq: message.seq });
      expect(await synced).toMatchObject({ unreadCount: 0, lastSeq: message.seq });

      // A send retried through the other node (the first tab's ack was lost) is stored once.
      const send = text(DEFAULT_ROOM_ID, "sent twice");
      const first = await requestOk(aliceOnA, "message:send", send);
      expect(await requestOk(aliceOnB, "message:send", send)).toEqual(first);
      const page = await requestOk(bob, "messages:fetch", { roomId: DEFAULT_ROOM_ID, afterSeq: message.seq });
      expect(page.messages.map((m) => m.id)).toEqual([first.id]);
    });
  },
);
