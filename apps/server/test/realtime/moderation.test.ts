import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { API, DEFAULT_ROOM_ID, systemEventOf, type RoomSummary } from "@parley/shared";
import { createApp, type App } from "../../src/app.js";
import { attachRedisAdapter } from "../../src/realtime/redis-adapter.js";
import { prepareStorage } from "../../src/domain/setup.js";
import { silentLogger } from "../../src/logger.js";
import { PostgresStorage } from "../../src/storage/postgres/postgres-storage.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import type { Storage } from "../../src/storage/storage.js";
import { testBlobStore } from "../helpers/blobs.js";
import { TEST_PG_URL, TEST_REDIS_URL, createTestDatabase, describeWithServices, type TestDatabase, type TestSchema } from "../helpers/pg.js";
import {
  TEST_PASSWORD_PARAMS,
  TEST_RATE_LIMITS,
  closeAllSockets,
  collect,
  connect,
  nextEvent,
  request,
  requestOk,
  roundTrip,
  signIn,
  signInOk,
  text,
  type ClientSocket,
} from "../helpers/server.js";

/**
 * Moderation (ADR 0016), every role rule through real sockets, on both storages: the rules are the
 * domain's, but each reads roles, bans and invite-only from the storage on every packet.
 */

interface Node {
  url: string;
  app: App;
  storage: Storage;
  close(): Promise<void>;
}

