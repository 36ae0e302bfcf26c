import { fail, ok, type AckResult, type Message } from "@parley/shared";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChangeEntry, OutboxEntry, OutboxStorage } from "../src/api.js";
import { createChatClient } from "../src/client.js";
import { memoryOutbox } from "../src/outbox.js";
import { createOutboxSender, type OutboxSender } from "../src/outbox-sender.js";
import { selectMessageView } from "../src/selectors.js";
import type { CoreContext } from "../src/context.js";
import { ME, msg, range } from "./fixtures.js";
import { contextWith, deferred, fakeTransport, type FakeTransport, type Reply } from "./fake-transport.js";

/**
 * Edits, deletes and reactions go through the same outbox as sends: persisted, one at a time in
 * the order the user acted, retried, and settled by the server's reply.
 */

/** Messages 1-3 held (versions 1-3); 1 and 2 are mine. */
const held = () => range(1, 3).map((q) => msg(q, { authorId: q < 3 ? ME.id : "other", authorNickname: q < 3 ? ME.nickname : "Other" }));

/** A server that accepts everything: each change takes the next version. */
function acceptingServer(start = 3): Reply {
  let version = start;
  let seq = 3;
  return (event, payload) => {
    const p = payload as { messageId?: string; body?: string; roomId?: string; clientId?: string; emoji?: string; on?: boolean };
    const q = Number(p.messageId?.slice(1));
    switch (event) {
      case "message:send":
        seq++;
        return ok(msg(seq, { authorId: ME.id, clientId: p.clientId ?? null, body: p.body ?? "", version: ++version }));
      case "message:edit":
        return ok({ message: msg(q, { authorId: ME.id, body: p.body ?? "", editedAt: 9, version: ++version }), conflict: false });
      case "message:delete":
        return ok(msg(q, { authorId: ME.id, body: "", deletedAt: 9, version: ++version }));
      case "reaction:set":
        return ok(msg(q, { version: ++version, reactions: p.on ? [{ emoji: p.emoji ?? "", users: [{ id: ME.id, nickname: ME.nickname }] }] : [] }));
      default:
        return fail("INTERNAL", `unexpected ${event}`);
    }
  };
}

interface Rig {
  ctx: CoreContext;
  fake: FakeTransport;
  outbox: OutboxStorage & { entries(): OutboxEntry[] };
  sender: OutboxSender;
  catchUpChanges: ReturnType<typeof vi.fn>;
}

function rig(reply: Reply, entries: OutboxEntry[] = [], messages: Message[] = held(), version = 3): Rig {
  const ctx = contextWith(messages, version);
  const fake = fakeTransport(reply);
  const outbox = memoryOutbox(entries);
  const catchUpChanges = vi.fn(() => Promise.resolve());
  const sender = createOutboxSender(ctx, fake.transport, outbox, { catchUp: () => Promise.resolve(), catchUpChanges, keepFrom: () => null });
  return { ctx, fake, outbox, sender, catchUpChanges };
}

const sendEntry = (clientId: string, createdAt: number, order: number, extra: Partial<OutboxEntry> = {}): OutboxEntry =>
  ({ clientId, roomId: "r1", body: clientId, createdAt, order, failed: false, error: null, ...extra }) as OutboxEntry;
const changeEntry = (clientId: string, kind: ChangeEntry["kind"], createdAt: number, order: number, extra: Partial<ChangeEntry> = {}): ChangeEntry => ({
  kind,
  clientId,
  roomId: "r1",
  messageId: "m1",
  createdAt,
  order,
  failed: false,
  error: null,
  ...(kind === "edit" ? { body: `body of ${clientId}`, baseVersion: 1 } : {}),
  ...(kind === "react" ? { emoji: "👍", on: true } : {}),
  ...extra,
});

const names = (r: Rig) => r.fake.sent.map((s) => (s.event === "message:send" ? `send:${String(s.payload.body)}` : `${s.event}:${String(s.payload.messageId)}`));

afterEach(() => vi.useRealTimers());

