import { useSyncExternalStore } from "react";
import { ERROR_CODES, type ErrorCode } from "@parley/shared";
import { en } from "./en.js";
import { translate } from "./translate.js";
import type { Dictionary, MessageKey, Params } from "./types.js";

export type { Dictionary, MessageKey, Params } from "./types.js";

/**
 * The one translation layer. Every UI string goes through `t`. To add a locale (zh-CN next), write
 * `zh-CN.ts` exporting a `Dictionary` and add it to `dictionaries`; `pickLocale` then chooses it
 * from the browser languages.
 */
const dictionaries = {
  en,
} satisfies Record<string, Dictionary>;

export type Locale = keyof typeof dictionaries;

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

let locale: Locale = pickLocale(
  typeof navigator === "undefined" ? [] : navigator.languages,
  Object.keys(dictionaries),
) as Locale;
const listeners = new Set<() => void>();

export function getLocale(): Locale {
  return locale;
}

/** Switches the UI language; components using `useT` re-render. */
export function setLocale(next: Locale): void {
  if (next === locale) return;
  locale = next;
  if (typeof document !== "undefined") document.documentElement.lang = next;
  for (const listener of listeners) listener();
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
