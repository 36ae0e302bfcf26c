import type { ChatClient } from "@parley/client";
import { createStore } from "zustand/vanilla";
import { filesSummary } from "../features/chat/attachments/attach.js";
import { t } from "../i18n/index.js";
import { shouldNotify } from "./notify-rules.js";

export type PermissionState = NotificationPermission | "unsupported";

function currentPermission(): PermissionState {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

/** The browser's notification permission, as a store the bell button can subscribe to. */
export const notificationPermission = createStore<{ permission: PermissionState }>(() => ({
  permission: currentPermission(),
}));

/**
 * Asks for permission. Browsers only show the prompt (and Firefox/Safari only allow asking) during
 * a user gesture, so this is called from the bell button and from a send, never on load.
 */
export function requestNotificationPermission(): void {
  if (typeof Notification === "undefined" || Notification.permission !== "default") return;
  void Notification.requestPermission().then((permission) => {
    notificationPermission.setState({ permission });
  });
}

/**
 * Shows a desktop notification for each live message from someone else while the page is hidden
 * (rules in `notify-rules.ts`). `tag` is the message id: every tab of this browser receives the
 * message and shows it, and the same tag makes the popups replace each other instead of stacking.
 * Returns the unsubscribe function.
 */
export function installNotifications(client: ChatClient): () => void {
  return client.on("message", (message) => {
    const state = client.store.getState();
    const me = state.me;
    if (!me || currentPermission() !== "granted") return;
    const room = state.rooms[message.roomId];
    const hidden = document.visibilityState === "hidden";
    const availability = state.profiles[me.id]?.availability ?? "online";
    if (!shouldNotify({ message, room, myId: me.id, activeRoomId: state.activeRoomId, hidden, now: Date.now(), availability })) return;
    const roomName = room?.name ?? "";
    const author = state.profiles[message.authorId]?.displayName ?? message.authorNickname;
    const title = message.mentions.includes(me.id)
      ? room?.kind === "dm"
        ? t("notifications.dm", { author })
        : t("notifications.mention", { author, room: roomName })
      : room?.kind === "dm"
        ? t("notifications.dm", { author })
        : t("notifications.room", { author, room: roomName });
    try {
      // A message of files only says which (its body is blank).
      const body = message.body.trim() === "" ? filesSummary(message.attachments) : message.body.slice(0, 200);
      const notification = new Notification(title, { body, tag: message.id, lang: document.documentElement.lang });
      notification.onclick = () => {
        window.focus();
        client.setActiveRoom(message.roomId);
        notification.close();
      };
    } catch {
      // Some mobile browsers only allow notifications from a service worker; skip silently.
    }
  });
}