describe("one outbox order for sends and changes", () => {
  it("goes out one entry at a time by (createdAt, order), sends and changes interleaved, failed ones skipped", async () => {
    let concurrent = 0;
    const server = acceptingServer();
    const r = rig(
      async (event, payload) => {
        concurrent++;
        expect(concurrent).toBe(1);
        await Promise.resolve();
        concurrent--;
        return server(event, payload);
      },
      [
        changeEntry("react-late", "react", 30, 0, { messageId: "m3" }),
        sendEntry("s-first", 10, 0),
        changeEntry("edit-tie", "edit", 20, 1),
        sendEntry("s-tie", 20, 2),
        changeEntry("delete-failed", "delete", 15, 0, { messageId: "m2", failed: true, error: "TIMEOUT" }),
        changeEntry("delete", "delete", 25, 0, { messageId: "m2" }),
        // Stored before issue 11: no kind, no replyToId.
        { clientId: "legacy", roomId: "r1", body: "legacy", createdAt: 5, order: 0, failed: false, error: null },
      ],
    );
    r.sender.reload();
    await vi.waitFor(() => expect(r.fake.sent).toHaveLength(6));
    await vi.waitFor(() => expect(r.outbox.entries().map((e) => e.clientId)).toEqual(["delete-failed"]));
    expect(names(r)).toEqual(["send:legacy", "send:s-first", "message:edit:m1", "send:s-tie", "message:delete:m2", "reaction:set:m3"]);
    const s = r.ctx.store.getState();
    expect(s.pendingOrder).toEqual([]);
    expect(s.changeOrder).toEqual(["delete-failed"]);
    // Each reply was applied by version.
    expect(s.messages.r1?.m1).toMatchObject({ body: "body of edit-tie" });
    expect(s.messages.r1?.m2?.deletedAt).toBe(9);
    expect(s.messages.r1?.m3?.reactions).toEqual([{ emoji: "👍", users: [{ id: ME.id, nickname: ME.nickname }] }]);
  });

  it("a reply carries replyToId through the outbox (persisted, then sent)", async () => {
    const r = rig(acceptingServer());
    r.fake.setConnected(false);
    r.sender.add("r1", "answer", "m3");
    expect(r.outbox.entries()).toEqual([expect.objectContaining({ body: "answer", replyToId: "m3" })]);
    r.fake.setConnected(true);
    await r.sender.flush();
    expect(r.fake.sent[0]?.payload).toMatchObject({ body: "answer", replyToId: "m3" });
    // No reply: the field is left out (the server's schema is strict about its type).
    r.sender.add("r1", "plain", null);
    await r.sender.flush();
    expect(r.fake.sent[1]?.payload).not.toHaveProperty("replyToId");
  });
});

