import { useChatClient } from "../../store/client-context.js";
import { useChat } from "../../store/hooks.js";
import { useT } from "../../i18n/index.js";
import { CloseIcon } from "../../ui/icons.js";

/**
 * "You were removed from #x" / "You were banned from #x": a room a moderator took away is gone from
 * the sidebar at once (every tab), and this says why until the user closes it; a room that simply
 * vanished would look like a bug.
 */
export function RemovalNotices() {
  const t = useT();
  const client = useChatClient();
  const removals = useChat((s) => s.removals);
  if (removals.length === 0) return null;
  return (
    <>
      {removals.map((r) => (
        <div key={r.id} className="toast removal" role="alert" data-testid="removal-notice" data-reason={r.reason} data-room-id={r.roomId}>
          <span>{t(r.reason === "banned" ? "moderation.removedBanned" : "moderation.removedKicked", { room: r.roomName })}</span>
          <button type="button" className="icon-button small" aria-label={t("moderation.dismiss")} onClick={() => client.dismissRemoval(r.id)}>
            <CloseIcon size={14} />
          </button>
        </div>
      ))}
    </>
  );
}
