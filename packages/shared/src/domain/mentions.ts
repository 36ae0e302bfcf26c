/**
 * Finds @nickname mentions in a message body. Nicknames may contain single spaces, so a mention is
 * matched against the known nicknames (longest first), case-insensitively, and must end at a
 * non-word character. Both the server (to store mention ids) and the UI (to highlight) use it.
 */
export function findMentions(
  body: string,
  nicknames: readonly string[],
): { start: number; end: number; nickname: string }[] {
  if (!body.includes("@") || nicknames.length === 0) return [];
  const sorted = [...nicknames].sort((a, b) => b.length - a.length);
  const lower = body.toLowerCase();
  const found: { start: number; end: number; nickname: string }[] = [];
  let i = lower.indexOf("@");
  while (i !== -1) {
    const prev = i === 0 ? " " : body[i - 1]!;
    if (!/[\p{L}\p{N}_]/u.test(prev)) {
      for (const nick of sorted) {
        const end = i + 1 + nick.length;
        if (lower.startsWith(nick.toLowerCase(), i + 1)) {
          const next = end < body.length ? body[end]! : " ";
          if (!/[\p{L}\p{N}_]/u.test(next)) {
            found.push({ start: i, end, nickname: nick });
            break;
          }
        }
      }
    }
    i = lower.indexOf("@", i + 1);
  }
  return found;
}
