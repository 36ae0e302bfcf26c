import type { Report, RoomRole } from "@parley/shared";
import { describe, expect, it } from "vitest";
import {
  applyMutes,
  applyReport,
  applyRoomRemoved,
  canRemoveMessage,
  dismissRemoval,
  memberActions,
  noteRosterChange,
  replaceOpenReports,
  selectCanModerate,
  selectOpenReportCount,
  setMutedLocally,
  type Viewer,
} from "../src/moderation.js";
import { applySync, upsertRoom } from "../src/reconcile.js";
import { createInitialState, type ChatState } from "../src/state.js";
import { ME, msg, room, stateWithRoom } from "./fixtures.js";

const stamp = () => ({ id: "x1", at: 5 });

function report(id: string, overrides: Partial<Report> = {}): Report {
  return {
    id,
    roomId: "r1",
    roomName: "r1",
    reporter: { id: "u2", nickname: "bob" },
    message: msg(1),
    reason: "",
    createdAt: 1,
    resolvedAt: null,
    resolvedBy: null,
    ...overrides,
  };
}

describe("sync and room summaries", () => {
  it("sync brings isAdmin and my mutes; a server without them reads as no admin and nobody muted", () => {
    const limits = { fileMaxBytes: 1, dailyMaxBytes: 1 };
    let s = applySync(createInitialState(), { me: ME, rooms: [room()], onlineUserIds: [], uploadLimits: limits, isAdmin: true, mutedUserIds: ["u9"], profiles: [] });
    expect(s.isAdmin).toBe(true);
    expect(s.muted).toEqual({ u9: true });
    const old = { me: ME, rooms: [room()], onlineUserIds: [], uploadLimits: limits } as unknown as Parameters<typeof applySync>[1];
    s = applySync(s, old);
    expect(s.isAdmin).toBe(false);
    expect(s.muted).toEqual({});
  });

  it("room:upserted carries my role, the topic and invite-only", () => {
    let s = stateWithRoom();
    s = upsertRoom(s, room({ role: "moderator", topic: "plans", inviteOnly: true, lastSeq: 0 }));
    expect(s.rooms.r1).toMatchObject({ role: "moderator", topic: "plans", inviteOnly: true });
  });
});

describe("mutes", () => {
  it("the server's list replaces mine; the same list keeps the state object", () => {
    let s = applyMutes(createInitialState(), ["a", "b"]);
    expect(s.muted).toEqual({ a: true, b: true });
    expect(applyMutes(s, ["b", "a"])).toBe(s);
    s = applyMutes(s, ["b"]);
    expect(s.muted).toEqual({ b: true });
  });

  it("a local mute shows at once and unmutes", () => {
    let s = setMutedLocally(createInitialState(), "a", true);
    expect(s.muted).toEqual({ a: true });
    expect(setMutedLocally(s, "a", true)).toBe(s);
    s = setMutedLocally(s, "a", false);
    expect(s.muted).toEqual({});
  });
});

describe("reports", () => {
  it("counts open reports per room and in all", () => {
    let s = createInitialState();
    s = applyReport(s, report("p1"));
    s = applyReport(s, report("p2", { roomId: "r2" }));
    s = applyReport(s, report("p3", { resolvedAt: 9, resolvedBy: { id: "u1", nickname: "me" } }));
    expect(selectOpenReportCount(s)).toBe(2);
    expect(selectOpenReportCount(s, "r1")).toBe(1);
    expect(selectOpenReportCount(s, "r3")).toBe(0);
  });

  it("a resolved report never reopens, whatever order the events arrive in", () => {
    let s = applyReport(createInitialState(), report("p1", { resolvedAt: 9, resolvedBy: { id: "u1", nickname: "me" } }));
    s = applyReport(s, report("p1"));
    expect(s.reports.p1?.resolvedAt).toBe(9);
  });

  it("the open list after a reconnect drops open reports resolved meanwhile and keeps resolved ones", () => {
    let s = createInitialState();
    s = applyReport(s, report("p1"));
    s = applyReport(s, report("p2"));
    s = applyReport(s, report("p3", { resolvedAt: 9, resolvedBy: null }));
    s = replaceOpenReports(s, [report("p2"), report("p4")]);
    expect(Object.keys(s.reports).sort()).toEqual(["p2", "p3", "p4"]);
  });
});

