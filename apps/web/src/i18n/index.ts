import { useSyncExternalStore } from "react";
import { ERROR_CODES, type ErrorCode } from "@parley/shared";
import { en } from "./en.js";
import { translate } from "./translate.js";
import { zhCN } from "./zh-CN.js";
import type { Dictionary, MessageKey, Params } from "./types.js";

export type { Dictionary, MessageKey, Params } from "./types.js";

/**
 * The one translation layer. Every UI string goes through `t` (a lint rule refuses literals in
 * JSX). To add a locale, write `<tag>.ts` exporting a `Dictionary`, add it here and name it in
 * every dictionary's `language.<tag>`; `pickLocale` then chooses it from the browser languages.
 */
export const dictionaries = {
  en,
  "zh-CN": zhCN,
} satisfies Record<string, Dictionary>;

export type Locale = keyof typeof dictionaries;

/** The locales in the order the language switch lists them. */
export const LOCALES = Object.keys(dictionaries) as Locale[];

function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && Object.hasOwn(dictionaries, value);
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

let locale: Locale =
  storedLocale() ?? (pickLocale(typeof navigator === "undefined" ? [] : navigator.languages, LOCALES) as Locale);
const listeners = new Set<() => void>();

export function getLocale(): Locale {
  return locale;
}

/**
 * Switches the UI language at once, without a reload: components using `useT`/`useLocale`
 * re-render, `<html lang>` follows (screen readers' voice, CJK glyph choice). With `remember` the
 * choice is kept in localStorage and wins over the browser's languages on the next visit.
 */
export function setLocale(next: Locale, { remember = false }: { remember?: boolean } = {}): void {
  if (remember) {
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, next);
    } catch {
      // Not remembered (see storedLocale); the switch still applies to this page.
    }
  }
  if (next === locale) return;
  locale = next;
  if (typeof document !== "undefined") document.documentElement.lang = next;
  for (const listener of listeners) listener();
}

/**
 * Applies a choice made in another tab of this browser (the `storage` event fires only in the
 * others), so all tabs speak one language. Called once by main.tsx; returns the unsubscribe.
 */
export function followLocaleAcrossTabs(): () => void {
  const onStorage = (event: StorageEvent) => {
    if (event.key === STORAGE_KEY && isLocale(event.newValue)) setLocale(event.newValue);
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
  return translate(dictionaries[locale], en, locale, key, params);
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
