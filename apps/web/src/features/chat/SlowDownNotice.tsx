import { useT } from "../../i18n/index.js";
import { useChat } from "../../store/hooks.js";

/**
 * The server asked the client to slow down (RATE_LIMITED): the messages are still queued and go
 * out by themselves, so this is a quiet note above the box, not an error and not a dialog. The core
 * keeps the flag up for the whole burst, so it appears once and goes when the outbox has drained.
 */
export function SlowDownNotice() {
  const t = useT();
  const slowed = useChat((s) => s.connection.rateLimitedUntil !== null);
  if (!slowed) return null;
  return (
    <p className="slow-down-notice" role="status" data-testid="slow-down-notice">
      {t("composer.slowDown")}
    </p>
  );
}
