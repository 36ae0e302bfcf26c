import { EventEmitter } from "node:events";
import type { Socket as NetSocket } from "node:net";
import { io as ioClient } from "socket.io-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID, SOCKET_PATH, type Message } from "@parley/shared";
import { corkWritesPerTurn, fanoutStatsOf, MIN_UNCORK_GAP_MS } from "../../src/realtime/cork.js";
import { channel, type ParleyServer } from "../../src/realtime/types.js";
import {
  closeAllSockets,
  collect,
  connect,
  requestOk,
  roundTrip,
  signInOk,
  startServer,
  text,
  type ClientSocket,
  type TestServer,
} from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

// Corking (ADR 0006) must be invisible to clients (every packet arrives, in order) and must
// actually coalesce: what one socket is sent in one event-loop turn leaves in one write.

let server: TestServer;
let alice: ClientSocket;
let bob: ClientSocket;
let bobCookie: string;

beforeEach(async () => {
  server = await startServer();
  const a = await signInOk(server.url, "Alice");
  const b = await signInOk(server.url, "Bob");
  bobCookie = b.cookie;
  alice = await connect(server.url, a.cookie);
  bob = await connect(server.url, b.cookie);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

/** The server-side TCP socket under a connected client, reached the way cork.ts reaches it. */
function serverTcpSocket(client: { id?: string | undefined }): NetSocket {
  const socket = server.app.io.sockets.sockets.get(client.id!);
  const ws = (socket?.conn.transport as unknown as { name: string; socket?: { _socket?: NetSocket } } | undefined);
  expect(ws?.name).toBe("websocket");
  return ws!.socket!._socket!;
}

/** Counts the stream-level writes (each one is one write/writev syscall) a TCP socket makes. */
function countWrites(tcp: NetSocket): { readonly count: number } {
  const counter = { count: 0 };
  const spyable = tcp as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  for (const method of ["_write", "_writev"] as const) {
    const original = spyable[method].bind(tcp);
    spyable[method] = (...args: unknown[]) => {
      counter.count++;
      original(...args);
    };
  }
  return counter;
}

/** A real message to re-broadcast: what a burst from a group commit looks like on the wire. */
async function oneMessage(): Promise<Message> {
  return requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "seed"));
}

const until = (condition: () => boolean) => waitFor(() => expect(condition()).toBe(true));

describe("corkWritesPerTurn", () => {
  it("sends a burst of broadcasts made in one turn to a socket in two writes, not one per packet, complete and in order", async () => {
    const message = await oneMessage();
    await roundTrip(bob); // the seed's own broadcast has arrived before we start counting
    const got = collect(bob, "message:created");
    const writes = countWrites(serverTcpSocket(bob));

    const BURST = 50;
    const room = server.app.io.to(channel.room(DEFAULT_ROOM_ID));
    for (let i = 1; i <= BURST; i++) room.emit("message:created", { ...message, seq: message.seq + i });

    await until(() => got.length === BURST);
    expect(got.map((m) => m.seq)).toEqual(Array.from({ length: BURST }, (_, i) => message.seq + i + 1));
    // Uncorked, ws writes every frame on its own: BURST writes. Corked: two. The first packet
    // makes engine.io's transport busy until its write callback, which waits for the uncork, so
    // the other 49 wait in engine.io's buffer and go out together right after it.
    expect(writes.count).toBeLessThanOrEqual(2);
  });

  it("delivers a burst of real sends (batched by group commit) complete and in send order", async () => {
    const got = collect(bob, "message:created");
    const writes = countWrites(serverTcpSocket(bob));
    const BURST = 40;
    const sends = Array.from({ length: BURST }, (_, i) => text(DEFAULT_ROOM_ID, `burst ${i}`));
    // All emitted in one client turn; the server reads them in a few turns and commits each
    // turn's sends in one transaction, then broadcasts that batch in one turn.
    const acks = await Promise.all(sends.map((s) => requestOk(alice, "message:send", s)));

    await until(() => got.filter((m) => m.kind === "text").length === BURST);
    const texts = got.filter((m) => m.kind === "text");
    expect(texts.map((m) => m.clientId)).toEqual(sends.map((s) => s.clientId));
    expect(texts.map((m) => m.seq)).toEqual(acks.map((a) => a.seq));
    expect(texts.map((m) => m.seq)).toEqual([...texts.map((m) => m.seq)].sort((x, y) => x - y));
    // One write per turn that had broadcasts for bob, never one per message. (Kept loose: how many
    // reads the server needs for the burst depends on the machine.)
    expect(writes.count).toBeLessThan(BURST / 2);
  });

  it("corks a connection that started on polling once it has upgraded to websocket", async () => {
    const message = await oneMessage();
    const polling = ioClient(server.url, {
      path: SOCKET_PATH,
      extraHeaders: { cookie: bobCookie },
      transports: ["polling", "websocket"],
      forceNew: true,
      reconnection: false,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        polling.io.engine?.once("upgrade", () => resolve());
        polling.once("connect", () => polling.io.engine.once("upgrade", () => resolve()));
        polling.once("connect_error", reject);
      });
      await until(() => server.app.io.sockets.sockets.get(polling.id!)?.conn.transport.name === "websocket");
      const got: Message[] = [];
      polling.on("message:created", (m: Message) => got.push(m));
      const writes = countWrites(serverTcpSocket(polling));

      const target = server.app.io.to(polling.id!);
      for (let i = 1; i <= 20; i++) target.emit("message:created", { ...message, seq: message.seq + i });

      await until(() => got.length === 20);
      expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => message.seq + i + 1));
      expect(writes.count).toBeLessThanOrEqual(2);
    } finally {
      polling.close();
    }
  });

  it("spaces its uncorks at least MIN_UNCORK_GAP_MS apart, so a busy server's frames to a socket gather in fewer writes", async () => {
    // An engine and a TCP socket of its own: only the timing of cork and uncork is under test here.
    const engine = new EventEmitter();
    corkWritesPerTurn({ engine } as unknown as ParleyServer);
    const uncorks: number[] = [];
    const flush = () => engine.emit("flush", { transport: { name: "websocket", socket: { _socket: tcp } } }, []);
    const tcp = {
      writableCorked: 0,
      destroyed: false,
      cork() {
        this.writableCorked++;
      },
      uncork() {
        this.writableCorked = Math.max(0, this.writableCorked - 1);
        uncorks.push(performance.now());
        // Written again right after the uncork, as a busy server does.
        if (uncorks.length === 1) setImmediate(flush);
      },
    };
    flush();
    await until(() => uncorks.length === 2);
    // The second uncork waits for the gap, where it used to run on the next timer (1.4 ms measured
    // here). (Half a ms less: a timer may fire a little early by the loop's cached clock.)
    expect(uncorks[1]! - uncorks[0]!).toBeGreaterThanOrEqual(MIN_UNCORK_GAP_MS - 0.5);
  });

  it("is a no-op where the engine.io / ws internals it relies on are missing", () => {
    expect(() => corkWritesPerTurn({} as ParleyServer)).not.toThrow();
    const engine = new EventEmitter();
    corkWritesPerTurn({ engine } as unknown as ParleyServer);
    for (const socket of [undefined, {}, { transport: { name: "polling" } }, { transport: { name: "websocket" } }, { transport: { name: "websocket", socket: { _socket: {} } } }]) {
      expect(() => engine.emit("flush", socket, [])).not.toThrow();
    }
  });
});

