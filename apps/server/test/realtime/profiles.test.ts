import { afterEach, beforeEach, describe, expect, it } from "vitest";
import sharp from "sharp";
import { API, DEFAULT_ROOM_ID, LIMITS, type AvatarResponse, type Profile } from "@parley/shared";
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
 * Profiles and presence over a real server (issue 14): profile updates validated and broadcast to
 * everyone who can see the user, avatars through the upload pipeline, last seen written when the
 * last tab goes, and per-room notification levels remembered for every tab.
 */

let server: TestServer;
let alice: ClientSocket;
let bob: ClientSocket;
let cookies: Record<"alice" | "bob" | "carol", string>;
let ids: Record<"alice" | "bob" | "carol", string>;

beforeEach(async () => {
  server = await startServer({ presenceGraceMs: 50 });
  const [a, b, c] = [await signInOk(server.url, "Alice"), await signInOk(server.url, "Bob"), await signInOk(server.url, "Carol")];
  cookies = { alice: a.cookie, bob: b.cookie, carol: c.cookie };
  ids = { alice: a.user.id, bob: b.user.id, carol: c.user.id };
  [alice, bob] = await Promise.all([connect(server.url, a.cookie), connect(server.url, b.cookie)]);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

const postAvatar = async (bytes: Uint8Array, cookie = cookies.alice) => {
  const res = await fetch(`${server.url}${API.myAvatar}`, { method: "POST", headers: { cookie, "content-type": "application/octet-stream" }, body: bytes });
  return { status: res.status, body: (await res.json()) as AvatarResponse & { error?: { code: string } } };
};

/** A 600 x 300 JPEG whose EXIF names a camera, an owner and a GPS position. */
const photoWithGps = () =>
  sharp({ create: { width: 600, height: 300, channels: 3, background: "#c33" } })
    .jpeg()
    .withExif({ IFD0: { Make: "PhoneCo", Copyright: "Alice" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "51/1 30/1 0/1" } })
    .toBuffer();

describe("profile:update", () => {
  it("stores the profile, answers with it and tells every member of a shared room and my other tabs", async () => {
    const aliceTab2 = await connect(server.url, cookies.alice);
    const seenByBob = nextEvent(bob, "user:updated", (p) => p.id === ids.alice);
    const seenByTab2 = nextEvent(aliceTab2, "user:updated", (p) => p.id === ids.alice);
    const profile = await requestOk(alice, "profile:update", { displayName: "  Alice Liddell  ", statusText: "Down the rabbit hole 🐇", availability: "dnd" });
    const expected: Profile = {
      id: ids.alice,
      nickname: "Alice",
      displayName: "Alice Liddell",
      statusText: "Down the rabbit hole 🐇",
      availability: "dnd",
      avatarId: null,
      lastSeenAt: null,
    };
    expect(profile).toEqual(expected);
    expect(await seenByBob).toEqual(expected);
    expect(await seenByTab2).toEqual(expected);
    // A client that (re)connects gets it with its sync, and anyone can ask for it.
    const bobSync = await requestOk(bob, "session:sync", {});
    expect(bobSync.profiles).toContainEqual(expected);
    expect(await requestOk(bob, "profiles:get", { userIds: [ids.alice, "no-such-user"] })).toEqual([expected]);
  });

  it("keeps what a patch does not name, and \"\" clears a text", async () => {
    await requestOk(alice, "profile:update", { displayName: "Alice", statusText: "busy" });
    expect(await requestOk(alice, "profile:update", { availability: "away" })).toMatchObject({ displayName: "Alice", statusText: "busy", availability: "away" });
    expect(await requestOk(alice, "profile:update", { statusText: "" })).toMatchObject({ displayName: "Alice", statusText: null });
  });

  it("refuses an over-long or invisible-character display name or status with PROFILE_INVALID, and bad shapes with INVALID_PAYLOAD", async () => {
    const tooLong = await request(alice, "profile:update", { displayName: "x".repeat(LIMITS.displayNameMax + 1) });
    expect(tooLong).toMatchObject({ ok: false, error: { code: "PROFILE_INVALID" } });
    const bidi = await request(alice, "profile:update", { displayName: "admin\u202E" });
    expect(bidi).toMatchObject({ ok: false, error: { code: "PROFILE_INVALID" } });
    const newline = await request(alice, "profile:update", { statusText: "line\nbreak" });
    expect(newline).toMatchObject({ ok: false, error: { code: "PROFILE_INVALID" } });
    const longStatus = await request(alice, "profile:update", { statusText: "s".repeat(LIMITS.statusTextMax + 1) });
    expect(longStatus).toMatchObject({ ok: false, error: { code: "PROFILE_INVALID" } });
    expect(await request(alice, "profile:update", {} as never)).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    expect(await request(alice, "profile:update", { availability: "busy" } as never)).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    expect(await request(alice, "profile:update", { displayName: "A", nickname: "root" } as never)).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    // Nothing was stored by any of them.
    expect(await requestOk(bob, "profiles:get", { userIds: [ids.alice] })).toMatchObject([{ displayName: null, statusText: null, availability: "online" }]);
  });

  it("refuses a hostile payload (a liar object, too many ids) without harm, and keeps serving", async () => {
    const hostile = { displayName: { length: { toString: {}, valueOf: {} } }, statusText: ["x"], __proto__: { availability: "dnd" } };
    expect(await request(alice, "profile:update", hostile as never)).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    expect(await request(alice, "profiles:get", { userIds: { length: 1e9 } } as never)).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    const many = Array.from({ length: LIMITS.profilesPerRequest + 1 }, (_, i) => `u${i}`);
    expect(await request(alice, "profiles:get", { userIds: many })).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    expect(await request(alice, "room:notify", { roomId: DEFAULT_ROOM_ID, level: "loud" } as never)).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    expect(await requestOk(alice, "profile:update", { statusText: "still here" })).toMatchObject({ statusText: "still here" });
  });
});

describe("avatars", () => {
  it("an upload is stripped of EXIF, squared, served to other users with safe headers, and announced", async () => {
    const original = await photoWithGps();
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const announced = nextEvent(bob, "user:updated", (p) => p.id === ids.alice && p.avatarId !== null);
    const { status, body } = await postAvatar(original);
    expect(status, JSON.stringify(body)).toBe(200);
    const avatarId = body.profile.avatarId!;
    expect(avatarId).toEqual(expect.any(String));
    expect((await announced).avatarId).toBe(avatarId);

    const res = await fetch(`${server.url}${API.avatar(ids.alice, avatarId)}`, { headers: { cookie: cookies.bob } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("sandbox");
    const served = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(served).metadata();
    expect(meta).toMatchObject({ format: "webp", width: LIMITS.avatarPx, height: LIMITS.avatarPx });
    expect(meta.exif).toBeUndefined();
    expect(served.includes(Buffer.from("PhoneCo"))).toBe(false);
    // Carol, in no room with Alice but the default one, may read it too; nobody signed out may.
    expect((await fetch(`${server.url}${API.avatar(ids.alice, avatarId)}`, { headers: { cookie: cookies.carol } })).status).toBe(200);
    expect((await fetch(`${server.url}${API.avatar(ids.alice, avatarId)}`)).status).toBe(401);
  });

  it("refuses what is not an image (HTML, SVG, a truncated PNG) with AVATAR_INVALID and keeps the old one", async () => {
    const first = await postAvatar(await sharp({ create: { width: 40, height: 40, channels: 3, background: "#3a7" } }).png().toBuffer());
    expect(first.status).toBe(200);
    for (const bytes of [
      Buffer.from("<html><script>alert(1)</script></html>"),
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      (await sharp({ create: { width: 40, height: 40, channels: 3, background: "#3a7" } }).png().toBuffer()).subarray(0, 60),
    ]) {
      const { status, body } = await postAvatar(bytes);
      expect(status).toBe(415);
      expect(body.error?.code).toBe("AVATAR_INVALID");
    }
    expect(await requestOk(bob, "profiles:get", { userIds: [ids.alice] })).toMatchObject([{ avatarId: first.body.profile.avatarId }]);
  });

  it("a new avatar replaces the old (a new id), and a removal leaves none (404)", async () => {
    const red = await postAvatar(await sharp({ create: { width: 64, height: 64, channels: 3, background: "#f00" } }).png().toBuffer());
    const blue = await postAvatar(await sharp({ create: { width: 64, height: 64, channels: 3, background: "#00f" } }).jpeg().toBuffer());
    expect(blue.body.profile.avatarId).not.toBe(red.body.profile.avatarId);
    const pixel = async () => {
      const res = await fetch(`${server.url}${API.avatar(ids.alice, "x")}`, { headers: { cookie: cookies.bob } });
      const { data } = await sharp(Buffer.from(await res.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
      return [data[0]!, data[1]!, data[2]!];
    };
    const [r, , b] = await pixel();
    expect(b).toBeGreaterThan(200);
    expect(r).toBeLessThan(50);

    const removed = nextEvent(bob, "user:updated", (p) => p.id === ids.alice && p.avatarId === null);
    const res = await fetch(`${server.url}${API.myAvatar}`, { method: "DELETE", headers: { cookie: cookies.alice } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as AvatarResponse).profile.avatarId).toBeNull();
    await removed;
    const gone = await fetch(`${server.url}${API.avatar(ids.alice, "x")}`, { headers: { cookie: cookies.bob } });
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { code: string } }).error.code).toBe("FILE_NOT_FOUND");
  });

  it("refuses an avatar over the size limit from its Content-Length, before reading it", async () => {
    const big = new Uint8Array(LIMITS.avatarMaxBytes + 1);
    const { status, body } = await postAvatar(big);
    expect(status).toBe(413);
    expect(body.error?.code).toBe("FILE_TOO_LARGE");
  });
});

describe("last seen", () => {
  it("is written when the user's last tab disconnects, and read by others", async () => {
    const before = Date.now();
    const offline = nextEvent(bob, "presence:updated", (u) => u.userId === ids.alice && !u.online);
    alice.close();
    await offline;
    await expect
      .poll(async () => (await requestOk(bob, "profiles:get", { userIds: [ids.alice] }))[0]?.lastSeenAt ?? null)
      .toBeGreaterThanOrEqual(before);
    const seen = (await requestOk(bob, "profiles:get", { userIds: [ids.alice] }))[0]!.lastSeenAt!;
    expect(seen).toBeLessThanOrEqual(Date.now());
  });
});

describe("room:notify", () => {
  it("is remembered per member, returned in the summary, and reaches my other tabs", async () => {
    const aliceTab2 = await connect(server.url, cookies.alice);
    const upserted = nextEvent(aliceTab2, "room:upserted", (r) => r.id === DEFAULT_ROOM_ID && r.notifyLevel === "mentions");
    const bobUpserts = collect(bob, "room:upserted");
    const room = await requestOk(alice, "room:notify", { roomId: DEFAULT_ROOM_ID, level: "mentions" });
    expect(room).toMatchObject({ id: DEFAULT_ROOM_ID, notifyLevel: "mentions" });
    expect(await upserted).toMatchObject({ notifyLevel: "mentions" });
    // A new tab (or another device) gets it with its sync; Bob's level is his own.
    const tab3 = await connect(server.url, cookies.alice);
    expect((await requestOk(tab3, "session:sync", {})).rooms.find((r) => r.id === DEFAULT_ROOM_ID)?.notifyLevel).toBe("mentions");
    expect((await requestOk(bob, "session:sync", {})).rooms.find((r) => r.id === DEFAULT_ROOM_ID)?.notifyLevel).toBe("all");
    await roundTrip(bob);
    expect(bobUpserts).toEqual([]);
  });

  it("refuses a room I am not a member of with NOT_A_MEMBER", async () => {
    const r = await requestOk(bob, "room:create", { name: "Bob's" });
    expect(await request(alice, "room:notify", { roomId: r.id, level: "none" })).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
    expect(await request(alice, "room:notify", { roomId: "nope", level: "none" })).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
    // Messages still flow meanwhile.
    const got = nextEvent(bob, "message:created", (m) => m.body === "ping");
    await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "ping"));
    await got;
  });
});
