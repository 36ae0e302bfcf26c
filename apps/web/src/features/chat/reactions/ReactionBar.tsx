import type { Reaction } from "@parley/shared";
import { useState } from "react";
import { useLocale, useT } from "../../../i18n/index.js";
import { SmilePlusIcon } from "../../../ui/icons.js";
import { ReactionPicker } from "./ReactionPicker.js";

/** Names listed in a chip's tooltip before "and N others". */
const NAMES_SHOWN = 8;

/**
 * One list formatter per locale: constructing an `Intl.ListFormat` costs more than formatting with
 * it, and every chip of every row mounted in a fast scroll formats its names.
 */
const listFormats = new Map<string, Intl.ListFormat>();
function listFormat(locale: string): Intl.ListFormat {
  let format = listFormats.get(locale);
  if (!format) {
    format = new Intl.ListFormat(locale, { type: "conjunction" });
    listFormats.set(locale, format);
  }
  return format;
}

/**
 * Who reacted, for a chip's tooltip: "you" first (the way Slack says it), then the others in the
 * order they reacted, cut after NAMES_SHOWN. Pure, for tests.
 */
export function reactorNames(
  users: Reaction["users"],
  myId: string | null,
  labels: { you: string; others: (names: string, count: number) => string },
  locale: string,
): string {
  const names = [...users].sort((a, b) => Number(b.id === myId) - Number(a.id === myId)).map((u) => (u.id === myId ? labels.you : u.nickname));
  const list = listFormat(locale);
  if (names.length <= NAMES_SHOWN) return list.format(names);
  return labels.others(names.slice(0, NAMES_SHOWN).join(", "), names.length - NAMES_SHOWN);
}

/** The chips under a message: count per emoji, mine pressed; a click toggles mine. */
export function ReactionBar({ reactions, myId, onToggle }: { reactions: readonly Reaction[]; myId: string | null; onToggle: (emoji: string, on: boolean) => void }) {
  const t = useT();
  const locale = useLocale();
  // The open picker's anchor (state, not a ref: the popover is placed from it during render).
  const [pickerAnchor, setPickerAnchor] = useState<HTMLElement | null>(null);
  const mine = new Set(reactions.filter((r) => r.users.some((u) => u.id === myId)).map((r) => r.emoji));
  const labels = {
    you: t("chat.you"),
    others: (names: string, count: number) => t("reactions.andOthers", { names, count }),
  };
  return (
    <div className="reaction-bar" role="group" aria-label={t("reactions.label")}>
      {reactions.map((r) => {
        const pressed = mine.has(r.emoji);
        const names = reactorNames(r.users, myId, labels, locale);
        return (
          <button
            key={r.emoji}
            type="button"
            className="reaction-chip"
            aria-pressed={pressed}
            aria-label={t("reactions.chip", { emoji: r.emoji, count: r.users.length, names })}
            title={t("reactions.by", { names, emoji: r.emoji })}
            onClick={() => onToggle(r.emoji, !pressed)}
            data-testid="reaction"
            data-emoji={r.emoji}
          >
            <span className="reaction-emoji" aria-hidden="true">
              {r.emoji}
            </span>
            <span className="reaction-count" aria-hidden="true">
              {r.users.length}
            </span>
          </button>
        );
      })}
      <button
        type="button"
        className="reaction-chip add"
        aria-label={t("message.react")}
        title={t("message.react")}
        aria-expanded={pickerAnchor !== null}
        onClick={(e) => {
          const button = e.currentTarget;
          setPickerAnchor((a) => (a ? null : button));
        }}
      >
        <SmilePlusIcon size={15} />
      </button>
      {pickerAnchor && (
        <ReactionPicker anchor={pickerAnchor} mine={mine} onPick={(emoji) => onToggle(emoji, !mine.has(emoji))} onClose={() => setPickerAnchor(null)} />
      )}
    </div>
  );
}
