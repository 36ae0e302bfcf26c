import { describe, expect, it } from "vitest";
import { createFlingWatch, FLING_QUIET_MS, type FlingWatch } from "../src/features/chat/fling.js";

const FRAME_MS = 1000 / 60;

/**
 * Runs frames from `start`, one per entry of `moves`: the px the reader moved the list before that
 * frame (null: no scroll event). Returns `flinging` after each frame and the time after the last.
 */
function run(watch: FlingWatch, moves: readonly (number | null)[], start = 0, top = { value: 10_000 }) {
  const states: boolean[] = [];
  let now = start;
  for (const move of moves) {
    if (move !== null) {
      top.value -= move;
      watch.scrolled(top.value);
    }
    watch.frame(now);
    states.push(watch.flinging);
    now += FRAME_MS;
  }
  return { states, now };
}

function fresh(): { watch: FlingWatch; top: { value: number } } {
  const watch = createFlingWatch();
  const top = { value: 10_000 };
  watch.wrote(top.value);
  return { watch, top };
}

describe("fling watch", () => {
  it("a fast flick in every frame is a fling from its third frame", () => {
    const { watch, top } = fresh();
    expect(run(watch, [600, 600, 600, 600], 0, top).states).toEqual([false, false, true, true]);
  });

  it("a fling survives slow frames (a busy page) as long as every frame moves fast", () => {
    const { watch, top } = fresh();
    watch.scrolled((top.value -= 600));
    watch.frame(0);
    watch.scrolled((top.value -= 600));
    watch.frame(50);
    watch.scrolled((top.value -= 600));
    watch.frame(100);
    expect(watch.flinging).toBe(true);
  });

  it.each<[string, (number | null)[]]>([
    ["one programmatic jump", [5_000, null, null, null, null]],
    ["a walk that moves every other frame", [450, null, 450, null, 450, null, 450, null]],
    ["a mouse wheel's smooth scroll (100 px over ~9 frames)", [12, 12, 11, 11, 11, 11, 11, 11, 10]],
  ])("%s is no fling", (_, moves) => {
    const { watch, top } = fresh();
    expect(run(watch, moves, 0, top).states.every((s) => !s)).toBe(true);
  });

  it("the list's own writes (the anchor's corrections) never count, and their echo neither", () => {
    const { watch } = fresh();
    for (let i = 0; i < 6; i++) {
      watch.wrote(10_000 - 600 * (i + 1));
      watch.scrolled(10_000 - 600 * (i + 1));
      watch.frame(i * FRAME_MS);
    }
    expect(watch.flinging).toBe(false);
  });

  it("a correction coalesced with the reader's movement counts only the reader's part", () => {
    const { watch } = fresh();
    let top = 10_000;
    for (let i = 0; i < 3; i++) {
      // The anchor moves the view 40 px down for rows measured above it; the reader moved 10 px up.
      watch.wrote((top += 40));
      watch.scrolled((top -= 10));
      watch.frame(i * FRAME_MS);
    }
    expect(watch.flinging).toBe(false);
  });

  it("ends once the list has been still for FLING_QUIET_MS, telling its listeners once", () => {
    const { watch, top } = fresh();
    const { now } = run(watch, [600, 600, 600], 0, top);
    let calls = 0;
    watch.subscribe(() => calls++);
    // Still frames shorter than the quiet time keep the fling (a flick slowing down).
    let t = now;
    for (; t < now + FLING_QUIET_MS - FRAME_MS; t += FRAME_MS) expect(watch.frame(t)).toBe(true);
    expect(watch.flinging).toBe(true);
    expect(watch.frame(now + FLING_QUIET_MS)).toBe(false);
    expect(watch.flinging).toBe(false);
    expect(calls).toBe(1);
  });

  it("after a pause, the first frame's gap is no speed: a slow scroll then is no fling", () => {
    const { watch, top } = fresh();
    let { now } = run(watch, [600, null], 0, top);
    while (watch.frame(now)) now += FRAME_MS;
    // Long after the watch stopped asking for frames, a slow scroll starts nothing.
    const { states } = run(watch, [20, 20, 20, 20], now + 10_000, top);
    expect(states.every((s) => !s)).toBe(true);
  });
});
