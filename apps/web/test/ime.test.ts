import { describe, expect, it } from "vitest";
import { createImeGuard } from "../src/lib/ime.js";

const enter = { isComposing: false, keyCode: 13 };
const noop = {} as never;

/** A guard whose "next task" runs only when the test says so. */
function guardWithManualTasks() {
  const tasks: (() => void)[] = [];
  const guard = createImeGuard((fn) => tasks.push(fn));
  return { guard, runTasks: () => tasks.splice(0).forEach((fn) => fn()) };
}

describe("IME guard", () => {
  it("lets a plain Enter through", () => {
    expect(createImeGuard().isComposing(enter)).toBe(false);
  });

  it("holds an Enter the event marks as composing (Chrome, Firefox) or with keyCode 229", () => {
    const guard = createImeGuard();
    expect(guard.isComposing({ isComposing: true, keyCode: 13 })).toBe(true);
    expect(guard.isComposing({ isComposing: false, keyCode: 229 })).toBe(true);
  });

  it("holds an Enter between compositionstart and compositionend", () => {
    const { guard, runTasks } = guardWithManualTasks();
    guard.onCompositionStart(noop);
    expect(guard.isComposing(enter)).toBe(true);
    guard.onCompositionEnd(noop);
    runTasks();
    expect(guard.isComposing(enter)).toBe(false);
  });

  it("holds the Enter Safari sends right after compositionend, and only that one", () => {
    const { guard, runTasks } = guardWithManualTasks();
    guard.onCompositionStart(noop);
    guard.onCompositionEnd(noop);
    // Safari: compositionend, then the Enter's keydown in the same task, isComposing false.
    expect(guard.isComposing(enter)).toBe(true);
    runTasks();
    // The next Enter the person presses sends.
    expect(guard.isComposing(enter)).toBe(false);
  });

  it("a new composition started before the old one's timer ran is still a composition", () => {
    const { guard, runTasks } = guardWithManualTasks();
    guard.onCompositionStart(noop);
    guard.onCompositionEnd(noop);
    guard.onCompositionStart(noop);
    runTasks();
    expect(guard.isComposing(enter)).toBe(true);
  });
});
