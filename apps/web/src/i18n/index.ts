import { useSyncExternalStore } from "react";
import { ERROR_CODES, type ErrorCode } from "@parley/shared";
import { en } from "./en.js";
import { translate } from "./translate.js";
import type { Dictionary, MessageKey, Params } from "./types.js";

export type { Dictionary, MessageKey, Params } from "./types.js";

/**
 * The one translation layer. Every UI string goes through `t` (a lint rule refuses literals in
 * JSX). English is the fallback and is always in the bundle; every other dictionary is a chunk of
 * its own, loaded when its locale is chosen (issue 15: most readers never download it). To add a
 * locale, write `<tag>.ts` exporting a `Dictionary`, add its loader here and name it in every
 * dictionary's `language.<tag>`; `pickLocale` then chooses it from the browser languages.
 */
const loaders = {
  en: () => Promise.resolve(en),
  "zh-CN": () => import("./zh-CN.js").then((m) => m.zhCN),
} satisfies Record<string, () => Promise<Dictionary>>;

export type Locale = keyof typeof loaders;

/** The locales in the order the language switch lists them. */
export const LOCALES = Object.keys(loaders) as Locale[];

/** The dictionaries in memory: English from the start, another once its chunk has loaded. */
const loaded: Partial<Record<Locale, Dictionary>> = { en };

/** A locale's dictionary, from its chunk the first time (rejects when the chunk cannot load). */
export async function loadDictionary(tag: Locale): Promise<Dictionary> {
  const dict = loaded[tag] ?? (await loaders[tag]());
  loaded[tag] = dict;
  return dict;
}

function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && Object.hasOwn(loaders, value);
}

/** Where the reader's explicit choice is remembered; without one the browser's languages decide. */
const STORAGE_KEY = "parley.locale";

function storedLocale(): Locale | null {
  try {
    const value = globalThis.localStorage?.getItem(STORAGE_KEY);
    return isLocale(value) ? value : null;
  } catch {
    // Storage can throw (disabled cookies, sandboxed frames): then nothing is remembered.
    return null;
  }
}

/** The best supported locale for the browser's preferred languages (exact tag, then language). */
export function pickLocale(preferred: readonly string[], supported: readonly string[]): string {
  for (const tag of preferred) {
    const exact = supported.find((s) => s.toLowerCase() === tag.toLowerCase());
    if (exact) return exact;
    const lang = tag.split("-")[0]?.toLowerCase();
    const byLang = supported.find((s) => s.split("-")[0]?.toLowerCase() === lang);
    if (byLang) return byLang;
  }
  return "en";
}

/** The locale this visit should start in: the remembered choice, else the browser's languages. */
export function startingLocale(): Locale {
  return storedLocale() ?? (pickLocale(typeof navigator === "undefined" ? [] : navigator.languages, LOCALES) as Locale);
}

/**
 * The language the UI speaks: always one whose dictionary is loaded, so `t` never shows English
 * under a Chinese `<html lang>`. It starts as English; main.tsx switches to `startingLocale()`
 * (waiting for its chunk) before the first render.
 */
let locale: Locale = "en";
/** The locale being loaded, shown by the language switch meanwhile; null when none is. */
let pending: Locale | null = null;
const listeners = new Set<() => void>();

export function getLocale(): Locale {
  return locale;
}

export function getPendingLocale(): Locale | null {
  return pending;
}

function notify(): void {
  for (const listener of listeners) listener();
}

/**
 * Switches the UI language without a reload: components using `useT`/`useLocale` re-render,
 * `<html lang>` follows (screen readers' voice, CJK glyph choice). A locale not loaded yet is
 * loaded first; until then the UI stays in its language. If the chunk cannot load (offline), it
 * stays so: the promise resolves either way, never rejects. The last call wins over a slower
 * earlier load. With `remember` the choice is kept in localStorage and wins over the browser's
 * languages on the next visit (remembered at once, even if this load fails: it is the reader's
 * choice, and the next visit or another tab may well load it).
 */
export async function setLocale(next: Locale, { remember = false }: { remember?: boolean } = {}): Promise<void> {
  if (remember) {
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, next);
    } catch {
      // Not remembered (see storedLocale); the switch still applies to this page.
    }
  }
  const ready = loaded[next];
  if (ready) {
    apply(next, null);
    return;
  }
  apply(locale, next);
  try {
    await loadDictionary(next);
  } catch (error) {
    if (pending === next) apply(locale, null);
    console.warn(`i18n: the ${next} dictionary did not load; staying in ${locale}`, error);
    return;
  }
  // A later choice (or one already loaded) took over while this chunk was on its way.
  if (pending === next) apply(next, null);
}

function apply(next: Locale, nextPending: Locale | null): void {
  if (next === locale && nextPending === pending) return;
  const changed = next !== locale;
  locale = next;
  pending = nextPending;
  if (changed && typeof document !== "undefined") document.documentElement.lang = next;
  notify();
}

/**
 * Applies a choice made in another tab of this browser (the `storage` event fires only in the
 * others), so all tabs speak one language. Called once by main.tsx; returns the unsubscribe.
 */
export function followLocaleAcrossTabs(): () => void {
  const onStorage = (event: StorageEvent) => {
    if (event.key === STORAGE_KEY && isLocale(event.newValue)) void setLocale(event.newValue);
  };
  window.addEventListener("storage", onStorage);
  return () => window.removeEventListener("storage", onStorage);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Translates `key` in the current locale. */
export function t(key: MessageKey, params?: Params): string {
  return translate(loaded[locale] ?? en, en, locale, key, params);
}

const knownCodes = new Set<string>(ERROR_CODES);

/** Codes the client core reports itself (no server sends them). */
type ClientErrorCode =
  | "TIMEOUT"
  | "OFFLINE"
  | "EDIT_CONFLICT"
  // Files (the core's uploads and the XHR transport).
  | "UPLOAD_FAILED"
  | "UPLOAD_LOST"
  | "FILE_EMPTY"
  | "TOO_MANY_FILES"
  | "UPLOADS_UNAVAILABLE"
  | "NETWORK"
  | "ABORTED";
const clientCodes = new Set<string>([
  "TIMEOUT",
  "OFFLINE",
  "EDIT_CONFLICT",
  "UPLOAD_FAILED",
  "UPLOAD_LOST",
  "FILE_EMPTY",
  "TOO_MANY_FILES",
  "UPLOADS_UNAVAILABLE",
  "NETWORK",
  "ABORTED",
] satisfies ClientErrorCode[]);

/** The translated sentence for an error code (shared codes, plus client ones like TIMEOUT). */
export function errorText(code: string | null | undefined): string {
  if (code && (knownCodes.has(code) || clientCodes.has(code))) {
    return t(`error.${code as ErrorCode | ClientErrorCode}`);
  }
  return t("error.UNKNOWN");
}

/**
 * `t` for components: re-renders them when the locale changes. Returns the module `t`, whose
 * identity is stable, together with the locale so memoised values can depend on it.
 */
export function useT(): typeof t {
  useSyncExternalStore(subscribe, getLocale, getLocale);
  return t;
}

/** The current locale as React state (for Intl formatters). */
export function useLocale(): Locale {
  return useSyncExternalStore(subscribe, getLocale, getLocale);
}

/** The locale the language switch is loading, or null (for its in-flight state). */
export function usePendingLocale(): Locale | null {
  return useSyncExternalStore(subscribe, getPendingLocale, getPendingLocale);
}