describe("the broadcast fast path", () => {
  const direct = () => fanoutStatsOf(server.app.io)!.direct;

  it("writes a broadcast's frame straight to each websocket, every packet arriving once and in order", async () => {
    const message = await oneMessage();
    await roundTrip(bob);
    await roundTrip(alice);
    const gotBob = collect(bob, "message:created");
    const gotAlice = collect(alice, "message:created");
    const before = direct();
    const BURST = 30;
    const room = server.app.io.to(channel.room(DEFAULT_ROOM_ID));
    for (let i = 1; i <= BURST; i++) room.emit("message:created", { ...message, seq: message.seq + i });

    await until(() => gotBob.length === BURST && gotAlice.length === BURST);
    const expected = Array.from({ length: BURST }, (_, i) => message.seq + i + 1);
    expect(gotBob.map((m) => m.seq)).toEqual(expected);
    expect(gotAlice.map((m) => m.seq)).toEqual(expected);
    // Every one of the 60 deliveries went the direct way (nothing was in flight for either socket).
    expect(direct() - before).toBe(2 * BURST);
  });

  it("keeps order when broadcasts and engine.io's own writes (emits to one socket) interleave, in one turn and across turns", async () => {
    const message = await oneMessage();
    await roundTrip(bob);
    const got = collect(bob, "message:created");
    const bobOnServer = server.app.io.sockets.sockets.get(bob.id!)!;
    const room = server.app.io.to(channel.room(DEFAULT_ROOM_ID));
    const before = direct();
    let seq = message.seq;
    const expected: number[] = [];
    // Turn 1: direct emits (engine.io's queue: the transport is busy after the first) mixed with
    // broadcasts, which must then queue behind them instead of overtaking.
    const emitMixed = (n: number) => {
      for (let i = 0; i < n; i++) {
        seq++;
        expected.push(seq);
        if (i % 3 === 0) bobOnServer.emit("message:created", { ...message, seq });
        else room.emit("message:created", { ...message, seq });
      }
    };
    emitMixed(30);
    // Turn 2, after those are written: broadcasts first (direct), then an emit, then broadcasts.
    await until(() => got.length === 30);
    const directAfterMixed = direct();
    for (let i = 0; i < 3; i++) {
      seq++;
      expected.push(seq);
      room.emit("message:created", { ...message, seq });
    }
    emitMixed(9);

    await until(() => got.length === expected.length);
    expect(got.map((m) => m.seq)).toEqual(expected);
    // The first broadcasts of turn 2 went direct; those behind an engine.io write did not.
    expect(direct() - directAfterMixed).toBeGreaterThanOrEqual(2 * 3);
    expect(direct() - before).toBeLessThan(2 * (expected.length - 13));
  });

  it("leaves a polling connection to engine.io (it still gets every broadcast)", async () => {
    const message = await oneMessage();
    const polling = ioClient(server.url, {
      path: SOCKET_PATH,
      extraHeaders: { cookie: bobCookie },
      transports: ["polling"],
      forceNew: true,
      reconnection: false,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        polling.once("connect", () => resolve());
        polling.once("connect_error", reject);
      });
      await roundTrip(polling as unknown as ClientSocket);
      await roundTrip(alice);
      await roundTrip(bob);
      const got: Message[] = [];
      polling.on("message:created", (m: Message) => got.push(m));
      const gotBob = collect(bob, "message:created");
      const before = direct();
      const room = server.app.io.to(channel.room(DEFAULT_ROOM_ID));
      for (let i = 1; i <= 10; i++) room.emit("message:created", { ...message, seq: message.seq + i });
      await until(() => got.length === 10 && gotBob.length === 10);
      expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => message.seq + i + 1));
      // Alice's and Bob's websockets: direct; the polling connection: not.
      expect(direct() - before).toBe(2 * 10);
    } finally {
      polling.close();
    }
  });
});
