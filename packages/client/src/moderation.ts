import type { Member, Message, Report, RoomRemoved, RoomRole, RoomSummary } from "@parley/shared";
import { leaveRoomLocally } from "./reconcile.js";
import type { ChatState, RoomRemoval } from "./state.js";

/**
 * Moderation's pure reducers and rules (issue 14): mutes, reports, removals by a moderator, and
 * which actions a viewer's role allows. The server checks every action again; these only decide
 * what the UI offers and shows.
 */

/** My muted users as the server says they are now (sync, the mute reply, another tab's change). */
export function applyMutes(state: ChatState, mutedUserIds: readonly string[]): ChatState {
  const muted: Record<string, true> = {};
  for (const id of mutedUserIds) muted[id] = true;
  const same = Object.keys(muted).length === Object.keys(state.muted).length && mutedUserIds.every((id) => state.muted[id]);
  return same ? state : { ...state, muted };
}

/** Mutes or unmutes one user at once, before the server answers (its answer then settles it). */
export function setMutedLocally(state: ChatState, userId: string, on: boolean): ChatState {
  if ((state.muted[userId] === true) === on) return state;
  const muted = { ...state.muted };
  if (on) muted[userId] = true;
  else delete muted[userId];
  return { ...state, muted };
}

/**
 * One report as heard from the server (filed, resolved, or listed). A resolved copy wins over an
 * open one whatever the order they arrive in: a report never reopens, so a late "filed" event or a
 * list fetched before the resolve cannot bring the badge back.
 */
export function applyReport(state: ChatState, report: Report): ChatState {
  const held = state.reports[report.id];
  if (held && held.resolvedAt !== null && report.resolvedAt === null) return state;
  return { ...state, reports: { ...state.reports, [report.id]: report } };
}

/**
 * The open reports I moderate, as `reports:list {resolved: false}` answered after a (re)connect:
 * open ones held but missing from it were resolved (or their room left) meanwhile and are
 * dropped; resolved ones held stay (the panel lists them).
 */
export function replaceOpenReports(state: ChatState, open: readonly Report[]): ChatState {
  const reports: Record<string, Report> = {};
  for (const [id, r] of Object.entries(state.reports)) if (r.resolvedAt !== null) reports[id] = r;
  let next: ChatState = { ...state, reports };
  for (const r of open) next = applyReport(next, r);
  return next;
}

/**
 * `room:removed`: the room goes, with what is held for it. When a moderator removed me (kicked or
 * banned), a removal is recorded so the UI can say so; leaving (here or in another tab) is silent.
 * `stamp` gives the removal's id and time, called only when one is recorded.
 */
export function applyRoomRemoved(state: ChatState, { roomId, reason }: RoomRemoved, stamp: () => { id: string; at: number }): ChatState {
  const room = state.rooms[roomId];
  let next = leaveRoomLocally(state, roomId);
  // A second `room:removed` for a room already gone (another path, a retry) says nothing new.
  if (room && (reason === "kicked" || reason === "banned")) {
    const { id, at } = stamp();
    const removal: RoomRemoval = { id, roomId, roomName: room.name, reason, at };
    next = { ...next, removals: [...next.removals, removal] };
  }
  return next;
}

/** The UI showed (and the user closed) a removal notice. */
export function dismissRemoval(state: ChatState, id: string): ChatState {
  const removals = state.removals.filter((r) => r.id !== id);
  return removals.length === state.removals.length ? state : { ...state, removals };
}

/** A live message that may change who is in the room or their roles bumps the room's roster version. */
export function noteRosterChange(state: ChatState, message: Pick<Message, "roomId" | "kind">): ChatState {
  if (message.kind === "text") return state;
  return { ...state, rosterVersion: { ...state.rosterVersion, [message.roomId]: (state.rosterVersion[message.roomId] ?? 0) + 1 } };
}

// ---- rules: what the UI offers --------------------------------------------------------------

/** Ranks as the server orders them: admin > owner > moderator > member. */
const RANK: Record<RoomRole | "admin", number> = { member: 0, moderator: 1, owner: 2, admin: 3 };

/** Who is looking: their role in the room and whether they are a server admin. */
export interface Viewer {
  id: string;
  role: RoomRole;
  isAdmin: boolean;
}

function rankOf(viewer: Viewer): number {
  return viewer.isAdmin ? RANK.admin : RANK[viewer.role];
}

/** The viewer may moderate the room: rename, topic, invite-only, invite, bans, reports, log, delete any message. */
export function canModerate(viewer: Viewer, room: Pick<RoomSummary, "kind">): boolean {
  return room.kind === "public" && rankOf(viewer) >= RANK.moderator;
}

/** What the members panel offers the viewer for one member. */
export interface MemberActions {
  /** "Make moderator" (`moderator`) or "Remove moderator" (`member`); null: neither. */
  setRole: "moderator" | "member" | null;
  kick: boolean;
  ban: boolean;
  /** Anyone may mute anyone but themselves. */
  mute: boolean;
  /** Admins: deactivate the account (not their own). */
  deactivate: boolean;
}

/**
 * The actions the viewer's rank allows on `target` (the server's rule: nobody acts on themselves
 * or on someone of their rank or above; only owners and admins appoint; moderation only in public
 * rooms). The client does not know whether the target is an admin: the server refuses that case.
 */
export function memberActions(viewer: Viewer, target: Pick<Member, "id" | "role">, room: Pick<RoomSummary, "kind">): MemberActions {
  const self = viewer.id === target.id;
  const outranks = !self && canModerate(viewer, room) && rankOf(viewer) > RANK[target.role];
  const appoints = outranks && rankOf(viewer) >= RANK.owner && target.role !== "owner";
  return {
    setRole: appoints ? (target.role === "moderator" ? "member" : "moderator") : null,
    kick: outranks,
    ban: outranks,
    mute: !self,
    deactivate: !self && viewer.isAdmin,
  };
}

/** The viewer may remove `message` (someone else's) as a moderator. Their own goes by the usual delete. */
export function canRemoveMessage(viewer: Viewer, room: Pick<RoomSummary, "kind">, message: Pick<Message, "authorId" | "kind">): boolean {
  return message.kind === "text" && message.authorId !== viewer.id && canModerate(viewer, room);
}

// ---- selectors ------------------------------------------------------------------------------

/** The viewer as the rules need them for a room, or null before sync or for a room not held. */
export function selectViewer(state: ChatState, roomId: string): Viewer | null {
  const me = state.me;
  const room = state.rooms[roomId];
  if (!me || !room) return null;
  return { id: me.id, role: room.role, isAdmin: state.isAdmin };
}

/** I may moderate this room (a primitive: safe to select directly). */
export function selectCanModerate(state: ChatState, roomId: string): boolean {
  const viewer = selectViewer(state, roomId);
  const room = state.rooms[roomId];
  return viewer !== null && room !== undefined && canModerate(viewer, room);
}

/** Open reports I hold: of one room, or of all (a number: safe to select directly). */
export function selectOpenReportCount(state: ChatState, roomId?: string): number {
  let n = 0;
  for (const r of Object.values(state.reports)) if (r.resolvedAt === null && (roomId === undefined || r.roomId === roomId)) n++;
  return n;
}

export function selectIsMuted(state: ChatState, userId: string): boolean {
  return state.muted[userId] === true;
}