describe("changes: persistence, replacement, acks", () => {
  it("a change is persisted before it shows, as a ChangeEntry keyed by its id", () => {
    const r = rig(acceptingServer());
    r.fake.setConnected(false);
    const c = r.sender.addChange({ kind: "edit", roomId: "r1", messageId: "m1", body: "new", baseVersion: 1 });
    expect(r.outbox.entries()).toEqual([expect.objectContaining({ kind: "edit", clientId: c.changeId, messageId: "m1", body: "new", baseVersion: 1, failed: false })]);
    expect(selectMessageView(r.ctx.store.getState(), "r1", "m1")).toMatchObject({ body: "new", pending: true });
  });

  it("a new reaction for the same message and emoji replaces an unsent earlier one; others stay", () => {
    const r = rig(acceptingServer());
    r.fake.setConnected(false);
    r.sender.addChange({ kind: "react", roomId: "r1", messageId: "m1", emoji: "👍", on: true });
    const other = r.sender.addChange({ kind: "react", roomId: "r1", messageId: "m1", emoji: "🎉", on: true });
    const otherMessage = r.sender.addChange({ kind: "react", roomId: "r1", messageId: "m2", emoji: "👍", on: true });
    const last = r.sender.addChange({ kind: "react", roomId: "r1", messageId: "m1", emoji: "👍", on: false });
    const ids = [other.changeId, otherMessage.changeId, last.changeId];
    expect(r.ctx.store.getState().changeOrder).toEqual(ids);
    expect(r.outbox.entries().map((e) => e.clientId)).toEqual(ids);
  });

  it("a reaction already on the wire is not replaced: both go out, in order", async () => {
    const hold = deferred<AckResult<unknown>>();
    const server = acceptingServer();
    let first = true;
    const r = rig((event, payload) => {
      if (first) {
        first = false;
        return hold.promise;
      }
      return server(event, payload);
    });
    r.sender.addChange({ kind: "react", roomId: "r1", messageId: "m1", emoji: "👍", on: true });
    const flushing = r.sender.flush();
    await vi.waitFor(() => expect(r.fake.inFlight()).toBe(1));
    r.sender.addChange({ kind: "react", roomId: "r1", messageId: "m1", emoji: "👍", on: false });
    expect(r.ctx.store.getState().changeOrder).toHaveLength(2);
    hold.resolve(await Promise.resolve(server("reaction:set", { messageId: "m1", emoji: "👍", on: true })));
    await flushing;
    expect(r.fake.sent.map((s) => s.payload.on)).toEqual([true, false]);
    expect(r.ctx.store.getState().changeOrder).toEqual([]);
  });

  it("an edit that lost to a newer one is kept failed with EDIT_CONFLICT, and the winner is shown", async () => {
    const winner = msg(1, { authorId: ME.id, body: "from the other tab", editedAt: 8, version: 7 });
    const r = rig(() => ok({ message: winner, conflict: true }));
    const c = r.sender.addChange({ kind: "edit", roomId: "r1", messageId: "m1", body: "mine", baseVersion: 1 });
    await r.sender.flush();
    const s = r.ctx.store.getState();
    expect(s.changes[c.changeId]).toMatchObject({ status: "failed", error: "EDIT_CONFLICT", body: "mine" });
    expect(s.messages.r1?.m1).toBe(winner);
    expect(selectMessageView(s, "r1", "m1")).toMatchObject({ body: "from the other tab", pending: false });
    // Persisted as failed, so a reload still offers the text.
    expect(r.outbox.entries()).toEqual([expect.objectContaining({ clientId: c.changeId, failed: true, error: "EDIT_CONFLICT", body: "mine" })]);
    // The version jumped from 3 to 7: changes were missed, a catch-up is asked for.
    expect(r.catchUpChanges).toHaveBeenCalledWith("r1");
  });

  it("retrying an edit re-bases it on the copy held now and sends it again", async () => {
    const winner = msg(1, { authorId: ME.id, body: "theirs", version: 7 });
    let answer: AckResult<unknown> = ok({ message: winner, conflict: true });
    const r = rig(() => answer);
    const c = r.sender.addChange({ kind: "edit", roomId: "r1", messageId: "m1", body: "mine", baseVersion: 1 });
    await r.sender.flush();
    answer = ok({ message: msg(1, { authorId: ME.id, body: "mine", version: 8 }), conflict: false });
    r.sender.retryChange(c.changeId);
    await vi.waitFor(() => expect(r.fake.sent).toHaveLength(2));
    expect(r.fake.sent[1]?.payload).toMatchObject({ body: "mine", baseVersion: 7 });
    await vi.waitFor(() => expect(r.ctx.store.getState().changeOrder).toEqual([]));
    expect(r.ctx.store.getState().messages.r1?.m1?.body).toBe("mine");
    expect(r.outbox.entries()).toEqual([]);
  });

  it("my second edit, made while the first was pending, is re-based on the version the first produced", async () => {
    const r = rig(acceptingServer());
    r.fake.setConnected(false);
    r.sender.addChange({ kind: "edit", roomId: "r1", messageId: "m1", body: "one", baseVersion: 1 });
    r.sender.addChange({ kind: "edit", roomId: "r1", messageId: "m1", body: "two", baseVersion: 1 });
    r.fake.setConnected(true);
    await r.sender.flush();
    expect(r.fake.sent.map((s) => s.payload.baseVersion)).toEqual([1, 4]);
  });

  const permanent = [
    "MESSAGE_NOT_FOUND",
    "NOT_YOUR_MESSAGE",
    "MESSAGE_NOT_EDITABLE",
    "MESSAGE_DELETED",
    "EMOJI_INVALID",
    "TOO_MANY_REACTIONS",
    "NOT_A_MEMBER",
    "INVALID_PAYLOAD",
    "MESSAGE_BLANK",
    "MESSAGE_TOO_LONG",
    "MESSAGE_INVALID",
  ] as const;
  for (const code of permanent) {
    it(`${code} fails the change at once (kept, persisted, not retried)`, async () => {
      const r = rig(() => fail(code, "no"));
      const c = r.sender.addChange({ kind: "react", roomId: "r1", messageId: "m1", emoji: "👍", on: true });
      await r.sender.flush();
      expect(r.fake.sent).toHaveLength(1);
      expect(r.ctx.store.getState().changes[c.changeId]).toMatchObject({ status: "failed", error: code });
      expect(r.outbox.entries()).toEqual([expect.objectContaining({ failed: true, error: code })]);
      // Not shown over the message any more.
      expect(selectMessageView(r.ctx.store.getState(), "r1", "m1")?.pending).toBe(false);
    });
  }

  it("a lost ack is retried with backoff, then fails after the last attempt", async () => {
    vi.useFakeTimers();
    const r = rig(() => {
      throw new Error("timeout");
    });
    const c = r.sender.addChange({ kind: "delete", roomId: "r1", messageId: "m1" });
    await r.sender.flush();
    expect(r.ctx.store.getState().changes[c.changeId]).toMatchObject({ status: "sending", attempts: 1, error: "TIMEOUT" });
    await vi.advanceTimersByTimeAsync(500);
    expect(r.fake.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.fake.sent).toHaveLength(3);
    expect(r.ctx.store.getState().changes[c.changeId]).toMatchObject({ status: "failed", error: "TIMEOUT" });
  });

  it("RATE_LIMITED makes the outbox wait, not fail; the change goes out after the wait", async () => {
    vi.useFakeTimers();
    let limited = true;
    const server = acceptingServer();
    const r = rig((event, payload) => {
      if (limited) {
        limited = false;
        return fail("RATE_LIMITED", "slow down", 2_000);
      }
      return server(event, payload);
    });
    const c = r.sender.addChange({ kind: "delete", roomId: "r1", messageId: "m1" });
    await r.sender.flush();
    expect(r.ctx.store.getState().changes[c.changeId]).toMatchObject({ status: "sending", attempts: 0 });
    expect(r.ctx.store.getState().connection.rateLimitedUntil).not.toBeNull();
    await vi.advanceTimersByTimeAsync(1_999);
    expect(r.fake.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(r.ctx.store.getState().changeOrder).toEqual([]));
    expect(r.ctx.store.getState().connection.rateLimitedUntil).toBeNull();
  });

  it("discarding a change drops it from the outbox and the view", () => {
    const r = rig(acceptingServer());
    r.fake.setConnected(false);
    const c = r.sender.addChange({ kind: "delete", roomId: "r1", messageId: "m1" });
    r.sender.discardChange(c.changeId);
    expect(r.outbox.entries()).toEqual([]);
    expect(selectMessageView(r.ctx.store.getState(), "r1", "m1")).toMatchObject({ deletedAt: null, pending: false });
  });

  it("reload (another tab wrote the outbox) shows changes it added and drops those it settled", () => {
    const r = rig(acceptingServer());
    r.fake.setConnected(false);
    const mine = r.sender.addChange({ kind: "delete", roomId: "r1", messageId: "m2" });
    // The other tab confirmed mine and added an edit of its own.
    r.outbox.remove(mine.changeId);
    r.outbox.put(changeEntry("theirs", "edit", 5, 0, { body: "from the other tab" }));
    r.sender.reload();
    const s = r.ctx.store.getState();
    expect(s.changeOrder).toEqual(["theirs"]);
    expect(selectMessageView(s, "r1", "m1")).toMatchObject({ body: "from the other tab", pending: true });
    // The other tab marked it failed.
    r.outbox.put(changeEntry("theirs", "edit", 5, 0, { body: "from the other tab", failed: true, error: "MESSAGE_DELETED" }));
    r.sender.reload();
    expect(r.ctx.store.getState().changes.theirs).toMatchObject({ status: "failed", error: "MESSAGE_DELETED" });
  });
});

