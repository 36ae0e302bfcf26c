/**
 * Whether the reader is flinging the message list: moving it fast in every animation frame.
 *
 * Why: a fast flick through formatted history mounts a screen of new rows per frame, and a full
 * row (Markdown as elements, code blocks, reaction chips) costs more than a frame at that pace
 * (bench:client, issue 11: 10% of frames over 20 ms on formatted history, 5% on plain). Rows that
 * mount while a fling goes on render light (see `useLightRow`) and become full once the list has
 * been quiet for a moment; a row seen for two frames at 36,000 px/s is not read anyway.
 *
 * A fling is movement in each of several consecutive frames, faster than a reader can follow. A
 * single programmatic jump (opening a room, a reply's quote, a test setting scrollTop) moves the
 * list in one frame and never counts; neither does a walk that moves every other frame. The list's
 * own scrollTop writes (the scroll anchor holding a row while rows above it are measured, or
 * following new messages at the bottom) are no movement: a burst of messages is no fling.
 *
 * DOM-free: the list feeds scroll positions and frame times (`apps/web/test/fling.test.ts`).
 */

/**
 * Faster than this (px/ms) is faster than anyone reads: 3,000 px/s, about four screens a second.
 * A mouse wheel's smooth scroll (100 px per notch over ~150 ms) stays well below it.
 */
export const FLING_PX_PER_MS = 3;
/** Frames in a row that must each move that fast: one or two are a jump, not a fling. */
export const FLING_FRAMES = 3;
/**
 * A fling ends after the list has not moved for this long (ms): long enough that the frames of a
 * flick that is slowing down (one without movement now and then) do not end it, short enough that
 * rows look finished by the time the reader's eyes land on them.
 */
export const FLING_QUIET_MS = 150;

export interface FlingWatch {
  readonly flinging: boolean;
  /** A scroll event, with the list's scrollTop: the movement since the last known position counts. */
  scrolled(scrollTop: number): void;
  /**
   * The list set its own scrollTop (the scroll anchor's correction): where movement is measured
   * from, not movement. The next scroll event then counts only what the reader added to it.
   */
  wrote(scrollTop: number): void;
  /** An animation frame began at `now` (ms). True while the watch wants the next frame too. */
  frame(now: number): boolean;
  /** Called whenever `flinging` flips. */
  subscribe(listener: () => void): () => void;
}

export function createFlingWatch(): FlingWatch {
  let flinging = false;
  let top: number | null = null;
  /** The reader's movement (px) since the last frame. */
  let moved = 0;
  let lastFrameAt: number | null = null;
  let lastMoveAt = -Infinity;
  /** Consecutive frames that moved faster than FLING_PX_PER_MS. */
  let streak = 0;
  const listeners = new Set<() => void>();

  const set = (next: boolean) => {
    if (next === flinging) return;
    flinging = next;
    for (const l of listeners) l();
  };

  return {
    get flinging() {
      return flinging;
    },
    scrolled(scrollTop) {
      if (top !== null) moved += Math.abs(scrollTop - top);
      top = scrollTop;
    },
    wrote(scrollTop) {
      top = scrollTop;
    },
    frame(now) {
      if (moved > 0) {
        // The first frame after a pause has nothing to measure speed against: it starts a streak.
        const fast = lastFrameAt === null || moved / Math.max(1, now - lastFrameAt) > FLING_PX_PER_MS;
        streak = fast ? streak + 1 : 0;
        lastMoveAt = now;
      } else streak = 0;
      moved = 0;
      if (streak >= FLING_FRAMES) set(true);
      else if (now - lastMoveAt >= FLING_QUIET_MS) set(false);
      const watching = flinging || now - lastMoveAt < FLING_QUIET_MS;
      // Not watching: the next scroll starts afresh (its frame gap is no speed).
      lastFrameAt = watching ? now : null;
      return watching;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
