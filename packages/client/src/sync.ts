import { LIMITS, type MessagePage } from "@parley/shared";
import type { CoreContext } from "./context.js";
import { applyHeldCopies, applySync, completeChangeCatchUp, mergeMessages, replaceWindowAround, type MergeSource } from "./reconcile.js";
import type { ChatState } from "./state.js";
import type { Transport } from "./transport.js";

/** Keeping each held room in step with the server: resync, catch-up, the latest page, paging. */
export interface Sync {
  /** After every (re)connect: rooms and counts from the server, then every held room caught up. */
  resync(): Promise<void>;
  /**
   * Rooms and counts from the server again, quietly (no catching-up state): a room head showed a
   * room's summary behind. One request at a time; asked again meanwhile, it runs once more after.
   */
  refreshRooms(): Promise<void>;
  /**
   * Fetches everything after the window's last seq until the room's end. One run per room at a
   * time; a gap seen during a run starts another run after it.
   */
  catchUp(roomId: string): Promise<void>;
  /**
   * Fetches the current state of every message changed since the timeline's version
   * (`changedSince`, paged) and applies it to the held messages, then moves the version to the
   * highest one seen. One run per room at a time; a gap seen during a run starts another after it.
   */
  catchUpChanges(roomId: string): Promise<void>;
  /**
   * Brings the message with `seq` into the window: held already, or the window is replaced by the
   * page around it. Resolves to whether it is held afterwards.
   */
  jumpTo(roomId: string, seq: number): Promise<boolean>;
  /** Loads (or reloads, after scrolling back trimmed it) a room's latest page. */
  loadLatest(roomId: string): Promise<void>;
  /** The page before (older) or after (newer) a room's window, while the user scrolls. */
  loadPage(roomId: string, direction: "older" | "newer"): Promise<void>;
  /** The oldest seq a room's window must keep when messages arrive at its newest end, if any. */
  keepFrom(roomId: string): number | null;
  /** The oldest seq the reader has on screen while reading back, or null when following. */
  keepInView(roomId: string, seq: number | null): void;
}

/**
 * Change catch-up passes per run. Why 3: a second pass is needed only when a page raced the first
 * (or changes kept coming); a third covers that race happening twice; beyond that the live
 * changes and the next resync do the work instead of one run looping on a busy room.
 */
const MAX_CHANGE_PASSES = 3;

