import { CJK, WORD_CHAR } from "@parley/shared";

/**
 * What both backends' `searchMessages` share: escaping terms for LIKE and regular expressions, the
 * word characters as PostgreSQL sees them, and the cursor. The rule a term must satisfy is
 * `matchesTerm` in @parley/shared; the backends use indexes to narrow the bodies down and then check
 * the rule (or an expression that decides exactly the same) on what is left.
 */

/**
 * A word-prefix term's leading run of word characters (at most its two): a body the term matches
 * has a word that starts with it. The whole term when it is all word characters; shorter for terms
 * such as `a-`, `'s` or `%`, which the word indexes cannot look up as they are.
 */
export function wordLead(term: string): string {
  const chars = [...term];
  let end = 0;
  while (end < chars.length && WORD_CHAR.test(chars[end]!)) end++;
  return chars.slice(0, end).join("");
}

/** A LIKE pattern (with `ESCAPE '\'`) for a body that contains `term` literally. */
export const likeContains = (term: string): string => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * `term` as a literal in a PostgreSQL regular expression (ARE): every ASCII character that is not a
 * letter or digit gets a backslash (a backslash before one makes it literal, before a letter or
 * digit it would be an escape such as `\d`); other characters are never special.
 */
export const regexLiteral = (term: string): string => term.replace(/[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/g, (c) => `\\${c}`);

/**
 * The code point ranges of WORD_CHAR as the inside of a regular-expression bracket (`\uXXXX` and
 * `\UXXXXXXXX`, valid in PostgreSQL's AREs), so PostgreSQL splits words exactly where the shared
 * rule does rather than by the database locale's idea of a letter. Planes 4 to 13 are skipped: no
 * character is assigned there, and the 15th and 16th hold only private use characters (never
 * letters, digits or marks), so the scan costs a fraction of the whole code space.
 */
export const wordCharClass = (): string => regexClass(WORD_CHAR);

/** The same for the shared rule's CJK scripts (a term with one of them is a substring term). */
export const cjkCharClass = (): string => regexClass(CJK);

function regexClass(chars: RegExp): string {
  const hex = (c: number) => (c <= 0xffff ? `\\u${c.toString(16).padStart(4, "0")}` : `\\U${c.toString(16).padStart(8, "0")}`);
  const ranges: string[] = [];
  const scan = (from: number, to: number) => {
    let start = -1;
    for (let c = from; c <= to + 1; c++) {
      const hit = c <= to && (c < 0xd800 || c > 0xdfff) && chars.test(String.fromCodePoint(c));
      if (hit && start < 0) start = c;
      if (!hit && start >= 0) {
        ranges.push(start === c - 1 ? hex(start) : `${hex(start)}-${hex(c - 1)}`);
        start = -1;
      }
    }
  };
  scan(0, 0x3ffff);
  scan(0xe0000, 0xeffff);
  return ranges.join("");
}

/**
 * The cursor is the commit-order key of the last result (SQLite's `search_docs.docid`, PostgreSQL's
 * `messages.search_order`); the next page continues below it. The protocol admits up to 16 digits,
 * more than 2^53: such a value only means "from the newest", which the rounding keeps.
 */
export function cursorBound(cursor: string | null): number {
  if (cursor === null) return Number.MAX_SAFE_INTEGER;
  if (!/^[1-9][0-9]{0,15}$/.test(cursor)) throw new Error(`bad search cursor: ${cursor}`);
  return Math.min(Number(cursor), Number.MAX_SAFE_INTEGER);
}

/**
 * The page and its cursor from rows of one more than `limit` (newest first): the extra row only
 * says that more exist, so the cursor is the key of the last row kept.
 */
export function searchPage<R>(rows: R[], limit: number, key: (row: R) => number): { rows: R[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > limit && last !== undefined ? String(key(last)) : null };
}
