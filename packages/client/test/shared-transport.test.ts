import { fail, ok, type AckResult, type ClientEventName, type Message, type ServerToClientEvents } from "@parley/shared";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChatClient } from "../src/api.js";
import { createChatClient } from "../src/client.js";
import type { CoreContext } from "../src/context.js";
import { memoryOutbox } from "../src/outbox.js";
import {
  createSharedTransport,
  electLeader,
  type LeaderSocket,
  type LockManagerLike,
  type RelayChannel,
  type RelayMessage,
  type SharedTransport,
} from "../src/shared-transport.js";
import type { Transport, TransportOptions } from "../src/transport.js";
import { ME, msg, room } from "./fixtures.js";

/**
 * The relay between tabs (ADR 0017) over deterministic fakes: a BroadcastChannel hub that delivers
 * asynchronously to every other tab (never to the sender), a Web Locks stand-in that grants one
 * lock in request order, and an in-memory server that stores sends idempotently by client id and
 * can hold an ack back. Every tab runs the real client core.
 */

function createHub() {
  const tabs = new Map<string, { listeners: Set<(m: RelayMessage) => void>; dead: boolean }>();
  const log: { from: string; m: RelayMessage }[] = [];
  return {
    log,
    channel(tabId: string): RelayChannel {
      const tab = { listeners: new Set<(m: RelayMessage) => void>(), dead: false };
      tabs.set(tabId, tab);
      return {
        postMessage(m) {
          if (tab.dead) return;
          log.push({ from: tabId, m });
          const copy = structuredClone(m);
          // BroadcastChannel delivers in a later task, to every other tab of the origin.
          setTimeout(() => {
            for (const [id, other] of tabs) if (id !== tabId && !other.dead) for (const l of other.listeners) l(copy);
          }, 0);
        },
        subscribe(listener) {
          tab.listeners.add(listener);
          return () => void tab.listeners.delete(listener);
        },
      };
    },
    /** The tab is gone (closed, crashed): it neither posts nor receives any more. */
    kill(tabId: string) {
      const tab = tabs.get(tabId);
      if (tab) tab.dead = true;
    },
  };
}

function createLocks(): LockManagerLike & { holderCount(): number } {
  const queue: { grant: () => void; signal: AbortSignal | undefined }[] = [];
  let held = false;
  let holders = 0;
  const next = () => {
    if (held) return;
    const waiter = queue.shift();
    if (!waiter) return;
    if (waiter.signal?.aborted) return next();
    held = true;
    waiter.grant();
  };
  return {
    holderCount: () => holders,
    request(_name, options, callback) {
      return new Promise((resolve, reject) => {
        options.signal?.addEventListener("abort", () => reject(new Error("AbortError")));
        queue.push({
          signal: options.signal,
          grant: () => {
            holders++;
            void callback().finally(() => {
              holders--;
              held = false;
              resolve(undefined);
              next();
            });
          },
        });
        next();
      });
    },
  };
}

