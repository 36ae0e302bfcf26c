import { selectPendingForRoom, selectTypingNames } from "@parley/client";
import type { ChatState, Message, Notice, PendingMessage, RoomTimeline } from "./types.js";
import { useMemo, useSyncExternalStore } from "react";
import { useStore } from "zustand";
import { useShallow } from "zustand/react/shallow";
import { useLocale } from "../i18n/index.js";
import { useChatClient } from "./client-context.js";
import { buildTimelineItems, selectRoomSections, type RoomSections, type TimelineItem } from "./selectors.js";

/** Reads from the core's store; re-renders only when the selected value changes (Object.is). */
export function useChat<T>(selector: (state: ChatState) => T): T {
  return useStore(useChatClient().store, selector);
}

/** Like `useChat` for selectors that build a new array/object: compared shallowly. */
export function useChatShallow<T>(selector: (state: ChatState) => T): T {
  return useStore(useChatClient().store, useShallow(selector));
}

/** Public rooms and DMs, sorted for the sidebar. */
export function useRoomSections(): RoomSections {
  const rooms = useChat((s) => s.rooms);
  const locale = useLocale();
  return useMemo(() => selectRoomSections(rooms, locale), [rooms, locale]);
}

/** Nicknames typing in a room (not me). */
export function useTypingNames(roomId: string): string[] {
  return useChatShallow((s) => selectTypingNames(s, roomId));
}

/**
 * Every nickname the client knows (for @mention highlighting): the core's `users` map, me, and the
 * authors of the messages on screen (history pages do not always pass through `users`).
 *
 * The array keeps its identity while the set of names is unchanged: it is part of every row's
 * props, so a new array on each page of history would re-render every mounted row.
 */
export function useKnownNicknames(messages: readonly Message[]): readonly string[] {
  const users = useChat((s) => s.users);
  const me = useChat((s) => s.me);
  // Sorted and joined into one string, which compares by value: the second memo then keeps its array while
  // the names stay the same. (`NicknameSchema` allows no whitespace but single spaces: no "\n".)
  const joined = useMemo(() => {
    const names = new Set(Object.values(users));
    if (me) names.add(me.nickname);
    for (const m of messages) names.add(m.authorNickname);
    return [...names].sort().join("\n");
  }, [users, me, messages]);
  return useMemo(() => (joined === "" ? [] : joined.split("\n")), [joined]);
}

export interface RoomTimelineView {
  timeline: RoomTimeline | undefined;
  items: TimelineItem[];
  /** The loaded window's messages, ascending by seq. */
  messages: Message[];
  /** Seq of the newest message in the loaded window (0 when empty). */
  lastSeq: number;
  pending: readonly PendingMessage[];
}

const NO_IDS: readonly string[] = [];
const NO_PENDING: readonly PendingMessage[] = [];
const NO_NOTICES: readonly Notice[] = [];

/**
 * The rows of a room's message list: messages, pending sends and notices merged.
 *
 * Every selector here returns a stored reference (no array is built inside a selector): the list
 * re-renders on every scroll frame, and zustand runs selectors on every render, so selecting
 * `selectRoomMessages` (a new 1,000-element array, then a shallow compare) cost milliseconds per
 * frame. The arrays are built in `useMemo`, only when the window's ids or messages change; a
 * `loadingOlder` flip (a new timeline object, same `ids`) rebuilds nothing.
 */
export function useTimelineItems(roomId: string, dividerSeq: number | null): RoomTimelineView {
  const timeline = useChat((s) => s.timelines[roomId]);
  const ids = timeline?.ids ?? NO_IDS;
  const byId = useChat((s) => s.messages[roomId]);
  const messages = useMemo(() => {
    const out: Message[] = [];
    if (!byId) return out;
    for (const id of ids) {
      const m = byId[id];
      if (m) out.push(m);
    }
    return out;
  }, [ids, byId]);
  // Pending sends live in one map for all rooms; the per-room array is small (the outbox), so a
  // shallow compare is cheap, and skipped entirely while nothing is pending.
  const pendingHere = useChatShallow((s) => (s.pendingOrder.length === 0 ? NO_PENDING : selectPendingForRoom(s, roomId)));
  // By reference: `selectNotices` returns a new `[]` for a room without notices.
  const notices = useChat((s) => s.notices[roomId]) ?? NO_NOTICES;
  const myId = useChat((s) => s.me?.id ?? null);
  const items = useMemo(
    () => buildTimelineItems({ messages, pending: pendingHere, notices, dividerSeq, myId }),
    [messages, pendingHere, notices, dividerSeq, myId],
  );
  return { timeline, items, messages, lastSeq: messages.at(-1)?.seq ?? 0, pending: pendingHere };
}

function subscribeVisibility(listener: () => void): () => void {
  document.addEventListener("visibilitychange", listener);
  return () => document.removeEventListener("visibilitychange", listener);
}

/** True while the page is visible (not a background tab, not minimised). */
export function useDocumentVisible(): boolean {
  return useSyncExternalStore(
    subscribeVisibility,
    () => document.visibilityState === "visible",
    () => true,
  );
}
