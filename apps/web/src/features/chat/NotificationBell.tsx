import { useStore } from "zustand";
import { useT } from "../../i18n/index.js";
import { notificationPermission, requestNotificationPermission } from "../../realtime/notifications.js";
import { BellIcon, BellOffIcon } from "../../ui/icons.js";

/** Asks for notification permission on click (a user gesture, as browsers require). */
export function NotificationBell() {
  const t = useT();
  const permission = useStore(notificationPermission, (s) => s.permission);
  if (permission === "unsupported") return null;
  const label =
    permission === "granted" ? t("notifications.enabled") : permission === "denied" ? t("notifications.denied") : t("notifications.enable");
  return (
    <button
      type="button"
      className={`icon-button${permission === "granted" ? " on" : ""}`}
      aria-label={label}
      title={label}
      aria-pressed={permission === "granted"}
      onClick={requestNotificationPermission}
    >
      {permission === "denied" ? <BellOffIcon /> : <BellIcon />}
    </button>
  );
}
