import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeAllSockets, connect, request, signIn, signInOk, startServer, type TestServer } from "../helpers/server.js";

/** Names that only look like existing ones are refused (issue 10, UTS #39 skeletons). */
let server: TestServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

describe("look-alike names", () => {
  it.each([
    ["\u0430dmin", "Cyrillic а"],
    ["\u0430dm\u0456n", "Cyrillic а and і"],
    ["adm\u200din", "a zero-width joiner"],
    ["adrnin", "rn for m"],
  ])("a new nickname %s (%s) that looks like admin is refused 409 NICKNAME_TAKEN, with the right password or not", async (lookAlike) => {
    await signInOk(server.url, "admin", "password123");
    for (const password of ["password123", "another password"]) {
      const res = await signIn(server.url, lookAlike, password);
      // Refused by the schema (invisible characters) or as a look-alike: never an account, never a session.
      expect(res.cookie).toBe("");
      expect([400, 409]).toContain(res.status);
      if (res.status === 409) expect(res.body).toMatchObject({ error: { code: "NICKNAME_TAKEN" } });
    }
  });

  it("the owner still signs in in any case or compatibility form (full-width letters), and only with the password", async () => {
    const first = await signInOk(server.url, "admin", "password123");
    for (const spelling of ["ADMIN", "ad\uff4din"]) {
      const again = await signIn(server.url, spelling, "password123");
      expect(again.status, spelling).toBe(200);
      expect(again.user?.id).toBe(first.user.id);
      expect((await signIn(server.url, spelling, "wrong password")).status).toBe(401);
    }
  });

  it("a room named like an existing one (any case, look-alike letters) is refused ROOM_NAME_TAKEN", async () => {
    const { cookie } = await signInOk(server.url, "alice", "password123");
    const alice = await connect(server.url, cookie);
    expect((await request(alice, "room:create", { name: "design" })).ok).toBe(true);
    for (const name of ["DESIGN", "d\u0435sign", "dеsіgn"]) {
      const r = await request(alice, "room:create", { name });
      expect(r, name).toMatchObject({ ok: false, error: { code: "ROOM_NAME_TAKEN" } });
    }
    expect((await request(alice, "room:create", { name: "General" })).ok).toBe(false);
  });
});
