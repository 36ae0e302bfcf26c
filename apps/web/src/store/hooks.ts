import { selectNotices, selectPendingForRoom, selectRoomMessages, selectTypingNames } from "@parley/client";
import type { ChatState, Message, PendingMessage, RoomTimeline } from "./types.js";
import { useMemo, useSyncExternalStore } from "react";
import { useStore } from "zustand";
import { useShallow } from "zustand/react/shallow";
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
  return useMemo(() => selectRoomSections(rooms), [rooms]);
}

/** Nicknames typing in a room (not me). */
export function useTypingNames(roomId: string): string[] {
  return useChatShallow((s) => selectTypingNames(s, roomId));
}

/**
 * Every nickname the client knows (for @mention highlighting): the core's `users` map, me, and the
 * authors of the messages on screen (history pages do not always pass through `users`).
 */
export function useKnownNicknames(messages: readonly Message[]): string[] {
  const users = useChat((s) => s.users);
  const me = useChat((s) => s.me);
  return useMemo(() => {
    const names = new Set(Object.values(users));
    if (me) names.add(me.nickname);
    for (const m of messages) names.add(m.authorNickname);
    return [...names];
  }, [users, me, messages]);
}

export interface RoomTimelineView {
  timeline: RoomTimeline | undefined;
  items: TimelineItem[];
  /** The loaded window's messages, ascending by seq. */
  messages: Message[];
  /** Seq of the newest message in the loaded window (0 when empty). */
  lastSeq: number;
  pending: PendingMessage[];
}

/** The rows of a room's message list: messages, pending sends and notices merged. */
export function useTimelineItems(roomId: string, dividerSeq: number | null): RoomTimelineView {
  const timeline = useChat((s) => s.timelines[roomId]);
  // Arrays of stored objects: useShallow keeps the previous array while every element is the same,
  // so typing and presence updates do not rebuild the rows.
  const messages = useChatShallow((s) => selectRoomMessages(s, roomId));
  const pending = useChatShallow((s) => selectPendingForRoom(s, roomId));
  const notices = useChatShallow((s) => selectNotices(s, roomId));
  const myId = useChat((s) => s.me?.id ?? null);
  const items = useMemo(
    () => buildTimelineItems({ messages, pending, notices, dividerSeq, myId }),
    [messages, pending, notices, dividerSeq, myId],
  );
  return { timeline, items, messages, lastSeq: messages.at(-1)?.seq ?? 0, pending };
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
