import { createRequire } from "node:module";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID, SOCKET_PATH } from "@parley/shared";
import { connect, requestOk, signInOk, startServer, text, type ClientSocket, type TestServer } from "../helpers/server.js";
import { EVENTS, fuzzParams, fuzzTimeout, hostileValue, lengthBomb } from "./arbitraries.js";

/**
 * Raw engine.io / socket.io frames over a plain WebSocket: what no socket.io client would send.
 * Property: for every frame the server either answers a later well-formed command on the same
 * connection, or closes that connection (a frame it cannot decode has no ack id to answer); the
 * process stays up and a bystander on a real client keeps chatting.
 */

// ws comes with socket.io (engine.io's dependency); the server package does not list it itself.
const requireFromSocketIo = createRequire(createRequire(import.meta.url).resolve("socket.io"));
const WebSocket = createRequire(requireFromSocketIo.resolve("engine.io"))("ws") as WebSocketClass;

/** The part of ws's API this file uses (its types are not a dependency of the server). */
interface RawSocket {
  readyState: number;
  send(data: string | Buffer): void;
  close(): void;
  terminate(): void;
  on(event: "message", listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: "close", listener: (code: number) => void): void;
  on(event: "open" | "error", listener: (arg?: unknown) => void): void;
}
type WebSocketClass = new (url: string, options: { headers: Record<string, string> }) => RawSocket;

const RUNS = 800;
const OPEN = 1;

/** A raw connection that did the engine.io and socket.io handshakes; hands out frames in order. */
class RawClient {
  private readonly frames: string[] = [];
  private waiter: (() => void) | null = null;
  closed = false;
  private deaf = false;
  private nextAckId = 1000;

