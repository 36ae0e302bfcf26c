import { createContext, useContext, useEffect, useState } from "react";
import type { FlingWatch } from "./fling.js";

/** The message list's fling watch, for its rows (null outside a list: rows render full). */
export const FlingContext = createContext<FlingWatch | null>(null);

/**
 * Light rows turning full per animation frame once a fling ended. All at once, a screen and its
 * overscan (~40 rows) would be one long frame every time the reader stops (or a flick waits for
 * a page of history); a few per frame finish the screen within about ten frames.
 */
const ROWS_PER_FRAME = 4;

/** The light rows of one list waiting to turn full, latest mounted last (turned full first). */
interface FullQueue {
  add(turnFull: () => void): void;
  delete(turnFull: () => void): void;
}

const queues = new WeakMap<FlingWatch, FullQueue>();

function createFullQueue(watch: FlingWatch): FullQueue {
  const waiting = new Set<() => void>();
  let frame = 0;
  const step = () => {
    frame = 0;
    if (watch.flinging) return;
    // The rows mounted last are the ones the fling stopped at: the reader is looking at them.
    for (const turnFull of [...waiting].slice(-ROWS_PER_FRAME)) {
      waiting.delete(turnFull);
      turnFull();
    }
    schedule();
  };
  const schedule = () => {
    if (frame === 0 && waiting.size > 0 && !watch.flinging) frame = requestAnimationFrame(step);
  };
  // The list's watch lives as long as the list; so does this subscription.
  watch.subscribe(schedule);
  return {
    add(turnFull) {
      waiting.add(turnFull);
      // The fling may have ended between the row's render and its effect.
      schedule();
    },
    delete(turnFull) {
      waiting.delete(turnFull);
    },
  };
}

function queueOf(watch: FlingWatch): FullQueue {
  let queue = queues.get(watch);
  if (!queue) queues.set(watch, (queue = createFullQueue(watch)));
  return queue;
}

/**
 * True while this row should render light: it mounted during a fling (see fling.ts) and has not
 * had its turn to become full since the fling ended. A light row shows a formatted body as plain
 * text without its marks and its reactions as an empty bar of the same height, the parts of a row
 * that cost most to build and lay out.
 *
 * Decided once, at mount: a row that is already full never turns light when a fling starts (that
 * would rebuild rows for nothing), and a light row turns full once.
 */
export function useLightRow(): boolean {
  const watch = useContext(FlingContext);
  const [light, setLight] = useState(() => watch?.flinging ?? false);
  useEffect(() => {
    if (!light || !watch) return;
    const queue = queueOf(watch);
    const turnFull = () => setLight(false);
    queue.add(turnFull);
    return () => queue.delete(turnFull);
  }, [light, watch]);
  return light;
}
