import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startProxy, type FaultProxy } from "../src/lib/proxy.js";

/**
 * The fault test trusts the proxy to break connections the way it says: a close is a FIN, a reset
 * an RST, and a freeze delivers nothing either way while both sockets stay open. These tests run
 * a plain TCP server behind it on 127.0.0.1.
 */

let upstream: Server;
let accepted: Socket[];
let proxy: FaultProxy;
const opened: Socket[] = [];

beforeEach(async () => {
  accepted = [];
  upstream = createServer((s) => {
    accepted.push(s);
    // Errors are what the reset tests look at; unhandled they would crash the run.
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  proxy = await startProxy((upstream.address() as AddressInfo).port, { label: (head) => /^name: (\w+)$/m.exec(head)?.[1] ?? null });
});

afterEach(async () => {
  for (const s of [...opened.splice(0), ...accepted]) s.destroy();
  await proxy.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

/** A client through the proxy, once both of its legs are up and the proxy has its label. */
async function open(name: string): Promise<{ client: Socket; server: Socket }> {
  const client = connect({ port: proxy.port, host: "127.0.0.1" });
  client.on("error", () => {});
  opened.push(client);
  await new Promise<void>((resolve) => client.once("connect", () => resolve()));
  const before = accepted.length;
  client.write(`name: ${name}\n`);
  await vi.waitFor(() => expect(accepted.length).toBeGreaterThan(before));
  const server = accepted[before]!;
  await vi.waitFor(() => expect(proxy.connectionsOf(name)).toHaveLength(1));
  // The label line reached the server: everything after it is what the tests send.
  await read(server, `name: ${name}\n`.length);
  return { client, server };
}

/** Resolves with the next `bytes` bytes the socket receives. */
function read(socket: Socket, bytes: number): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const onData = (chunk: Buffer) => {
      got += chunk.toString("latin1");
      if (got.length >= bytes) {
        socket.off("data", onData);
        resolve(got);
      }
    };
    socket.on("data", onData);
  });
}

const closed = (socket: Socket) =>
  new Promise<{ error: string | null }>((resolve) => {
    let error: string | null = null;
    socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.once("close", () => resolve({ error }));
  });

describe("FaultProxy", () => {
  it("forwards both ways and names connections by their first bytes", async () => {
    const { client, server } = await open("alice");
    client.write("ping");
    expect(await read(server, 4)).toBe("ping");
    server.write("pong");
    expect(await read(client, 4)).toBe("pong");
    expect(proxy.connectionsOf("alice")[0]).toMatchObject({ live: true, frozen: false });
  });

  it("closes with a FIN: each end sees an orderly close, no error", async () => {
    const { client, server } = await open("alice");
    const clientClosed = closed(client);
    const serverClosed = closed(server);
    expect(proxy.cut(1, Math.random, "close")).toBe(1);
    expect(await clientClosed).toEqual({ error: null });
    expect(await serverClosed).toEqual({ error: null });
  });

  it("resets with an RST: each end sees ECONNRESET", async () => {
    const { client, server } = await open("alice");
    const clientClosed = closed(client);
    const serverClosed = closed(server);
    expect(proxy.cut(1, Math.random, "reset")).toBe(1);
    expect(await clientClosed).toEqual({ error: "ECONNRESET" });
    expect(await serverClosed).toEqual({ error: "ECONNRESET" });
  });

  it("freezes: nothing flows either way and both sockets stay open; resuming delivers what waited, in order", async () => {
    const frozen = await open("alice");
    const bystander = await open("bob");
    const f = proxy.freeze(0.5, () => 0)!;
    expect(f.count).toBe(1);
    const [victim, other] = f.labels[0] === "alice" ? [frozen, bystander] : [bystander, frozen];
    let arrived = "";
    victim.server.on("data", (chunk: Buffer) => (arrived += chunk.toString("latin1")));
    victim.client.write("one");
    victim.server.write("back");
    let closedEarly = false;
    for (const s of [victim.client, victim.server]) s.once("close", () => (closedEarly = true));
    // A round trip on the unfrozen connection bounds the wait: the proxy had every chance to
    // forward the frozen one's bytes meanwhile.
    other.client.write("x");
    await read(other.server, 1);
    other.server.write("y");
    await read(other.client, 1);
    expect(arrived).toBe("");
    expect(closedEarly).toBe(false);
    expect(proxy.cut(1, Math.random)).toBe(1); // only the unfrozen one can be cut

    victim.client.write("two");
    const back = read(victim.client, 4);
    f.end("resume");
    await vi.waitFor(() => expect(arrived).toBe("onetwo"));
    expect(await back).toBe("back");
  });

  it("ends a freeze by resetting both ends", async () => {
    const { client, server } = await open("alice");
    const f = proxy.freeze(1, Math.random)!;
    const clientClosed = closed(client);
    const serverClosed = closed(server);
    f.end("reset");
    expect(await clientClosed).toEqual({ error: "ECONNRESET" });
    expect(await serverClosed).toEqual({ error: "ECONNRESET" });
    expect(proxy.liveCount()).toBe(0);
  });
});