export function createSync(ctx: CoreContext, transport: Transport, deps: { flush(): Promise<void> }): Sync {
  const { store, set, setConnection, windowSize, pageSize } = ctx;
  const { socket, request, requestUntilAnswered } = transport;

  /** Per room, the oldest seq the reader has on screen while reading back (see `keepInView`). */
  const inView = new Map<string, number>();
  /**
   * Per room, the first seq of the window when an older page was requested. Until that page lands,
   * messages arriving at the newest end must not trim the oldest end: the page (ending just before
   * that seq) would no longer touch the window and be dropped, and in a busy room scrolling back
   * would silently fail again and again (seen in the fault test: up to 48 tries for one page).
   */
  const olderFrom = new Map<string, number>();
  const keepFrom = (roomId: string): number | null => {
    const a = inView.get(roomId);
    const b = olderFrom.get(roomId);
    if (a === undefined) return b ?? null;
    return b === undefined ? a : Math.min(a, b);
  };

  /**
   * Per room with a change catch-up running: the lowest version of any page merged into the window
   * since the run started (see completeChangeCatchUp: the run vouches only for versions up to it).
   */
  const pageFloor = new Map<string, number>();

  /** Every page merged into a window is noted here, so a running change catch-up hears of it. */
  function noteFloor(roomId: string, page: MessagePage): void {
    const floor = pageFloor.get(roomId);
    if (floor !== undefined && page.messages.length > 0 && typeof page.version === "number") pageFloor.set(roomId, Math.min(floor, page.version));
  }

  function mergePage(roomId: string, page: MessagePage, source: MergeSource, keep: number | null): void {
    noteFloor(roomId, page);
    set((s) => mergeMessages(s, roomId, page.messages, source, windowSize, keep, page.version));
  }

  const catchingUp = new Map<string, Promise<void>>();

  function catchUp(roomId: string): Promise<void> {
    const running = catchingUp.get(roomId);
    if (running) {
      const again = running.then(() => catchUp(roomId));
      return again;
    }
    const run = (async () => {
      for (;;) {
        const t = store.getState().timelines[roomId];
        if (!t?.loaded || !t.following || !socket.connected) return;
        const result = await requestUntilAnswered("messages:fetch", { roomId, afterSeq: t.lastSeq, limit: LIMITS.pageMax });
        if (!result.ok) return;
        mergePage(roomId, result.data, "newer", keepFrom(roomId));
        if (!result.data.hasMore) return;
      }
    })().finally(() => catchingUp.delete(roomId));
    catchingUp.set(roomId, run);
    return run;
  }

  const catchingUpChanges = new Map<string, Promise<void>>();

  function catchUpChanges(roomId: string): Promise<void> {
    const running = catchingUpChanges.get(roomId);
    // A gap seen while a run is under way may lie beyond what that run read: one more run after it.
    if (running) return running.then(() => catchUpChanges(roomId));
    const run = (async () => {
      for (let pass = 1; ; pass++) {
        const start = store.getState().timelines[roomId];
        if (!start?.loaded || !socket.connected) return;
        pageFloor.set(roomId, Infinity);
        let since = start.version;
        let maxSeen: number | null = null;
        for (;;) {
          const result = await requestUntilAnswered("messages:fetch", { roomId, changedSince: since, limit: LIMITS.pageMax });
          // Unfinished: the version stays where it was, and the next resync (or gap) runs again.
          if (!result.ok || !store.getState().timelines[roomId]?.loaded) return;
          const rows = result.data.messages;
          // Rows of messages outside the window are dropped: the window brings their state when it
          // reaches them (in a page at least as new as the rows).
          set((s) => applyHeldCopies(s, roomId, rows));
          for (const m of rows) if (maxSeen === null || m.version > maxSeen) maxSeen = m.version;
          if (!result.data.hasMore || rows.length === 0) break;
          // Rows come ascending by version: the next page starts after the last one.
          since = Math.max(since, ...rows.map((m) => m.version));
        }
        const floor = pageFloor.get(roomId) ?? Infinity;
        set((s) => completeChangeCatchUp(s, roomId, maxSeen, floor));
        // Go again while the room is known to be further on and this pass either moved the version
        // (changes were made while it ran) or was capped by a page older than its rows (the page's
        // copies may miss a row this pass dropped). Passes are bounded: a room that keeps changing
        // faster than it is read is caught up by the live changes and the next resync instead.
        const after = store.getState();
        const version = after.timelines[roomId]?.version ?? 0;
        const capped = maxSeen !== null && floor < maxSeen;
        if (version >= (after.rooms[roomId]?.lastVersion ?? 0) && !capped) return;
        if ((version <= start.version && !capped) || pass >= MAX_CHANGE_PASSES) return;
      }
    })().finally(() => {
      catchingUpChanges.delete(roomId);
      pageFloor.delete(roomId);
    });
    catchingUpChanges.set(roomId, run);
    return run;
  }

  /** Catch-up of one loaded room after a (re)connect: new messages first, then changes if the summary says some were missed. */
  async function catchUpRoom(roomId: string): Promise<void> {
    await catchUp(roomId);
    const s = store.getState();
    const t = s.timelines[roomId];
    if (t?.loaded && (s.rooms[roomId]?.lastVersion ?? 0) > t.version) await catchUpChanges(roomId);
  }

  async function loadLatest(roomId: string): Promise<void> {
    const result = await requestUntilAnswered("messages:fetch", { roomId, limit: pageSize });
    if (!result.ok) return;
    mergePage(roomId, result.data, "latest", null);
    // A live message that arrived while the page was on its way was not held (the window did not
    // exist yet) and is newer than the page: fetch it now.
    if (store.getState().timelines[roomId]?.hasNewer) await catchUp(roomId);
  }

  async function resync(): Promise<void> {
    setConnection({ catchingUp: true });
    try {
      const result = await requestUntilAnswered("session:sync", {});
      // Without a fresh room list the outbox and the rooms already held still catch up.
      if (result.ok) set((s) => applySync(s, result.data));
      void deps.flush();
      const s = store.getState();
      const work: Promise<void>[] = [];
      for (const [roomId, t] of Object.entries(s.timelines)) if (t.loaded) work.push(catchUpRoom(roomId));
      if (s.activeRoomId && !s.timelines[s.activeRoomId]?.loaded) work.push(loadLatest(s.activeRoomId));
      await Promise.all(work);
    } finally {
      setConnection({ catchingUp: false });
    }
  }

  let refreshing: Promise<void> | null = null;
  let refreshAgain = false;
  function refreshRooms(): Promise<void> {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        refreshAgain = false;
        if (!socket.connected) return;
        const result = await requestUntilAnswered("session:sync", {});
        if (result.ok) set((s) => applySync(s, result.data));
      } while (refreshAgain);
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function loadPage(roomId: string, direction: "older" | "newer"): Promise<void> {
    const flag = direction === "older" ? "loadingOlder" : "loadingNewer";
    const t = store.getState().timelines[roomId];
    if (!t?.loaded || t[flag] || !(direction === "older" ? t.hasOlder : t.hasNewer)) return;
    const setFlag = (s: ChatState, value: boolean): ChatState => {
      const current = s.timelines[roomId];
      return current && current[flag] !== value ? { ...s, timelines: { ...s.timelines, [roomId]: { ...current, [flag]: value } } } : s;
    };
    set((s) => setFlag(s, true));
    const cursor = direction === "older" ? { beforeSeq: t.firstSeq } : { afterSeq: t.lastSeq };
    if (direction === "older") olderFrom.set(roomId, t.firstSeq);
    try {
      const result = await request("messages:fetch", { roomId, ...cursor, limit: pageSize });
      if (result.ok) noteFloor(roomId, result.data);
      // The merge and clearing the flag are one store update: one list render per page.
      set((s) =>
        setFlag(result.ok ? mergeMessages(s, roomId, result.data.messages, direction, windowSize, keepFrom(roomId), result.data.version) : s, false),
      );
    } catch (error) {
      set((s) => setFlag(s, false));
      throw error;
    } finally {
      if (direction === "older") olderFrom.delete(roomId);
    }
  }

  async function jumpTo(roomId: string, seq: number): Promise<boolean> {
    const isHeld = () => {
      const t = store.getState().timelines[roomId];
      return t !== undefined && t.ids.length > 0 && seq >= t.firstSeq && seq <= t.lastSeq;
    };
    if (isHeld()) return true;
    const result = await requestUntilAnswered("messages:fetch", { roomId, aroundSeq: seq, limit: pageSize });
    if (!result.ok) return false;
    // Held meanwhile (a page or live messages reached it): replacing the window would only lose place.
    if (isHeld()) return true;
    noteFloor(roomId, result.data);
    set((s) => replaceWindowAround(s, roomId, result.data, windowSize));
    return isHeld();
  }

  return {
    resync,
    refreshRooms,
    catchUp,
    catchUpChanges,
    jumpTo,
    loadLatest,
    loadPage,
    keepFrom,
    keepInView(roomId, seq) {
      if (seq === null) inView.delete(roomId);
      else inView.set(roomId, seq);
    },
  };
}
