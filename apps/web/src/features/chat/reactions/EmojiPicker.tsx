import { EmojiPicker as Picker } from "frimousse";
import { useLocale, useT, type Locale } from "../../../i18n/index.js";
import { useImeGuard } from "../../../lib/ime.js";

/** emojibase's name for each UI locale's emoji names and search keywords (served by vite.config.ts). */
const EMOJI_LOCALE = { en: "en", "zh-CN": "zh" } as const satisfies Record<Locale, string>;

/**
 * The full emoji picker (frimousse), loaded only when someone asks for more than the quick
 * reactions (`React.lazy` in ReactionPicker.tsx): it and its data stay out of the main bundle.
 * The data is served from our own origin (see the emojibase plugin in vite.config.ts).
 */
export default function EmojiPicker({ onPick }: { onPick: (emoji: string) => void }) {
  const t = useT();
  const locale = useLocale();
  const ime = useImeGuard();
  return (
    <Picker.Root
      className="emoji-picker"
      columns={8}
      emojibaseUrl="/emojibase"
      locale={EMOJI_LOCALE[locale]}
      onEmojiSelect={({ emoji }) => onPick(emoji)}
    >
      <Picker.Search
        className="emoji-search"
        placeholder={t("reactions.search")}
        aria-label={t("reactions.search")}
        autoFocus
        onCompositionStart={ime.onCompositionStart}
        onCompositionEnd={ime.onCompositionEnd}
        // Typing 笑 with an input method: the Enter that picks the character must not also pick the
        // highlighted emoji. frimousse skips a keydown whose default is prevented, and its listener
        // sits below React's root, so this runs in the capture phase, before it.
        onKeyDownCapture={(e) => {
          if (e.key === "Enter" && ime.isComposing(e.nativeEvent)) e.preventDefault();
        }}
      />
      <Picker.Viewport className="emoji-viewport">
        <Picker.Loading className="emoji-status">{t("reactions.loading")}</Picker.Loading>
        <Picker.Empty className="emoji-status">{t("reactions.empty")}</Picker.Empty>
        <Picker.List className="emoji-list" />
      </Picker.Viewport>
    </Picker.Root>
  );
}
