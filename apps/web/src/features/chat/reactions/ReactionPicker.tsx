import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { useT } from "../../../i18n/index.js";
import { Popover } from "../../../ui/Popover.js";
import { PlusIcon } from "../../../ui/icons.js";

/** Offered first, one click each (Slack's and Discord's defaults, give or take). */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "🙏"] as const;

const EmojiPicker = lazy(() => import("./EmojiPicker.js"));

/**
 * The reaction popover: the quick reactions, and "more" for the full (lazily loaded) picker.
 * Picking an emoji I already reacted with takes mine back, as a chip click does.
 */
export function ReactionPicker({ anchor, mine, onPick, onClose }: { anchor: HTMLElement; mine: ReadonlySet<string>; onPick: (emoji: string) => void; onClose: () => void }) {
  const t = useT();
  const [full, setFull] = useState(false);
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  /** `keyboard`: give the focus back to the button that opened the picker (it unmounts with the popover). */
  const pick = (emoji: string, keyboard: boolean) => {
    onPick(emoji);
    onClose();
    if (keyboard) anchor.focus();
  };
  return (
    <Popover anchor={anchor} label={t("message.react")} onClose={onClose} className="reaction-popover">
      <div className="quick-reactions" role="group" aria-label={t("reactions.quick")}>
        {QUICK_REACTIONS.map((emoji, i) => (
          <button
            key={emoji}
            ref={i === 0 ? first : undefined}
            type="button"
            className="quick-reaction"
            aria-pressed={mine.has(emoji)}
            // detail 0: a click made with Enter or Space.
            onClick={(e) => pick(emoji, e.detail === 0)}
          >
            {emoji}
          </button>
        ))}
        {!full && (
          <button type="button" className="icon-button small" aria-label={t("reactions.more")} title={t("reactions.more")} onClick={() => setFull(true)}>
            <PlusIcon size={16} />
          </button>
        )}
      </div>
      {full && (
        <Suspense fallback={<p className="emoji-status">{t("reactions.loading")}</p>}>
          {/* Mostly used by searching and pressing Enter: the focus goes back to the row. */}
          <EmojiPicker onPick={(emoji) => pick(emoji, true)} />
        </Suspense>
      )}
    </Popover>
  );
}
