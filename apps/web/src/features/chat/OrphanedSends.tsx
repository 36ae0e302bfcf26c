import type { PendingMessage } from "@parley/client";
import { useChatClient } from "../../store/client-context.js";
import { useChat, useChatShallow } from "../../store/hooks.js";
import { useT } from "../../i18n/index.js";

/**
 * Sends written for a room the user has since left (in this or another tab) cannot be shown in that
 * room's timeline any more. They stay in the outbox — nothing the user wrote is dropped silently —
 * so this bar says they exist and lets the user discard them; rejoining the room shows them again.
 */
export function OrphanedSends() {
  const t = useT();
  const client = useChatClient();
  const roomsLoaded = useChat((s) => Object.keys(s.rooms).length > 0);
  const orphaned = useChatShallow((s): PendingMessage[] =>
    s.pendingOrder.map((id) => s.pending[id]).filter((p): p is PendingMessage => p !== undefined && s.rooms[p.roomId] === undefined),
  );
  const first = orphaned[0];
  if (!roomsLoaded || !first) return null;
  const preview = first.body.length > 60 ? `${first.body.slice(0, 60)}…` : first.body;
  return (
    <div className="orphaned-bar" role="status" data-testid="orphaned-sends">
      <span>{t("chat.orphaned", { count: orphaned.length, preview })}</span>
      <button type="button" className="link-button" onClick={() => orphaned.forEach((p) => client.discard(p.clientId))}>
        {t("chat.orphanedDiscard")}
      </button>
    </div>
  );
}
