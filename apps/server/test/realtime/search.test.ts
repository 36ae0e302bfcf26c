import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID, type ClientPayload } from "@parley/shared";
import { closeAllSockets, connect, request, requestOk, signInOk, startServer, text, type ClientSocket, type TestServer } from "../helpers/server.js";

/**
 * search:messages over a real server (issue 13): a user finds messages of the rooms and DMs they
 * are in and never of any other, whatever they name; deleted messages vanish from results and
 * edited ones are found by their new text. (What matches is the storage contract's business.)
 */

let server: TestServer;
let alice: ClientSocket;
let bob: ClientSocket;
let carol: ClientSocket;
let carolId: string;

beforeEach(async () => {
  server = await startServer();
  const [a, b, c] = [await signInOk(server.url, "Alice"), await signInOk(server.url, "Bob"), await signInOk(server.url, "Carol")];
  carolId = c.user.id;
  [alice, bob, carol] = await Promise.all([connect(server.url, a.cookie), connect(server.url, b.cookie), connect(server.url, c.cookie)]);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

const send = (s: ClientSocket, body: string, roomId = DEFAULT_ROOM_ID) => requestOk(s, "message:send", text(roomId, body));
const search = (s: ClientSocket, query: ClientPayload<"search:messages">) => requestOk(s, "search:messages", query);
const bodies = async (s: ClientSocket, query: ClientPayload<"search:messages">) => (await search(s, query)).hits.map((m) => m.body);

describe("search:messages", () => {
  it("finds only messages of my rooms and DMs: another room, another DM or a guessed id are refused alike", async () => {
    const secret = await requestOk(alice, "room:create", { name: "secret" });
    const dm = await requestOk(alice, "dm:open", { userId: carolId });
    await send(alice, "needle in the secret room", secret.id);
    await send(alice, "needle in a DM", dm.id);
    await send(bob, "needle in general");

    expect(await bodies(bob, { terms: ["needle"] })).toEqual(["needle in general"]);
    expect(await bodies(carol, { terms: ["needle"] })).toEqual(["needle in general", "needle in a DM"]);
    expect(await bodies(alice, { terms: ["needle"] })).toEqual(["needle in general", "needle in a DM", "needle in the secret room"]);
    for (const roomId of [secret.id, dm.id, "no-such-room"]) {
      const refused = await request(bob, "search:messages", { terms: ["needle"], roomId });
      expect(refused).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
    }
    // Filters alone do not widen the scope either.
    expect(await bodies(bob, { terms: [], from: "Alice" })).toEqual([]);
  });

  it("a member who leaves stops finding the room's messages; one who joins finds its history", async () => {
    const room = await requestOk(alice, "room:create", { name: "club" });
    await send(alice, "history before bob came", room.id);
    expect(await bodies(bob, { terms: ["history"] })).toEqual([]);
    await requestOk(bob, "room:join", { roomId: room.id });
    expect(await bodies(bob, { terms: ["history"] })).toEqual(["history before bob came"]);
    await requestOk(bob, "room:leave", { roomId: room.id });
    expect(await bodies(bob, { terms: ["history"] })).toEqual([]);
  });

  it("a deleted message vanishes from results; an edited one is found by its new text only", async () => {
    const doomed = await send(alice, "temporary announcement");
    const typo = await send(alice, "the meeting is on tusday");
    expect(await bodies(bob, { terms: ["announcement"] })).toEqual(["temporary announcement"]);

    await requestOk(alice, "message:delete", { messageId: doomed.id });
    await requestOk(alice, "message:edit", { messageId: typo.id, body: "the meeting is on thursday", baseVersion: typo.version });

    expect(await bodies(bob, { terms: ["announcement"] })).toEqual([]);
    expect(await bodies(bob, { terms: ["tusday"] })).toEqual([]);
    const found = await search(bob, { terms: ["thursday"] });
    expect(found.hits.map((m) => [m.id, m.body, m.editedAt !== null])).toEqual([[typo.id, "the meeting is on thursday", true]]);
  });

  it("from: and dates filter; an unknown author is named; pages continue by cursor to the end", async () => {
    for (let i = 1; i <= 5; i++) await send(i % 2 ? alice : bob, `report ${i}`);
    expect(await bodies(carol, { terms: ["report"], from: "bob" })).toEqual(["report 4", "report 2"]);
    expect(await request(carol, "search:messages", { terms: ["report"], from: "nobody" })).toMatchObject({ ok: false, error: { code: "USER_NOT_FOUND" } });

    const all = await search(carol, { terms: ["report"] });
    const t3 = all.hits.find((m) => m.body === "report 3")!.createdAt;
    const after = await bodies(carol, { terms: ["report"], after: t3 });
    expect(after).toEqual(all.hits.filter((m) => m.createdAt >= t3).map((m) => m.body));
    expect(await bodies(carol, { terms: ["report"], after: t3, before: t3 })).toEqual([]);

    const paged: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const r = await search(carol, { terms: ["report"], limit: 2, ...(cursor && { cursor }) });
      paged.push(...r.hits.map((m) => m.body));
      if (r.nextCursor === null) break;
      cursor = r.nextCursor;
    }
    expect(paged).toEqual(["report 5", "report 4", "report 3", "report 2", "report 1"]);
  });

  it("refuses malformed searches with INVALID_PAYLOAD", async () => {
    const bad: unknown[] = [{ terms: [] }, { terms: ["  "] }, { terms: ["x"], cursor: "abc" }, { terms: ["x"], limit: 500 }, { terms: "needle" }, { terms: ["x"], sneaky: 1 }];
    for (const payload of bad) {
      const r = await request(bob, "search:messages", payload as ClientPayload<"search:messages">);
      expect(r, JSON.stringify(payload)).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    }
  });
});
