import { CJK, WORD_CHAR, termMode } from "@parley/shared";
import { wordLead } from "../search.js";

/**
 * What SQLite's one search index (`search_index`, an FTS5 trigram table, see migration 4) holds for
 * a body, and which of its trigrams a search term looks up. Every term becomes trigrams that each
 * body the term matches is sure to contain, so one FTS5 query (an AND of them all) narrows a search
 * down whatever its terms, and a check of the rule itself on the rows found decides:
 *
 * - a substring of three characters or more: trigrams of the term, which the body has;
 * - a word prefix (at most two characters): a marker trigram `WORD_MARK WORD_MARK a` for every
 *   word that starts with `a`, `WORD_MARK a b` for every word that starts with `ab`, words split
 *   exactly where WORD_CHAR splits them (no tokenizer of SQLite's does: unicode61 knows Unicode
 *   6.1, and leaves a word's first characters to a prefix query);
 * - a substring of one or two CJK characters (too short for trigrams): `CJK_MARK CJK_MARK 中` for
 *   each such character, `CJK_MARK x y` for each pair of neighbours of which one is CJK.
 *
 * Markers are lower-cased here (one character to one, as both sides are), and FTS5 folds case on
 * top, the same on both sides. A body that itself contains a marker character could produce a
 * marker trigram by accident: that only adds a candidate, which the check then drops.
 */

/** The marker characters (control characters, which chat text hardly ever holds). */
export const WORD_MARK = "\u0001";
export const CJK_MARK = "\u0002";

/**
 * Per code unit, for the append path (every message passes here, and a Unicode property test costs
 * more than all the rest): ASCII from tables, the rest by the shared definitions.
 */
const ASCII = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c));
const ASCII_WORD = Uint8Array.from(ASCII, (c) => (WORD_CHAR.test(c) ? 1 : 0));
const ASCII_SPACE = Uint8Array.from(ASCII, (c) => (/\s/u.test(c) ? 1 : 0));
const ASCII_FOLD = ASCII.map((c) => c.toLowerCase());
/** No CJK script has a character below U+1100 (Hangul Jamo, the first). */
const FIRST_CJK = 0x1100;

/** Lower case when that is one character again (not "İ", which becomes two). */
function fold(c: string): string {
  const unit = c.charCodeAt(0);
  if (unit < 128) return ASCII_FOLD[unit]!;
  const lower = c.toLowerCase();
  return lower.length === c.length ? lower : c;
}

/**
 * The text `search_index` indexes for `body`: the body, a line break, then its markers (one of
 * each), one after the other: the trigrams across two markers are never looked up.
 */
export function indexText(body: string): string {
  const markers = new Set<string>();
  /** The current word's first character (folded) and how many characters of it were read. */
  let first = "";
  let length = 0;
  /** Where the previous character starts, for CJK pairs: -1 at the start and after a space. */
  let prevAt = -1;
  let prevCjk = false;
  for (let i = 0; i < body.length; ) {
    const at = i;
    const unit = body.charCodeAt(i);
    let word: boolean;
    let space: boolean;
    let cjk = false;
    if (unit < 128) {
      word = ASCII_WORD[unit] === 1;
      space = ASCII_SPACE[unit] === 1;
      i += 1;
    } else {
      const cp = body.codePointAt(i)!;
      const c = String.fromCodePoint(cp);
      i += c.length;
      word = WORD_CHAR.test(c);
      space = !word && /\s/u.test(c);
      cjk = cp >= FIRST_CJK && CJK.test(c);
    }
    if (word) {
      length++;
      if (length === 1) first = fold(body.slice(at, i));
      // `M M a b`: its trigrams (M, M, a) and (M, a, b) are both markers of this word's start.
      else if (length === 2) markers.add(WORD_MARK + WORD_MARK + first + fold(body.slice(at, i)));
    } else {
      // A one-character word: `M M a` (longer ones got `M M a b`, which holds that trigram too).
      if (length === 1) markers.add(WORD_MARK + WORD_MARK + first);
      length = 0;
    }
    if (cjk) markers.add(CJK_MARK + CJK_MARK + fold(body.slice(at, i)));
    // A pair with a space in it is never a term (terms are trimmed, and a space inside makes three).
    if ((cjk || prevCjk) && prevAt >= 0 && !space) markers.add(CJK_MARK + fold(body.slice(prevAt, at)) + fold(body.slice(at, i)));
    prevAt = space ? -1 : at;
    prevCjk = cjk;
  }
  if (length === 1) markers.add(WORD_MARK + WORD_MARK + first);
  return markers.size === 0 ? body : `${body}\n${[...markers].join("")}`;
}

/**
 * Trigrams looked up per substring term. Every one of a term's trigrams is in each body it matches,
 * so any few narrow the bodies down and the check decides; eight spread over the term (its first
 * and last among them) narrow as well as all of them in practice, and a 64-character term does not
 * become 62 index lookups.
 */
const TRIGRAMS_PER_TERM = 8;

/**
 * The trigrams of the index that every body `term` matches contains (see the top of this file).
 * None for a word-prefix term that starts with a character that is not a word character (`%`,
 * `'s`): the index cannot narrow that one down, and only the check decides.
 */
export function termTrigrams(term: string): string[] {
  const chars = [...term];
  if (termMode(term) === "substring") {
    if (chars.length === 1) return [CJK_MARK + CJK_MARK + fold(chars[0]!)];
    if (chars.length === 2) return [CJK_MARK + fold(chars[0]!) + fold(chars[1]!)];
    const all = [...new Map(chars.slice(0, -2).map((_, i) => chars.slice(i, i + 3).join("")).map((t) => [t.toLowerCase(), t])).values()];
    const count = Math.min(all.length, TRIGRAMS_PER_TERM);
    const step = count > 1 ? (all.length - 1) / (count - 1) : 0;
    return [...new Set(Array.from({ length: count }, (_, i) => all[Math.round(i * step)]!))];
  }
  const lead = [...wordLead(term)].map(fold);
  if (lead.length === 0) return [];
  return [lead.length === 1 ? WORD_MARK + WORD_MARK + lead[0]! : WORD_MARK + lead[0]! + lead[1]!];
}

/** An FTS5 string: double quotes around it, a double quote inside doubled. Everything else is literal. */
export const ftsString = (s: string): string => `"${s.replaceAll('"', '""')}"`;
