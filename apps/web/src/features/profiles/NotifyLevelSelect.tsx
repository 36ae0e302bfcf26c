import type { NotifyLevel, RoomSummary } from "@parley/shared";
import { useState } from "react";
import { errorText, useT } from "../../i18n/index.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat } from "../../store/hooks.js";

const LEVELS: readonly NotifyLevel[] = ["all", "mentions", "none"];

/**
 * The room's notification level (issue 14), in the room header: kept on the server per member, so
 * every tab and device follows a change (the room summary carries it). While I am "do not disturb"
 * it says so: nothing notifies, whatever is chosen here.
 */
export function NotifyLevelSelect({ room }: { room: RoomSummary }) {
  const t = useT();
  const client = useChatClient();
  const dnd = useChat((s) => (s.me ? s.profiles[s.me.id]?.availability === "dnd" : false));
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  async function change(level: NotifyLevel) {
    setSaving(true);
    setError(null);
    try {
      const result = await client.setNotifyLevel(room.id, level);
      if (!result.ok) setError(errorText(result.error.code));
    } catch {
      setError(errorText("TIMEOUT"));
    }
    setSaving(false);
  }

  return (
    <span className={`notify-level${dnd ? " dnd" : ""}`} title={dnd ? t("notify.dndActive") : t("notify.label")}>
      <BellLevelIcon level={dnd ? "none" : room.notifyLevel} />
      <select
        aria-label={t("notify.label")}
        value={room.notifyLevel}
        disabled={saving}
        onChange={(e) => void change(e.currentTarget.value as NotifyLevel)}
        data-testid="notify-level"
      >
        {LEVELS.map((level) => (
          <option key={level} value={level}>
            {t(`notify.${level}`)}
          </option>
        ))}
      </select>
      {error && (
        <span className="form-error small" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/** A bell; with an @ for mentions only, struck through for none. */
function BellLevelIcon({ level }: { level: NotifyLevel }) {
  return (
    <svg width={16} height={16} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
      {level === "none" && <path d="M3 3l18 18" />}
      {level === "mentions" && (
        <text x="12" y="13.5" fontSize="9" fontWeight="700" textAnchor="middle" fill="currentColor" stroke="none">
          @
        </text>
      )}
    </svg>
  );
}
