/**
 * Which characters user-visible text may contain (issue 10, "input hygiene"). Control characters
 * (`\p{Cc}`) break rendering and logs (NUL, ESC sequences, C1 controls); format characters
 * (`\p{Cf}`) are invisible and are how text lies about itself: bidi overrides (U+202E, "Trojan
 * Source"), zero-width spaces that split a word past a filter or make two names look equal, soft
 * hyphens. Lone surrogates are not text at all: they cannot be encoded as UTF-8, so PostgreSQL,
 * JSON consumers and the browser's TextEncoder each mangle them differently.
 *
 * Exceptions, each because real text needs it:
 * - `\n` and `\t` in message bodies (bodies are multi-line; a browser textarea turns every line
 *   break into `\n`, so `\r` is refused rather than silently rewritten);
 * - ZWJ (U+200D) between two emoji: the family, profession and flag emoji are ZWJ sequences;
 * - tag characters (U+E0020-E007F) after a black flag: subdivision flags such as England's;
 * - in message bodies only, ZWNJ/ZWJ (U+200C/U+200D) after a mark (a virama) or between two
 *   letters: Persian, Hindi, Malayalam and other scripts need them for correct spelling. Names stay stricter: they are
 *   identifiers, where an invisible joiner is only good for impersonation.
 */

export interface TextRules {
  /** Allow `\n` and `\t` (message bodies). */
  multiline: boolean;
  /** Allow ZWNJ/ZWJ between letters (prose in scripts that need joiners; not names). */
  joinersInWords: boolean;
}

export const BODY_TEXT: TextRules = { multiline: true, joinersInWords: true };
export const NAME_TEXT: TextRules = { multiline: false, joinersInWords: false };

const CONTROL = /^\p{Cc}$/u;
const FORMAT = /^\p{Cf}$/u;
const PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u;
/** What may sit between an emoji and the ZWJ that follows it: VS16 and skin-tone modifiers. */
const EMOJI_TRAILER = /^[\u{FE0F}\p{Emoji_Modifier}]$/u;
const LETTER_OR_MARK = /^[\p{L}\p{M}]$/u;
const MARK = /^\p{M}$/u;

const ZWNJ = 0x200c;
const ZWJ = 0x200d;
const BLACK_FLAG = 0x1f3f4;
const isTag = (cp: number) => cp >= 0xe0020 && cp <= 0xe007f;

/**
 * The first character `text` may not contain under `rules`, or null when every character is
 * allowed. Linear in the length of `text`.
 */
export function findForbiddenCharacter(text: string, rules: TextRules): { codePoint: number; index: number } | null {
  // Code points, not UTF-16 units: a lone surrogate comes out as a one-unit string of its own.
  const chars = Array.from(text);
  let index = 0;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const cp = ch.codePointAt(0)!;
    if (!allowed(chars, i, ch, cp, rules)) return { codePoint: cp, index };
    index += ch.length;
  }
  return null;
}

function allowed(chars: readonly string[], i: number, ch: string, cp: number, rules: TextRules): boolean {
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  if (CONTROL.test(ch)) return rules.multiline && (ch === "\n" || ch === "\t");
  if (!FORMAT.test(ch)) return true;
  const prev = chars[i - 1];
  const next = chars[i + 1];
  if (cp === ZWJ && next !== undefined && PICTOGRAPHIC.test(next) && followsEmoji(chars, i)) return true;
  if (isTag(cp) && prev !== undefined) {
    const p = prev.codePointAt(0)!;
    if (p === BLACK_FLAG || (isTag(p) && p !== 0xe007f)) return true;
  }
  if (rules.joinersInWords && (cp === ZWNJ || cp === ZWJ) && prev !== undefined) {
    // After a mark (a virama: Malayalam chillus end in one, RFC 5892 A.1/A.2), or between letters.
    return MARK.test(prev) || (LETTER_OR_MARK.test(prev) && next !== undefined && LETTER_OR_MARK.test(next));
  }
  return false;
}

/** Whether the character before index `i` ends an emoji (an emoji, maybe with VS16/skin tone). */
function followsEmoji(chars: readonly string[], i: number): boolean {
  let j = i - 1;
  // At most a skin tone and a VS16 sit between the emoji and its ZWJ.
  for (let skipped = 0; j >= 0 && skipped < 2 && EMOJI_TRAILER.test(chars[j]!); skipped++) j--;
  return j >= 0 && PICTOGRAPHIC.test(chars[j]!);
}

/** "U+202E", as the messages name a refused character. */
export function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
}
