import { useState, type CompositionEvent, type KeyboardEvent } from "react";

/**
 * IME-safe Enter. With a Chinese (or Japanese, Korean…) input method, Enter while a composition is
 * open picks the candidate; it must not send the message or submit the form. Browsers say so
 * differently:
 * - Chrome and Firefox: the Enter's keydown comes *before* compositionend, with `isComposing` true
 *   (and keyCode 229);
 * - Safari: compositionend comes *first*, then the Enter's keydown with `isComposing` false (keyCode
 *   229 on most versions, but not all: https://bugs.webkit.org/show_bug.cgi?id=165004).
 * So a keydown counts as composing when the event says so, when keyCode is 229, between
 * compositionstart and compositionend, or right after compositionend (until the next task: the
 * Enter keydown that ended the composition is dispatched before any timer can run).
 */
export interface ImeGuard {
  onCompositionStart: (e: CompositionEvent) => void;
  onCompositionEnd: (e: CompositionEvent) => void;
  /** True when this keydown belongs to an IME composition and must not act as a command. */
  isComposing: (e: Pick<globalThis.KeyboardEvent, "isComposing" | "keyCode">) => boolean;
}

/** A guard for one element (or a form: composition events bubble). Pure state; tested directly. */
export function createImeGuard(schedule: (fn: () => void) => void = (fn) => setTimeout(fn, 0)): ImeGuard {
  let composing = false;
  let justEnded = false;
  return {
    onCompositionStart: () => {
      composing = true;
      justEnded = false;
    },
    onCompositionEnd: () => {
      composing = false;
      justEnded = true;
      schedule(() => {
        justEnded = false;
      });
    },
    // keyCode is deprecated but is the one signal some Safari versions give (see above).
    isComposing: (e) => e.isComposing || e.keyCode === 229 || composing || justEnded,
  };
}

/** The element's guard, stable across renders. */
export function useImeGuard(): ImeGuard {
  return useState(createImeGuard)[0];
}

/**
 * Props for an input or a form where Enter submits (implicit submission): an Enter that picks an
 * IME candidate is kept from submitting. Spread them (`{...imeSafe}`) on the element.
 */
export function useImeSafeEnter(): Pick<ImeGuard, "onCompositionStart" | "onCompositionEnd"> & {
  onKeyDown: (e: KeyboardEvent) => void;
} {
  const guard = useImeGuard();
  return {
    onCompositionStart: guard.onCompositionStart,
    onCompositionEnd: guard.onCompositionEnd,
    onKeyDown: (e) => {
      if (e.key === "Enter" && guard.isComposing(e.nativeEvent)) e.preventDefault();
    },
  };
}