/** One in-memory room `r1` in which every send is stored once per client id. */
function createServer() {
  const messages: Message[] = [];
  const sockets = new Set<{ emit(event: keyof ServerToClientEvents, ...args: unknown[]): void; connected: boolean }>();
  const received: { event: ClientEventName; payload: Record<string, unknown> }[] = [];
  let lastReadSeq = 0;
  /**
   * Sends on the sockets open when `holdSends()` was called reach the server only when released:
   * the leader emitted them, and then its page died before anything came back.
   */
  const held = new Set<object>();
  let releaseHeld: () => void = () => {};
  let heldUntil: Promise<void> = Promise.resolve();
  let heldCount = 0;

  function handle(event: ClientEventName, payload: Record<string, unknown>): AckResult<unknown> {
    received.push({ event, payload });
    switch (event) {
      case "session:sync":
        return ok({ me: ME, rooms: [room({ lastSeq: messages.length, lastVersion: messages.length, lastReadSeq })], onlineUserIds: [], uploadLimits: { fileMaxBytes: 1, dailyMaxBytes: 1 } });
      case "messages:fetch": {
        const after = typeof payload.afterSeq === "number" ? payload.afterSeq : 0;
        const page = messages.filter((m) => m.seq > after);
        return ok({ messages: page, hasMore: false, version: messages.length });
      }
      case "message:send": {
        const existing = messages.find((m) => m.clientId === payload.clientId);
        if (existing) return ok(existing);
        const seq = messages.length + 1;
        const m = msg(seq, { authorId: ME.id, clientId: String(payload.clientId), body: String(payload.body), id: `m${seq}` });
        messages.push(m);
        for (const s of sockets) if (s.connected) s.emit("message:created", m);
        return ok(m);
      }
      case "room:read":
        // Like the server: the reader's answer, and `room:upserted` to the user's *other* sockets
        // only (there are none here: the browser has one).
        lastReadSeq = Math.max(lastReadSeq, Number(payload.seq));
        return ok(room({ lastSeq: messages.length, lastVersion: messages.length, lastReadSeq }));
      default:
        return fail("INTERNAL", `unhandled ${event}`);
    }
  }

  function openSocket(ctx: CoreContext, options: TransportOptions): { transport: Transport; socket: LeaderSocket } {
    const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
    const any = new Set<(event: string, ...args: unknown[]) => void>();
    let lost: () => void = () => {};
    const conn = {
      connected: false,
      emit(event: keyof ServerToClientEvents, ...args: unknown[]) {
        for (const l of listeners.get(event) ?? []) l(...args);
        for (const l of any) l(event, ...args);
      },
    };
    const socket: LeaderSocket = {
      get connected() {
        return conn.connected;
      },
      timeout: () => ({
        emitWithAck: ((event: ClientEventName, payload: Record<string, unknown>) => {
          if (event === "message:send" && held.has(conn)) {
            heldCount++;
            return heldUntil.then(() => handle(event, payload));
          }
          return Promise.resolve(handle(event, payload));
        }) as never,
      }),
      emit: (event: ClientEventName, payload: unknown) => void handle(event, payload as Record<string, unknown>),
      on(event, listener) {
        let set = listeners.get(event);
        if (!set) listeners.set(event, (set = new Set()));
        set.add(listener as (...args: unknown[]) => void);
      },
      onAny(listener) {
        any.add(listener);
      },
    };
    const transport = {
      socket,
      connectionLost: () => new Promise<"disconnected">((resolve) => (lost = () => resolve("disconnected"))),
      open() {
        sockets.add(conn);
        conn.connected = true;
        ctx.setConnection({ status: "connected", attempt: 0, error: null });
        options.onConnect();
      },
      close() {
        conn.connected = false;
        sockets.delete(conn);
        lost();
      },
    } as unknown as Transport;
    return { transport, socket };
  }

  return {
    messages,
    received,
    openSocket,
    holdSends() {
      for (const s of sockets) held.add(s);
      heldUntil = new Promise((resolve) => (releaseHeld = resolve));
    },
    /** Sends held on the way. */
    held: () => heldCount,
    releaseSends() {
      releaseHeld();
    },
    /** A message from someone else (another browser). */
    post(body: string) {
      const seq = messages.length + 1;
      const m = msg(seq, { id: `m${seq}`, body });
      messages.push(m);
      for (const s of sockets) if (s.connected) s.emit("message:created", m);
    },
    /** The tab's socket died with its page. */
    dropAll() {
      for (const s of sockets) s.connected = false;
      sockets.clear();
    },
  };
}

interface Tab {
  id: string;
  client: ChatClient;
  transport(): SharedTransport;
  stop(): void;
}

