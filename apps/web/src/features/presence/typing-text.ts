import type { t as translate } from "../../i18n/index.js";

/** "X is typing…", "A and B are typing…", "A, B and C are typing…", "Several people are typing…". */
export function typingText(names: readonly string[], t: typeof translate): string {
  const [a, b, c] = names;
  if (a === undefined) return "";
  if (b === undefined) return t("presence.typing1", { a });
  if (c === undefined) return t("presence.typing2", { a, b });
  if (names.length === 3) return t("presence.typing3", { a, b, c });
  return t("presence.typingMany");
}
