import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  closeAllSockets,
  collect,
  connect,
  nextEvent,
  requestOk,
  roundTrip,
  signInOk,
  startServer,
  text,
  type ClientSocket,
  type TestServer,
} from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

let server: TestServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

/** Drops the connection as a network failure would (no disconnect packet), then reconnects. */
async function dropAndReconnect(socket: ClientSocket): Promise<void> {
  const id = socket.id!;
  const gone = new Promise<void>((resolve) => socket.once("disconnect", () => resolve()));
  socket.io.engine.close();
  await gone;
  await waitFor(() => expect(server.app.io.of("/").sockets.has(id)).toBe(false));
  const back = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.connect();
  await back;
}

describe("connection state recovery", () => {
  it("does not give a recovered socket back the rooms its user left while it was away", async () => {
    const a = await signInOk(server.url, "Alice");
    const b = await signInOk(server.url, "Bob");
    const alice = await connect(server.url, a.cookie);
    const bobTab1 = await connect(server.url, b.cookie);
    const bobTab2 = await connect(server.url, b.cookie);
    const room = await requestOk(alice, "room:create", { name: "lounge" });
    await requestOk(bobTab1, "room:join", { roomId: room.id });
    // A broadcast gives tab 1 an offset, which is what makes it recoverable.
    const got = nextEvent(bobTab1, "message:created", (m) => m.body === "before");
    await requestOk(alice, "message:send", text(room.id, "before"));
    await got;

    const id = bobTab1.id!;
    const gone = new Promise<void>((resolve) => bobTab1.once("disconnect", () => resolve()));
    bobTab1.io.engine.close();
    await gone;
    await waitFor(() => expect(server.app.io.of("/").sockets.has(id)).toBe(false));
    // While tab 1 is away, tab 2 leaves the room.
    await requestOk(bobTab2, "room:leave", { roomId: room.id });
    const back = new Promise<void>((resolve) => bobTab1.once("connect", () => resolve()));
    bobTab1.connect();
    await back;
    expect(bobTab1.recovered).toBe(true);

    const seen = collect(bobTab1, "message:created");
    await requestOk(alice, "message:send", text(room.id, "after leaving"));
    await roundTrip(bobTab1);
    expect(seen.filter((m) => m.roomId === room.id && m.kind === "text")).toEqual([]);
  });

  it("keeps a recovered socket in the rooms its user is still in", async () => {
    const a = await signInOk(server.url, "Alice");
    const b = await signInOk(server.url, "Bob");
    const alice = await connect(server.url, a.cookie);
    const bob = await connect(server.url, b.cookie);
    const got = nextEvent(bob, "message:created", (m) => m.body === "before");
    await requestOk(alice, "message:send", text("general", "before"));
    await got;
    await dropAndReconnect(bob);
    const after = nextEvent(bob, "message:created", (m) => m.body === "after");
    await requestOk(alice, "message:send", text("general", "after"));
    expect((await after).authorId).toBe(a.user.id);
  });
});
