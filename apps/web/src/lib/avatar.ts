/**
 * Avatar colours: a stable hue per user id (FNV-1a hash), so a person keeps one colour in every
 * tab and on every device, without the server storing anything.
 */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Hue in degrees for a user id; saturation and lightness come from CSS per colour scheme. */
export function avatarHue(userId: string): number {
  return hashString(userId) % 360;
}

/** One or two letters: "Ana Lima" -> "AL", "bob" -> "B". Handles astral characters. */
export function initials(nickname: string): string {
  const words = nickname.trim().split(/\s+/u).filter(Boolean);
  const first = Array.from(words[0] ?? "?")[0] ?? "?";
  const second = words.length > 1 ? (Array.from(words[words.length - 1] ?? "")[0] ?? "") : "";
  return (first + second).toUpperCase();
}
