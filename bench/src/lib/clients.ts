import type { ChatClient } from "@parley/client";
import type { ClientReport, RoomHead, SendRecord } from "./verify.js";

/**
 * What the fault tests (single-node and cluster) read from a test client's core: whether it is up,
 * which of its sends were acked, whether it has settled against the database, and its final report.
 */

/** Connected, signed in and not catching up: a client that can send and is current. */
export function isUp(core: ChatClient): boolean {
  const s = core.store.getState();
  return s.connection.status === "connected" && s.me !== null && !s.connection.catchingUp;
}

/**
 * Adds to `acked` the client id of every send of this core whose pending entry goes away: the core
 * removes one only when the server answered with the stored message.
 */
export function trackAcks(core: ChatClient, acked: Set<string>): void {
  const mine = new Set<string>();
  core.store.subscribe((state, prev) => {
    if (state.pending === prev.pending) return;
    for (const id of prev.pendingOrder) if (!state.pending[id] && mine.has(id)) acked.add(id);
    for (const id of state.pendingOrder) mine.add(id);
  });
}

/**
 * Not settled yet: a send still pending or a change still sending, or a member room whose timeline
 * is behind the database's head (its last seq or last version).
 */
export function isBehind(core: ChatClient, memberRooms: readonly string[], heads: ReadonlyMap<string, RoomHead>): boolean {
  const s = core.store.getState();
  if (s.pendingOrder.length > 0 || s.changeOrder.some((id) => s.changes[id]?.status === "sending")) return true;
  return memberRooms.some((r) => {
    const t = s.timelines[r];
    const head = heads.get(r);
    return (t?.lastSeq ?? -1) < (head?.last_seq ?? 0) || (t?.version ?? -1) < (head?.last_version ?? 0);
  });
}

/** The verdict's view of one client: its sends and what its store holds now. */
export function reportOf(core: ChatClient, client: { index: number; userId: string; sends: readonly SendRecord[]; windowSize: number }): ClientReport {
  const s = core.store.getState();
  return {
    index: client.index,
    userId: client.userId,
    sends: client.sends,
    failed: s.pendingOrder.filter((id) => s.pending[id]?.status === "failed"),
    pending: [...s.pendingOrder],
    windowSize: client.windowSize,
    timelines: Object.fromEntries(Object.entries(s.timelines).map(([id, t]) => [id, { ids: t.ids, firstSeq: t.firstSeq, loaded: t.loaded }])),
  };
}