describe("the client's change commands", () => {
  function client() {
    const outbox = memoryOutbox();
    // Never connected: commands are only queued.
    const c = createChatClient({ url: "http://127.0.0.1:9", outbox, now: () => 42, randomId: (() => { let n = 0; return () => `id${++n}`; })() });
    const m = msg(1, { authorId: ME.id, version: 4 });
    c.store.setState({ me: ME, messages: { r1: { m1: m } } });
    return { c, outbox };
  }

  it("refuses a message that is not held, and blank or over-long edits", () => {
    const { c, outbox } = client();
    expect(c.edit("m9", "x")).toEqual({ ok: false, code: "MESSAGE_NOT_FOUND" });
    expect(c.deleteMessage("m9")).toEqual({ ok: false, code: "MESSAGE_NOT_FOUND" });
    expect(c.react("m9", "👍", true)).toEqual({ ok: false, code: "MESSAGE_NOT_FOUND" });
    expect(c.edit("m1", "   ")).toEqual({ ok: false, code: "MESSAGE_BLANK" });
    expect(c.edit("m1", "x".repeat(100_000))).toEqual({ ok: false, code: "MESSAGE_TOO_LONG" });
    expect(outbox.entries()).toEqual([]);
    c.disconnect();
  });

  it("queues edits on the held version, deletes and reactions, and a reply's replyToId", () => {
    const { c, outbox } = client();
    const edit = c.edit("m1", "better");
    const del = c.deleteMessage("m1");
    const react = c.react("m1", "👍", true);
    const sent = c.send("r1", "re", { replyToId: "m1" });
    expect([edit.ok, del.ok, react.ok, sent.ok]).toEqual([true, true, true, true]);
    expect(outbox.entries().map((e) => ({ kind: e.kind, messageId: "messageId" in e ? e.messageId : undefined, replyToId: "replyToId" in e ? e.replyToId : undefined }))).toEqual([
      { kind: "edit", messageId: "m1", replyToId: undefined },
      { kind: "delete", messageId: "m1", replyToId: undefined },
      { kind: "react", messageId: "m1", replyToId: undefined },
      { kind: undefined, messageId: undefined, replyToId: "m1" },
    ]);
    expect(outbox.entries()[0]).toMatchObject({ baseVersion: 4, body: "better" });
    expect(c.store.getState().pending[sent.ok ? sent.clientId : ""]).toMatchObject({ replyToId: "m1" });
    c.retryChange(edit.ok ? edit.changeId : "");
    c.discardChange(del.ok ? del.changeId : "");
    expect(c.store.getState().changeOrder).toHaveLength(2);
    c.disconnect();
  });
});
