import { afterEach, expect, it } from "vitest";
import { API, DEFAULT_ROOM_ID, type Message } from "@parley/shared";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import type { NewMessage } from "../../src/storage/storage.js";
import { closeAllSockets, connect, request, requestOk, signInOk, startServer, text, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

/** A storage whose message writes wait until the test opens the gate: a send held in flight. */
class GatedStorage extends SqliteStorage {
  private open: (() => void) | null = null;
  private gate: Promise<void> | null = null;
  appending = 0;
  close_gate(): void {
    // Counted from here: signing in wrote a join notice already.
    this.appending = 0;
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  open_gate(): void {
    this.open?.();
    this.gate = null;
  }
  override async appendMessage(input: NewMessage): Promise<{ message: Message; created: boolean }> {
    this.appending++;
    await this.gate;
    return super.appendMessage(input);
  }
}

let server: TestServer | undefined;
afterEach(async () => {
  closeAllSockets();
  await server?.stop();
  server = undefined;
});

it("drains: health says so, a command in flight is committed and acked, later ones are left for the client to resend, then sockets close", async () => {
  let storage!: GatedStorage;
  server = await startServer({ openStorage: (path) => (storage = new GatedStorage(path)) });
  const s = server;
  const { cookie } = await signInOk(s.url, "alice");
  const socket = await connect(s.url, cookie);
  await requestOk(socket, "session:sync", {});

  storage.close_gate();
  const inFlight = request(socket, "message:send", text(DEFAULT_ROOM_ID, "in flight"));
  await waitFor(() => expect(storage.appending).toBe(1));

  const drained = s.app.drain(5_000);
  // A balancer's health check now reads "draining"; readiness too.
  const health = await fetch(`${s.url}${API.health}`);
  expect(health.status).toBe(503);
  expect(await health.json()).toEqual({ status: "draining" });
  expect((await fetch(`${s.url}${API.ready}`)).status).toBe(503);
  // No new socket connections while draining.
  await expect(connect(s.url, cookie)).rejects.toThrow();

  // A command sent now is not taken: no ack, nothing stored (its client sends it again elsewhere).
  let lateAnswered = false;
  const late = text(DEFAULT_ROOM_ID, "too late");
  socket.emit("message:send", late, () => (lateAnswered = true));
  const closed = new Promise<string>((resolve) => socket.once("disconnect", (reason) => resolve(reason)));

  storage.open_gate();
  const ack = await inFlight;
  expect(ack.ok).toBe(true);
  expect(await drained).toBe(0);
  // Closed as a transport close: the client reconnects on its own (a server "disconnect" would not).
  expect(await closed).toBe("transport close");
  expect(lateAnswered).toBe(false);

  const stored = await s.storage.getMessages(DEFAULT_ROOM_ID, { afterSeq: 0, limit: 100 });
  expect(stored.messages.map((m) => m.body)).toEqual(expect.arrayContaining(["in flight"]));
  expect(stored.messages.map((m) => m.body)).not.toContain("too late");
});

it("drains within its timeout when a command never finishes, and says how many were left", async () => {
  let storage!: GatedStorage;
  server = await startServer({ openStorage: (path) => (storage = new GatedStorage(path)) });
  const s = server;
  const { cookie } = await signInOk(s.url, "alice");
  const socket = await connect(s.url, cookie);
  await requestOk(socket, "session:sync", {});
  storage.close_gate();
  // Never answered: the drain gives up on it, and the client sees its connection close.
  request(socket, "message:send", text(DEFAULT_ROOM_ID, "stuck")).catch(() => {});
  await waitFor(() => expect(storage.appending).toBe(1));

  const started = Date.now();
  expect(await s.app.drain(300)).toBe(1);
  expect(Date.now() - started).toBeLessThan(3_000);
  storage.open_gate();
});