async function listen(app: App): Promise<string> {
  await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(app.httpServer.address() as AddressInfo).port}`;
}

async function startNode(storage: Storage, options: { adminNicknames?: string[]; redis?: { url: string; key: string } } = {}): Promise<Node> {
  await prepareStorage(storage);
  const app = createApp(
    { storage, blobs: await testBlobStore(), logger: silentLogger },
    { passwordParams: TEST_PASSWORD_PARAMS, rateLimits: TEST_RATE_LIMITS, adminNicknames: options.adminNicknames ?? [] },
  );
  const redis = options.redis ? await attachRedisAdapter(app.io, options.redis.url, { logger: silentLogger, key: options.redis.key }) : null;
  const url = await listen(app);
  return {
    url,
    app,
    storage,
    async close() {
      await app.close();
      await redis?.close();
      await storage.close();
    },
  };
}

const failure = (code: string) => ({ ok: false, error: { code, message: expect.any(String) } });

interface Person {
  id: string;
  nickname: string;
  cookie: string;
  socket: ClientSocket;
}

async function person(url: string, nickname: string): Promise<Person> {
  const { cookie, user } = await signInOk(url, nickname);
  const socket = await connect(url, cookie);
  // Handlers wait until the socket joined its rooms: after this it hears every later broadcast.
  await requestOk(socket, "session:sync", {});
  return { id: user.id, nickname, cookie, socket };
}

async function tab(url: string, p: Person): Promise<ClientSocket> {
  const socket = await connect(url, p.cookie);
  await requestOk(socket, "session:sync", {});
  return socket;
}

const systemLine = (socket: ClientSocket, roomId: string, type: string) =>
  nextEvent(socket, "message:created", (m) => m.roomId === roomId && m.kind === "system" && systemEventOf(m)?.type === type);

function moderationRules(backend: string, open: () => Promise<{ storage: Storage; cleanup?: () => Promise<void> }>) {
  describe(`moderation rules (${backend})`, () => {
    let node: Node;
    let cleanup: (() => Promise<void>) | undefined;
    // root signs up first: the server's first account, an admin. alice owns #den, bob is a member
    // who becomes its moderator, carol a member, dave a stranger to it.
    let root: Person, alice: Person, bob: Person, carol: Person, dave: Person;
    let den: RoomSummary;

    beforeEach(async () => {
      const opened = await open();
      cleanup = opened.cleanup;
      node = await startNode(opened.storage, { adminNicknames: ["Ops"] });
      root = await person(node.url, "root");
      alice = await person(node.url, "alice");
      bob = await person(node.url, "bob");
      carol = await person(node.url, "carol");
      dave = await person(node.url, "dave");
      den = await requestOk(alice.socket, "room:create", { name: "den" });
      await requestOk(bob.socket, "room:join", { roomId: den.id });
      await requestOk(carol.socket, "room:join", { roomId: den.id });
    });
    afterEach(async () => {
      closeAllSockets();
      await node.close();
      await cleanup?.();
    });

    const say = (p: Person, body: string, roomId = den.id) => requestOk(p.socket, "message:send", text(roomId, body));
    const appoint = async () => {
      await requestOk(alice.socket, "room:setRole", { roomId: den.id, userId: bob.id, role: "moderator" });
    };

    it("makes the creator the owner; the first account and ADMIN_NICKNAMES are admins", async () => {
      expect(den).toMatchObject({ role: "owner", topic: "", inviteOnly: false });
      const members = await requestOk(carol.socket, "room:members", { roomId: den.id });
      expect(members.map((m) => [m.nickname, m.role])).toEqual([
        ["alice", "owner"],
        ["bob", "member"],
        ["carol", "member"],
      ]);
      expect((await requestOk(root.socket, "session:sync", {})).isAdmin).toBe(true);
      expect((await requestOk(alice.socket, "session:sync", {})).isAdmin).toBe(false);
      const ops = await person(node.url, "ops");
      expect((await requestOk(ops.socket, "session:sync", {})).isAdmin).toBe(true);
    });

    it("lets only owners (and admins) appoint; the appointed user's tabs hear their new role", async () => {
      expect(await request(bob.socket, "room:setRole", { roomId: den.id, userId: carol.id, role: "moderator" })).toEqual(failure("FORBIDDEN"));
      expect(await request(dave.socket, "room:setRole", { roomId: den.id, userId: carol.id, role: "moderator" })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(alice.socket, "room:setRole", { roomId: den.id, userId: dave.id, role: "moderator" })).toEqual(failure("USER_NOT_FOUND"));
      expect(await request(alice.socket, "room:setRole", { roomId: den.id, userId: alice.id, role: "member" })).toEqual(failure("FORBIDDEN"));
      // Not a role the protocol lets anyone give.
      expect(await request(alice.socket, "room:setRole", { roomId: den.id, userId: bob.id, role: "owner" as "moderator" })).toEqual(failure("INVALID_PAYLOAD"));

      const line = systemLine(carol.socket, den.id, "role");
      const mine = nextEvent(bob.socket, "room:upserted", (r) => r.id === den.id);
      expect(await requestOk(alice.socket, "room:setRole", { roomId: den.id, userId: bob.id, role: "moderator" })).toMatchObject({ id: bob.id, role: "moderator", online: true });
      expect(systemEventOf(await line)).toEqual({ type: "role", target: { id: bob.id, nickname: "bob" }, role: "moderator" });
      expect((await mine).role).toBe("moderator");
      // Repeating it changes nothing and says nothing.
      const lines = collect(carol.socket, "message:created");
      await requestOk(alice.socket, "room:setRole", { roomId: den.id, userId: bob.id, role: "moderator" });
      await roundTrip(carol.socket);
      expect(lines).toEqual([]);
      // A moderator cannot appoint, nor demote the owner; an admin (not even a member) can appoint.
      expect(await request(bob.socket, "room:setRole", { roomId: den.id, userId: carol.id, role: "moderator" })).toEqual(failure("FORBIDDEN"));
      expect(await request(bob.socket, "room:setRole", { roomId: den.id, userId: alice.id, role: "member" })).toEqual(failure("FORBIDDEN"));
      expect(await requestOk(root.socket, "room:setRole", { roomId: den.id, userId: carol.id, role: "moderator" })).toMatchObject({ role: "moderator" });
      await requestOk(alice.socket, "room:setRole", { roomId: den.id, userId: carol.id, role: "member" });
      expect((await requestOk(carol.socket, "room:members", { roomId: den.id })).find((m) => m.id === carol.id)?.role).toBe("member");
    });

    it("lets moderators remove others' messages (\"removed by a moderator\"), never the other way round", async () => {
      const fromCarol = await say(carol, "spam spam");
      const fromAlice = await say(alice, "owner's words");
      const fromBob = await say(bob, "bob's words");
      expect(await request(carol.socket, "message:delete", { messageId: fromBob.id })).toEqual(failure("NOT_YOUR_MESSAGE"));
      expect(await request(dave.socket, "message:delete", { messageId: fromBob.id })).toEqual(failure("MESSAGE_NOT_FOUND"));
      await appoint();
      const updated = nextEvent(carol.socket, "message:updated", (m) => m.id === fromCarol.id);
      expect(await requestOk(bob.socket, "message:delete", { messageId: fromCarol.id })).toMatchObject({ id: fromCarol.id, body: "", removedByModerator: true });
      expect(await updated).toMatchObject({ deletedAt: expect.any(Number), removedByModerator: true });
      // A moderator does not outrank the owner.
      expect(await request(bob.socket, "message:delete", { messageId: fromAlice.id })).toEqual(failure("NOT_YOUR_MESSAGE"));
      // The owner removes the moderator's; an admin removes the owner's.
      expect(await requestOk(alice.socket, "message:delete", { messageId: fromBob.id })).toMatchObject({ removedByModerator: true });
      expect(await requestOk(root.socket, "message:delete", { messageId: fromAlice.id })).toMatchObject({ removedByModerator: true });
      // An author's own delete is not a moderator's.
      const own = await say(carol, "oops");
      expect(await requestOk(carol.socket, "message:delete", { messageId: own.id })).toMatchObject({ removedByModerator: false });
      const log = await requestOk(alice.socket, "room:audit", { roomId: den.id });
      expect(log.filter((e) => e.action === "removeMessage").map((e) => [e.actor.nickname, e.target?.nickname, e.messageId])).toEqual([
        ["root", "alice", fromAlice.id],
        ["alice", "bob", fromBob.id],
        ["bob", "carol", fromCarol.id],
      ]);
    });

    it("kicks a member out of every tab; they may come back; nobody kicks up or themselves", async () => {
      await appoint();
      const carolTab2 = await tab(node.url, carol);
      expect(await request(carol.socket, "room:kick", { roomId: den.id, userId: bob.id })).toEqual(failure("FORBIDDEN"));
      expect(await request(bob.socket, "room:kick", { roomId: den.id, userId: alice.id })).toEqual(failure("FORBIDDEN"));
      expect(await request(bob.socket, "room:kick", { roomId: den.id, userId: bob.id })).toEqual(failure("FORBIDDEN"));
      const line = systemLine(alice.socket, den.id, "kick");
      const removed = [nextEvent(carol.socket, "room:removed"), nextEvent(carolTab2, "room:removed")];
      expect(await requestOk(bob.socket, "room:kick", { roomId: den.id, userId: carol.id })).toEqual({ roomId: den.id, userId: carol.id });
      expect(systemEventOf(await line)).toEqual({ type: "kick", target: { id: carol.id, nickname: "carol" } });
      expect(await Promise.all(removed)).toEqual([
        { roomId: den.id, reason: "kicked" },
        { roomId: den.id, reason: "kicked" },
      ]);
      // Out of the room's channel in both tabs: the next message reaches neither.
      const heard = [collect(carol.socket, "message:created"), collect(carolTab2, "message:created")];
      await say(alice, "after the kick");
      await Promise.all([roundTrip(carol.socket), roundTrip(carolTab2)]);
      expect(heard.flat().filter((m) => m.roomId === den.id)).toEqual([]);
      expect(await request(carol.socket, "message:send", text(den.id, "still here?"))).toEqual(failure("NOT_A_MEMBER"));
      // Kicking again is no error; the room is open, so carol may rejoin.
      expect(await requestOk(bob.socket, "room:kick", { roomId: den.id, userId: carol.id })).toEqual({ roomId: den.id, userId: carol.id });
      expect(await requestOk(carol.socket, "room:join", { roomId: den.id })).toMatchObject({ id: den.id, role: "member" });
    });

    it("bans: every tab leaves at once, nothing more is heard or read, no rejoin or invite until unbanned", async () => {
      await appoint();
      const carolTab2 = await tab(node.url, carol);
      const carolTab3 = await tab(node.url, carol);
      const tabs = [carol.socket, carolTab2, carolTab3];
      expect(await request(carol.socket, "room:ban", { roomId: den.id, userId: bob.id })).toEqual(failure("FORBIDDEN"));
      expect(await request(bob.socket, "room:ban", { roomId: den.id, userId: carol.id, reason: "bad\u0007" })).toEqual(failure("REASON_INVALID"));
      const line = systemLine(alice.socket, den.id, "ban");
      const removed = tabs.map((s) => nextEvent(s, "room:removed"));
      await requestOk(bob.socket, "room:ban", { roomId: den.id, userId: carol.id, reason: "spamming" });
      expect(systemEventOf(await line)).toEqual({ type: "ban", target: { id: carol.id, nickname: "carol" }, reason: "spamming" });
      expect(await Promise.all(removed)).toEqual(tabs.map(() => ({ roomId: den.id, reason: "banned" })));
      const heard = tabs.map((s) => collect(s, "message:created"));
      await say(alice, "after the ban");
      await Promise.all(tabs.map((s) => roundTrip(s)));
      expect(heard.flat().filter((m) => m.roomId === den.id)).toEqual([]);
      expect(await request(carol.socket, "message:send", text(den.id, "let me in"))).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(carol.socket, "messages:fetch", { roomId: den.id })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(carol.socket, "room:join", { roomId: den.id })).toEqual(failure("BANNED"));
      expect(await request(alice.socket, "room:invite", { roomId: den.id, userId: carol.id })).toEqual(failure("BANNED"));
      expect((await requestOk(carol.socket, "session:sync", {})).rooms.map((r) => r.id)).not.toContain(den.id);
      // A stranger can be banned before they ever come; a repeat says nothing new.
      await requestOk(bob.socket, "room:ban", { roomId: den.id, userId: dave.id });
      await requestOk(bob.socket, "room:ban", { roomId: den.id, userId: dave.id, reason: "again" });
      expect(await request(dave.socket, "room:join", { roomId: den.id })).toEqual(failure("BANNED"));
      const bans = await requestOk(alice.socket, "room:bans", { roomId: den.id });
      expect(bans.map((b) => [b.user.nickname, b.bannedBy.nickname, b.reason]).sort()).toEqual([
        ["carol", "bob", "spamming"],
        ["dave", "bob", ""],
      ]);
      expect(await request(carol.socket, "room:bans", { roomId: den.id })).toEqual(failure("NOT_A_MEMBER"));
      const unban = systemLine(alice.socket, den.id, "unban");
      await requestOk(alice.socket, "room:unban", { roomId: den.id, userId: carol.id });
      expect(systemEventOf(await unban)).toMatchObject({ type: "unban", target: { nickname: "carol" } });
      expect(await requestOk(carol.socket, "room:join", { roomId: den.id })).toMatchObject({ id: den.id });
      const log = await requestOk(bob.socket, "room:audit", { roomId: den.id });
      expect(log.map((e) => e.action).filter((a) => a === "ban" || a === "unban")).toEqual(["unban", "ban", "ban"]);
    });

    it("renames, sets the topic and makes the room invite-only: system lines, every member's view updated", async () => {
      await appoint();
      expect(await request(carol.socket, "room:update", { roomId: den.id, topic: "mine now" })).toEqual(failure("FORBIDDEN"));
      expect(await request(bob.socket, "room:update", { roomId: den.id })).toEqual(failure("INVALID_PAYLOAD"));
      expect(await request(bob.socket, "room:update", { roomId: den.id, topic: "x".repeat(251) })).toMatchObject({ ok: false });
      expect(await request(bob.socket, "room:update", { roomId: den.id, topic: "tab\there" })).toEqual(failure("TOPIC_INVALID"));
      await requestOk(alice.socket, "room:create", { name: "taken" });
      expect(await request(bob.socket, "room:update", { roomId: den.id, name: "TAKEN" })).toEqual(failure("ROOM_NAME_TAKEN"));

      const lines = collect(carol.socket, "message:created");
      const carolView = nextEvent(carol.socket, "room:upserted", (r) => r.id === den.id && r.inviteOnly);
      const updated = await requestOk(bob.socket, "room:update", { roomId: den.id, name: "lair", topic: "Plans and schemes", inviteOnly: true });
      expect(updated).toMatchObject({ id: den.id, name: "lair", topic: "Plans and schemes", inviteOnly: true, role: "moderator" });
      expect(await carolView).toMatchObject({ name: "lair", topic: "Plans and schemes", inviteOnly: true, role: "member" });
      await roundTrip(carol.socket);
      expect(lines.filter((m) => m.roomId === den.id).map((m) => systemEventOf(m))).toEqual([
        { type: "rename", from: "den", to: "lair" },
        { type: "topic", topic: "Plans and schemes" },
        { type: "inviteOnly", inviteOnly: true },
      ]);
      // Only members see an invite-only room listed; a stranger cannot join it, an admin can.
      expect((await requestOk(dave.socket, "rooms:list", { query: "lair" })).map((r) => r.id)).toEqual([]);
      expect((await requestOk(carol.socket, "rooms:list", { query: "lair" })).map((r) => r.id)).toEqual([den.id]);
      expect(await request(dave.socket, "room:join", { roomId: den.id })).toEqual(failure("INVITE_ONLY"));
      // Invited, dave's tabs get the room and then its first line.
      const davesRoom = nextEvent(dave.socket, "room:upserted", (r) => r.id === den.id);
      const invited = systemLine(dave.socket, den.id, "invite");
      expect(await request(carol.socket, "room:invite", { roomId: den.id, userId: dave.id })).toEqual(failure("FORBIDDEN"));
      expect(await requestOk(bob.socket, "room:invite", { roomId: den.id, userId: dave.id })).toMatchObject({ id: dave.id, role: "member" });
      expect(await davesRoom).toMatchObject({ name: "lair", inviteOnly: true, role: "member" });
      expect(systemEventOf(await invited)).toEqual({ type: "invite", target: { id: dave.id, nickname: "dave" } });
      await say(dave, "thanks for having me");
      // The default room stays open to everyone.
      expect(await request(root.socket, "room:update", { roomId: DEFAULT_ROOM_ID, inviteOnly: true })).toEqual(failure("NOT_ALLOWED"));
      // A kicked member of an invite-only room needs a new invitation.
      await requestOk(bob.socket, "room:kick", { roomId: den.id, userId: carol.id });
      expect(await request(carol.socket, "room:join", { roomId: den.id })).toEqual(failure("INVITE_ONLY"));
      const log = await requestOk(alice.socket, "room:audit", { roomId: den.id, limit: 5 });
      expect(log.map((e) => [e.action, e.actor.nickname])).toEqual([
        ["kick", "bob"],
        ["invite", "bob"],
        ["inviteOnly", "bob"],
        ["topic", "bob"],
        ["rename", "bob"],
      ]);
      expect(await request(carol.socket, "room:audit", { roomId: den.id })).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(dave.socket, "room:audit", { roomId: den.id })).toEqual(failure("FORBIDDEN"));
    });

    it("mutes for the muter only, in all their tabs; sync remembers", async () => {
      const aliceTab2 = await tab(node.url, alice);
      expect(await request(alice.socket, "user:mute", { userId: alice.id, on: true })).toEqual(failure("NOT_ALLOWED"));
      expect(await request(alice.socket, "user:mute", { userId: "no-such-user", on: true })).toEqual(failure("USER_NOT_FOUND"));
      const other = nextEvent(aliceTab2, "mutes:updated");
      expect(await requestOk(alice.socket, "user:mute", { userId: carol.id, on: true })).toEqual({ mutedUserIds: [carol.id] });
      expect(await other).toEqual({ mutedUserIds: [carol.id] });
      expect((await requestOk(aliceTab2, "session:sync", {})).mutedUserIds).toEqual([carol.id]);
      expect((await requestOk(bob.socket, "session:sync", {})).mutedUserIds).toEqual([]);
      expect(await requestOk(alice.socket, "user:mute", { userId: carol.id, on: false })).toEqual({ mutedUserIds: [] });
    });

    it("takes reports to the room's moderators, once per reporter; moderators list and resolve them", async () => {
      await appoint();
      const bad = await say(carol, "something nasty");
      expect(await request(carol.socket, "message:report", { messageId: bad.id })).toEqual(failure("NOT_ALLOWED"));
      expect(await request(dave.socket, "message:report", { messageId: bad.id })).toEqual(failure("MESSAGE_NOT_FOUND"));
      const toOwner = nextEvent(alice.socket, "report:updated");
      const toModerator = nextEvent(bob.socket, "report:updated");
      const report = await requestOk(root.socket, "room:join", { roomId: den.id }).then(() => requestOk(root.socket, "message:report", { messageId: bad.id, reason: "rude" }));
      expect(report).toMatchObject({ roomId: den.id, roomName: "den", reporter: { nickname: "root" }, reason: "rude", resolvedAt: null, message: { id: bad.id, body: "something nasty" } });
      expect((await toOwner).id).toBe(report.id);
      expect((await toModerator).id).toBe(report.id);
      expect((await requestOk(root.socket, "message:report", { messageId: bad.id, reason: "very rude" })).id).toBe(report.id);
      expect((await requestOk(bob.socket, "reports:list", { roomId: den.id })).map((r) => r.id)).toEqual([report.id]);
      expect((await requestOk(bob.socket, "reports:list", {})).map((r) => r.id)).toEqual([report.id]);
      expect(await request(carol.socket, "reports:list", { roomId: den.id })).toEqual(failure("FORBIDDEN"));
      expect(await requestOk(carol.socket, "reports:list", {})).toEqual([]);
      expect(await request(carol.socket, "report:resolve", { reportId: report.id })).toEqual(failure("REPORT_NOT_FOUND"));
      expect(await request(bob.socket, "report:resolve", { reportId: "no-such-report" })).toEqual(failure("REPORT_NOT_FOUND"));
      // The moderator removes the message, then resolves the report.
      await requestOk(bob.socket, "message:delete", { messageId: bad.id });
      const resolvedForOwner = nextEvent(alice.socket, "report:updated", (r) => r.resolvedAt !== null);
      const resolved = await requestOk(bob.socket, "report:resolve", { reportId: report.id });
      expect(resolved).toMatchObject({ id: report.id, resolvedBy: { nickname: "bob" }, message: { deletedAt: expect.any(Number), removedByModerator: true } });
      expect((await resolvedForOwner).id).toBe(report.id);
      expect(await requestOk(alice.socket, "reports:list", { roomId: den.id, resolved: false })).toEqual([]);
      expect((await requestOk(alice.socket, "reports:list", { roomId: den.id, resolved: true })).map((r) => r.id)).toEqual([report.id]);
      expect(await request(carol.socket, "message:report", { messageId: bad.id })).toEqual(failure("NOT_ALLOWED"));
    });

    it("keeps direct conversations out of moderation; their reports go to the admins", async () => {
      const dm = await requestOk(alice.socket, "dm:open", { userId: carol.id });
      const msg = await say(carol, "hey", dm.id);
      expect(await request(alice.socket, "room:kick", { roomId: dm.id, userId: carol.id })).toEqual(failure("NOT_ALLOWED"));
      expect(await request(alice.socket, "room:update", { roomId: dm.id, topic: "x" })).toEqual(failure("NOT_ALLOWED"));
      expect(await request(alice.socket, "message:delete", { messageId: msg.id })).toEqual(failure("NOT_YOUR_MESSAGE"));
      const report = await requestOk(alice.socket, "message:report", { messageId: msg.id });
      expect(report).toMatchObject({ roomId: dm.id, roomName: "" });
      expect((await requestOk(root.socket, "reports:list", {})).map((r) => r.id)).toContain(report.id);
      expect(await requestOk(alice.socket, "reports:list", {})).toEqual([]);
      expect((await requestOk(root.socket, "report:resolve", { reportId: report.id })).resolvedBy?.nickname).toBe("root");
    });

    it("lets admins moderate any public room, and deactivate accounts: sockets end, sign-in refused, until reactivated", async () => {
      // An admin outranks the owner, and enters an invite-only room without an invitation.
      await requestOk(alice.socket, "room:update", { roomId: den.id, inviteOnly: true });
      expect(await requestOk(root.socket, "room:join", { roomId: den.id })).toMatchObject({ id: den.id });
      await requestOk(root.socket, "room:kick", { roomId: den.id, userId: alice.id });
      expect(await request(alice.socket, "room:kick", { roomId: den.id, userId: root.id })).toEqual(failure("NOT_A_MEMBER"));

      expect(await request(alice.socket, "admin:setActive", { userId: carol.id, active: false })).toEqual(failure("FORBIDDEN"));
      expect(await request(root.socket, "admin:setActive", { userId: root.id, active: false })).toEqual(failure("FORBIDDEN"));
      const ops = await person(node.url, "ops");
      expect(await request(root.socket, "admin:setActive", { userId: ops.id, active: false })).toEqual(failure("FORBIDDEN"));
      const carolTab2 = await tab(node.url, carol);
      const gone = [carol.socket, carolTab2].map((s) => new Promise<string>((resolve) => s.once("disconnect", resolve)));
      expect(await requestOk(root.socket, "admin:setActive", { userId: carol.id, active: false })).toEqual({ userId: carol.id, active: false });
      expect(await Promise.all(gone)).toEqual(["io server disconnect", "io server disconnect"]);
      const me = await fetch(`${node.url}${API.me}`, { headers: { cookie: carol.cookie } });
      expect(me.status).toBe(401);
      await expect(connect(node.url, carol.cookie)).rejects.toThrow();
      const refused = await signIn(node.url, "carol", "password123");
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ error: { code: "ACCOUNT_DEACTIVATED" } });
      // The wrong password is still just a wrong password: deactivation is not told to strangers.
      expect((await signIn(node.url, "carol", "not-her-password")).status).toBe(401);
      await requestOk(root.socket, "admin:setActive", { userId: carol.id, active: true });
      expect((await signIn(node.url, "carol", "password123")).status).toBe(200);
    });
  });
}

moderationRules("SQLite", async () => ({ storage: new SqliteStorage(":memory:") }));

describeWithServices(["PARLEY_TEST_PG_URL"], "moderation on PostgreSQL", () => {
  let runDb: TestDatabase;
  beforeAll(async () => {
    runDb = await createTestDatabase(TEST_PG_URL!);
  });
  afterAll(async () => {
    await runDb?.drop();
  });
  moderationRules("PostgreSQL", async () => {
    const schema: TestSchema = await runDb.createSchema();
    return { storage: new PostgresStorage(schema.url, { logger: silentLogger }), cleanup: () => schema.drop() };
  });
});

describeWithServices(["PARLEY_TEST_PG_URL", "PARLEY_TEST_REDIS_URL"], "a ban across nodes", () => {
  let runDb: TestDatabase;
  let schema: TestSchema;
  let nodes: Node[] = [];
  beforeAll(async () => {
    runDb = await createTestDatabase(TEST_PG_URL!);
  });
  afterAll(async () => {
    await runDb?.drop();
  });
  beforeEach(async () => {
    schema = await runDb.createSchema();
  });
  afterEach(async () => {
    closeAllSockets();
    for (const n of nodes) await n.close();
    nodes = [];
    await schema.drop();
  });

  it("takes a user with three tabs on two nodes out of the room at once, and keeps them out", async () => {
    const redis = { url: TEST_REDIS_URL!, key: `parley-test-${randomUUID()}` };
    const a = await startNode(new PostgresStorage(schema.url, { logger: silentLogger }), { redis });
    const b = await startNode(new PostgresStorage(schema.url, { logger: silentLogger }), { redis });
    nodes.push(a, b);
    const owner = await person(a.url, "owner");
    const troll = await person(a.url, "troll");
    const room = await requestOk(owner.socket, "room:create", { name: "calm" });
    await requestOk(troll.socket, "room:join", { roomId: room.id });
    // Tab 1 on node A, tabs 2 and 3 on node B.
    const tabs = [troll.socket, await tab(b.url, troll), await tab(b.url, troll)];
    const before = tabs.map((s) => nextEvent(s, "message:created", (m) => m.roomId === room.id && m.body === "before"));
    await requestOk(owner.socket, "message:send", text(room.id, "before"));
    await Promise.all(before);

    const removed = tabs.map((s) => nextEvent(s, "room:removed"));
    await requestOk(owner.socket, "room:ban", { roomId: room.id, userId: troll.id, reason: "trolling" });
    expect(await Promise.all(removed)).toEqual(tabs.map(() => ({ roomId: room.id, reason: "banned" })));

    const heard = tabs.map((s) => collect(s, "message:created"));
    // A message sent on node B after the ban: node B's own sockets of the troll must not hear it.
    const ownerOnB = await tab(b.url, owner);
    // The owner's tab on B hears both: by then the troll's tabs on B would have heard them too.
    const control = ["after", "after, from A"].map((body) => nextEvent(ownerOnB, "message:created", (m) => m.body === body));
    await requestOk(ownerOnB, "message:send", text(room.id, "after"));
    await requestOk(owner.socket, "message:send", text(room.id, "after, from A"));
    await Promise.all(control);
    await Promise.all(tabs.map((s) => roundTrip(s)));
    expect(heard.flat().filter((m) => m.roomId === room.id)).toEqual([]);
    for (const s of tabs) {
      expect(await request(s, "message:send", text(room.id, "let me back"))).toEqual(failure("NOT_A_MEMBER"));
      expect(await request(s, "room:join", { roomId: room.id })).toEqual(failure("BANNED"));
    }
  });
});
