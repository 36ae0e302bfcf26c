import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { createChatClient, memoryOutbox, selectRoomMessages, type ChatClient } from "@parley/client";
import { DEFAULT_ROOM_ID } from "@parley/shared";
import type { ServerOptions } from "socket.io";
import { createApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { channel } from "../../src/realtime/types.js";
import { TEST_PASSWORD_PARAMS, closeAllSockets, signInOk } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { prepareStorage } from "../../src/domain/setup.js";
import { testBlobStore } from "../helpers/blobs.js";

/**
 * What turning connection state recovery off costs a reconnect (ADR 0008): the product's client
 * core is away while MISSED messages are posted, then comes back; we time from the returning
 * engine.io handshake (server clock) to the moment the client's store holds every missed message.
 * With recovery the server replays them; without it the client's seq catch-up fetches them. The
 * numbers are printed, not asserted (they depend on the machine); what is asserted is that the
 * client catches up either way.
 */
const MISSED = 50;
const ROUNDS = 5;

const dir = mkdtempSync(join(tmpdir(), "parley-recovery-cost-"));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  closeAllSockets();
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(name: string, io: Partial<ServerOptions>): Promise<{ app: App; storage: SqliteStorage; url: string }> {
  const storage = await prepareStorage(new SqliteStorage(join(dir, `${name}.sqlite`)));
  const app = createApp({ storage, blobs: await testBlobStore(), logger: silentLogger }, { presenceGraceMs: 50, io, passwordParams: TEST_PASSWORD_PARAMS });
  await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await app.close();
    await storage.close();
  });
  return { app, storage, url: `http://127.0.0.1:${(app.httpServer.address() as AddressInfo).port}` };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(name: string, io: Partial<ServerOptions>): Promise<number[]> {
  const { app, storage, url } = await start(name, io);
  const reader = await signInOk(url, "reader");
  const writer = (await signInOk(url, "writer")).user;
  // Posted the way message:send does (store, then broadcast to the room), minus the per-user rate
  // limit, which would otherwise pace 50 sends over 10 s.
  const post = async (body: string) => {
    const { message } = await storage.appendMessage({ roomId: DEFAULT_ROOM_ID, authorId: writer.id, clientId: randomUUID(), kind: "text", body, mentions: [] });
    app.io.to(channel.room(DEFAULT_ROOM_ID)).emit("message:created", message);
  };
  // A fixed reconnection delay longer than posting MISSED messages takes keeps the reader away
  // while they are posted, without a proxy.
  const client: ChatClient = createChatClient({
    url,
    outbox: memoryOutbox(),
    socketOptions: {
      transports: ["websocket"],
      extraHeaders: { cookie: reader.cookie },
      reconnectionDelay: 1000,
      reconnectionDelayMax: 1000,
      randomizationFactor: 0,
    },
  });
  cleanups.push(() => client.disconnect());
  client.connect();
  client.setActiveRoom(DEFAULT_ROOM_ID);
  await waitFor(() => expect(client.store.getState().timelines[DEFAULT_ROOM_ID]?.loaded).toBe(true));

  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // A broadcast before the drop gives the reader's socket an offset to recover from.
    const warm = `warm ${round}`;
    await post(warm);
    await waitFor(() => expect(bodies(client)).toContain(warm));

    const readerSocket = [...app.io.of("/").sockets.values()].find((s) => s.data.nickname === "reader")!;
    readerSocket.conn.close();
    await waitFor(() => expect(app.io.of("/").sockets.has(readerSocket.id)).toBe(false));
    const missed = Array.from({ length: MISSED }, (_, i) => `r${round} m${i}`);
    for (const body of missed) await post(body);

    const handshake = new Promise<number>((resolve) => app.io.engine.once("connection", () => resolve(performance.now())));
    const caughtUp = new Promise<number>((resolve) => {
      const check = () => {
        const have = new Set(bodies(client));
        if (!missed.every((b) => have.has(b))) return;
        unsubscribe();
        resolve(performance.now());
      };
      const unsubscribe = client.store.subscribe(check);
    });
    const [t0, t1] = await Promise.all([handshake, caughtUp]);
    times.push(t1 - t0);
  }
  return times;
}

const bodies = (c: ChatClient) => selectRoomMessages(c.store.getState(), DEFAULT_ROOM_ID).map((m) => m.body);

describe(`reconnect cost with ${MISSED} missed messages`, () => {
  it("catches up with and without connection state recovery", { timeout: 120_000 }, async () => {
    // The product's setting (recovery off) first, so a cold JIT cannot flatter it.
    const without = await measure("without", {});
    const withRecovery = await measure("with", { connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: false } });
    const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, all [${xs.map((x) => x.toFixed(1)).join(", ")}]`;
    process.stdout.write(`recovery-cost: without recovery (seq catch-up) ${fmt(without)}; with recovery ${fmt(withRecovery)}\n`);
  });
});
