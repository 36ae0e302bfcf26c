import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message } from "@parley/shared";
import type { LocalAdapter } from "../../src/realtime/adapters.js";
import { closeAllSockets, collect, connect, roundTrip, signInOk, startServer, type ClientSocket, type TestServer } from "../helpers/server.js";

// The single-room fan-out (realtime/adapters.ts): a broadcast to one room reaches each of its
// sockets exactly once, and every other broadcast (several rooms, exceptions) still reaches exactly
// whom socket.io-adapter's own path reaches, also after the adapter is replaced.

let server: TestServer;
let clients: ClientSocket[];

beforeEach(async () => {
  server = await startServer();
  clients = [];
  for (const nickname of ["Ann", "Ben", "Cat", "Dan"]) clients.push(await connect(server.url, (await signInOk(server.url, nickname)).cookie));
  // Ann in r1; Ben in r1 and r2; Cat in r2; Dan in neither.
  const join = (i: number, ...rooms: string[]) => server.app.io.sockets.sockets.get(clients[i]!.id!)!.join(rooms);
  join(0, "r1");
  join(1, "r1", "r2");
  join(2, "r2");
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

const adapter = () => server.app.io.of("/").adapter as unknown as LocalAdapter;

/** Emits `message:created` with the body `tag` as `emit` says, and returns who got which tags. */
async function received(emits: (tag: (t: string) => Message) => void): Promise<string[][]> {
  const seen = clients.map((c) => collect(c, "message:created"));
  emits((t) => ({ body: t }) as Message);
  // Each socket's packets arrive in order: a round trip after them means they all arrived.
  await Promise.all(clients.map((c) => roundTrip(c)));
  return seen.map((s) => s.map((m) => m.body));
}

describe("broadcast fan-out", () => {
  it("reaches each socket of one room once, and no one else", async () => {
    expect(Object.hasOwn(adapter(), "apply")).toBe(true);
    const got = await received((tag) => {
      server.app.io.to("r1").emit("message:created", tag("one"));
      server.app.io.to("r2").emit("message:created", tag("two"));
      server.app.io.to("nobody").emit("message:created", tag("none"));
    });
    expect(got).toEqual([["one"], ["one", "two"], ["two"], []]);
  });

  it("leaves several rooms and exceptions to the adapter's own path, which reaches each socket once", async () => {
    const got = await received((tag) => {
      server.app.io.to(["r1", "r2"]).emit("message:created", tag("both"));
      server.app.io.to("r1").except("r2").emit("message:created", tag("r1-not-r2"));
      server.app.io.except("r1").emit("message:created", tag("all-but-r1"));
    });
    expect(got).toEqual([["both", "r1-not-r2"], ["both"], ["both", "all-but-r1"], ["all-but-r1"]]);
  });

  it("serves an adapter that replaces the first one (the Redis adapter is attached after createIo)", async () => {
    const first = adapter();
    // What attachRedisAdapter does, with the in-memory adapter: the namespace gets a new one (before
    // any socket connects, in production: a socket keeps the adapter it was made with).
    server.app.io.adapter(first.constructor as never);
    expect(adapter()).not.toBe(first);
    expect(Object.hasOwn(adapter(), "apply")).toBe(true);
    closeAllSockets();
    clients = [];
    for (const nickname of ["Ann", "Eve"]) clients.push(await connect(server.url, (await signInOk(server.url, nickname)).cookie));
    server.app.io.sockets.sockets.get(clients[1]!.id!)!.join("r3");
    const got = await received((tag) => server.app.io.to("r3").emit("message:created", tag("three")));
    expect(got).toEqual([[], ["three"]]);
  });
});
