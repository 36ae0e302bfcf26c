import { LIMITS } from "@parley/shared";
import type { CoreContext } from "./context.js";
import { applySync, mergeMessages } from "./reconcile.js";
import type { ChatState } from "./state.js";
import type { Transport } from "./transport.js";

/** Keeping each held room in step with the server: resync, catch-up, the latest page, paging. */
export interface Sync {
  /** After every (re)connect: rooms and counts from the server, then every held room caught up. */
  resync(): Promise<void>;
  /**
   * Fetches everything after the window's last seq until the room's end. One run per room at a
   * time; a gap seen during a run starts another run after it.
   */
  catchUp(roomId: string): Promise<void>;
  /** Loads (or reloads, after scrolling back trimmed it) a room's latest page. */
  loadLatest(roomId: string): Promise<void>;
  /** The page before (older) or after (newer) a room's window, while the user scrolls. */
  loadPage(roomId: string, direction: "older" | "newer"): Promise<void>;
  /** The oldest seq a room's window must keep when messages arrive at its newest end, if any. */
  keepFrom(roomId: string): number | null;
  /** The oldest seq the reader has on screen while reading back, or null when following. */
  keepInView(roomId: string, seq: number | null): void;
}

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
        set((s) => mergeMessages(s, roomId, result.data.messages, "newer", windowSize, keepFrom(roomId)));
        if (!result.data.hasMore) return;
      }
    })().finally(() => catchingUp.delete(roomId));
    catchingUp.set(roomId, run);
    return run;
  }

  async function loadLatest(roomId: string): Promise<void> {
    const result = await requestUntilAnswered("messages:fetch", { roomId, limit: pageSize });
    if (!result.ok) return;
    set((s) => mergeMessages(s, roomId, result.data.messages, "latest", windowSize));
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
      for (const [roomId, t] of Object.entries(s.timelines)) if (t.loaded) work.push(catchUp(roomId));
      if (s.activeRoomId && !s.timelines[s.activeRoomId]?.loaded) work.push(loadLatest(s.activeRoomId));
      await Promise.all(work);
    } finally {
      setConnection({ catchingUp: false });
    }
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
      // The merge and clearing the flag are one store update: one list render per page.
      set((s) => setFlag(result.ok ? mergeMessages(s, roomId, result.data.messages, direction, windowSize, keepFrom(roomId)) : s, false));
    } catch (error) {
      set((s) => setFlag(s, false));
      throw error;
    } finally {
      if (direction === "older") olderFrom.delete(roomId);
    }
  }

  return {
    resync,
    catchUp,
    loadLatest,
    loadPage,
    keepFrom,
    keepInView(roomId, seq) {
      if (seq === null) inView.delete(roomId);
      else inView.set(roomId, seq);
    },
  };
}
