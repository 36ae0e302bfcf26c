import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID, LIMITS, toWireMessage, type Message, type WireMessage } from "@parley/shared";
import {
  closeAllSockets,
  collect,
  connect,
  nextEvent,
  request,
  requestOk,
  roundTrip,
  signInOk,
  startServer,
  text,
  type ClientSocket,
  type TestServer,
} from "../helpers/server.js";

/**
 * Messages that change (issue 11, ADR 0009): edits, deletes and reactions reach every member's
 * every tab once, take the room's next version, are idempotent on retry, and a client that missed
 * them gets every one through `changedSince`.
 */

let server: TestServer;
let alice: ClientSocket;
let alice2: ClientSocket;
let bob: ClientSocket;
let bob2: ClientSocket;
let aliceId: string;
let bobId: string;
let bobCookie: string;

beforeEach(async () => {
  server = await startServer();
  const a = await signInOk(server.url, "Alice");
  const b = await signInOk(server.url, "Bob");
  aliceId = a.user.id;
  bobId = b.user.id;
  bobCookie = b.cookie;
  [alice, alice2, bob, bob2] = await Promise.all([connect(server.url, a.cookie), connect(server.url, a.cookie), connect(server.url, b.cookie), connect(server.url, b.cookie)]);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

const send = (s: ClientSocket, body: string, roomId = DEFAULT_ROOM_ID) => requestOk(s, "message:send", text(roomId, body));
const isUpdateOf = (m: Message) => (u: WireMessage) => u.id === m.id;

describe("message:edit", () => {
  it("replaces the body, takes the room's next version, and reaches every tab of every member once", async () => {
    const original = await send(alice, "helo @Bob");
    const tabs = [alice, alice2, bob, bob2];
    const seen = tabs.map((t) => collect(t, "message:updated"));
    const arrivals = tabs.map((t) => nextEvent(t, "message:updated", isUpdateOf(original)));

    const reply = await requestOk(alice, "message:edit", { messageId: original.id, body: "hello @Bob", baseVersion: original.version });

    expect(reply.conflict).toBe(false);
    expect(reply.message).toMatchObject({ id: original.id, seq: original.seq, body: "hello @Bob", version: original.version + 1, mentions: [bobId] });
    expect(reply.message.editedAt).toBeGreaterThanOrEqual(original.createdAt);
    for (const update of await Promise.all(arrivals)) expect(update).toEqual(toWireMessage(reply.message));
    await Promise.all(tabs.map((t) => roundTrip(t)));
    for (const s of seen) expect(s).toHaveLength(1);
    const summary = (await requestOk(bob, "session:sync", {})).rooms.find((r) => r.id === DEFAULT_ROOM_ID)!;
    expect(summary.lastVersion).toBe(reply.message.version);
  });

  it("answers a repeated edit with the stored message and stores and broadcasts nothing", async () => {
    const original = await send(alice, "typo");
    const firstArrived = nextEvent(bob, "message:updated", isUpdateOf(original));
    const first = await requestOk(alice, "message:edit", { messageId: original.id, body: "fixed", baseVersion: original.version });
    await firstArrived;
    const seen = collect(bob, "message:updated");
    const again = await requestOk(alice, "message:edit", { messageId: original.id, body: "fixed", baseVersion: original.version });
    expect(again).toEqual({ message: first.message, conflict: false });
    await roundTrip(bob);
    expect(seen).toEqual([]);
  });

  it("answers an edit from a stale base with the current message and conflict, and does not apply it", async () => {
    const original = await send(alice, "v1");
    const winner = await requestOk(alice2, "message:edit", { messageId: original.id, body: "from tab two", baseVersion: original.version });
    const loser = await requestOk(alice, "message:edit", { messageId: original.id, body: "from tab one", baseVersion: original.version });
    expect(loser.conflict).toBe(true);
    expect(loser.message).toEqual(winner.message);
    const page = await requestOk(bob, "messages:fetch", { roomId: DEFAULT_ROOM_ID, aroundSeq: original.seq, limit: 1 });
    expect(page.messages[0]!.body).toBe("from tab two");
  });

  it("is not a conflict when only reactions changed since the base", async () => {
    const original = await send(alice, "v1");
    await requestOk(bob, "reaction:set", { messageId: original.id, emoji: "👍", on: true });
    const edited = await requestOk(alice, "message:edit", { messageId: original.id, body: "v2", baseVersion: original.version });
    expect(edited.conflict).toBe(false);
    expect(edited.message.body).toBe("v2");
    expect(edited.message.reactions.map((r) => r.emoji)).toEqual(["👍"]);
  });

  it("refuses other people's messages, notices, deleted messages, and messages of rooms the user is not in", async () => {
    const mine = await send(alice, "mine");
    const byBob = await request(bob, "message:edit", { messageId: mine.id, body: "hacked", baseVersion: mine.version });
    expect(byBob).toMatchObject({ ok: false, error: { code: "NOT_YOUR_MESSAGE" } });

    const room = await requestOk(alice, "room:create", { name: "secret" });
    const hidden = await send(alice, "in secret", room.id);
    for (const attempt of [
      request(bob, "message:edit", { messageId: hidden.id, body: "x", baseVersion: 1 }),
      request(bob, "message:delete", { messageId: hidden.id }),
      request(bob, "reaction:set", { messageId: hidden.id, emoji: "👍", on: true }),
      request(bob, "message:edit", { messageId: "no-such-message", body: "x", baseVersion: 1 }),
    ]) {
      // The same answer whether the message exists elsewhere or not at all.
      expect(await attempt).toMatchObject({ ok: false, error: { code: "MESSAGE_NOT_FOUND" } });
    }

    const notices = await requestOk(alice, "messages:fetch", { roomId: DEFAULT_ROOM_ID, afterSeq: 0, limit: LIMITS.pageMax });
    const join = notices.messages.find((m) => m.kind === "join" && m.authorId === aliceId)!;
    expect(await request(alice, "message:edit", { messageId: join.id, body: "x", baseVersion: join.version })).toMatchObject({
      ok: false,
      error: { code: "MESSAGE_NOT_EDITABLE" },
    });
    expect(await request(bob, "reaction:set", { messageId: join.id, emoji: "👋", on: true })).toMatchObject({ ok: false, error: { code: "MESSAGE_NOT_EDITABLE" } });

    await requestOk(alice, "message:delete", { messageId: mine.id });
    expect(await request(alice, "message:edit", { messageId: mine.id, body: "back", baseVersion: mine.version + 1 })).toMatchObject({
      ok: false,
      error: { code: "MESSAGE_DELETED" },
    });
  });

  it("validates the payload at run time", async () => {
    const mine = await send(alice, "mine");
    const blank = await request(alice, "message:edit", { messageId: mine.id, body: "   ", baseVersion: 1 });
    expect(blank).toMatchObject({ ok: false, error: { code: "MESSAGE_BLANK" } });
    const long = await request(alice, "message:edit", { messageId: mine.id, body: "x".repeat(LIMITS.messageMax + 1), baseVersion: 1 });
    expect(long).toMatchObject({ ok: false, error: { code: "MESSAGE_TOO_LONG" } });
    const noBase = await request(alice, "message:edit", { messageId: mine.id, body: "x" } as never);
    expect(noBase).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
  });
});

describe("message:delete", () => {
  it("keeps the seq, clears body, mentions and reactions, lowers the reader's counts, and is idempotent", async () => {
    const other = await send(bob, "keep me");
    const doomed = await send(alice, "@Bob look");
    await requestOk(bob, "reaction:set", { messageId: doomed.id, emoji: "👀", on: true });
    const before = (await requestOk(bob, "session:sync", {})).rooms.find((r) => r.id === DEFAULT_ROOM_ID)!;

    const updates = [bob, bob2, alice2].map((t) => nextEvent(t, "message:updated", isUpdateOf(doomed)));
    const deleted = await requestOk(alice, "message:delete", { messageId: doomed.id });
    expect(deleted).toMatchObject({ id: doomed.id, seq: doomed.seq, body: "", mentions: [], reactions: [] });
    expect(deleted.deletedAt).not.toBeNull();
    for (const u of await Promise.all(updates)) expect(u).toEqual(toWireMessage(deleted));

    const after = (await requestOk(bob, "session:sync", {})).rooms.find((r) => r.id === DEFAULT_ROOM_ID)!;
    expect(after.mentionCount).toBe(before.mentionCount - 1);
    // Bob's own message was never unread for him; Alice's deleted one no longer is.
    expect(after.unreadCount).toBe(before.unreadCount - 1);
    expect(after.lastSeq).toBe(before.lastSeq);

    const seen = collect(bob, "message:updated");
    expect(await requestOk(alice, "message:delete", { messageId: doomed.id })).toEqual(deleted);
    await roundTrip(bob);
    expect(seen).toEqual([]);

    const page = await requestOk(bob, "messages:fetch", { roomId: DEFAULT_ROOM_ID, afterSeq: other.seq - 1, limit: 10 });
    expect(page.messages.map((m) => [m.seq, m.deletedAt !== null])).toEqual([
      [other.seq, false],
      [doomed.seq, true],
    ]);
  });
});

describe("reaction:set", () => {
  it("sets and clears a reaction with who reacted, idempotently, broadcasting only real changes", async () => {
    const m = await send(alice, "react to me");
    const seen = collect(alice2, "message:updated");
    const on = await requestOk(bob, "reaction:set", { messageId: m.id, emoji: "🎉", on: true });
    expect(on.reactions).toEqual([{ emoji: "🎉", users: [{ id: bobId, nickname: "Bob" }] }]);
    expect(on.version).toBe(m.version + 1);
    const both = await requestOk(alice, "reaction:set", { messageId: m.id, emoji: "🎉", on: true });
    expect(both.reactions).toEqual([{ emoji: "🎉", users: [{ id: bobId, nickname: "Bob" }, { id: aliceId, nickname: "Alice" }] }]);
    // A retry of "on" changes nothing and takes no version.
    expect(await requestOk(bob, "reaction:set", { messageId: m.id, emoji: "🎉", on: true })).toEqual(both);
    const off = await requestOk(bob, "reaction:set", { messageId: m.id, emoji: "🎉", on: false });
    expect(off.reactions).toEqual([{ emoji: "🎉", users: [{ id: aliceId, nickname: "Alice" }] }]);
    expect(off.version).toBe(both.version + 1);
    expect(await requestOk(bob, "reaction:set", { messageId: m.id, emoji: "🎉", on: false })).toEqual(off);
    await roundTrip(alice2);
    expect(seen.map((u) => u.version)).toEqual([on.version, both.version, off.version]);
  });

  it("refuses what is not one emoji, and a new emoji past the per-message limit", async () => {
    const m = await send(alice, "emoji only");
    for (const emoji of ["hi", "👍 ok", "<b>", "", "\u200D", "👍".repeat(20)]) {
      const r = await request(bob, "reaction:set", { messageId: m.id, emoji, on: true });
      expect(r, emoji).toMatchObject({ ok: false });
      if (!r.ok) expect(["EMOJI_INVALID", "INVALID_PAYLOAD"]).toContain(r.error.code);
    }
    for (const emoji of ["👍🏽", "🇨🇳", "1️⃣", "👨‍👩‍👧", "❤️"]) await requestOk(bob, "reaction:set", { messageId: m.id, emoji, on: true });

    const palette = ["😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰", "😗", "😙", "😚", "🙂", "🤗", "🤩"];
    const full = await send(alice, "full");
    for (const emoji of palette.slice(0, LIMITS.reactionsPerMessage)) await requestOk(bob, "reaction:set", { messageId: full.id, emoji, on: true });
    const over = await request(bob, "reaction:set", { messageId: full.id, emoji: palette[LIMITS.reactionsPerMessage]!, on: true });
    expect(over).toMatchObject({ ok: false, error: { code: "TOO_MANY_REACTIONS" } });
    // Joining an emoji already there is not a new one.
    await requestOk(alice, "reaction:set", { messageId: full.id, emoji: palette[0]!, on: true });
  });

  it("refuses a reaction on a deleted message but accepts clearing one (a retried 'off' never fails)", async () => {
    const m = await send(alice, "soon gone");
    await requestOk(bob, "reaction:set", { messageId: m.id, emoji: "👍", on: true });
    await requestOk(alice, "message:delete", { messageId: m.id });
    expect(await request(bob, "reaction:set", { messageId: m.id, emoji: "👍", on: true })).toMatchObject({ ok: false, error: { code: "MESSAGE_DELETED" } });
    expect((await requestOk(bob, "reaction:set", { messageId: m.id, emoji: "👍", on: false })).deletedAt).not.toBeNull();
  });
});

describe("replies", () => {
  it("carries a preview of the quoted message, which says when the original was deleted", async () => {
    const original = await send(bob, "first line of the original\nsecond line");
    const reply = await requestOk(alice, "message:send", { ...text(DEFAULT_ROOM_ID, "answer"), replyToId: original.id });
    expect(reply.replyTo).toEqual({
      id: original.id,
      seq: original.seq,
      authorId: bobId,
      authorNickname: "Bob",
      excerpt: "first line of the original",
      deleted: false,
    });
    await requestOk(bob, "message:delete", { messageId: original.id });
    const page = await requestOk(alice, "messages:fetch", { roomId: DEFAULT_ROOM_ID, aroundSeq: reply.seq, limit: 1 });
    expect(page.messages[0]!.replyTo).toMatchObject({ id: original.id, excerpt: "", deleted: true });
  });

  it("refuses quoting a message of another room, or one that does not exist", async () => {
    const room = await requestOk(alice, "room:create", { name: "elsewhere" });
    const there = await send(alice, "over there", room.id);
    for (const replyToId of [there.id, "missing"]) {
      const r = await request(alice, "message:send", { ...text(DEFAULT_ROOM_ID, "re"), replyToId });
      expect(r).toMatchObject({ ok: false, error: { code: "MESSAGE_NOT_FOUND" } });
    }
  });
});

describe("catch-up of changes (changedSince)", () => {
  it("gives a client that was offline during 50 changes every one of them, in version order, paged", async () => {
    const messages: Message[] = [];
    for (let i = 0; i < 10; i++) messages.push(await send(alice, `message ${i}`));
    const sync = await requestOk(bob, "session:sync", {});
    const since = sync.rooms.find((r) => r.id === DEFAULT_ROOM_ID)!.lastVersion;
    bob.disconnect();
    bob2.disconnect();

    // 50 changes: edits, reactions on and off, deletes, spread over the 10 messages.
    let changes = 0;
    for (let round = 0; changes < 50; round++) {
      for (const m of messages) {
        if (changes >= 50) break;
        const held = (await requestOk(alice, "messages:fetch", { roomId: DEFAULT_ROOM_ID, aroundSeq: m.seq, limit: 1 })).messages[0]!;
        if (held.deletedAt !== null) continue;
        if (round % 3 === 0) await requestOk(alice, "message:edit", { messageId: m.id, body: `message ${m.seq} edit ${round}`, baseVersion: held.version });
        else if (round % 3 === 1) await requestOk(alice, "reaction:set", { messageId: m.id, emoji: "🔥", on: held.reactions.length === 0 });
        else if (m.seq % 4 === 0) await requestOk(alice, "message:delete", { messageId: m.id });
        else await requestOk(alice, "reaction:set", { messageId: m.id, emoji: "✅", on: !held.reactions.some((r) => r.emoji === "✅") });
        changes++;
      }
    }

    const back = await connect(server.url, bobCookie);
    const room = (await requestOk(back, "session:sync", {})).rooms.find((r) => r.id === DEFAULT_ROOM_ID)!;
    expect(room.lastVersion).toBe(since + 50);
    const changed: Message[] = [];
    let cursor = since;
    let pages = 0;
    for (;;) {
      const page = await requestOk(back, "messages:fetch", { roomId: DEFAULT_ROOM_ID, changedSince: cursor, limit: 7 });
      pages++;
      changed.push(...page.messages);
      if (!page.hasMore) break;
      cursor = page.messages.at(-1)!.version;
    }
    expect(pages).toBeGreaterThan(1);
    const versions = changed.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(Math.max(...versions)).toBe(room.lastVersion);
    // Each changed message once, in its final state: the same as reading it now.
    const now = await requestOk(back, "messages:fetch", { roomId: DEFAULT_ROOM_ID, afterSeq: messages[0]!.seq - 1, limit: 10 });
    expect(new Set(changed.map((m) => m.id)).size).toBe(changed.length);
    expect([...changed].sort((a, b) => a.seq - b.seq)).toEqual(now.messages.filter((m) => m.version > since));
  });

  it("pages of history say which room version they reflect, and aroundSeq centres on a seq", async () => {
    for (let i = 0; i < 30; i++) await send(alice, `m${i}`);
    const sync = await requestOk(alice, "session:sync", {});
    const room = sync.rooms.find((r) => r.id === DEFAULT_ROOM_ID)!;
    const middle = Math.floor(room.lastSeq / 2);
    const around = await requestOk(alice, "messages:fetch", { roomId: DEFAULT_ROOM_ID, aroundSeq: middle, limit: 10 });
    expect(around.version).toBe(room.lastVersion);
    const seqs = around.messages.map((m) => m.seq);
    expect(seqs).toContain(middle);
    expect(seqs).toEqual(Array.from({ length: 10 }, (_, i) => seqs[0]! + i));
    expect(around.hasMore).toBe(true);
    const atEnd = await requestOk(alice, "messages:fetch", { roomId: DEFAULT_ROOM_ID, aroundSeq: room.lastSeq, limit: 10 });
    expect(atEnd.messages.at(-1)!.seq).toBe(room.lastSeq);
    expect(atEnd.hasMore).toBe(false);
    const both = await request(alice, "messages:fetch", { roomId: DEFAULT_ROOM_ID, aroundSeq: 3, changedSince: 1 });
    expect(both).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
  });
});
