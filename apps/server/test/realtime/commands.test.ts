import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID } from "@parley/shared";
import { closeAllSockets, connect, requestOk, signInOk, startServer, text, type ClientSocket, type TestServer } from "../helpers/server.js";

// The command table (realtime/handle.ts, issue 15): handlers are defined once per server, and a
// socket gets one shared listener, not one closure per command. What a socket costs in memory
// depends on it (`pnpm bench:memory`), so the shape is held here, beside what it must still do.

let server: TestServer;
let alice: ClientSocket;
let aliceTab: ClientSocket;

beforeEach(async () => {
  server = await startServer();
  const a = await signInOk(server.url, "Alice");
  alice = await connect(server.url, a.cookie);
  aliceTab = await connect(server.url, a.cookie);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

const serverSocket = (client: ClientSocket) => server.app.io.sockets.sockets.get(client.id!)!;

describe("the command table", () => {
  it("gives every socket the same single listener and no listener per command", async () => {
    await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "hello"));
    const [one, two] = [serverSocket(alice), serverSocket(aliceTab)];
    expect(one.listenersAny()).toHaveLength(1);
    expect(two.listenersAny()).toHaveLength(1);
    expect(one.listenersAny()[0]).toBe(two.listenersAny()[0]);
    // The commands reach no per-event listener: only `disconnect` (ours, one shared function) and
    // `error` (Socket.IO's own no-op) are registered.
    expect(one.listeners("message:send")).toHaveLength(0);
    expect([...one.eventNames()].sort()).toEqual(["disconnect", "error"]);
    // Shared, not made per socket: the session cleanup and the socket-cap release.
    expect(one.listeners("disconnect")).toHaveLength(2);
    expect(one.listeners("disconnect")).toEqual(two.listeners("disconnect"));
    // The handshake's HTTP request and headers (the session cookie among them) are not kept.
    expect((one.conn as unknown as { request: unknown }).request).toBeNull();
    expect(one.handshake.headers).toEqual({});
  });

  it("lets the WebSocket upgrade's HTTP request be collected once the socket is connected", async () => {
    // engine.io's stand-in response for an upgrade closes over the request until the TCP socket
    // closes; the server cuts that link once the 101 is written (issue 15: ~1 KB per idle socket).
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    let request: WeakRef<object> | undefined;
    server.app.io.engine.once("connection", (conn: { request: object }) => (request = new WeakRef(conn.request)));
    const { cookie } = await signInOk(server.url, "Carol");
    const carol = await connect(server.url, cookie);
    await requestOk(carol, "session:sync", {});
    // A WeakRef holds its target until the end of the turn it was made or read in.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(request).toBeDefined();
    expect(request!.deref()).toBeUndefined();
    expect(carol.connected).toBe(true);
  });

  it("answers a command it does not know, sent with an ack, with INVALID_PAYLOAD, and keeps serving", async () => {
    const emit = alice.timeout(5_000).emitWithAck as unknown as (event: string, payload: unknown) => Promise<unknown>;
    await expect(emit.call(alice.timeout(5_000), "message:sned", { roomId: DEFAULT_ROOM_ID })).resolves.toMatchObject({
      ok: false,
      error: { code: "INVALID_PAYLOAD", message: expect.stringContaining("message:sned") },
    });
    const sent = await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "still here"));
    expect(sent.body).toBe("still here");
  });

  it("serves each socket as its own user: a second user's send is theirs, not the last connected socket's", async () => {
    const b = await signInOk(server.url, "Bob");
    const bob = await connect(server.url, b.cookie);
    const [fromAlice, fromBob] = await Promise.all([
      requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "from alice")),
      requestOk(bob, "message:send", text(DEFAULT_ROOM_ID, "from bob")),
    ]);
    expect(fromAlice.authorNickname).toBe("Alice");
    expect(fromBob.authorNickname).toBe("Bob");
  });
});
