/**
 * Where the message list's view belongs, kept as state rather than re-derived from a scroll
 * position.
 *
 * Why: a chat list changes under the reader all the time — catch-up pages after a reconnect, a
 * window trimmed at the far end, a page of history prepended, rows measured for the first time.
 * Each of those can move `scrollTop` for a frame (the browser clamps it when content shrinks, a
 * re-render lays rows out from estimates). A list that asks "am I at the bottom?" after such a
 * change gets the wrong answer, stops following, and new messages arrive out of sight. So the
 * answer is a mode that only the reader changes:
 *
 * - `bottom`: following the conversation. After every change the view is put back at the end.
 * - `reading`: looking at a message. The view is held by that row's key and the distance from its
 *   top edge to the top of the viewport, so rows added or removed above or below never move it.
 *
 * Only a scroll event that is not the echo of our own write can change the mode: the reader's
 * wheel, touch, keys or scrollbar. DOM-free and framework-free, so every rule is table-tested
 * (`apps/web/test/scroll-anchor.test.ts`); `MessageList` binds it to the element.
 */

/** One laid-out row of the list: its stable key and its top and bottom edges (px, list space). */
export interface RowBox {
  key: string | number | bigint;
  start: number;
  end: number;
}

/** What the list looks like right now, as the DOM shows it. */
export interface ListLayout {
  /** Rows ascending by `start` (the virtualiser's measurements of the last render). */
  rows: readonly RowBox[];
  scrollTop: number;
  /** The largest scrollTop the element allows (scrollHeight - clientHeight, at least 0). */
  maxScrollTop: number;
}

export type AnchorMode =
  | { kind: "bottom" }
  /** Holding `key`'s row so that the viewport's top edge stays `offset` px below the row's top. */
  | { kind: "reading"; key: RowBox["key"]; offset: number; index: number };

export interface ScrollAnchor {
  readonly mode: AnchorMode;
  readonly atBottom: boolean;
  /**
   * A scroll event. `canFollow`: the loaded window reaches the room's newest message, so being at
   * the end of the list means being at the end of the conversation (otherwise reaching the end of
   * a trimmed window keeps the reader where they are while the next page loads below).
   */
  scrolled(layout: ListLayout, canFollow: boolean): void;
  /** After a render or a measurement: the scrollTop that keeps the view where it belongs, or null when it already is. */
  restore(layout: ListLayout): number | null;
  /** Follow the conversation again (opening a room, "Jump to latest", sending a message). */
  stickToBottom(): void;
  /**
   * Read the row `key` with the viewport's top edge `offset` px below the row's top (negative: the
   * row sits lower in the viewport). Jumping to a reply's original uses it: from then on the row
   * is held like any row the reader scrolled to, through measurements and pages arriving.
   */
  hold(key: RowBox["key"], offset: number): void;
  /** Called whenever `atBottom` flips. */
  subscribe(listener: (atBottom: boolean) => void): () => void;
}

export interface ScrollAnchorOptions {
  /** How close (px) to the end counts as at the end when the reader scrolls there. */
  bottomThreshold: number;
}

/** A write and its echo can differ by rounding (fractional device pixels); anything less is ours. */
const ECHO_TOLERANCE_PX = 1;

/** The row under the viewport's top edge (the last one starting at or above it), by binary search. */
export function rowAt(rows: readonly RowBox[], offset: number): number {
  let lo = 0;
  let hi = rows.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.start <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found === -1) return rows.length > 0 ? 0 : -1;
  // Inside a gap after `found` (list padding): the next row is the one the reader sees.
  return rows[found]!.end <= offset && found + 1 < rows.length ? found + 1 : found;
}

function capture(layout: ListLayout): AnchorMode {
  const index = rowAt(layout.rows, layout.scrollTop);
  const row = layout.rows[index];
  if (!row) return { kind: "reading", key: "", offset: layout.scrollTop, index: -1 };
  return { kind: "reading", key: row.key, offset: layout.scrollTop - row.start, index };
}

function clamp(value: number, max: number): number {
  return Math.min(Math.max(0, value), Math.max(0, max));
}

export function createScrollAnchor({ bottomThreshold }: ScrollAnchorOptions): ScrollAnchor {
  let mode: AnchorMode = { kind: "bottom" };
  /** The scrollTop we wrote last and whose scroll event has not come back yet. */
  let written: number | null = null;
  const listeners = new Set<(atBottom: boolean) => void>();

  const setMode = (next: AnchorMode) => {
    const flipped = (next.kind === "bottom") !== (mode.kind === "bottom");
    mode = next;
    if (flipped) for (const l of listeners) l(next.kind === "bottom");
  };

  /** Where the reading anchor's row is now; null when it left the list (trimmed or replaced). */
  const readingTarget = (m: Extract<AnchorMode, { kind: "reading" }>, layout: ListLayout): number | null => {
    const { rows } = layout;
    // The row usually keeps its index (appends) or moves by a page (prepends): look there first.
    let row = rows[m.index]?.key === m.key ? rows[m.index] : undefined;
    if (!row) {
      const i = rows.findIndex((r) => r.key === m.key);
      if (i === -1) return null;
      row = rows[i]!;
      m.index = i;
    }
    return row.start + m.offset;
  };

  return {
    get mode() {
      return mode;
    },
    get atBottom() {
      return mode.kind === "bottom";
    },
    scrolled(layout, canFollow) {
      if (written !== null && Math.abs(layout.scrollTop - written) < ECHO_TOLERANCE_PX) {
        // The echo of our own write: nothing the reader did. Keep the mode (and the anchor, which
        // that write just honoured).
        written = null;
        return;
      }
      written = null;
      const fromBottom = layout.maxScrollTop - layout.scrollTop;
      if (fromBottom <= bottomThreshold && canFollow) {
        setMode({ kind: "bottom" });
        return;
      }
      // A small nudge while following stays following: the next message pulls the view back.
      if (mode.kind === "bottom" && fromBottom <= bottomThreshold) return;
      setMode(capture(layout));
    },
    restore(layout) {
      let target: number;
      if (mode.kind === "bottom") target = layout.maxScrollTop;
      else {
        const at = readingTarget(mode, layout);
        if (at === null) {
          // The row is gone (the window was replaced): hold whatever is under the viewport now
          // instead of moving to some unrelated place.
          mode = capture(layout);
          return null;
        }
        target = at;
      }
      target = clamp(target, layout.maxScrollTop);
      if (Math.abs(target - layout.scrollTop) < ECHO_TOLERANCE_PX) return null;
      written = target;
      return target;
    },
    stickToBottom() {
      setMode({ kind: "bottom" });
    },
    hold(key, offset) {
      // index -1: looked up by key at the next restore.
      setMode({ kind: "reading", key, offset, index: -1 });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
