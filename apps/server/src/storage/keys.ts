import { skeleton } from "../security/skeleton.js";

/**
 * Version tag of the key below. Keys written before it (plain NFKC + lower case) are found by their
 * missing tag and rewritten once at start-up (`rekeyNames` in each storage).
 */
export const NAME_KEY_PREFIX = "s1:";

/**
 * Uniqueness key for nicknames and room names: NFKC, lower case, then the UTS #39 confusable
 * skeleton, so `Admin`, `АDMIN` (Cyrillic А) and `ＡＤＭＩＮ` are one name. Lower case first: the
 * confusables table maps some capitals to other letters (I -> l), which would make `Il` and `ll`
 * differ from `il`.
 */
export function nameKey(name: string): string {
  return NAME_KEY_PREFIX + skeleton(name.normalize("NFKC").toLowerCase());
}

/** Escapes LIKE wildcards so a search for "50%" finds "50%" literally. */
export function likePattern(query: string): string {
  // Search within the skeleton (minus the version tag), so a query finds names that look like it.
  return `%${nameKey(query).slice(NAME_KEY_PREFIX.length).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
