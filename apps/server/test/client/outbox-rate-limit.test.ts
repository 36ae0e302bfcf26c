import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createChatClient, memoryOutbox, type ChatClient, type OutboxEntry } from "@parley/client";
import { DEFAULT_ROOM_ID } from "@parley/shared";
import { TEST_RATE_LIMITS, closeAllSockets, signInOk, startServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Issue 10: a legitimate burst is delayed, never lost. The client core meets RATE_LIMITED as
 * back-pressure: the message stays *sending* (attempts not counted, never *failed*) and the outbox
 * waits `retryAfterMs` before its next send.
 *
 * Real time, not fake timers: the waits are the server's (rate-limiter-flexible windows on the real
 * clock), and the budget below makes them short (1 s windows), so the whole flush takes a few
 * seconds. Nothing sleeps: the test waits on the store.
 */

const FLUSH = 200;

let server: TestServer;
let client: ChatClient | null = null;
afterEach(async () => {
  client?.disconnect();
  client = null;
  closeAllSockets();
  await server.stop();
});

describe("an offline outbox flush under a tight send budget", () => {
  it(`delivers all ${FLUSH} messages complete, once, in order, with none failed and no attempt counted`, { timeout: 120_000 }, async () => {
    server = await startServer({
      rateLimits: { ...TEST_RATE_LIMITS, messageSend: { points: 40, durationSec: 1 }, messageBurst: { points: 20, durationSec: 60 } },
    });
    const { cookie, user } = await signInOk(server.url, "writer");
    // Written while offline (as a reload would find them in localStorage).
    const t0 = Date.now() - 60_000;
    const entries: OutboxEntry[] = Array.from({ length: FLUSH }, (_, i) => ({
      clientId: randomUUID(),
      roomId: DEFAULT_ROOM_ID,
      body: `line ${i}`,
      createdAt: t0 + i,
      order: i,
      failed: false,
      error: null,
    }));
    const outbox = memoryOutbox(entries);
    const c = createChatClient({
      url: server.url,
      outbox,
      ackTimeoutMs: 10_000,
      socketOptions: { transports: ["websocket"], extraHeaders: { cookie } },
    });
    client = c;

    // Everything the store ever showed about the pending sends.
    let everFailed = false;
    let maxAttempts = 0;
    let slowedDown = 0;
    let wasSlowed = false;
    c.store.subscribe((s) => {
      for (const p of Object.values(s.pending)) {
        if (p.status === "failed") everFailed = true;
        maxAttempts = Math.max(maxAttempts, p.attempts);
      }
      const slowed = s.connection.rateLimitedUntil !== null;
      if (slowed && !wasSlowed) slowedDown++;
      wasSlowed = slowed;
    });

    c.connect();
    await waitFor(() => expect(c.store.getState().pendingOrder).toHaveLength(0), { timeout: 60_000 });

    const all = [];
    for (let afterSeq = 0; ; ) {
      const page = await server.storage.getMessages(DEFAULT_ROOM_ID, { afterSeq, limit: 200 });
      all.push(...page.messages);
      if (!page.hasMore || page.messages.length === 0) break;
      afterSeq = page.messages.at(-1)!.seq;
    }
    const stored = all.filter((m) => m.authorId === user.id && m.kind === "text");
    expect(stored.map((m) => m.body)).toEqual(entries.map((e) => e.body));
    expect(new Set(stored.map((m) => m.clientId)).size).toBe(FLUSH);
    expect(everFailed).toBe(false);
    expect(maxAttempts).toBe(0);
    expect(outbox.entries()).toEqual([]);
    // The server did push back (60 a second at most here), and the UI was told once, not per message.
    expect(slowedDown).toBe(1);
    expect(c.store.getState().connection.rateLimitedUntil).toBeNull();
  });
});
