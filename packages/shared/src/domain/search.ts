/**
 * Message search: what a search box's text means, and which messages a term matches. Shared so the
 * client parses the box (dates in the reader's own time zone, `in:#room` among their rooms) and
 * highlights the matched words, and the server and both storage backends match exactly what the
 * pure `matchesTerm` below says (the storage contract suite checks them against it).
 *
 * Matching, per term (all terms must match; case-insensitive):
 * - three characters or more: the body contains it anywhere ("arch" finds "search", "中文字" finds
 *   "简体中文字幕"). The indexes: SQLite FTS5 `trigram`, PostgreSQL `pg_trgm`.
 * - one or two characters of Chinese, Japanese or Korean script: the body contains it anywhere
 *   (words there are not separated by spaces; "中文" is a word).
 * - one or two other characters: a word of the body starts with it ("go" finds "Go" and "going",
 *   not "ago"). The indexes: SQLite FTS5 `unicode61` prefix queries, PostgreSQL `tsvector` prefixes.
 */

/** Most terms one search may have: each is an index lookup. */
export const SEARCH_TERMS_MAX = 8;
/** Longest term (characters), and the longest search box text. */
export const SEARCH_TERM_MAX = 64;
export const SEARCH_TEXT_MAX = 256;
/** Results per page: the default and the most a client may ask for. */
export const SEARCH_PAGE_DEFAULT = 20;
export const SEARCH_PAGE_MAX = 50;

/** A search as the search box's text says it (before names are resolved to ids). */
export interface ParsedSearch {
  /** Words and quoted phrases, trimmed, in order, without duplicates (case-insensitive). */
  terms: string[];
  /** `in:#room`: a public room's name (without `#`); `in:@nick`: the DM with that user. */
  inRoom: { kind: "public" | "dm"; name: string } | null;
  /** `from:@nick` (or `from:nick`): the author's nickname. */
  from: string | null;
  /** `after:YYYY-MM-DD`: messages from the start of the day after it, local time (ms since the epoch). */
  after: number | null;
  /** `before:YYYY-MM-DD`: messages before the start of that day, local time (ms since the epoch). */
  before: number | null;
  /** `has:file` (or `has:files`, `has:image`...): only messages carrying files. */
  hasFile: boolean;
}

export type SearchParseError =
  | { code: "SEARCH_EMPTY" }
  | { code: "SEARCH_BAD_DATE"; value: string }
  | { code: "SEARCH_TOO_MANY_TERMS" }
  | { code: "SEARCH_TERM_TOO_LONG"; value: string };

/**
 * Parses a search box: words, "quoted phrases", and the filters `in:`, `from:`, `before:`, `after:`
 * anywhere. An unknown `word:` is a plain word (people search for "re:" and times like "10:30").
 * `startOfDay(y, m, d)` gives a calendar day's local start (ms); injected so tests fix a zone.
 */