describe("room:removed", () => {
  const held = (): ChatState => ({ ...stateWithRoom({ name: "plans" }), activeRoomId: "r1" });
  const cases: { reason: "left" | "kicked" | "banned" | undefined; notice: boolean }[] = [
    { reason: undefined, notice: false },
    { reason: "left", notice: false },
    { reason: "kicked", notice: true },
    { reason: "banned", notice: true },
  ];
  for (const c of cases) {
    it(`reason ${c.reason ?? "(none, an older server)"}: the room goes${c.notice ? " and a notice names it" : ", silently"}`, () => {
      const s = applyRoomRemoved(held(), c.reason === undefined ? { roomId: "r1" } : { roomId: "r1", reason: c.reason }, stamp);
      expect(s.rooms.r1).toBeUndefined();
      expect(s.messages.r1).toBeUndefined();
      expect(s.activeRoomId).toBe("general");
      expect(s.removals).toEqual(c.notice ? [{ id: "x1", roomId: "r1", roomName: "plans", reason: c.reason, at: 5 }] : []);
    });
  }

  it("a second removal of a room already gone says nothing new; a dismissed notice goes", () => {
    let s = applyRoomRemoved(held(), { roomId: "r1", reason: "banned" }, stamp);
    s = applyRoomRemoved(s, { roomId: "r1", reason: "banned" }, stamp);
    expect(s.removals).toHaveLength(1);
    s = dismissRemoval(s, "x1");
    expect(s.removals).toEqual([]);
    expect(dismissRemoval(s, "x1")).toBe(s);
  });
});

describe("roster version", () => {
  it("joins, leaves and moderation lines bump it; text does not", () => {
    let s = createInitialState();
    s = noteRosterChange(s, { roomId: "r1", kind: "text" });
    expect(s.rosterVersion.r1).toBeUndefined();
    for (const kind of ["join", "leave", "system"] as const) s = noteRosterChange(s, { roomId: "r1", kind });
    expect(s.rosterVersion.r1).toBe(3);
  });
});

describe("what the viewer's role allows", () => {
  const pub = { kind: "public" as const };
  const viewer = (role: RoomRole, isAdmin = false): Viewer => ({ id: "me", role, isAdmin });
  const target = (role: RoomRole, id = "t") => ({ id, role });
  // [viewer, target role, setRole, kick/ban]
  const table: [string, Viewer, RoomRole, "moderator" | "member" | null, boolean][] = [
    ["member on member", viewer("member"), "member", null, false],
    ["moderator on member", viewer("moderator"), "member", null, true],
    ["moderator on moderator", viewer("moderator"), "moderator", null, false],
    ["moderator on owner", viewer("moderator"), "owner", null, false],
    ["owner on member", viewer("owner"), "member", "moderator", true],
    ["owner on moderator", viewer("owner"), "moderator", "member", true],
    ["owner on owner", viewer("owner"), "owner", null, false],
    ["admin (member of the room) on owner", viewer("member", true), "owner", null, true],
    ["admin on moderator", viewer("member", true), "moderator", "member", true],
  ];
  for (const [name, v, role, setRole, moderate] of table) {
    it(name, () => {
      const a = memberActions(v, target(role), pub);
      expect(a.setRole).toBe(setRole);
      expect(a.kick).toBe(moderate);
      expect(a.ban).toBe(moderate);
      expect(a.mute).toBe(true);
      expect(a.deactivate).toBe(v.isAdmin);
    });
  }

  it("nobody acts on themselves, not even to mute", () => {
    const a = memberActions(viewer("owner", true), target("owner", "me"), pub);
    expect(a).toEqual({ setRole: null, kick: false, ban: false, mute: false, deactivate: false });
  });

  it("no moderation in DMs; muting still works", () => {
    const a = memberActions(viewer("owner", true), target("member"), { kind: "dm" });
    expect(a.kick || a.ban || a.setRole !== null).toBe(false);
    expect(a.mute).toBe(true);
  });

  it("moderators remove others' text messages, not their own nor system lines", () => {
    const mod = viewer("moderator");
    expect(canRemoveMessage(mod, pub, { authorId: "x", kind: "text" })).toBe(true);
    expect(canRemoveMessage(mod, pub, { authorId: "me", kind: "text" })).toBe(false);
    expect(canRemoveMessage(mod, pub, { authorId: "x", kind: "system" })).toBe(false);
    expect(canRemoveMessage(viewer("member"), pub, { authorId: "x", kind: "text" })).toBe(false);
  });

  it("selectCanModerate reads my role in the room and admin", () => {
    const s = stateWithRoom({ role: "member" });
    expect(selectCanModerate(s, "r1")).toBe(false);
    expect(selectCanModerate({ ...s, isAdmin: true }, "r1")).toBe(true);
    expect(selectCanModerate(upsertRoom(s, room({ role: "moderator" })), "r1")).toBe(true);
  });
});