function openTab(id: string, hub: ReturnType<typeof createHub>, locks: LockManagerLike, server: ReturnType<typeof createServer>, outbox = memoryOutbox()): Tab {
  let transport: SharedTransport | null = null;
  const channel = hub.channel(id);
  let n = 0;
  const client = createChatClient({
    outbox,
    randomId: () => `${id}-${++n}`,
    ackTimeoutMs: 1_000,
    transport: (ctx, options) => (transport = createSharedTransport(ctx, { ...options, channel, tabId: id, openSocket: server.openSocket })),
  });
  client.connect();
  client.setActiveRoom("r1");
  const election = electLeader(locks, "parley:leader:me", () => transport?.promote());
  return {
    id,
    client,
    transport: () => transport!,
    stop() {
      election.stop();
      client.disconnect();
    },
  };
}

const bodies = (tab: Tab) =>
  (tab.client.store.getState().timelines.r1?.ids ?? []).map((id) => tab.client.store.getState().messages.r1?.[id]?.body);

const connected = (tab: Tab) => tab.client.store.getState().connection.status === "connected" && !tab.client.store.getState().connection.catchingUp;

describe("one connection per browser (shared transport)", () => {
  const tabs: Tab[] = [];
  afterEach(() => {
    for (const t of tabs.splice(0)) t.stop();
  });

  it("elects one leader; a follower's command goes out on the leader's socket and its ack comes back", async () => {
    const hub = createHub();
    const locks = createLocks();
    const server = createServer();
    tabs.push(openTab("a", hub, locks, server), openTab("b", hub, locks, server));
    const [a, b] = tabs as [Tab, Tab];
    await vi.waitFor(() => expect(connected(a) && connected(b)).toBe(true));
    expect(a.transport().role).toBe("leader");
    expect(b.transport().role).toBe("follower");
    expect(locks.holderCount()).toBe(1);

    const sent = b.client.send("r1", "from the follower");
    expect(sent.ok).toBe(true);
    // The follower's store confirms it from the relayed ack (its pending entry becomes the stored message).
    await vi.waitFor(() => expect(b.client.store.getState().pendingOrder).toEqual([]));
    await vi.waitFor(() => expect(bodies(a)).toEqual(["from the follower"]));
    expect(bodies(b)).toEqual(["from the follower"]);
    expect(server.messages).toHaveLength(1);
  });

  it("relays server events to every tab, each message once", async () => {
    const hub = createHub();
    const locks = createLocks();
    const server = createServer();
    tabs.push(openTab("a", hub, locks, server), openTab("b", hub, locks, server), openTab("c", hub, locks, server));
    await vi.waitFor(() => expect(tabs.every(connected)).toBe(true));
    server.post("one");
    server.post("two");
    for (const t of tabs) await vi.waitFor(() => expect(bodies(t)).toEqual(["one", "two"]));
  });

  it("a read in any tab moves the read position in every tab (the server tells only the other sockets)", async () => {
    const hub = createHub();
    const locks = createLocks();
    const server = createServer();
    tabs.push(openTab("a", hub, locks, server), openTab("b", hub, locks, server), openTab("c", hub, locks, server));
    const [a, b, c] = tabs as [Tab, Tab, Tab];
    await vi.waitFor(() => expect(tabs.every(connected)).toBe(true));
    server.post("one");
    server.post("two");
    server.post("three");
    for (const t of tabs) await vi.waitFor(() => expect(bodies(t)).toHaveLength(3));
    const readSeq = (t: Tab) => t.client.store.getState().rooms.r1?.lastReadSeq;
    b.client.markRead("r1", 2); // a follower
    for (const t of tabs) await vi.waitFor(() => expect(readSeq(t)).toBe(2));
    a.client.markRead("r1", 3); // the leader
    for (const t of [b, c]) await vi.waitFor(() => expect(readSeq(t)).toBe(3));
  });

  it("a send in flight at the follower when the leader dies is retried through the new leader and stored once", async () => {
    const hub = createHub();
    const locks = createLocks();
    const server = createServer();
    const outbox = memoryOutbox();
    tabs.push(openTab("a", hub, locks, server, outbox), openTab("b", hub, locks, server, outbox), openTab("c", hub, locks, server, outbox));
    const [a, b, c] = tabs as [Tab, Tab, Tab];
    await vi.waitFor(() => expect(tabs.every(connected)).toBe(true));

    // The leader emits the follower's send; then its page dies before anything comes back.
    server.holdSends();
    const sent = c.client.send("r1", "in flight");
    const relayed = () => hub.log.filter((l) => l.m.t === "cmd" && l.m.event === "message:send");
    await vi.waitFor(() => expect(server.held()).toBe(1));

    // The leader's page goes: its channel, its socket and (through the browser) its lock.
    hub.kill("a");
    server.dropAll();
    a.stop();
    tabs.shift();
    server.post("while the leader changed");

    await vi.waitFor(() => expect(b.transport().role).toBe("leader"));
    await vi.waitFor(() => expect(connected(b) && connected(c)).toBe(true));
    // The follower sent it again, to the new leader, which ran it (once).
    await vi.waitFor(() => expect(relayed().map((l) => l.m.t === "cmd" && l.m.to)).toEqual(["a", "b"]));
    await vi.waitFor(() => expect(c.client.store.getState().pendingOrder).toEqual([]));
    // And the old socket's copy reaches the server late after all: the client id makes it a repeat.
    server.releaseSends();
    await vi.waitFor(() => expect(server.received.filter((r) => r.event === "message:send")).toHaveLength(2));
    // Every tab holds the server's history exactly (the retry was stored after the other post).
    expect(server.messages.map((m) => m.body)).toEqual(["while the leader changed", "in flight"]);
    for (const t of [b, c]) await vi.waitFor(() => expect(bodies(t)).toEqual(["while the leader changed", "in flight"]));
    // Sent again through the new leader under the same client id: stored once.
    expect(sent.ok && server.messages.filter((m) => m.clientId === sent.clientId)).toHaveLength(1);
    expect(server.messages).toHaveLength(2);
  });

  it("a new leader does not run a command addressed to the old one, and a late ack is dropped", async () => {
    const hub = createHub();
    const locks = createLocks();
    const server = createServer();
    tabs.push(openTab("a", hub, locks, server), openTab("b", hub, locks, server));
    const [, b] = tabs as [Tab, Tab];
    await vi.waitFor(() => expect(tabs.every(connected)).toBe(true));
    const before = server.received.length;

    // A stray command for a leader that is gone, posted straight onto the channel.
    const stray = hub.channel("stray");
    stray.postMessage({ t: "cmd", id: "x1", from: "stray", to: "gone", event: "session:sync", payload: {}, timeoutMs: 1_000 });
    // A late ack for a command b never sent (or already settled): b must ignore it.
    stray.postMessage({ t: "ack", id: "not-in-flight", to: "b", result: ok(null) });
    // A command the leader runs, to know the stray ones were delivered before it.
    const r = await b.transport().request("session:sync", {});
    expect(r.ok).toBe(true);
    expect(server.received.slice(before).map((x) => x.event)).toEqual(["session:sync"]);
  });

  it("a follower's command fails at once when its leader is replaced, not at the ack timeout", async () => {
    const hub = createHub();
    const locks = createLocks();
    const server = createServer();
    tabs.push(openTab("a", hub, locks, server), openTab("b", hub, locks, server));
    const [a, b] = tabs as [Tab, Tab];
    await vi.waitFor(() => expect(tabs.every(connected)).toBe(true));
    // The leader never answers: it is frozen, then replaced.
    hub.kill("a");
    const pending = b.transport().request("session:sync", {}, 60_000);
    a.stop();
    tabs.shift();
    server.dropAll();
    const result = await pending;
    expect(result.ok).toBe(false);
    await vi.waitFor(() => expect(b.transport().role).toBe("leader"));
    await vi.waitFor(() => expect(connected(b)).toBe(true));
  });
});
