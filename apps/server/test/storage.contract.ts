import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DEFAULT_ROOM_ID,
  LIMITS,
  SEARCH_PAGE_MAX,
  countsAsUnread,
  countsAsUnreadMention,
  matchesAll,
  type Message,
  type User,
} from "@parley/shared";
import { dmRoomId } from "../src/domain/room.service.js";
import { AttachmentClaimError, StorageConflictError, type NewAttachment, type NewMessage, type SearchQuery, type Storage } from "../src/storage/storage.js";

/** One backend under test, freshly initialised and empty but for the default room. */
export interface StorageUnderTest {
  storage: Storage;
  /** Closes every storage this instance opened (closing twice is fine) and deletes its data. */
  cleanup(): Promise<void>;
  /**
   * Durable backends only: opens the same data again as a new, initialised Storage, the way a
   * restarted server would. The test closes the first storage before it calls this.
   */
  reopen?(): Promise<Storage>;
}

/**
 * The behaviour every {@link Storage} must have, run once per backend (tldraw's
 * `storageContractSuite` habit): SQLite in memory and on disk, PostgreSQL. A rule stated in the
 * `Storage` TSDoc or relied on by a service belongs here, not in a backend's own tests.
 */
export function storageContractSuite(name: string, makeStorage: () => Promise<StorageUnderTest>): void {
  describe(`Storage contract: ${name}`, () => {
    let under: StorageUnderTest;
    let s: Storage;

    beforeEach(async () => {
      under = await makeStorage();
      s = under.storage;
    });
    afterEach(async () => {
      await under.cleanup();
    });

    const user = (nickname: string) => s.createUser({ nickname, passwordHash: `hash-of-${nickname}` });
    const room = async (roomName: string, ...members: User[]) => {
      const r = await s.createRoom({ name: roomName, createdBy: members[0]?.id ?? "nobody" });
      for (const m of members) await s.addMember(r.id, m.id);
      return r;
    };
    const textMessage = (roomId: string, author: User, body = "hello", extra: Partial<NewMessage> = {}): NewMessage => ({
      roomId,
      authorId: author.id,
      clientId: randomUUID(),
      kind: "text",
      body,
      mentions: [],
      ...extra,
    });
    const say = async (roomId: string, author: User, body = "hello", extra: Partial<NewMessage> = {}) =>
      (await s.appendMessage(textMessage(roomId, author, body, extra))).message;
    const notice = async (roomId: string, author: User, kind: "join" | "leave") =>
      (await s.appendMessage({ roomId, authorId: author.id, clientId: null, kind, body: "", mentions: [] })).message;
    const seqsOf = (messages: Message[]) => messages.map((m) => m.seq);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

    describe("lifecycle", () => {
      it("migrates idempotently, and ensures a fixed-id public room once however often asked", async () => {
        await s.init();
        await s.init();
        await s.ensurePublicRoom({ id: "lobby", name: "Lobby" });
        await s.ensurePublicRoom({ id: "lobby", name: "Renamed?" });
        expect(await s.getRoom("lobby")).toMatchObject({ id: "lobby", kind: "public", name: "Lobby", lastSeq: 0, lastVersion: 0 });
        // The default room is ensured by the domain's prepareStorage, which every suite's storage ran.
        expect(await s.getRoom(DEFAULT_ROOM_ID)).toMatchObject({ id: DEFAULT_ROOM_ID, kind: "public", name: "general" });
        const alice = await user("alice");
        const listed = await s.listPublicRooms("", alice.id, 100);
        expect(listed.filter((r) => r.id === DEFAULT_ROOM_ID)).toHaveLength(1);
        // A fixed-id room's name is unique like any other public room's.
        await expect(s.createRoom({ name: "lobby", createdBy: alice.id })).rejects.toMatchObject({ what: "room_name" });
      });

      it("answers ping", async () => {
        await expect(s.ping()).resolves.toBeUndefined();
      });

      it("closes idempotently and refuses appends once closed", async () => {
        const alice = await user("alice");
        await s.addMember(DEFAULT_ROOM_ID, alice.id);
        await s.close();
        await s.close();
        await expect(s.appendMessage(textMessage(DEFAULT_ROOM_ID, alice))).rejects.toThrow();
      });

      it("lets in-flight appends finish before close resolves", async () => {
        const alice = await user("alice");
        await s.addMember(DEFAULT_ROOM_ID, alice.id);
        const sends = range(1, 20).map(() => s.appendMessage(textMessage(DEFAULT_ROOM_ID, alice)));
        await s.close();
        const results = await Promise.all(sends);
        expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(range(1, 20));
      });
    });

    describe("users", () => {
      it("creates, gets and finds a user; the password hash stays out of User", async () => {
        const alice = await user("Alice");
        expect(alice).toEqual({ id: expect.any(String), nickname: "Alice", passwordHash: "hash-of-Alice", createdAt: expect.any(Number), deactivatedAt: null });
        expect(await s.getUser(alice.id)).toStrictEqual({ id: alice.id, nickname: "Alice", createdAt: alice.createdAt });
        expect(await s.findUserByNickname("aLiCe")).toStrictEqual(alice);
        expect(await s.findUserByNickname("bob")).toBeNull();
        expect(await s.getUser("no-such-user")).toBeNull();
      });

      it("replaces a password hash", async () => {
        const alice = await user("alice");
        await s.updatePasswordHash(alice.id, "scrypt$new");
        expect(await s.findUserByNickname("alice")).toMatchObject({ id: alice.id, passwordHash: "scrypt$new" });
      });

      it("refuses a nickname that differs only by case or Unicode width", async () => {
        await user("Alice");
        await expectConflict(user("aLICE"), "nickname");
        // U+FF21 FULLWIDTH LATIN CAPITAL LETTER A normalises (NFKC) to "A".
        await expectConflict(user("\uFF21lice"), "nickname");
        expect((await s.searchUsers("", 10)).map((u) => u.nickname)).toEqual(["Alice"]);
      });

      it("searches by case-insensitive substring, ordered by nickname, at most limit", async () => {
        for (const n of ["carol", "Bob", "bobby", "Abbott"]) await user(n);
        expect((await s.searchUsers("BOB", 10)).map((u) => u.nickname)).toEqual(["Bob", "bobby"]);
        expect((await s.searchUsers("b", 2)).map((u) => u.nickname)).toEqual(["Abbott", "Bob"]);
        expect((await s.searchUsers("", 10)).map((u) => u.nickname)).toEqual(["Abbott", "Bob", "bobby", "carol"]);
        expect(await s.searchUsers("zed", 10)).toEqual([]);
      });

      it("treats LIKE wildcards and the escape character in a search literally", async () => {
        for (const n of ["100%", "1000", "a_b", "axb", "back\\slash", "backslash"]) await user(n);
        expect((await s.searchUsers("%", 10)).map((u) => u.nickname)).toEqual(["100%"]);
        expect((await s.searchUsers("0%", 10)).map((u) => u.nickname)).toEqual(["100%"]);
        expect((await s.searchUsers("_", 10)).map((u) => u.nickname)).toEqual(["a_b"]);
        expect((await s.searchUsers("\\", 10)).map((u) => u.nickname)).toEqual(["back\\slash"]);
      });
    });

    describe("sessions", () => {
      it("finds a session until it expires", async () => {
        const alice = await user("alice");
        await s.createSession({ id: "s1", userId: alice.id, tokenHash: "hash1", expiresAt: 1_000_000 });
        expect(await s.findSession("hash1", 999_999)).toEqual({ id: "s1", userId: alice.id, expiresAt: 1_000_000 });
        expect(await s.findSession("hash1", 1_000_000)).toBeNull();
        expect(await s.findSession("hash1", 2_000_000)).toBeNull();
        expect(await s.findSession("other", 0)).toBeNull();
      });

      it("deletes a session and returns what it deleted, once", async () => {
        const alice = await user("alice");
        const expiresAt = Date.now() + 60_000;
        await s.createSession({ id: "s1", userId: alice.id, tokenHash: "hash1", expiresAt });
        await s.createSession({ id: "s2", userId: alice.id, tokenHash: "hash2", expiresAt });
        expect(await s.deleteSession("hash1")).toEqual({ id: "s1", userId: alice.id, expiresAt });
        expect(await s.findSession("hash1", Date.now())).toBeNull();
        expect(await s.deleteSession("hash1")).toBeNull();
        expect(await s.findSession("hash2", Date.now())).toMatchObject({ id: "s2" });
      });

      it("deletes every session of one user and no other user's", async () => {
        const alice = await user("alice");
        const bob = await user("bob");
        const expiresAt = Date.now() + 60_000;
        await s.createSession({ id: "a1", userId: alice.id, tokenHash: "ha1", expiresAt });
        await s.createSession({ id: "a2", userId: alice.id, tokenHash: "ha2", expiresAt });
        await s.createSession({ id: "b1", userId: bob.id, tokenHash: "hb1", expiresAt });
        expect(await s.deleteUserSessions(alice.id)).toBe(2);
        expect(await s.findSession("ha1", 0)).toBeNull();
        expect(await s.findSession("ha2", 0)).toBeNull();
        expect(await s.findSession("hb1", 0)).toMatchObject({ id: "b1" });
        expect(await s.deleteUserSessions(alice.id)).toBe(0);
      });

      it("purges the sessions expired at or before now, and only those", async () => {
        const alice = await user("alice");
        await s.createSession({ id: "old", userId: alice.id, tokenHash: "h-old", expiresAt: 1_000 });
        await s.createSession({ id: "edge", userId: alice.id, tokenHash: "h-edge", expiresAt: 2_000 });
        await s.createSession({ id: "live", userId: alice.id, tokenHash: "h-live", expiresAt: 3_000 });
        expect(await s.deleteExpiredSessions(2_000)).toBe(2);
        expect(await s.findSession("h-live", 2_000)).toMatchObject({ id: "live" });
        // Purged, not merely expired: gone even for a clock that reads earlier.
        expect(await s.findSession("h-old", 0)).toBeNull();
        expect(await s.findSession("h-edge", 0)).toBeNull();
        expect(await s.deleteExpiredSessions(2_000)).toBe(0);
      });
    });

    describe("rooms", () => {
      it("creates and gets a public room", async () => {
        const alice = await user("alice");
        const r = await s.createRoom({ name: "Random", createdBy: alice.id });
        expect(r).toEqual({ id: expect.any(String), kind: "public", name: "Random", createdAt: expect.any(Number), lastSeq: 0, lastVersion: 0, topic: "", inviteOnly: false });
        expect(await s.getRoom(r.id)).toEqual(r);
        expect(await s.getRoom("no-such-room")).toBeNull();
      });

      it("refuses a room name that differs only by case, including the default room's", async () => {
        const alice = await user("alice");
        await s.createRoom({ name: "Random", createdBy: alice.id });
        await expectConflict(s.createRoom({ name: "rANDOM", createdBy: alice.id }), "room_name");
        await expectConflict(s.createRoom({ name: "GENERAL", createdBy: alice.id }), "room_name");
      });

      it("lists public rooms with member counts and membership, by size then name, filtered", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        await room("Random", alice, bob);
        await room("Rust", bob);
        await room("100% off");
        const dm = await s.getOrCreateDmRoom(dmRoomId(alice.id, bob.id), [alice.id, bob.id]);

        const all = await s.listPublicRooms("", alice.id, 100);
        expect(all).toEqual([
          { id: expect.any(String), name: "Random", memberCount: 2, isMember: true },
          { id: expect.any(String), name: "Rust", memberCount: 1, isMember: false },
          { id: expect.any(String), name: "100% off", memberCount: 0, isMember: false },
          { id: DEFAULT_ROOM_ID, name: "general", memberCount: 0, isMember: false },
        ]);
        expect(all.map((r) => r.id)).not.toContain(dm.id);
        expect((await s.listPublicRooms("RU", alice.id, 100)).map((r) => r.name)).toEqual(["Rust"]);
        expect((await s.listPublicRooms("%", alice.id, 100)).map((r) => r.name)).toEqual(["100% off"]);
        expect(await s.listPublicRooms("_", alice.id, 100)).toEqual([]);
        expect((await s.listPublicRooms("", bob.id, 2)).map((r) => [r.name, r.isMember])).toEqual([
          ["Random", true],
          ["Rust", true],
        ]);
      });
      it("reads the heads of several rooms at once, skipping unknown ids", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const quiet = await room("Quiet", alice);
        const sent = await s.appendMessage({ roomId: r.id, authorId: alice.id, clientId: randomUUID(), kind: "text", body: "one", mentions: [] });
        await s.appendMessage({ roomId: r.id, authorId: bob.id, clientId: randomUUID(), kind: "text", body: "two", mentions: [] });
        await s.setReaction({ messageId: sent.message.id, userId: bob.id, emoji: "👍", on: true, maxDistinct: 20 });

        const heads = await s.getRoomHeads([r.id, quiet.id, "no-such-room"]);
        expect([...heads].sort((a, b) => b.seq - a.seq)).toEqual([
          { roomId: r.id, seq: 2, version: 3 },
          { roomId: quiet.id, seq: 0, version: 0 },
        ]);
        expect(await s.getRoomHeads([])).toEqual([]);
      });
    });

    describe("direct messages", () => {
      it("is one room whichever user opens it, with both users as members", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const ab = await s.getOrCreateDmRoom(dmRoomId(alice.id, bob.id), [alice.id, bob.id]);
        const ba = await s.getOrCreateDmRoom(dmRoomId(bob.id, alice.id), [bob.id, alice.id]);
        expect(ab).toEqual({
          id: dmRoomId(alice.id, bob.id),
          kind: "dm",
          name: expect.any(String),
          createdAt: expect.any(Number),
          lastSeq: 0,
          lastVersion: 0,
          topic: "",
          inviteOnly: false,
        });
        expect(ba).toEqual(ab);
        expect((await s.listMembers(ab.id)).map((u) => u.nickname)).toEqual(["alice", "bob"]);
        expect(await s.isMember(ab.id, alice.id)).toBe(true);
        expect(await s.isMember(ab.id, bob.id)).toBe(true);
        expect(await s.listRoomIdsForUser(bob.id)).toContain(ab.id);
      });

      it("opening an existing DM keeps its messages and read positions", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const dm = await s.getOrCreateDmRoom(dmRoomId(alice.id, bob.id), [alice.id, bob.id]);
        await say(dm.id, alice, "hi bob");
        await s.setLastRead(dm.id, bob.id, 1);
        expect(await s.getOrCreateDmRoom(dmRoomId(bob.id, alice.id), [bob.id, alice.id])).toMatchObject({ id: dm.id, lastSeq: 1 });
        expect(await s.getRoomSummary(dm.id, bob.id)).toMatchObject({ lastReadSeq: 1, unreadCount: 0 });
      });

      it("is named after the peer in each user's summary", async () => {
        const [alice, bob] = [await user("alice"), await user("Bob")];
        const dm = await s.getOrCreateDmRoom(dmRoomId(alice.id, bob.id), [alice.id, bob.id]);
        await say(dm.id, bob, "hi alice");
        expect(await s.getRoomSummary(dm.id, alice.id)).toEqual({
          id: dm.id,
          kind: "dm",
          name: "Bob",
          peerId: bob.id,
          memberCount: 2,
          lastSeq: 1,
          lastVersion: 1,
          lastReadSeq: 0,
          unreadCount: 1,
          mentionCount: 0,
          lastActivityAt: expect.any(Number),
          role: "member",
          topic: "",
          inviteOnly: false,
          notifyLevel: "all",
        });
        expect(await s.getRoomSummary(dm.id, bob.id)).toMatchObject({ name: "alice", peerId: alice.id, lastReadSeq: 1, unreadCount: 0 });
      });
    });

    describe("members", () => {
      it("adds and removes a member once each", async () => {
        const alice = await user("alice");
        const r = await room("Random");
        expect(await s.isMember(r.id, alice.id)).toBe(false);
        expect(await s.addMember(r.id, alice.id)).toBe(true);
        expect(await s.addMember(r.id, alice.id)).toBe(false);
        expect(await s.isMember(r.id, alice.id)).toBe(true);
        expect(await s.removeMember(r.id, alice.id)).toBe(true);
        expect(await s.removeMember(r.id, alice.id)).toBe(false);
        expect(await s.isMember(r.id, alice.id)).toBe(false);
        expect(await s.addMember("no-such-room", alice.id)).toBe(false);
      });

      it("lists members by nickname regardless of case, and a user's rooms", async () => {
        const [carol, bob, alice] = [await user("carol"), await user("Bob"), await user("alice")];
        const r = await room("Random", carol, bob, alice);
        const other = await room("Other", bob);
        expect(await s.listMembers(r.id)).toEqual([
          { id: alice.id, nickname: "alice", createdAt: alice.createdAt, role: "member" },
          { id: bob.id, nickname: "Bob", createdAt: bob.createdAt, role: "member" },
          { id: carol.id, nickname: "carol", createdAt: carol.createdAt, role: "member" },
        ]);
        expect((await s.listRoomIdsForUser(bob.id)).sort()).toEqual([r.id, other.id].sort());
        expect(await s.listRoomIdsForUser(alice.id)).toEqual([r.id]);
        expect(await s.listMembers("no-such-room")).toEqual([]);
      });

      it("starts a new member's read position at the room's last seq", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice);
        for (let i = 0; i < 3; i++) await say(r.id, alice);
        await s.addMember(r.id, bob.id);
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ lastSeq: 3, lastReadSeq: 3, unreadCount: 0 });
        await say(r.id, alice);
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ lastSeq: 4, lastReadSeq: 3, unreadCount: 1 });
      });
    });

    describe("room summaries", () => {
      it("counts as unread only others' text messages, not own messages or join/leave notices", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        const r = await room("Random", alice, bob);
        await say(r.id, bob);
        await say(r.id, bob);
        await say(r.id, bob);
        await s.addMember(r.id, carol.id);
        await notice(r.id, carol, "join");
        await notice(r.id, bob, "leave");
        expect(await s.getRoomSummary(r.id, alice.id)).toEqual({
          id: r.id,
          kind: "public",
          name: "Random",
          peerId: null,
          memberCount: 3,
          lastSeq: 5,
          lastVersion: 5,
          lastReadSeq: 0,
          unreadCount: 3,
          mentionCount: 0,
          lastActivityAt: expect.any(Number),
          role: "member",
          topic: "",
          inviteOnly: false,
          notifyLevel: "all",
        });
      });

      it("moves the author's read position to their own message", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        await say(r.id, bob);
        await say(r.id, bob);
        const mine = await say(r.id, alice);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ lastSeq: 3, lastReadSeq: mine.seq, unreadCount: 0 });
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ lastSeq: 3, lastReadSeq: 2, unreadCount: 1 });
      });

      it("counts unread mentions until they are read", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        const r = await room("Random", alice, bob, carol);
        const first = await say(r.id, bob, "@alice hi", { mentions: [alice.id] });
        await say(r.id, bob, "@carol hi", { mentions: [carol.id] });
        await say(r.id, bob, "@alice @carol", { mentions: [alice.id, carol.id] });
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ unreadCount: 3, mentionCount: 2 });
        expect(await s.getRoomSummary(r.id, carol.id)).toMatchObject({ unreadCount: 3, mentionCount: 2 });
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ unreadCount: 0, mentionCount: 0 });
        await s.setLastRead(r.id, alice.id, first.seq);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ unreadCount: 2, mentionCount: 1 });
        await s.setLastRead(r.id, alice.id, 3);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ unreadCount: 0, mentionCount: 0 });
      });

      it("moves a read position only forward and never past the last seq", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        const r = await room("Random", alice, bob);
        for (let i = 0; i < 5; i++) await say(r.id, bob);
        expect(await s.setLastRead(r.id, alice.id, 3)).toBe(3);
        expect(await s.setLastRead(r.id, alice.id, 1)).toBe(3);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ lastReadSeq: 3, unreadCount: 2 });
        expect(await s.setLastRead(r.id, alice.id, 999)).toBe(5);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ lastSeq: 5, lastReadSeq: 5, unreadCount: 0 });
        // Not a member: nothing to move.
        expect(await s.setLastRead(r.id, carol.id, 2)).toBe(0);
        expect(await s.getRoomSummary(r.id, carol.id)).toBeNull();
      });

      it("counts exactly what the shared unread rule (countsAsUnread) counts, on a mixed room", async () => {
        const [alice, bob, carol, dave] = [await user("alice"), await user("bob"), await user("carol"), await user("dave")];
        const r = await room("mixed", alice, bob, carol, dave);
        // Alice muted Dave: his messages, mentions of her included, ask nothing of her.
        await s.setMute(alice.id, dave.id, true);
        const muted = { [dave.id]: true as const };
        // Every kind of message the rule has an opinion on, before and after the read position.
        const written: Message[] = [];
        for (let round = 0; round < 3; round++) {
          written.push(await say(r.id, alice, "mine"));
          written.push(await say(r.id, bob, "plain"));
          written.push(await say(r.id, carol, "@alice look", { mentions: [alice.id] }));
          written.push(await notice(r.id, carol, round % 2 === 0 ? "join" : "leave"));
          written.push(await say(r.id, dave, "@alice muted", { mentions: [alice.id] }));
          const doomed = await say(r.id, bob, "@alice soon gone", { mentions: [alice.id] });
          await s.deleteMessage(doomed.id, doomed.authorId);
          const edited = await say(r.id, carol, "no mention yet");
          await s.editMessage({ messageId: edited.id, body: "now @alice", mentions: [alice.id], baseVersion: edited.version });
          written.push(doomed, edited);
        }
        // Alice's own messages moved her read position (writing reads the room): the round after
        // her last one is unread, and reading moves it on.
        for (const readTo of [0, written.length - 2, written.length + 5]) {
          await s.setLastRead(r.id, alice.id, readTo);
          const summary = (await s.getRoomSummary(r.id, alice.id))!;
          const page = await s.getMessages(r.id, { afterSeq: summary.lastReadSeq, limit: 200 });
          const unread = page.messages.filter((m) => countsAsUnread(m, alice.id, muted)).length;
          expect(summary.unreadCount, `read to ${summary.lastReadSeq}`).toBe(unread);
          expect(summary.mentionCount, `read to ${summary.lastReadSeq}`).toBe(page.messages.filter((m) => countsAsUnreadMention(m, alice.id, muted)).length);
          if (readTo === 0) {
            // The fixture leaves something to count, and something only the mute keeps out.
            expect(unread).toBeGreaterThan(1);
            expect(page.messages.filter((m) => countsAsUnread(m, alice.id)).length).toBeGreaterThan(unread);
          }
        }
      });

      it("counts a muted user's messages again once unmuted, and never for anyone else", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        const r = await room("muting", alice, bob, carol);
        await say(r.id, bob, "@alice one", { mentions: [alice.id] });
        await say(r.id, bob, "two");
        await s.setMute(alice.id, bob.id, true);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ unreadCount: 0, mentionCount: 0 });
        // Alice's mute is hers: Carol still counts Bob's messages.
        expect(await s.getRoomSummary(r.id, carol.id)).toMatchObject({ unreadCount: 2 });
        await s.setMute(alice.id, bob.id, false);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ unreadCount: 2, mentionCount: 1 });
      });

      it("has no summary for a room the user is not in, or that does not exist", async () => {
        const alice = await user("alice");
        const r = await room("Random");
        expect(await s.getRoomSummary(r.id, alice.id)).toBeNull();
        expect(await s.getRoomSummary("no-such-room", alice.id)).toBeNull();
      });

      it("lists every room of the user, most recently active first", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        await s.addMember(DEFAULT_ROOM_ID, alice.id);
        const older = await room("Older", alice);
        const newer = await room("Newer", alice);
        const dm = await s.getOrCreateDmRoom(dmRoomId(alice.id, bob.id), [alice.id, bob.id]);
        await room("Elsewhere", bob);
        nextMillisecond();
        await say(newer.id, bob);
        nextMillisecond();
        const last = await say(older.id, bob);
        nextMillisecond();
        await say(dm.id, bob);
        const summaries = await s.listRoomSummaries(alice.id);
        expect(summaries.map((r) => r.name)).toEqual(["bob", "Older", "Newer", "general"]);
        expect(summaries[1]).toMatchObject({ id: older.id, lastActivityAt: last.createdAt, lastSeq: 1, unreadCount: 1 });
        expect(await s.listRoomSummaries("no-such-user")).toEqual([]);
      });
    });

    describe("appendMessage", () => {
      it("returns every message exactly as a later read returns it (text with mentions, a notice, a reply)", async () => {
        const [alice, bob] = [await user("Alice"), await user("bob")];
        const r = await room("Mirror", alice, bob);
        const appended = [
          await say(r.id, alice, "hi @bob", { mentions: [bob.id] }),
          await notice(r.id, bob, "join"),
          await say(r.id, bob, "a reply", { replyToId: (await say(r.id, alice, "original")).id }),
        ];
        const { messages } = await s.getMessages(r.id, { latest: true, limit: 50 });
        for (const m of appended) expect(messages.find((x) => x.id === m.id)).toEqual(m);
      });

      it("stores a message with the room's next seq and returns it as stored", async () => {
        const [alice, bob] = [await user("Alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const before = Date.now();
        const clientId = randomUUID();
        const { message, created } = await s.appendMessage({
          roomId: r.id,
          authorId: alice.id,
          clientId,
          kind: "text",
          body: "hi @bob",
          mentions: [bob.id],
        });
        expect(created).toBe(true);
        expect(message).toEqual({
          id: expect.any(String),
          roomId: r.id,
          seq: 1,
          kind: "text",
          authorId: alice.id,
          authorNickname: "Alice",
          clientId,
          body: "hi @bob",
          createdAt: expect.any(Number),
          mentions: [bob.id],
          version: 1,
          editedAt: null,
          deletedAt: null,
          removedByModerator: false,
          reactions: [],
          replyTo: null,
          attachments: [],
        });
        expect(message.createdAt).toBeGreaterThanOrEqual(before);
        expect(message.createdAt).toBeLessThanOrEqual(Date.now());
        expect((await s.getMessages(r.id, { latest: true, limit: 10 })).messages).toEqual([message]);
        expect(await s.getRoom(r.id)).toMatchObject({ lastSeq: 1 });
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ lastActivityAt: message.createdAt });
      });

      it("assigns seqs 1..n without gaps under 200 concurrent appends across 3 rooms", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const rooms = [await room("One", alice, bob), await room("Two", alice, bob), await room("Three", alice, bob)];
        const results = await Promise.all(
          range(0, 199).map((i) => s.appendMessage(textMessage(rooms[i % 3]!.id, i % 2 ? alice : bob, `message ${i}`))),
        );
        expect(results.every((r) => r.created)).toBe(true);
        expect(new Set(results.map((r) => r.message.id)).size).toBe(200);
        for (const r of rooms) {
          const mine = results.map((x) => x.message).filter((m) => m.roomId === r.id);
          const n = mine.length;
          expect(seqsOf(mine).sort((a, b) => a - b)).toEqual(range(1, n));
          expect(await s.getRoom(r.id)).toMatchObject({ lastSeq: n });
          const stored = await s.getMessages(r.id, { afterSeq: 0, limit: 200 });
          expect(seqsOf(stored.messages)).toEqual(range(1, n));
          expect(stored.messages).toEqual([...mine].sort((a, b) => a.seq - b.seq));
        }
      });

      it("returns the stored message for a retried client id and stores it once", async () => {
        const alice = await user("alice");
        const r = await room("Random", alice);
        const send = textMessage(r.id, alice, "first try");
        const first = await s.appendMessage(send);
        const retry = await s.appendMessage({ ...send, body: "edited retry" });
        expect(first.created).toBe(true);
        expect(retry).toEqual({ message: first.message, created: false });
        expect((await s.getMessages(r.id, { latest: true, limit: 10 })).messages).toEqual([first.message]);
        // The retry used no seq: the next message follows without a gap.
        expect((await say(r.id, alice)).seq).toBe(2);
      });

      it("keys idempotency on the author: another user's identical client id is a new message", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const clientId = randomUUID();
        const a = await s.appendMessage(textMessage(r.id, alice, "a", { clientId }));
        const b = await s.appendMessage(textMessage(r.id, bob, "b", { clientId }));
        expect(b.created).toBe(true);
        expect(b.message.id).not.toBe(a.message.id);
        expect(b.message.seq).toBe(2);
      });

      it("stores concurrent duplicates of one client id once, without a gap", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const send = textMessage(r.id, alice, "once");
        const results = await Promise.all(range(1, 10).map(() => s.appendMessage(send)));
        expect(results.filter((x) => x.created)).toHaveLength(1);
        expect(new Set(results.map((x) => x.message.id)).size).toBe(1);
        expect(results.every((x) => x.message.seq === 1)).toBe(true);

        // Many sends, each retried concurrently with itself: every one stored once, seqs gap-free.
        const sends = range(1, 30).map((i) => textMessage(r.id, i % 2 ? alice : bob, `m${i}`));
        const mixed = await Promise.all([...sends, ...sends].map((m) => s.appendMessage(m)));
        expect(mixed.filter((x) => x.created)).toHaveLength(30);
        const stored = await s.getMessages(r.id, { afterSeq: 0, limit: 100 });
        expect(seqsOf(stored.messages)).toEqual(range(1, 31));
        expect(new Set(stored.messages.map((m) => m.clientId)).size).toBe(31);
      });

      it("never deduplicates notices (no client id)", async () => {
        const alice = await user("alice");
        const r = await room("Random", alice);
        const a = await notice(r.id, alice, "join");
        const b = await notice(r.id, alice, "leave");
        expect([a.seq, b.seq]).toEqual([1, 2]);
        expect([a.clientId, b.clientId]).toEqual([null, null]);
        expect(a.kind).toBe("join");
      });

      it("rejects an unknown room or author without using up a seq", async () => {
        const alice = await user("alice");
        const r = await room("Random", alice);
        await expect(s.appendMessage(textMessage("no-such-room", alice))).rejects.toThrow();
        await expect(s.appendMessage({ ...textMessage(r.id, alice), authorId: "no-such-user" })).rejects.toThrow();
        expect(await s.getRoom(r.id)).toMatchObject({ lastSeq: 0 });
        expect((await say(r.id, alice)).seq).toBe(1);
      });
    });

    describe("getMessages", () => {
      const fill = async (n: number) => {
        const alice = await user("alice");
        const r = await room("Random", alice);
        const sent: Message[] = [];
        for (let i = 1; i <= n; i++) sent.push(await say(r.id, alice, `message ${i}`));
        return { r, sent, alice };
      };

      it("pages forward with afterSeq: every message once, in order", async () => {
        const { r, sent } = await fill(25);
        const pages = [];
        let after = 0;
        for (;;) {
          const page = await s.getMessages(r.id, { afterSeq: after, limit: 10 });
          pages.push(page);
          if (!page.hasMore) break;
          after = page.messages.at(-1)!.seq;
        }
        expect(pages.map((p) => [p.messages.length, p.hasMore])).toEqual([
          [10, true],
          [10, true],
          [5, false],
        ]);
        expect(pages.flatMap((p) => p.messages)).toEqual(sent);
        expect(await s.getMessages(r.id, { afterSeq: 25, limit: 10 })).toEqual({ messages: [], hasMore: false, version: 25 });
      });

      it("pages backward from the latest with beforeSeq: every message once, ascending within a page", async () => {
        const { r, sent } = await fill(25);
        const latest = await s.getMessages(r.id, { latest: true, limit: 10 });
        expect(seqsOf(latest.messages)).toEqual(range(16, 25));
        expect(latest.hasMore).toBe(true);
        const pages = [latest];
        let before = latest.messages[0]!.seq;
        for (;;) {
          const page = await s.getMessages(r.id, { beforeSeq: before, limit: 10 });
          pages.push(page);
          if (!page.hasMore) break;
          before = page.messages[0]!.seq;
        }
        expect(pages.map((p) => [seqsOf(p.messages)[0], p.messages.length, p.hasMore])).toEqual([
          [16, 10, true],
          [6, 10, true],
          [1, 5, false],
        ]);
        expect(pages.reverse().flatMap((p) => p.messages)).toEqual(sent);
      });

      it("says hasMore exactly when more exist in that direction", async () => {
        const { r } = await fill(25);
        expect((await s.getMessages(r.id, { latest: true, limit: 25 })).hasMore).toBe(false);
        expect((await s.getMessages(r.id, { latest: true, limit: 24 })).hasMore).toBe(true);
        expect((await s.getMessages(r.id, { afterSeq: 0, limit: 25 })).hasMore).toBe(false);
        expect((await s.getMessages(r.id, { afterSeq: 0, limit: 24 })).hasMore).toBe(true);
        expect((await s.getMessages(r.id, { beforeSeq: 26, limit: 25 })).hasMore).toBe(false);
        expect((await s.getMessages(r.id, { beforeSeq: 25, limit: 24 })).hasMore).toBe(false);
        expect((await s.getMessages(r.id, { beforeSeq: 26, limit: 24 })).hasMore).toBe(true);
        expect(seqsOf((await s.getMessages(r.id, { beforeSeq: 3, limit: 10 })).messages)).toEqual([1, 2]);
      });

      it("returns an empty page for an empty or unknown room, and never another room's messages", async () => {
        const { alice } = await fill(3);
        const empty = await room("Empty", alice);
        for (const id of [empty.id, "no-such-room"]) {
          const none = { messages: [], hasMore: false, version: 0 };
          expect(await s.getMessages(id, { latest: true, limit: 10 })).toEqual(none);
          expect(await s.getMessages(id, { afterSeq: 0, limit: 10 })).toEqual(none);
          expect(await s.getMessages(id, { beforeSeq: 100, limit: 10 })).toEqual(none);
          expect(await s.getMessages(id, { aroundSeq: 1, limit: 10 })).toEqual(none);
          expect(await s.getMessages(id, { changedSince: 0, limit: 10 })).toEqual(none);
        }
      });
    });

    describe("message changes", () => {
      const lastVersion = async (roomId: string) => (await s.getRoom(roomId))!.lastVersion;
      const edit = (m: Message, body: string, extra: { mentions?: string[]; baseVersion?: number } = {}) =>
        s.editMessage({ messageId: m.id, body, mentions: extra.mentions ?? [], baseVersion: extra.baseVersion ?? m.version });
      const react = (m: Message, u: User, emoji: string, on = true, maxDistinct: number = LIMITS.reactionsPerMessage) =>
        s.setReaction({ messageId: m.id, userId: u.id, emoji, on, maxDistinct });
      const versionsOf = (messages: Message[]) => messages.map((m) => m.version);
      const bodiesOf = (messages: Message[]) => messages.map((m) => m.body);

      it("gives every change kind the room's next version, and the room's last_version follows", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        const r = await room("Random", alice, bob);
        const elsewhere = await room("Elsewhere", alice);
        const first = await say(r.id, alice, "first");
        await say(elsewhere.id, alice, "another room has its own versions");
        await s.addMember(r.id, carol.id);
        const joined = await notice(r.id, carol, "join");
        const edited = await edit(first, "first, edited");
        const reacted = await react(first, bob, "👍");
        const unreacted = await react(first, bob, "👍", false);
        const deleted = await s.deleteMessage(joined.id, joined.authorId);
        const left = await notice(r.id, carol, "leave");
        expect([first.version, joined.version]).toEqual([1, 2]);
        expect([edited, reacted, unreacted, deleted].map((c) => [c?.outcome, c?.message.version])).toEqual([
          ["changed", 3],
          ["changed", 4],
          ["changed", 5],
          ["changed", 6],
        ]);
        expect(left.version).toBe(7);
        expect(await s.getRoom(r.id)).toMatchObject({ lastSeq: 3, lastVersion: 7 });
        expect(await s.getRoom(elsewhere.id)).toMatchObject({ lastSeq: 1, lastVersion: 1 });
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ lastSeq: 3, lastVersion: 7 });
        const changes = await s.getMessages(r.id, { changedSince: 0, limit: 50 });
        // Each message once, in its latest state, ordered by the version of its latest change.
        expect(changes).toEqual({ messages: [unreacted!.message, deleted!.message, left], hasMore: false, version: 7 });
        expect(await s.getMessage(first.id)).toEqual(unreacted!.message);
      });

      it("takes no version for a retry that changes nothing", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const send = textMessage(r.id, alice, "hello");
        const m = (await s.appendMessage(send)).message;
        const edited = (await edit(m, "hello again"))!.message;
        await react(m, bob, "🎉");
        const before = await lastVersion(r.id);
        expect(before).toBe(3);
        // Retries of what was applied, each answered with the message as stored.
        expect(await s.appendMessage(send)).toMatchObject({ created: false, message: { id: m.id, version: 3 } });
        expect(await edit(m, "hello again")).toMatchObject({ outcome: "unchanged", message: { body: "hello again", version: 3 } });
        expect(await edit(edited, "hello again")).toMatchObject({ outcome: "unchanged" });
        expect(await react(m, bob, "🎉")).toMatchObject({ outcome: "unchanged", message: { version: 3 } });
        expect(await react(m, alice, "🎉", false)).toMatchObject({ outcome: "unchanged" });
        expect(await lastVersion(r.id)).toBe(before);
        const gone = await s.deleteMessage(m.id, m.authorId);
        expect(await s.deleteMessage(m.id, m.authorId)).toEqual({ outcome: "unchanged", message: gone!.message });
        expect(await lastVersion(r.id)).toBe(before + 1);
        // A message that does not exist is no change either.
        expect(await s.deleteMessage("no-such-message", "nobody")).toBeNull();
        expect(await s.editMessage({ messageId: "no-such-message", body: "x", mentions: [], baseVersion: 0 })).toBeNull();
        expect(await s.setReaction({ messageId: "no-such-message", userId: bob.id, emoji: "👍", on: true, maxDistinct: 20 })).toBeNull();
        expect(await s.getMessage("no-such-message")).toBeNull();
        expect(await lastVersion(r.id)).toBe(before + 1);
      });

      it("edits a message: body, mentions and editedAt change, seq and createdAt stay", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const m = await say(r.id, alice, "hi @bob", { mentions: [bob.id] });
        const before = Date.now();
        const result = await edit(m, "hi everyone", { mentions: [] });
        expect(result).toEqual({
          outcome: "changed",
          message: { ...m, body: "hi everyone", mentions: [], version: 2, editedAt: expect.any(Number) },
        });
        expect(result!.message.editedAt).toBeGreaterThanOrEqual(before);
        expect(result!.message.editedAt).toBeLessThanOrEqual(Date.now());
        expect((await s.getMessages(r.id, { latest: true, limit: 10 })).messages).toEqual([result!.message]);
        // The edit took the mention away: it no longer counts for bob.
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ unreadCount: 1, mentionCount: 0 });
        await edit(result!.message, "hi @bob, again", { mentions: [bob.id] });
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ unreadCount: 1, mentionCount: 1 });
      });

      it("refuses an edit made from a body that was edited since, unless it is that body", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const base = await say(r.id, alice, "draft");
        const winner = await edit(base, "tab one's text");
        expect(winner?.outcome).toBe("changed");
        const lost = await edit(base, "tab two's text");
        // Nothing written, no version taken; the reply is the stored winner.
        expect(lost).toEqual({ outcome: "conflict", message: winner!.message });
        expect(await lastVersion(r.id)).toBe(2);
        // A reaction since the base is no conflict: only body changes are.
        const reacted = await react(winner!.message, bob, "👍");
        const next = await edit(base, "tab one again", { baseVersion: winner!.message.version });
        expect(next).toMatchObject({ outcome: "changed", message: { body: "tab one again", version: reacted!.message.version + 1 } });
        expect(next!.message.reactions).toEqual(reacted!.message.reactions);
        // An edit from a stale base that writes what is already stored is the retry of an applied edit.
        expect(await edit(base, "tab one again")).toMatchObject({ outcome: "unchanged", message: { version: 4 } });
      });

      it("refuses to edit a deleted message", async () => {
        const alice = await user("alice");
        const r = await room("Random", alice);
        const m = await say(r.id, alice, "soon gone");
        const gone = await s.deleteMessage(m.id, m.authorId);
        expect(await edit(m, "too late", { baseVersion: gone!.message.version })).toEqual({ outcome: "deleted", message: gone!.message });
        expect(await lastVersion(r.id)).toBe(2);
      });

      it("deletes a message: body, mentions and reactions go, the seq stays, the counts drop", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        const r = await room("Random", alice, bob, carol);
        await say(r.id, bob, "one");
        const m = await say(r.id, bob, "@alice look", { mentions: [alice.id, carol.id] });
        await say(r.id, bob, "three");
        await react(m, alice, "👀");
        await react(m, carol, "👍");
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ unreadCount: 3, mentionCount: 1 });
        const before = Date.now();
        const result = await s.deleteMessage(m.id, m.authorId);
        expect(result).toEqual({
          outcome: "changed",
          message: { ...m, body: "", mentions: [], reactions: [], version: 6, deletedAt: expect.any(Number) },
        });
        expect(result!.message.deletedAt).toBeGreaterThanOrEqual(before);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ lastSeq: 3, unreadCount: 2, mentionCount: 0 });
        expect(await s.getRoomSummary(r.id, carol.id)).toMatchObject({ unreadCount: 2, mentionCount: 0 });
        const page = await s.getMessages(r.id, { afterSeq: 0, limit: 10 });
        expect(seqsOf(page.messages)).toEqual([1, 2, 3]);
        expect(page.messages[1]).toEqual(result!.message);
        // Reactions on a deleted message: setting is refused, clearing is a no-op (a retried "off").
        expect(await react(m, bob, "👍")).toEqual({ outcome: "deleted", message: result!.message });
        expect(await react(m, alice, "👀", false)).toEqual({ outcome: "unchanged", message: result!.message });
        expect(await lastVersion(r.id)).toBe(6);
      });

      it("groups reactions by emoji in order of first use, users in the order they reacted", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("Bob"), await user("carol")];
        const r = await room("Random", alice, bob, carol);
        const m = await say(r.id, alice, "react to me");
        const other = await say(r.id, alice, "not me");
        await react(m, carol, "👍");
        await react(m, bob, "❤️");
        await react(m, alice, "👍");
        const last = await react(m, bob, "👍");
        const who = (u: User) => ({ id: u.id, nickname: u.nickname });
        expect(last).toMatchObject({ outcome: "changed", message: { version: 6 } });
        expect(last!.message.reactions).toEqual([
          { emoji: "👍", users: [who(carol), who(alice), who(bob)] },
          { emoji: "❤️", users: [who(bob)] },
        ]);
        const page = await s.getMessages(r.id, { afterSeq: 0, limit: 10 });
        expect(page.messages.map((x) => x.reactions)).toEqual([last!.message.reactions, []]);
        expect(await s.getMessage(other.id)).toEqual(other);
        // The order is of the reactions still set: with carol's 👍 gone, alice's is its first use,
        // which came after bob's ❤️.
        const cleared = await react(m, carol, "👍", false);
        expect(cleared!.message.reactions).toEqual([
          { emoji: "❤️", users: [who(bob)] },
          { emoji: "👍", users: [who(alice), who(bob)] },
        ]);
        await react(m, bob, "❤️", false);
        expect((await s.getMessage(m.id))!.reactions).toEqual([{ emoji: "👍", users: [who(alice), who(bob)] }]);
      });

      it("refuses a new emoji beyond maxDistinct, but not another user of an emoji already there", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const m = await say(r.id, alice, "react to me");
        await react(m, alice, "👍", true, 2);
        const full = await react(m, alice, "❤️", true, 2);
        const refused = await react(m, bob, "🎉", true, 2);
        expect(refused).toEqual({ outcome: "limit", message: full!.message });
        expect(await lastVersion(r.id)).toBe(3);
        expect(await react(m, bob, "❤️", true, 2)).toMatchObject({ outcome: "changed", message: { version: 4 } });
        await react(m, alice, "👍", false, 2);
        expect(await react(m, bob, "🎉", true, 2)).toMatchObject({ outcome: "changed", message: { version: 6 } });
      });

      it("pages through what changed since a version, by version, with hasMore", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const sent: Message[] = [];
        for (let i = 1; i <= 6; i++) sent.push(await say(r.id, alice, `m${i}`));
        await edit(sent[3]!, "m4, edited"); // v7
        await react(sent[1]!, bob, "👍"); // v8
        await edit(sent[3]!, "m4, edited twice", { baseVersion: 7 }); // v9
        await s.deleteMessage(sent[0]!.id, sent[0]!.authorId); // v10
        await say(r.id, bob, "m7"); // v11
        const since6 = await s.getMessages(r.id, { changedSince: 6, limit: 10 });
        expect(since6.hasMore).toBe(false);
        expect(since6.version).toBe(11);
        expect(since6.messages.map((m) => [m.seq, m.version])).toEqual([
          [2, 8],
          [4, 9],
          [1, 10],
          [7, 11],
        ]);
        expect(bodiesOf(since6.messages)).toEqual(["m2", "m4, edited twice", "", "m7"]);
        // Paging: each page continues from the last version it holds.
        const pages = [];
        let since = 0;
        for (;;) {
          const page = await s.getMessages(r.id, { changedSince: since, limit: 3 });
          pages.push(page);
          if (!page.hasMore) break;
          since = page.messages.at(-1)!.version;
        }
        expect(pages.map((p) => [versionsOf(p.messages), p.hasMore])).toEqual([
          [[3, 5, 6], true],
          [[8, 9, 10], true],
          [[11], false],
        ]);
        expect(await s.getMessages(r.id, { changedSince: 11, limit: 3 })).toEqual({ messages: [], hasMore: false, version: 11 });
        expect((await s.getMessages(r.id, { changedSince: 10, limit: 1 })).hasMore).toBe(false);
        expect((await s.getMessages(r.id, { changedSince: 9, limit: 1 })).hasMore).toBe(true);
      });

      it("pages around a seq: half before it, the rest from it on, at the start, middle and end", async () => {
        const alice = await user("alice");
        const r = await room("Random", alice);
        const sent: Message[] = [];
        for (let i = 1; i <= 25; i++) sent.push(await say(r.id, alice, `m${i}`));
        const around = async (seq: number, limit: number) => {
          const page = await s.getMessages(r.id, { aroundSeq: seq, limit });
          expect(page.version).toBe(25);
          return [seqsOf(page.messages), page.hasMore];
        };
        expect(await around(13, 10)).toEqual([range(8, 17), true]);
        expect(await around(1, 10)).toEqual([range(1, 5), true]);
        expect(await around(3, 10)).toEqual([range(1, 7), true]);
        expect(await around(20, 10)).toEqual([range(15, 24), true]);
        expect(await around(21, 10)).toEqual([range(16, 25), false]);
        expect(await around(25, 10)).toEqual([range(20, 25), false]);
        expect(await around(40, 10)).toEqual([range(21, 25), false]);
        expect(await around(13, 5)).toEqual([range(11, 15), true]);
        expect(await around(13, 1)).toEqual([[13], true]);
        expect(await around(1, 100)).toEqual([range(1, 25), false]);
        expect((await s.getMessages(r.id, { aroundSeq: 13, limit: 4 })).messages).toEqual(sent.slice(10, 14));
      });

      it("shows the message a reply quotes as it is now: first line cut to the limit, or deleted", async () => {
        const [alice, bob] = [await user("alice"), await user("Bob")];
        const r = await room("Random", alice, bob);
        const longLine = "x".repeat(LIMITS.replyExcerptMax + 30);
        const original = await say(r.id, bob, `${longLine}\nsecond line`);
        const reply = await say(r.id, alice, "agreed", { replyToId: original.id });
        const preview = { id: original.id, seq: 1, authorId: bob.id, authorNickname: "Bob", deleted: false };
        expect(reply.replyTo).toEqual({ ...preview, excerpt: "x".repeat(LIMITS.replyExcerptMax) });
        expect(original.replyTo).toBeNull();
        const short = await edit(original, "short\r\nand more");
        expect(short!.message.replyTo).toBeNull();
        expect((await s.getMessage(reply.id))!.replyTo).toEqual({ ...preview, excerpt: "short" });
        // A cut never splits a surrogate pair: the half emoji is dropped.
        await edit(short!.message, `${"a".repeat(LIMITS.replyExcerptMax - 1)}😀 and on`);
        expect((await s.getMessage(reply.id))!.replyTo).toEqual({ ...preview, excerpt: "a".repeat(LIMITS.replyExcerptMax - 1) });
        await s.deleteMessage(original.id, original.authorId);
        const deleted = { ...preview, excerpt: "", deleted: true };
        expect((await s.getMessage(reply.id))!.replyTo).toEqual(deleted);
        // In every page shape, and in a reply sent after the delete (the retry of an earlier send).
        const late = await say(r.id, bob, "me too", { replyToId: original.id });
        expect(late.replyTo).toEqual(deleted);
        for (const query of [{ latest: true as const, limit: 5 }, { aroundSeq: 2, limit: 5 }, { changedSince: 0, limit: 5 }]) {
          const page = await s.getMessages(r.id, query);
          expect(page.messages.find((m) => m.id === reply.id)!.replyTo).toEqual(deleted);
        }
      });

      it("keeps versions gap-free under concurrent appends, edits and reactions from several writers", async () => {
        const writers = [await user("alice"), await user("bob"), await user("carol"), await user("dave")];
        const r = await room("Random", ...writers);
        const other = await room("Other", ...writers);
        const seeded: Message[] = [];
        for (let i = 0; i < 8; i++) seeded.push(await say(r.id, writers[i % 4]!, `seed ${i}`));
        const emoji = ["👍", "❤️", "🎉"];
        // Each writer races the others: appends, edits of shared messages (some conflict), reactions
        // set and cleared (some unchanged), a delete, and appends to another room in between.
        const work = writers.flatMap((w, wi) =>
          range(0, 11).map(async (i): Promise<number | null> => {
            const target = seeded[(wi + i) % seeded.length]!;
            switch (i % 4) {
              case 0:
                return (await s.appendMessage(textMessage(r.id, w, `${w.nickname} ${i}`))).message.version;
              case 1: {
                const c = await edit(target, `${w.nickname} edits ${i}`, { baseVersion: target.version });
                return c?.outcome === "changed" ? c.message.version : null;
              }
              case 2: {
                const c = await react(target, w, emoji[i % 3]!, i % 8 !== 6);
                return c?.outcome === "changed" ? c.message.version : null;
              }
              default: {
                await say(other.id, w, "elsewhere");
                const c = i === 11 && wi === 0 ? await s.deleteMessage(seeded[7]!.id, seeded[7]!.authorId) : await react(target, w, emoji[(i + 1) % 3]!);
                return c?.outcome === "changed" ? c.message.version : null;
              }
            }
          }),
        );
        const taken = (await Promise.all(work)).filter((v): v is number => v !== null).sort((a, b) => a - b);
        const last = await lastVersion(r.id);
        // Every change that happened took its own version, and together they are exactly 9..last.
        expect(taken).toEqual(range(9, last));
        const all = await s.getMessages(r.id, { changedSince: 0, limit: 200 });
        expect(all.version).toBe(last);
        const versions = versionsOf(all.messages);
        expect(new Set(versions).size).toBe(versions.length);
        expect(versions).toEqual([...versions].sort((a, b) => a - b));
        expect(versions.at(-1)).toBe(last);
        expect(seqsOf((await s.getMessages(r.id, { afterSeq: 0, limit: 200 })).messages)).toEqual(range(1, 8 + 12));
        expect(await s.getRoom(other.id)).toMatchObject({ lastSeq: 12, lastVersion: 12 });
      });
    });

    describe("searchMessages", () => {
      type RoomKey = "alpha" | "beta" | "secret" | "dm";
      type Nick = "alice" | "bob" | "carol" | "dave";
      /**
       * The searched history, in the order it is written. Alice (who searches) is in alpha, beta and
       * her DM with bob, not in secret. Words that are prefixes and infixes of others, capitals,
       * Chinese, characters LIKE and FTS5 and regular expressions treat specially, and what must
       * never be found: a deleted message, a join notice, the old text of an edited one.
       */
      const HISTORY: Array<[RoomKey, Nick, string]> = [
        ["alpha", "bob", "Let's go to the park"],
        ["alpha", "alice", "Going home now"],
        ["beta", "dave", "That was ages ago"],
        ["alpha", "carol", "Go Team! GO GO GO"],
        ["dm", "bob", "good morning, are we there yet?"],
        ["beta", "alice", "I'll search the logs"],
        ["alpha", "bob", "Research paper draft is ready"],
        ["secret", "carol", "secret classified: going to research"],
        ["beta", "bob", "searching for the bug"],
        ["alpha", "carol", "Chicago trip was gone too soon"],
        ["alpha", "bob", "我喜欢简体中文"],
        ["beta", "alice", "中文很难"],
        ["dm", "bob", "你好世界"],
        ["alpha", "carol", "你好，世界"],
        ["beta", "dave", "中国 and 文化"],
        ["secret", "bob", "简体中文 secret go"],
        ["alpha", "alice", "hello world again"],
        ["beta", "bob", "world hello backwards"],
        ["alpha", "bob", "go and search the research"],
        ["dm", "alice", "re: meeting notes"],
        ["beta", "dave", "release notes for the theme"],
        ["alpha", "carol", "pre-release build, mid-go"],
        ["beta", "bob", "x_go and e-mail me"],
        ["alpha", "alice", "50% off today"],
        ["beta", "dave", "500 people came"],
        ["alpha", "bob", "snake_case_name here"],
        ["beta", "alice", "axb is not a_b"],
        ["alpha", "carol", 'she said "quoted" text'],
        ["beta", "bob", "glob * star"],
        ["dm", "bob", "it's fine"],
        ["alpha", "alice", "C:\\temp\\file.txt"],
        ["beta", "dave", "% done"],
        ["alpha", "bob", "100 % sure"],
        ["beta", "alice", "中% odd"],
        ["alpha", "carol", "中_ odd and 中x"],
        ["beta", "dave", "中É mixed"],
        ["dm", "bob", "n\u0308o way"],
        ["beta", "alice", "हिंदी में"],
        ["beta", "bob", "Über cool"],
        ["alpha", "alice", "ÜBER LOUD"],
        ["dm", "bob", "naïve café"],
        ["alpha", "carol", "foo.bar baz"],
        ["beta", "dave", "pi is 3.14"],
        ["alpha", "bob", "see example.com/path"],
        ["secret", "carol", "the secret plan, 中文"],
        ["alpha", "alice", "original plan for friday"],
        ["beta", "bob", "this will be deleted: going search"],
        ["alpha", "carol", "Thesis of the other theme"],
        ["beta", "alice", "regex are we sure"],
        ["alpha", "bob", "reread the spec"],
        ["dm", "alice", "GO search now"],
        ["beta", "dave", "日本語のテキスト"],
        ["alpha", "carol", "ago, agog, again"],
        ["beta", "bob", "Searching… researching… searched"],
        ["alpha", "alice", "the end of the search"],
        ["secret", "bob", "ages ago in the secret room"],
        ["beta", "dave", "e"],
        ["alpha", "bob", "go"],
        ["dm", "bob", "Go!"],
        ["beta", "alice", "going, going, gone"],
        ["alpha", "carol", "last words: 中文 search go"],
      ];
      const MEMBERS: Record<RoomKey, Nick[]> = {
        alpha: ["alice", "bob", "carol"],
        beta: ["alice", "bob", "dave"],
        secret: ["bob", "carol"],
        dm: ["alice", "bob"],
      };

      interface SearchFixture {
        users: Record<Nick, User>;
        rooms: Record<RoomKey, string>;
        /** Every message of the history in its current state, in the order written. */
        messages: Message[];
        /** A user's rooms. */
        roomsOf(userId: string): Set<string>;
      }

      const seedSearch = async (): Promise<SearchFixture> => {
        const users = {} as Record<Nick, User>;
        for (const nick of ["alice", "bob", "carol", "dave"] as const) users[nick] = await user(nick);
        const alpha = await room("Alpha", ...MEMBERS.alpha.map((n) => users[n]));
        const beta = await room("Beta", ...MEMBERS.beta.map((n) => users[n]));
        const secret = await room("Secret", ...MEMBERS.secret.map((n) => users[n]));
        const dm = await s.getOrCreateDmRoom(dmRoomId(users.alice.id, users.bob.id), [users.alice.id, users.bob.id]);
        const rooms: Record<RoomKey, string> = { alpha: alpha.id, beta: beta.id, secret: secret.id, dm: dm.id };
        const written: Message[] = [];
        for (const [key, nick, body] of HISTORY) {
          // Distinct times, so that the date filters have something to tell apart.
          nextMillisecond();
          written.push(await say(rooms[key], users[nick], body));
        }
        const byBody = (body: string) => written.find((m) => m.body === body)!;
        // A join notice whose body holds searched words: never found, as it is no text message.
        nextMillisecond();
        written.push((await s.appendMessage({ roomId: alpha.id, authorId: users.dave.id, clientId: null, kind: "join", body: "joined: going search", mentions: [] })).message);
        // A reply with a reaction, so that hits must carry both as getMessage does.
        nextMillisecond();
        const reply = await say(alpha.id, users.carol, "reply: go research it", { replyToId: byBody("Research paper draft is ready").id });
        written.push(reply);
        await s.setReaction({ messageId: reply.id, userId: users.alice.id, emoji: "👍", on: true, maxDistinct: 20 });
        const original = byBody("original plan for friday");
        await s.editMessage({ messageId: original.id, body: "edited plan: going later", mentions: [], baseVersion: original.version });
        await s.deleteMessage(byBody("this will be deleted: going search").id, byBody("this will be deleted: going search").authorId);
        const messages = await Promise.all(written.map(async (m) => (await s.getMessage(m.id))!));
        const roomsOf = (userId: string) =>
          new Set((Object.keys(MEMBERS) as RoomKey[]).filter((k) => MEMBERS[k].some((n) => users[n].id === userId)).map((k) => rooms[k]));
        return { users, rooms, messages, roomsOf };
      };

      const searchQuery = (userId: string, terms: string[], extra: Partial<SearchQuery> = {}): SearchQuery => ({
        userId,
        terms,
        roomId: null,
        authorId: null,
        after: null,
        before: null,
        hasFile: false,
        cursor: null,
        limit: SEARCH_PAGE_MAX,
        ...extra,
      });

      /** What the rule says `q` finds in the fixture: computed with the shared functions, newest first. */
      const expectedIds = (f: SearchFixture, q: SearchQuery): string[] => {
        const rooms = f.roomsOf(q.userId);
        return f.messages
          .filter(
            (m) =>
              m.kind === "text" &&
              m.deletedAt === null &&
              rooms.has(m.roomId) &&
              (q.roomId === null || m.roomId === q.roomId) &&
              (q.authorId === null || m.authorId === q.authorId) &&
              (q.after === null || m.createdAt >= q.after) &&
              (q.before === null || m.createdAt < q.before) &&
              matchesAll(m.body, q.terms),
          )
          .reverse()
          .map((m) => m.id);
      };

      /** Every page of `q` at `limit`, checking each page's shape on the way. */
      const searchAllPages = async (q: SearchQuery, limit: number): Promise<Message[]> => {
        const hits: Message[] = [];
        let cursor: string | null = null;
        for (let page = 0; page < 100; page++) {
          const result = await s.searchMessages({ ...q, cursor, limit });
          hits.push(...result.messages);
          if (result.nextCursor === null) return hits;
          expect(result.messages).toHaveLength(limit);
          expect(result.nextCursor).toMatch(/^[1-9][0-9]{0,15}$/);
          cursor = result.nextCursor;
        }
        throw new Error("more than 100 pages");
      };

      it("finds exactly what the shared rule finds, newest first, only in the searcher's rooms", async () => {
        const f = await seedSearch();
        const { alice, bob, dave } = f.users;
        const at = (body: string) => f.messages.find((m) => m.body === body)!.createdAt;
        const cases: Array<{ q: SearchQuery; none?: true }> = [
          // Word prefixes: "go" is Go and going, not ago; case never matters.
          { q: searchQuery(alice.id, ["go"]) },
          { q: searchQuery(alice.id, ["GO"]) },
          { q: searchQuery(alice.id, ["re"]) },
          { q: searchQuery(alice.id, ["th"]) },
          { q: searchQuery(alice.id, ["e"]) },
          { q: searchQuery(alice.id, ["üb"]) },
          // A combining mark belongs to its word: "o" is no word start in "n̈o" (n, U+0308, o).
          { q: searchQuery(alice.id, ["o"]) },
          // Devanagari vowel signs are marks too: "दी" starts no word in "हिंदी", "हि" does.
          { q: searchQuery(alice.id, ["दी"]), none: true },
          { q: searchQuery(alice.id, ["हि"]) },
          // Words after punctuation: a dot, a slash, an underscore, a hyphen start words too.
          { q: searchQuery(alice.id, ["ba"]) },
          { q: searchQuery(alice.id, ["14"]) },
          { q: searchQuery(alice.id, ["pa"]) },
          { q: searchQuery(alice.id, ["m"]) },
          // Substrings from three characters: anywhere, any case.
          { q: searchQuery(alice.id, ["ago"]) },
          { q: searchQuery(alice.id, ["search"]) },
          { q: searchQuery(alice.id, ["ARCH"]) },
          { q: searchQuery(alice.id, ["ÜBER"]) },
          { q: searchQuery(alice.id, ["café"]) },
          // Chinese and Japanese: substrings at any length.
          { q: searchQuery(alice.id, ["中"]) },
          { q: searchQuery(alice.id, ["中文"]) },
          { q: searchQuery(alice.id, ["文化"]) },
          { q: searchQuery(alice.id, ["体中文"]) },
          { q: searchQuery(alice.id, ["你好世界"]) },
          { q: searchQuery(alice.id, ["テキ"]) },
          { q: searchQuery(alice.id, ["中é"]) },
          // Several terms, phrases with spaces (in their order).
          { q: searchQuery(alice.id, ["go", "search"]) },
          { q: searchQuery(alice.id, ["search", "go", "中文"]) },
          { q: searchQuery(alice.id, ["re", "th"]) },
          { q: searchQuery(alice.id, ["hello world"]) },
          { q: searchQuery(alice.id, ["world hello"]) },
          { q: searchQuery(alice.id, ["notes", "re"]) },
          // The current text of an edited message, never its old text; never a deleted one or a notice.
          { q: searchQuery(alice.id, ["edited plan"]) },
          { q: searchQuery(alice.id, ["original"]), none: true },
          { q: searchQuery(alice.id, ["deleted"]), none: true },
          { q: searchQuery(alice.id, ["joined"]), none: true },
          // Only in a room alice is not in: nothing for her, found for bob.
          { q: searchQuery(alice.id, ["classified"]), none: true },
          { q: searchQuery(alice.id, ["secret"]), none: true },
          { q: searchQuery(bob.id, ["secret"]) },
          { q: searchQuery(bob.id, ["ago"]) },
          // Filters, with and without terms.
          { q: searchQuery(alice.id, ["go"], { roomId: f.rooms.alpha }) },
          { q: searchQuery(alice.id, [], { roomId: f.rooms.alpha }) },
          { q: searchQuery(alice.id, [], { roomId: f.rooms.dm }) },
          { q: searchQuery(alice.id, [], { roomId: f.rooms.secret }), none: true },
          { q: searchQuery(alice.id, [], { authorId: bob.id }) },
          { q: searchQuery(alice.id, ["search"], { authorId: bob.id }) },
          { q: searchQuery(alice.id, ["中"], { authorId: dave.id }) },
          { q: searchQuery(alice.id, ["e"], { after: at("pre-release build, mid-go") }) },
          { q: searchQuery(alice.id, ["go"], { before: at("50% off today") }) },
          { q: searchQuery(alice.id, [], { roomId: f.rooms.beta, after: at("中文很难"), before: at("Über cool") }) },
          { q: searchQuery(alice.id, [], { authorId: alice.id, after: at("GO search now") }) },
        ];
        for (const { q, none } of cases) {
          const expected = expectedIds(f, q);
          const label = JSON.stringify({ ...q, userId: q.userId === alice.id ? "alice" : "bob" });
          // A case meant to find something must, or it would not test the matching at all.
          expect(expected.length > 0, label).toBe(!none);
          const result = await s.searchMessages(q);
          expect(result.messages.map((m) => m.id), label).toEqual(expected);
          expect(result.nextCursor, label).toBeNull();
        }
      });

      it("takes %, _, quotes, *, backslash and other special characters literally", async () => {
        const f = await seedSearch();
        const { alice } = f.users;
        // Each term would find more (or fail) if a LIKE wildcard, an FTS5 operator or a regular
        // expression character were not escaped: "50%" vs "500", "a_b" vs "axb", "中%" vs "中文".
        for (const term of ["50%", "%", "% ", "_", "a_b", "_case", '"quoted"', '"', "*", "* star", "it's", "'", "\\", "C:\\temp", "\\t", "中%", "中_", "e-", "-m", ".", "…", "(", "[", "^", "$", "|"]) {
          const q = searchQuery(alice.id, [term]);
          const result = await s.searchMessages(q);
          expect(result.messages.map((m) => m.id), term).toEqual(expectedIds(f, q));
        }
        // The cases that must find something, so the loop above is not vacuous.
        for (const term of ["50%", "%", "a_b", '"quoted"', "*", "it's", "\\", "中%", "中_", "e-"]) {
          expect(expectedIds(f, searchQuery(alice.id, [term])).length, term).toBeGreaterThan(0);
        }
        expect(expectedIds(f, searchQuery(alice.id, ["50%"]))).toHaveLength(1);
        expect(expectedIds(f, searchQuery(alice.id, ["中%"]))).toHaveLength(1);
      });

      it("pages through every hit with the cursor: same order, no duplicates, then null", async () => {
        const f = await seedSearch();
        const { alice, bob } = f.users;
        for (const q of [
          searchQuery(alice.id, ["go"]),
          searchQuery(alice.id, ["e"]),
          searchQuery(alice.id, ["中"]),
          searchQuery(alice.id, ["the"]),
          searchQuery(alice.id, [], { roomId: f.rooms.alpha }),
          searchQuery(alice.id, [], { authorId: bob.id }),
          searchQuery(bob.id, ["go"]),
        ]) {
          const expected = expectedIds(f, q);
          expect(expected.length, q.terms.join(" ")).toBeGreaterThan(3);
          const ids = (await searchAllPages(q, 3)).map((m) => m.id);
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids).toEqual(expected);
          if (q.userId === alice.id) expect(ids.some((id) => f.messages.find((m) => m.id === id)!.roomId === f.rooms.secret)).toBe(false);
        }
        // A page that ends exactly at the last hit says so.
        const q = searchQuery(alice.id, ["go"]);
        const all = expectedIds(f, q);
        expect(await s.searchMessages({ ...q, limit: all.length })).toMatchObject({ nextCursor: null });
      });

      it("returns hits exactly as getMessage does, and keeps an edited message's place", async () => {
        const f = await seedSearch();
        const { alice, carol } = f.users;
        const result = await s.searchMessages(searchQuery(alice.id, ["re"]));
        expect(result.messages.length).toBeGreaterThan(3);
        expect(result.messages).toEqual(await Promise.all(result.messages.map(async (m) => (await s.getMessage(m.id))!)));
        const reply = result.messages.find((m) => m.body === "reply: go research it")!;
        expect(reply.reactions).toEqual([{ emoji: "👍", users: [{ id: alice.id, nickname: "alice" }] }]);
        expect(reply.replyTo).toMatchObject({ excerpt: "Research paper draft is ready" });
        // An edit does not move a message to the front: it stays where it was written.
        const afterEdit = await s.searchMessages(searchQuery(alice.id, ["plan"]));
        expect(afterEdit.messages.map((m) => m.body)).toEqual(["edited plan: going later"]);
        const edited = afterEdit.messages[0]!;
        const page = await s.searchMessages(searchQuery(alice.id, [], { roomId: f.rooms.alpha }));
        const ids = page.messages.map((m) => m.id);
        const thesis = f.messages.find((m) => m.body === "Thesis of the other theme")!;
        const plan = ids.indexOf(edited.id);
        expect(ids[plan - 1]).toBe(thesis.id);
        // Edited again and found by the new text only, still in place; a later message comes first.
        await s.editMessage({ messageId: edited.id, body: "moved to monday", mentions: [], baseVersion: edited.version });
        const newest = await say(f.rooms.alpha, carol, "monday it is");
        const monday = await s.searchMessages(searchQuery(alice.id, ["monday"]));
        expect(monday.messages.map((m) => m.id)).toEqual([newest.id, edited.id]);
        expect(await s.searchMessages(searchQuery(alice.id, ["edited plan"]))).toEqual({ messages: [], nextCursor: null });
        // Leaving a room takes its messages out of the search.
        await s.removeMember(f.rooms.alpha, alice.id);
        const left = await s.searchMessages(searchQuery(alice.id, ["monday"]));
        expect(left.messages).toEqual([]);
      });
    });

    describe("attachments", () => {
      const upload = (uploader: User, roomId: string, extra: Partial<NewAttachment> = {}): NewAttachment => ({
        id: randomUUID(),
        uploaderId: uploader.id,
        uploadId: randomUUID(),
        roomId,
        name: "photo.png",
        size: 1234,
        contentType: "image/png",
        kind: "image",
        width: 640,
        height: 480,
        blobHash: "a".repeat(64),
        thumbHash: "b".repeat(64),
        uploadBytes: 2000,
        createdAt: Date.now(),
        ...extra,
      });
      const publicPart = (a: NewAttachment) => ({ id: a.id, name: a.name, size: a.size, contentType: a.contentType, kind: a.kind, width: a.width, height: a.height });

      it("stores an upload once per (uploader, upload id) and finds it by id and by key", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Files", alice, bob);
        const input = upload(alice, r.id);
        const first = await s.createAttachment(input);
        expect(first).toEqual({ attachment: { ...input, messageId: null, messageDeleted: false }, created: true });
        // The retry of the same upload (a new row id, the same key) returns the first.
        expect(await s.createAttachment({ ...input, id: randomUUID(), name: "again.png" })).toEqual({ attachment: first.attachment, created: false });
        // Another user's upload may use the same key.
        const bobs = await s.createAttachment(upload(bob, r.id, { uploadId: input.uploadId }));
        expect(bobs.created).toBe(true);
        expect(await s.getAttachment(input.id)).toEqual(first.attachment);
        expect(await s.findUpload(alice.id, input.uploadId)).toEqual(first.attachment);
        expect(await s.findUpload(alice.id, randomUUID())).toBeNull();
        expect(await s.getAttachment("no-such-file")).toBeNull();
      });

      it("a send claims its files in order, onto the message, once", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Files", alice, bob);
        const [a, b] = [upload(alice, r.id, { name: "a.png" }), upload(alice, r.id, { name: "b.pdf", kind: "file", contentType: "application/pdf", width: null, height: null, thumbHash: null })];
        for (const x of [a, b]) await s.createAttachment(x);
        const send = textMessage(r.id, alice, "", { attachmentIds: [b.id, a.id] });
        const { message, created } = await s.appendMessage(send);
        expect(created).toBe(true);
        expect(message).toMatchObject({ body: "", attachments: [publicPart(b), publicPart(a)] });
        expect(await s.getMessage(message.id)).toEqual(message);
        expect((await s.getMessages(r.id, { latest: true, limit: 10 })).messages).toEqual([message]);
        expect(await s.getAttachment(a.id)).toMatchObject({ messageId: message.id, messageDeleted: false });
        // The retry of the send returns the stored message; it claims nothing again.
        expect(await s.appendMessage(send)).toEqual({ message, created: false });
        // A file is on one message only.
        await expect(s.appendMessage(textMessage(r.id, alice, "again", { attachmentIds: [a.id] }))).rejects.toBeInstanceOf(AttachmentClaimError);
      });

      it("refuses another's upload, another room's, or an unknown id, and stores nothing", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Files", alice, bob);
        const other = await room("Other", alice, bob);
        const mine = upload(alice, r.id);
        const bobs = upload(bob, r.id);
        const elsewhere = upload(alice, other.id);
        for (const x of [mine, bobs, elsewhere]) await s.createAttachment(x);
        for (const ids of [[bobs.id], [elsewhere.id], ["no-such-file"], [mine.id, bobs.id]]) {
          await expect(s.appendMessage(textMessage(r.id, alice, "x", { attachmentIds: ids }))).rejects.toBeInstanceOf(AttachmentClaimError);
        }
        // Nothing was stored, no seq or version was taken, and the good file is still free.
        expect(await s.getRoom(r.id)).toMatchObject({ lastSeq: 0, lastVersion: 0 });
        expect(await s.getAttachment(mine.id)).toMatchObject({ messageId: null });
        expect(await say(r.id, alice, "ok", { attachmentIds: [mine.id] })).toMatchObject({ seq: 1, attachments: [publicPart(mine)] });
      });

      it("concurrent sends of one file: exactly one message carries it", async () => {
        const alice = await user("alice");
        const r = await room("Files", alice);
        const file = upload(alice, r.id);
        await s.createAttachment(file);
        const results = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => s.appendMessage(textMessage(r.id, alice, `try ${i}`, { attachmentIds: [file.id] }))));
        expect(results.filter((x) => x.status === "fulfilled")).toHaveLength(1);
        expect((await s.getMessages(r.id, { latest: true, limit: 10 })).messages).toHaveLength(1);
      });

      it("a deleted message shows no files, and its files say so", async () => {
        const alice = await user("alice");
        const r = await room("Files", alice);
        const file = upload(alice, r.id);
        await s.createAttachment(file);
        const message = await say(r.id, alice, "see this", { attachmentIds: [file.id] });
        const deleted = (await s.deleteMessage(message.id, message.authorId))!.message;
        expect(deleted.attachments).toEqual([]);
        expect(await s.getAttachment(file.id)).toMatchObject({ messageId: message.id, messageDeleted: true });
      });

      it("counts a user's uploaded bytes since a time", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Files", alice, bob);
        const t = Date.now();
        await s.createAttachment(upload(alice, r.id, { uploadBytes: 100, createdAt: t - 10_000 }));
        await s.createAttachment(upload(alice, r.id, { uploadBytes: 200, createdAt: t - 1_000 }));
        await s.createAttachment(upload(bob, r.id, { uploadBytes: 400, createdAt: t - 1_000 }));
        expect(await s.uploadedBytesSince(alice.id, t - 5_000)).toBe(200);
        expect(await s.uploadedBytesSince(alice.id, t - 60_000)).toBe(300);
        expect(await s.uploadedBytesSince(randomUUID(), 0)).toBe(0);
      });

      it("has:file finds only messages with files, newest first", async () => {
        const alice = await user("alice");
        const r = await room("Files", alice);
        const file = upload(alice, r.id);
        await s.createAttachment(file);
        await say(r.id, alice, "plain report");
        const withFile = await say(r.id, alice, "the report", { attachmentIds: [file.id] });
        const query: SearchQuery = { userId: alice.id, terms: [], roomId: null, authorId: null, after: null, before: null, hasFile: true, cursor: null, limit: 10 };
        expect((await s.searchMessages(query)).messages.map((m) => m.id)).toEqual([withFile.id]);
        expect((await s.searchMessages({ ...query, terms: ["report"] })).messages.map((m) => m.id)).toEqual([withFile.id]);
        expect((await s.searchMessages({ ...query, roomId: r.id })).messages.map((m) => m.id)).toEqual([withFile.id]);
        await s.deleteMessage(withFile.id, withFile.authorId);
        expect((await s.searchMessages(query)).messages).toEqual([]);
      });
    });

    describe("moderation", () => {
      it("keeps roles per member; owners and moderators are the room's staff", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        const r = await s.createRoom({ name: "Mods", createdBy: alice.id });
        expect(await s.addMember(r.id, alice.id, "owner")).toBe(true);
        await s.addMember(r.id, bob.id);
        expect(await s.getRole(r.id, alice.id)).toBe("owner");
        expect(await s.getRole(r.id, bob.id)).toBe("member");
        expect(await s.getRole(r.id, carol.id)).toBeNull();
        expect(await s.setRole(r.id, bob.id, "moderator")).toBe(true);
        expect(await s.setRole(r.id, carol.id, "moderator")).toBe(false);
        expect((await s.listStaffIds(r.id)).sort()).toEqual([alice.id, bob.id].sort());
        expect(await s.listModeratedRoomIds(bob.id)).toEqual([r.id]);
        expect(await s.listModeratedRoomIds(carol.id)).toEqual([]);
        expect((await s.listMembers(r.id)).map((m) => [m.nickname, m.role])).toEqual([["alice", "owner"], ["bob", "moderator"]]);
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ role: "moderator", topic: "", inviteOnly: false });
      });

      it("renames, sets a topic and makes a room invite-only; a taken name is a conflict", async () => {
        const alice = await user("alice");
        const r = await room("Random", alice);
        await room("Taken");
        expect(await s.updateRoom(r.id, { topic: "Off-topic things" })).toMatchObject({ name: "Random", topic: "Off-topic things", inviteOnly: false });
        expect(await s.updateRoom(r.id, { name: "Chaos", inviteOnly: true })).toMatchObject({ name: "Chaos", topic: "Off-topic things", inviteOnly: true });
        await expectConflict(s.updateRoom(r.id, { name: "tAKEN" }), "room_name");
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ name: "Chaos", topic: "Off-topic things", inviteOnly: true });
        expect(await s.updateRoom("no-such-room", { topic: "x" })).toBeNull();
        // The old name is free again, the new one is taken (any case).
        await room("Random");
        await expectConflict(s.createRoom({ name: "CHAOS", createdBy: alice.id }), "room_name");
      });

      it("lists an invite-only room only to its members", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Secret", alice);
        await s.updateRoom(r.id, { inviteOnly: true });
        expect((await s.listPublicRooms("secret", alice.id, 10)).map((l) => l.name)).toEqual(["Secret"]);
        expect(await s.listPublicRooms("secret", bob.id, 10)).toEqual([]);
      });

      it("bans once, ending the membership in the same step; unbans once", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        const r = await room("Random", alice, bob);
        expect(await s.banUser({ roomId: r.id, userId: bob.id, bannedBy: alice.id, reason: "spam" })).toEqual({ created: true, wasMember: true });
        expect(await s.isMember(r.id, bob.id)).toBe(false);
        expect(await s.isBanned(r.id, bob.id)).toBe(true);
        expect(await s.banUser({ roomId: r.id, userId: bob.id, bannedBy: alice.id, reason: "again" })).toEqual({ created: false, wasMember: false });
        // A user who never joined can be banned too.
        expect(await s.banUser({ roomId: r.id, userId: carol.id, bannedBy: alice.id, reason: "" })).toEqual({ created: true, wasMember: false });
        const bans = await s.listBans(r.id);
        expect(bans.map((b) => [b.user.nickname, b.bannedBy.nickname, b.reason]).sort()).toEqual([
          ["bob", "alice", "spam"],
          ["carol", "alice", ""],
        ]);
        expect(await s.unbanUser(r.id, bob.id)).toBe(true);
        expect(await s.unbanUser(r.id, bob.id)).toBe(false);
        expect(await s.isBanned(r.id, bob.id)).toBe(false);
        expect(await s.isMember(r.id, bob.id)).toBe(false);
      });

      it("records who deleted a message: a moderator's delete reads removedByModerator", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const own = await say(r.id, bob, "mine");
        const other = await say(r.id, bob, "bad");
        expect((await s.deleteMessage(own.id, bob.id))!.message).toMatchObject({ deletedAt: expect.any(Number), removedByModerator: false });
        expect((await s.deleteMessage(other.id, alice.id))!.message).toMatchObject({ body: "", removedByModerator: true });
        expect(await s.getMessage(other.id)).toMatchObject({ removedByModerator: true });
        const page = await s.getMessages(r.id, { latest: true, limit: 10 });
        expect(page.messages.map((m) => m.removedByModerator)).toEqual([false, true]);
      });

      it("stores system lines in the timeline without making them unread", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        const body = JSON.stringify({ type: "topic", topic: "hello" });
        const { message } = await s.appendMessage({ roomId: r.id, authorId: alice.id, clientId: null, kind: "system", body, mentions: [] });
        expect(message).toMatchObject({ kind: "system", body, seq: 1, authorNickname: "alice" });
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ lastSeq: 1, unreadCount: 0 });
        expect((await s.searchMessages({ userId: bob.id, terms: ["hello"], roomId: null, authorId: null, after: null, before: null, hasFile: false, cursor: null, limit: 10 })).messages).toEqual([]);
      });

      it("mutes and unmutes per user, idempotently", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        await s.setMute(alice.id, bob.id, true);
        await s.setMute(alice.id, bob.id, true);
        await s.setMute(alice.id, carol.id, true);
        expect(await s.listMutedIds(alice.id)).toHaveLength(2);
        expect(await s.listMutedIds(bob.id)).toEqual([]);
        await s.setMute(alice.id, bob.id, false);
        await s.setMute(alice.id, bob.id, false);
        expect(await s.listMutedIds(alice.id)).toEqual([carol.id]);
      });

      it("files one report per reporter and message, lists by room and state, resolves once", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        const r = await room("Random", alice, bob, carol);
        const other = await room("Other", alice, bob);
        const bad = await say(r.id, bob, "bad");
        const worse = await say(other.id, bob, "worse");
        const first = await s.createReport({ roomId: r.id, messageId: bad.id, reporterId: carol.id, reason: "rude" });
        expect(first.created).toBe(true);
        expect(first.report).toMatchObject({ roomId: r.id, roomName: "Random", messageId: bad.id, reporter: { id: carol.id, nickname: "carol" }, reason: "rude", resolvedAt: null, resolvedBy: null });
        const again = await s.createReport({ roomId: r.id, messageId: bad.id, reporterId: carol.id, reason: "very rude" });
        expect(again).toEqual({ report: first.report, created: false });
        await s.createReport({ roomId: r.id, messageId: bad.id, reporterId: alice.id, reason: "" });
        await s.createReport({ roomId: other.id, messageId: worse.id, reporterId: alice.id, reason: "" });
        expect(await s.listReports({ roomIds: [r.id], limit: 10 })).toHaveLength(2);
        expect(await s.listReports({ roomIds: null, limit: 10 })).toHaveLength(3);
        expect(await s.listReports({ roomIds: [], limit: 10 })).toEqual([]);
        const resolved = await s.resolveReport(first.report.id, alice.id);
        expect(resolved).toMatchObject({ id: first.report.id, resolvedAt: expect.any(Number), resolvedBy: { id: alice.id, nickname: "alice" } });
        // Resolving again keeps the first resolution.
        expect(await s.resolveReport(first.report.id, bob.id)).toEqual(resolved);
        expect((await s.listReports({ roomIds: [r.id], resolved: true, limit: 10 })).map((x) => x.id)).toEqual([first.report.id]);
        expect(await s.listReports({ roomIds: [r.id], resolved: false, limit: 10 })).toHaveLength(1);
        expect(await s.resolveReport("no-such-report", alice.id)).toBeNull();
        expect(await s.getReport("no-such-report")).toBeNull();
      });

      it("keeps an audit log per room, newest first, with names", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const r = await room("Random", alice, bob);
        await s.appendAudit({ roomId: r.id, actorId: alice.id, action: "kick", targetId: bob.id, messageId: null, detail: "{}" });
        await s.appendAudit({ roomId: r.id, actorId: alice.id, action: "topic", targetId: null, messageId: null, detail: '{"topic":"x"}' });
        await s.appendAudit({ roomId: null, actorId: alice.id, action: "deactivate", targetId: bob.id, messageId: null, detail: "{}" });
        const log = await s.listAudit(r.id, 10);
        expect(log.map((e) => [e.action, e.actor.nickname, e.target?.nickname ?? null, e.detail])).toEqual([
          ["topic", "alice", null, '{"topic":"x"}'],
          ["kick", "alice", "bob", "{}"],
        ]);
        expect(await s.listAudit(r.id, 1)).toHaveLength(1);
      });

      it("knows the first account; a deactivated account's sessions stop authenticating", async () => {
        expect(await s.firstUserId()).toBeNull();
        const alice = await user("alice");
        const bob = await user("bob");
        expect(await s.firstUserId()).toBe(alice.id);
        await s.createSession({ id: "s1", userId: bob.id, tokenHash: "t1", expiresAt: Date.now() + 60_000 });
        expect(await s.findSession("t1", Date.now())).not.toBeNull();
        expect(await s.setDeactivated(bob.id, 123)).toBe(true);
        expect(await s.findUserByNickname("bob")).toMatchObject({ deactivatedAt: 123 });
        expect(await s.findSession("t1", Date.now())).toBeNull();
        expect(await s.setDeactivated(bob.id, null)).toBe(true);
        expect(await s.findSession("t1", Date.now())).not.toBeNull();
        expect(await s.setDeactivated("no-such-user", 1)).toBe(false);
      });
    });

    describe("profiles, last seen and notification levels (issue 14)", () => {
      it("a new user has a blank profile, online, never seen; a patch changes only what it names", async () => {
        const alice = await user("alice");
        const blank = { id: alice.id, nickname: "alice", displayName: null, statusText: null, availability: "online", avatarId: null, lastSeenAt: null };
        expect(await s.getProfiles([alice.id])).toEqual([blank]);
        expect(await s.updateProfile(alice.id, { displayName: "Alice Liddell" })).toEqual({ ...blank, displayName: "Alice Liddell" });
        expect(await s.updateProfile(alice.id, { statusText: "down the rabbit hole", availability: "dnd" })).toEqual({
          ...blank,
          displayName: "Alice Liddell",
          statusText: "down the rabbit hole",
          availability: "dnd",
        });
        // null clears a text; the other fields stay.
        expect(await s.updateProfile(alice.id, { displayName: null })).toMatchObject({ displayName: null, statusText: "down the rabbit hole", availability: "dnd" });
        expect(await s.updateProfile(randomUUID(), { displayName: "nobody" })).toBeNull();
      });

      it("getProfiles returns the users that exist, each once", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        const got = await s.getProfiles([bob.id, randomUUID(), alice.id]);
        expect(got.map((p) => p.nickname).sort()).toEqual(["alice", "bob"]);
        expect(await s.getProfiles([])).toEqual([]);
      });

      it("an avatar: set, read, replaced (counted for the quota each time), removed", async () => {
        const alice = await user("alice");
        const t = Date.now();
        const first = await s.setAvatar(alice.id, { avatarId: "av-1", blobHash: "hash-1", uploadBytes: 1000, at: t });
        expect(first).toMatchObject({ id: alice.id, avatarId: "av-1" });
        expect(await s.getAvatar(alice.id)).toEqual({ avatarId: "av-1", blobHash: "hash-1" });
        await s.setAvatar(alice.id, { avatarId: "av-2", blobHash: "hash-2", uploadBytes: 500, at: t });
        expect(await s.getAvatar(alice.id)).toEqual({ avatarId: "av-2", blobHash: "hash-2" });
        // Avatars count against the daily upload quota with files.
        expect(await s.uploadedBytesSince(alice.id, t - 1)).toBe(1500);
        expect(await s.uploadedBytesSince(alice.id, t)).toBe(0);
        expect(await s.setAvatar(alice.id, null)).toMatchObject({ avatarId: null });
        expect(await s.getAvatar(alice.id)).toBeNull();
        expect(await s.getAvatar(randomUUID())).toBeNull();
        expect(await s.setAvatar(randomUUID(), { avatarId: "x", blobHash: "h", uploadBytes: 1, at: t })).toBeNull();
      });

      it("last seen is stored per user", async () => {
        const [alice, bob] = [await user("alice"), await user("bob")];
        await s.setLastSeen(alice.id, 1_700_000_000_123);
        const byId = new Map((await s.getProfiles([alice.id, bob.id])).map((p) => [p.id, p]));
        expect(byId.get(alice.id)?.lastSeenAt).toBe(1_700_000_000_123);
        expect(byId.get(bob.id)?.lastSeenAt).toBeNull();
      });

      it("sync profiles: my own, and those who set something among the people I share a room with", async () => {
        const [alice, bob, carol, dave, erin] = [await user("alice"), await user("bob"), await user("carol"), await user("dave"), await user("erin")];
        const r = await room("Tea", alice, bob, carol, dave);
        await s.updateProfile(bob.id, { displayName: "Bob" });
        await s.updateProfile(dave.id, { availability: "away" });
        // Erin set a profile but shares no room with Alice (the default room is not joined here).
        await s.updateProfile(erin.id, { statusText: "elsewhere" });
        await s.setLastSeen(carol.id, 5);
        const ids = (await s.listProfilesForSync(alice.id, 100)).map((p) => p.nickname).sort();
        expect(ids).toEqual(["alice", "bob", "dave"]);
        expect(r.id).toBeTruthy();
        expect((await s.listProfilesForSync(alice.id, 1)).length).toBe(1);
      });

      it("a member's notification level: all by default, in the summary, per member, only for members", async () => {
        const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
        const r = await room("Loud", alice, bob);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ notifyLevel: "all" });
        expect(await s.setNotifyLevel(r.id, alice.id, "mentions")).toBe(true);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ notifyLevel: "mentions" });
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ notifyLevel: "all" });
        expect((await s.listRoomSummaries(alice.id)).find((x) => x.id === r.id)?.notifyLevel).toBe("mentions");
        expect(await s.setNotifyLevel(r.id, alice.id, "none")).toBe(true);
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ notifyLevel: "none" });
        expect(await s.setNotifyLevel(r.id, carol.id, "none")).toBe(false);
        expect(await s.setNotifyLevel(randomUUID(), alice.id, "none")).toBe(false);
      });
    });

    describe("persistence", () => {
      it("keeps everything across close and reopen", async (context) => {
        if (!under.reopen) return context.skip("this backend does not persist");
        const [alice, bob] = [await user("alice"), await user("bob")];
        await s.createSession({ id: "s1", userId: alice.id, tokenHash: "hash1", expiresAt: Date.now() + 60_000 });
        const r = await room("Random", alice, bob);
        const send = textMessage(r.id, alice, "kept", { mentions: [bob.id] });
        const first = (await s.appendMessage(send)).message;
        const second = await say(r.id, bob);
        await s.setLastRead(r.id, bob.id, 1);
        const reply = await say(r.id, bob, "reply", { replyToId: first.id });
        const edited = (await s.editMessage({ messageId: second.id, body: "edited", mentions: [], baseVersion: second.version }))!.message;
        const reacted = (await s.setReaction({ messageId: reply.id, userId: alice.id, emoji: "👍", on: true, maxDistinct: 20 }))!.message;
        const dm = await s.getOrCreateDmRoom(dmRoomId(alice.id, bob.id), [alice.id, bob.id]);
        const profile = await s.updateProfile(alice.id, { displayName: "Alice", statusText: "here", availability: "away" });
        await s.setLastSeen(bob.id, 42);
        await s.setNotifyLevel(r.id, bob.id, "mentions");
        await s.close();

        s = await under.reopen();
        expect(await s.findUserByNickname("ALICE")).toEqual(alice);
        expect(await s.findSession("hash1", Date.now())).toMatchObject({ id: "s1", userId: alice.id });
        expect(await s.getRoom(r.id)).toMatchObject({ name: "Random", lastSeq: 3, lastVersion: 5 });
        // Changes, reactions and reply previews survive too, and so does the change order.
        expect((await s.getMessages(r.id, { changedSince: 1, limit: 10 })).messages).toEqual([edited, reacted]);
        expect(await s.getRoom(dm.id)).toMatchObject({ kind: "dm" });
        expect((await s.getMessages(r.id, { latest: true, limit: 10 })).messages[0]).toEqual(first);
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ lastReadSeq: 3, unreadCount: 0 });
        expect(await s.getRoomSummary(r.id, alice.id)).toMatchObject({ lastReadSeq: 1, unreadCount: 2 });
        // Idempotency and seq and version allocation survive the restart too.
        expect(await s.appendMessage(send)).toEqual({ message: first, created: false });
        expect(await say(r.id, alice)).toMatchObject({ seq: 4, version: 6 });
        await expectConflict(user("Alice"), "nickname");
        // Profiles, last seen and notification levels too.
        expect(await s.getProfiles([alice.id])).toEqual([profile]);
        expect((await s.getProfiles([bob.id]))[0]?.lastSeenAt).toBe(42);
        expect(await s.getRoomSummary(r.id, bob.id)).toMatchObject({ notifyLevel: "mentions" });
      });
    });
  });
}

async function expectConflict(promise: Promise<unknown>, what: StorageConflictError["what"]): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageConflictError);
  expect((error as StorageConflictError).what).toBe(what);
}

/**
 * Spins until the wall clock moves on (at most about a millisecond), so that the writes around it
 * get different timestamps and an ordering by time is defined. It waits for the clock, not for the
 * code under test, so it cannot make a test flaky the way a sleep can.
 */
function nextMillisecond(): void {
  const start = Date.now();
  while (Date.now() <= start) {
    // spin
  }
}
