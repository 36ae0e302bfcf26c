import { useT } from "../../i18n/index.js";
import { useChat } from "../../store/hooks.js";

/**
 * Always-visible connection state. `data-status` is the core's status (connecting, connected,
 * reconnecting, offline); `data-catching-up` is set while the post-reconnect catch-up runs.
 */
export function ConnectionPill() {
  const t = useT();
  const status = useChat((s) => s.connection.status);
  const attempt = useChat((s) => s.connection.attempt);
  const catchingUp = useChat((s) => s.connection.catchingUp);
  const tone = catchingUp && status === "connected" ? "catching-up" : status;
  const label =
    tone === "catching-up"
      ? t("connection.catchingUp")
      : status === "connected"
        ? t("connection.connected")
        : status === "reconnecting"
          ? t("connection.reconnecting", { attempt: Math.max(1, attempt) })
          : status === "offline"
            ? t("connection.offline")
            : t("connection.connecting");
  return (
    <span
      className={`connection-pill ${tone}`}
      data-testid="connection-status"
      data-status={status}
      data-catching-up={catchingUp}
      role="status"
      aria-live="polite"
    >
      <span className="connection-dot" aria-hidden="true" />
      <span className="connection-label">{label}</span>
    </span>
  );
}
