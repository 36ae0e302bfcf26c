import type { Dictionary, MessageKey, Params, Plural } from "./types.js";

const PLACEHOLDER = /\{(\w+)\}/g;

/** Replaces `{name}` placeholders; an unknown placeholder is left as written so the bug is visible. */
export function interpolate(template: string, params: Params | undefined): string {
  if (!params) return template;
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

const pluralRulesCache = new Map<string, Intl.PluralRules>();

function pluralRules(locale: string): Intl.PluralRules {
  let rules = pluralRulesCache.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    pluralRulesCache.set(locale, rules);
  }
  return rules;
}

function pickPlural(forms: Plural, locale: string, count: number): string {
  const category = pluralRules(locale).select(count) as keyof Plural;
  return forms[category] ?? forms.other;
}

/**
 * Looks up `key` in `dict` (falling back to `fallback`, then to the key itself) and fills in
 * `params`. Pure, so it is unit-tested and shared by the React hook and non-React code
 * (notifications).
 */
export function translate(
  dict: Dictionary,
  fallback: Dictionary,
  locale: string,
  key: MessageKey,
  params?: Params,
): string {
  const entry = dict[key] ?? fallback[key];
  if (entry === undefined) return key;
  if (typeof entry === "string") return interpolate(entry, params);
  const count = typeof params?.count === "number" ? params.count : 0;
  return interpolate(pickPlural(entry, locale, count), params);
}
