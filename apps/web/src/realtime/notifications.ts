import type { ChatClient } from "@parley/client";
import type { Message } from "@parley/shared";
import { createStore } from "zustand/vanilla";
import { filesSummary } from "../features/chat/attachments/attach.js";
import { t } from "../i18n/index.js";
import { MAX_NOTIFY_AGE_MS, shouldNotify } from "./notify-rules.js";
import type { SharedConnection, TabView } from "./shared-connection.js";

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
export function installNotifications(client: ChatClient, shared: SharedConnection | null = null): () => void {
  if (shared) return installBrowserNotifications(client, shared);
  return client.on("message", (message) => {
    const state = client.store.getState();
    const me = state.me;
    if (!me || currentPermission() !== "granted") return;
    const room = state.rooms[message.roomId];
    const hidden = document.visibilityState === "hidden";
    const availability = state.profiles[me.id]?.availability ?? "online";
    if (!shouldNotify({ message, room, myId: me.id, activeRoomId: state.activeRoomId, hidden, now: Date.now(), muted: state.muted, availability })) return;
    show(client, message);
  });
}

function show(client: ChatClient, message: Message): void {
  const state = client.store.getState();
  const me = state.me;
  if (!me) return;
  const room = state.rooms[message.roomId];
  const roomName = room?.name ?? "";
  // The display name (issue 14) when the author set one.
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
}

/**
 * What the browser has decided about notifications, shared by its tabs in localStorage so that a
 * new leader carries on where the last one stopped: per room the highest seq handled, and the ids
 * of the messages notified lately (kept twice as long as a message can still notify).
 */
interface Ledger {
  marks: Record<string, number>;
  ids: Record<string, number>;
}

/**
 * Why 50: a leader change takes about a second (ADR 0017), so the messages that arrived without a
 * leader are a handful per room; 50 covers a burst, and anything older than MAX_NOTIFY_AGE_MS is
 * not shown anyway.
 */
const GAP_FILL_LIMIT = 50;

function ledgerStore(userId: string) {
  const key = `parley:notified:${userId}`;
  return {
    read(): Ledger {
      try {
        const parsed = JSON.parse(localStorage.getItem(key) ?? "null") as Ledger | null;
        if (parsed && typeof parsed === "object" && parsed.marks && parsed.ids) return parsed;
      } catch {
        // Unreadable: start afresh (at worst a message notifies twice).
      }
      return { marks: {}, ids: {} };
    },
    write(ledger: Ledger, now: number): void {
      const ids: Record<string, number> = {};
      for (const [id, at] of Object.entries(ledger.ids)) if (now - at < 2 * MAX_NOTIFY_AGE_MS) ids[id] = at;
      try {
        localStorage.setItem(key, JSON.stringify({ marks: ledger.marks, ids }));
      } catch {
        // Storage full or disabled: this leader still notifies each message once.
      }
    },
  };
}

/**
 * Shared connection (ADR 0017): only the leader tab notifies, once per message for the whole
 * browser. It notifies when any tab would have under the one-tab rules (that tab hidden, and the
 * message in the room it shows, a DM, or a mention). The ledger makes it once across leaders: the
 * id is recorded before the popup, so a message is never shown twice, and a new leader reads, for
 * each room, what arrived after the last seq handled while no tab held the connection.
 */
function installBrowserNotifications(client: ChatClient, shared: SharedConnection): () => void {
  const stops: (() => void)[] = [];

  const myView = (): TabView => ({ hidden: document.visibilityState === "hidden", activeRoomId: client.store.getState().activeRoomId });
  let lastView = "";
  const report = () => {
    const view = myView();
    const key = JSON.stringify(view);
    if (key === lastView) return;
    lastView = key;
    shared.reportView(view);
  };
  document.addEventListener("visibilitychange", report);
  stops.push(() => document.removeEventListener("visibilitychange", report));
  stops.push(client.store.subscribe(report));
  report();

  function handle(message: Message): void {
    const state = client.store.getState();
    const me = state.me;
    if (!me) return;
    const ledger = ledgerStore(me.id);
    const l = ledger.read();
    const now = Date.now();
    const room = state.rooms[message.roomId];
    const views = [myView(), ...shared.otherViews()];
    // Do not disturb (issue 14) silences the shared connection's popups too.
    const availability = state.profiles[me.id]?.availability ?? "online";
    const wanted =
      currentPermission() === "granted" &&
      views.some((v) => shouldNotify({ message, room, myId: me.id, activeRoomId: v.activeRoomId, hidden: v.hidden, now, muted: state.muted, availability }));
    // Only the ids of popups are kept (a few a minute, not every message of a busy room): the
    // ledger is read and written on every message.
    const showIt = wanted && l.ids[message.id] === undefined;
    l.marks[message.roomId] = Math.max(l.marks[message.roomId] ?? 0, message.seq);
    if (showIt) l.ids[message.id] = now;
    ledger.write(l, now);
    if (showIt) show(client, message);
  }

  stops.push(
    client.on("message", (message) => {
      if (shared.isLeader()) handle(message);
    }),
  );

  // After each (re)connect of the leader, once its resync is done: what each room received since
  // the last seq this browser handled (a room seen for the first time starts at its end).
  let wasCatchingUp = false;
  let filling = false;
  async function fill(): Promise<void> {
    const state = client.store.getState();
    const me = state.me;
    if (!me || filling) return;
    filling = true;
    try {
      const ledger = ledgerStore(me.id);
      const start = ledger.read();
      const gaps: [string, number][] = [];
      for (const room of Object.values(state.rooms)) {
        const mark = start.marks[room.id];
        if (mark === undefined) start.marks[room.id] = room.lastSeq;
        // Further back than the limit, only the newest can still be young enough to notify.
        else if (room.lastSeq > mark) gaps.push([room.id, Math.max(mark, room.lastSeq - GAP_FILL_LIMIT)]);
      }
      ledger.write(start, Date.now());
      for (const [roomId, mark] of gaps) {
        const page = await client.readMessagesAfter(roomId, mark, GAP_FILL_LIMIT);
        if (!page.ok || !shared.isLeader()) continue;
        for (const message of page.data.messages) handle(message);
      }
    } finally {
      filling = false;
    }
  }
  stops.push(
    client.store.subscribe((s) => {
      const catchingUp = s.connection.catchingUp;
      const done = wasCatchingUp && !catchingUp && s.connection.status === "connected";
      wasCatchingUp = catchingUp;
      if (done && shared.isLeader()) void fill();
    }),
  );

  return () => {
    for (const stop of stops) stop();
  };
}
