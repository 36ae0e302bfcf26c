import type { en } from "./en.js";

/** A string with plural forms, picked by `Intl.PluralRules` (`one`, `few`, … fall back to `other`). */
export interface Plural {
  zero?: string;
  one?: string;
  two?: string;
  few?: string;
  many?: string;
  other: string;
}

/** Every translatable key; a typo is a type error. */
export type MessageKey = keyof typeof en;

/** A locale's dictionary: a string (or plural forms) for every key. */
export type Dictionary = { readonly [K in MessageKey]: string | Plural };

/** Values interpolated into `{name}` placeholders. */
export type Params = Readonly<Record<string, string | number>>;