export function parseSearch(
  text: string,
  startOfDay: (year: number, month: number, day: number) => number = (y, m, d) => new Date(y, m - 1, d).getTime(),
): { ok: true; search: ParsedSearch } | { ok: false; error: SearchParseError } {
  const search: ParsedSearch = { terms: [], inRoom: null, from: null, after: null, before: null, hasFile: false };
  const seen = new Set<string>();
  const addTerm = (raw: string): SearchParseError | null => {
    const term = raw.trim().replace(/\s+/g, " ");
    if (term === "") return null;
    if ([...term].length > SEARCH_TERM_MAX) return { code: "SEARCH_TERM_TOO_LONG", value: term };
    const key = term.toLowerCase();
    if (seen.has(key)) return null;
    seen.add(key);
    search.terms.push(term);
    return null;
  };
  // A token: a quoted phrase (an unclosed quote runs to the end), or a run of non-space characters.
  const TOKEN = /"([^"]*)"?|(\S+)/gu;
  for (const match of text.slice(0, SEARCH_TEXT_MAX).matchAll(TOKEN)) {
    const [, phrase, word] = match;
    if (phrase !== undefined) {
      const error = addTerm(phrase);
      if (error) return { ok: false, error };
      continue;
    }
    // `has:file` and its plurals and kinds people type; any other `has:` is a plain word.
    if (/^has:(?:files?|images?|attachments?)$/iu.test(word!)) {
      search.hasFile = true;
      continue;
    }
    const filter = /^(in|from|before|after):(.+)$/iu.exec(word!);
    if (filter) {
      const key = filter[1]!.toLowerCase();
      const value = filter[2]!;
      if (key === "in") {
        search.inRoom = value.startsWith("@") ? { kind: "dm", name: value.slice(1) } : { kind: "public", name: value.replace(/^#/, "") };
        continue;
      }
      if (key === "from") {
        search.from = value.replace(/^@/, "");
        continue;
      }
      const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
      const [y, m, d] = day ? [Number(day[1]), Number(day[2]), Number(day[3])] : [NaN, NaN, NaN];
      if (!day || !validDay(y, m, d)) return { ok: false, error: { code: "SEARCH_BAD_DATE", value } };
      // "after" a day is from the next day on; "before" a day ends where the day starts.
      if (key === "after") search.after = startOfDay(y, m, d + 1);
      else search.before = startOfDay(y, m, d);
      continue;
    }
    const error = addTerm(word!);
    if (error) return { ok: false, error };
  }
  if (search.terms.length > SEARCH_TERMS_MAX) return { ok: false, error: { code: "SEARCH_TOO_MANY_TERMS" } };
  if (search.terms.length === 0 && search.from === null && search.inRoom === null && !search.hasFile) return { ok: false, error: { code: "SEARCH_EMPTY" } };
  return { ok: true, search };
}

function validDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Chinese, Japanese and Korean scripts: no spaces between words, so short terms match anywhere. */
export const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** How a term is matched (see the top of this file). */
export type TermMode = "substring" | "word-prefix";

export function termMode(term: string): TermMode {
  return [...term].length >= 3 || CJK.test(term) ? "substring" : "word-prefix";
}

/**
 * A word character for word-prefix terms: letters, digits and marks (FTS5 unicode61's token characters
 * with `categories 'L* N* M*'`). Exported for the storage backends, whose word indexes split on it.
 */
export const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

/**
 * Every place in `body` where `term` matches, as [start, end) UTF-16 offsets, in order, not
 * overlapping. The reference for what the storage backends find, and what the client highlights.
 */
export function termRanges(body: string, term: string): Array<[number, number]> {
  const needle = term.toLowerCase();
  const hay = body.toLowerCase();
  // Lower-casing can change lengths (rare: "İ"); offsets then would not line up with `body`.
  if (needle.length === 0 || hay.length !== body.length) return [];
  const wordPrefix = termMode(term) === "word-prefix";
  const out: Array<[number, number]> = [];
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + 1)) {
    if (wordPrefix && i > 0 && WORD_CHAR.test(charBefore(body, i))) continue;
    const last = out[out.length - 1];
    if (last && i < last[1]) continue;
    out.push([i, i + needle.length]);
  }
  return out;
}

/** The character (code point) just before UTF-16 offset `i`. */
function charBefore(s: string, i: number): string {
  const low = s.charCodeAt(i - 1);
  if (i >= 2 && low >= 0xdc00 && low <= 0xdfff) return s.slice(i - 2, i);
  return s.slice(i - 1, i);
}

export function matchesTerm(body: string, term: string): boolean {
  return termRanges(body, term).length > 0;
}

/** Whether a body matches every term: the rule both storage backends implement. */
export function matchesAll(body: string, terms: readonly string[]): boolean {
  return terms.every((t) => matchesTerm(body, t));
}

/** The ranges of all terms in `body`, merged where they overlap or touch, in order: what to highlight. */
export function highlightRanges(body: string, terms: readonly string[]): Array<[number, number]> {
  const all = terms.flatMap((t) => termRanges(body, t)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  for (const [s, e] of all) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}
