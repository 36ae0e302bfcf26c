import { compareNames } from "../../lib/collate.js";

/**
 * The @mention being typed at the caret, and the members that match it. Pure (table-tested in
 * apps/web/test/mention-complete.test.ts); Composer.tsx binds it to the textarea.
 */

/** An `@` that does not follow a word character, then the letters typed so far (no whitespace). */
const TRIGGER = /(?:^|[^\p{L}\p{N}_])@([^\s@<>]{0,32})$/u;

/** The mention being typed before `caret`: where its `@` is and what follows it; null if none. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = TRIGGER.exec(before);
  if (!m) return null;
  const query = m[1] ?? "";
  return { start: caret - query.length - 1, query };
}

/** Suggestions shown at most. */
export const MAX_SUGGESTIONS = 8;

/**
 * Members whose nickname starts with the query (case-insensitive), then those containing it,
 * each group by name in `locale` (pinyin order in zh-CN); never me. At most MAX_SUGGESTIONS.
 */
export function matchMembers<T extends { id: string; nickname: string }>(
  members: readonly T[],
  query: string,
  myId: string | null,
  locale: string,
): T[] {
  const q = query.toLowerCase();
  const prefix: T[] = [];
  const inside: T[] = [];
  for (const m of members) {
    if (m.id === myId) continue;
    const name = m.nickname.toLowerCase();
    if (name.startsWith(q)) prefix.push(m);
    else if (q.length > 0 && name.includes(q)) inside.push(m);
  }
  const byName = (a: T, b: T) => compareNames(a.nickname, b.nickname, locale);
  return [...prefix.sort(byName), ...inside.sort(byName)].slice(0, MAX_SUGGESTIONS);
}

/** The text with the mention at `start..caret` replaced by `@nickname ` and where the caret goes. */
export function insertMention(text: string, start: number, caret: number, nickname: string): { text: string; caret: number } {
  const inserted = `@${nickname} `;
  // Skip a space already after the caret, so picking mid-sentence does not leave two.
  const rest = text.slice(caret).replace(/^ /, "");
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}
