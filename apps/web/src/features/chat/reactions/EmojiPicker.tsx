import { EmojiPicker as Picker } from "frimousse";
import { useT } from "../../../i18n/index.js";

/**
 * The full emoji picker (frimousse), loaded only when someone asks for more than the quick
 * reactions (`React.lazy` in ReactionPicker.tsx): it and its data stay out of the main bundle.
 * The data is served from our own origin (see the emojibase plugin in vite.config.ts).
 */
export default function EmojiPicker({ onPick }: { onPick: (emoji: string) => void }) {
  const t = useT();
  return (
    <Picker.Root className="emoji-picker" columns={8} emojibaseUrl="/emojibase" onEmojiSelect={({ emoji }) => onPick(emoji)}>
      <Picker.Search className="emoji-search" placeholder={t("reactions.search")} aria-label={t("reactions.search")} autoFocus />
      <Picker.Viewport className="emoji-viewport">
        <Picker.Loading className="emoji-status">{t("reactions.loading")}</Picker.Loading>
        <Picker.Empty className="emoji-status">{t("reactions.empty")}</Picker.Empty>
        <Picker.List className="emoji-list" />
      </Picker.Viewport>
    </Picker.Root>
  );
}
