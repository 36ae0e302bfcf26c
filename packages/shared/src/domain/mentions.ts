import { LIMITS } from "./limits.js";

/**
 * The nicknames a body can mention, keyed by their lower-case form, and the longest one's length
 * (no candidate longer than that needs looking up). Build it once per room and reuse it.
 */
export interface MentionIndex {
  readonly byKey: ReadonlyMap<string, string>;
  readonly longest: number;
}

/** Indexes `nicknames` for {@link findMentions}: O(nicknames). */
export function mentionIndex(nicknames: Iterable<string>): MentionIndex {
  const byKey = new Map<string, string>();
  let longest = 0;
  for (const nick of nicknames) {
    if (nick.length === 0) continue;
    byKey.set(nick.toLowerCase(), nick);
    longest = Math.max(longest, nick.length);
  }
  return { byKey, longest };
}

const WORD = /[\p{L}\p{N}_]/u;
/** Characters no nickname contains (NicknameSchema): a candidate never reaches across them. */
const NEVER_IN_NICKNAME = /[@<>\s]/u;

/**
 * Finds @nickname mentions in a message body. Nicknames may contain single spaces, so each `@`
 * that does not follow a word character is matched against the known nicknames by lookup in a Map
 * (longest candidate first), case-insensitively, and must end at a non-word character. Both the
 * server (to store mention ids) and the UI (to highlight) use it.
 *
 * Cost: O(body length x longest nickname) in the worst case, whatever the number of members (the
 * old scan tried every nickname at every `@`: O(@ x members), which a 4000-character body of `@`s
 * in a big room turned into millions of comparisons per message).
 *
 * At most {@link LIMITS.mentionsMax} distinct nicknames are reported; further ones stay plain text.
 */
export function findMentions(
  body: string,
  nicknames: readonly string[] | MentionIndex,
): { start: number; end: number; nickname: string }[] {
  if (!body.includes("@")) return [];
  const index = Array.isArray(nicknames) ? mentionIndex(nicknames as readonly string[]) : (nicknames as MentionIndex);
  if (index.byKey.size === 0) return [];
  const found: { start: number; end: number; nickname: string }[] = [];
  const distinct = new Set<string>();
  for (let i = body.indexOf("@"); i !== -1; i = body.indexOf("@", i + 1)) {
    if (i > 0 && WORD.test(body[i - 1]!)) continue;
    const hit = longestAt(body, i + 1, index);
    if (!hit) continue;
    const key = hit.nickname.toLowerCase();
    if (!distinct.has(key)) {
      if (distinct.size >= LIMITS.mentionsMax) continue;
      distinct.add(key);
    }
    found.push({ start: i, ...hit });
  }
  return found;
}

/** The longest known nickname starting at `from` and ending at a non-word character. */
function longestAt(body: string, from: number, index: MentionIndex): { end: number; nickname: string } | null {
  // Candidate ends, shortest first: every place within `longest` where a word could end.
  const ends: number[] = [];
  const limit = Math.min(body.length, from + index.longest);
  for (let j = from; j < limit; j++) {
    const ch = body[j]!;
    // A single space may be inside a nickname; anything else NicknameSchema refuses ends the search.
    if (NEVER_IN_NICKNAME.test(ch) && !(ch === " " && body[j + 1] !== " ")) break;
    const next = body[j + 1];
    if (next === undefined || !WORD.test(next)) ends.push(j + 1);
  }
  for (let k = ends.length - 1; k >= 0; k--) {
    const end = ends[k]!;
    const nickname = index.byKey.get(body.slice(from, end).toLowerCase());
    if (nickname !== undefined) return { end, nickname };
  }
  return null;
}