  private constructor(private readonly ws: RawSocket) {
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      const frame = data.toString("utf8");
      // engine.io ping: answer, or the server closes us after pingTimeout.
      if (frame === "2") return ws.send("3");
      this.frames.push(frame);
      this.wake();
    });
    ws.on("close", () => {
      this.closed = true;
      this.wake();
    });
    ws.on("error", () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  static async open(url: string, cookie: string): Promise<RawClient> {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}${SOCKET_PATH}/?EIO=4&transport=websocket`, { headers: { cookie } });
    const client = new RawClient(ws);
    await client.next((f) => f.startsWith("0{"));
    ws.send("40");
    await client.next((f) => f.startsWith("40{"));
    return client;
  }

  /** The next frame satisfying `match`, or null once the connection is closed. */
  async next(match: (frame: string) => boolean): Promise<string | null> {
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i !== -1) return this.frames.splice(i, 1)[0]!;
      if (this.closed || this.deaf) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  send(frame: string | Buffer) {
    if (this.ws.readyState === OPEN) this.ws.send(frame);
  }

  /**
   * A well-formed `session:sync` with an ack id: "answered" when its ack comes back, "closed" when
   * the server closed the connection instead; no answer within 10 s on an open connection fails.
   */
  async probe(): Promise<"answered" | "closed"> {
    const id = this.nextAckId++;
    this.send(`42${id}["session:sync",{}]`);
    // A bound on the wait, so that a frame that leaves the connection open but deaf fails the
    // property with its counterexample instead of timing the whole test out.
    const deaf = setTimeout(() => {
      this.deaf = true;
      this.wake();
    }, 10_000);
    const answer = await this.next((f) => f.startsWith(`43${id}[`));
    clearTimeout(deaf);
    if (this.deaf) throw new Error("the connection stayed open but the command got no answer");
    return answer === null ? "closed" : "answered";
  }

  /** Whether a frame satisfying `match` has already arrived (no waiting). */
  received(match: (frame: string) => boolean): boolean {
    return this.frames.some(match);
  }

  /** Every frame so far that `match`es. */
  receivedAll(match: (frame: string) => boolean): string[] {
    return this.frames.filter(match);
  }

  close() {
    this.ws.terminate();
  }
}

const RESERVED = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener", "error", "message", "ping", "__proto__", "constructor", "toString", "hasOwnProperty"];

const json = (value: unknown) => {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return "null";
  }
};

/** One raw frame: text mostly, binary sometimes. */
const frame: fc.Arbitrary<string | Buffer> = fc.oneof(
  // Any engine.io packet type with anything after it.
  fc.tuple(fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "7", "b", ""), fc.string({ unit: "binary", maxLength: 60 })).map(([t, rest]) => t + rest),
  // socket.io packets of every type, with or without attachments count, namespace and ack id.
  fc
    .record({
      type: fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "9"),
      attachments: fc.option(fc.oneof(fc.nat({ max: 3 }), fc.constant(999_999_999)).map((n) => `${n}-`), { nil: "" }),
      nsp: fc.constantFrom("", "/", "/admin,", "/nope,", "/,"),
      id: fc.option(fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(1e30)).map(String), { nil: "" }),
      data: fc.oneof(
        fc.tuple(fc.constantFrom(...RESERVED, ...EVENTS, "x", ""), fc.array(hostileValue, { maxLength: 3 })).map(([ev, args]) => json([ev, ...args])),
        hostileValue.map(json),
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.constant(json(["message:send", { roomId: DEFAULT_ROOM_ID, clientId: "6f1c1a3e-8a4b-4c1e-9f7a-2b3c4d5e6f70", body: { _placeholder: true, num: 0 } }])),
        fc.constant(json(["message:send", lengthBomb()])),
      ),
    })
    .map(({ type, attachments, nsp, id, data }) => `4${type}${attachments}${nsp}${id}${data}`),
  // Deep nesting, as an event argument and in a binary packet (the server rebuilds those recursively).
  fc.record({ depth: fc.integer({ min: 1_000, max: 20_000 }), binary: fc.boolean() }).map(({ depth, binary }) =>
    binary
      ? `451-["room:join",${"[".repeat(depth)}{"_placeholder":true,"num":0}${"]".repeat(depth)}]`
      : `42["room:join",${"[".repeat(depth)}${"]".repeat(depth)}]`,
  ),
  // Unbalanced JSON and numbers JSON cannot hold.
  fc.constantFrom('42["room:join",', "42[", "42]", "42{}", "42null", '42["room:join",1e999]', "42[1,2,3]", "4", "40/nope", "41", "4-1", "4 2[]"),
  // Binary frames, with or without a binary packet announced before them.
  fc.uint8Array({ maxLength: 32 }).map((bytes) => Buffer.from(bytes)),
);

let server: TestServer;
let bystander: ClientSocket;
let cookie: string;
let raw: RawClient;
let bystanderSent = 0;
let closedByServer = 0;

async function bystanderSays() {
  bystanderSent++;
  expect((await requestOk(bystander, "message:send", text(DEFAULT_ROOM_ID, `bystander ${bystanderSent}`))).seq).toBeGreaterThan(0);
}

beforeAll(async () => {
  server = await startServer();
  cookie = (await signInOk(server.url, "mallory")).cookie;
  bystander = await connect(server.url, (await signInOk(server.url, "bystander")).cookie);
  raw = await RawClient.open(server.url, cookie);
});

afterAll(async () => {
  raw.close();
  bystander.close();
  await server.stop();
});

describe("fuzz: raw engine.io and socket.io frames", () => {
  it(
    "every frame is followed by an answered command on the same connection, or that connection is closed",
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 3 }), async (frames) => {
          if (raw.closed) raw = await RawClient.open(server.url, cookie);
          for (const f of frames) raw.send(f);
          // A client that left the namespace itself ("41") is owed nothing more on it: socket.io
          // keeps the engine.io connection open and drops what follows, so there is nothing to probe.
          const leftNamespace = frames.some((f) => typeof f === "string" && /^41(?!\/)|^41\/,/.test(f));
          const answered = leftNamespace ? "deaf" : await raw.probe();
          if (answered === "closed") closedByServer++;
          if (answered !== "answered") {
            raw.close();
            raw = await RawClient.open(server.url, cookie);
          }
          if (++n % 50 === 0) await bystanderSays();
        }),
        fuzzParams(RUNS),
      );
      await bystanderSays();
      if (process.env["FUZZ_RUNS"]) console.warn(`fuzz frames: ${n} runs, ${closedByServer} connections closed by the server`);
    },
    fuzzTimeout(RUNS, 150),
  );

  it.each(RESERVED)("the reserved or special event name %j reaches no listener and crashes nothing", async (name) => {
    raw.close();
    raw = await RawClient.open(server.url, cookie);
    raw.send(`421["${name}",{"roomId":"${DEFAULT_ROOM_ID}"}]`);
    raw.send(`42["${name}"]`);
    const answered = await raw.probe();
    // socket.io-parser refuses its reserved names as an invalid packet and closes the connection
    // (so a client cannot fire the server's own `disconnect` listener); any other name is not a
    // command: the one with an ack id is answered INVALID_PAYLOAD (every bad input gets a clear
    // error), the one without is ignored. Nothing reaches a handler (the command table is a Map:
    // `__proto__` and `constructor` are names like any other).
    const reservedBySocketIo = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"].includes(name);
    expect(answered).toBe(reservedBySocketIo ? "closed" : "answered");
    // The probe's answer came after anything the server said about the frames before it.
    const acks = raw.receivedAll((f) => f.startsWith("431["));
    if (reservedBySocketIo) expect(acks).toEqual([]);
    else {
      expect(acks).toHaveLength(1);
      expect(JSON.parse(acks[0]!.slice(3))).toMatchObject([{ ok: false, error: { code: "INVALID_PAYLOAD" } }]);
    }
    await bystanderSays();
  }, 20_000);
});
