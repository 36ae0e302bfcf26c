import { DEFAULT_ROOM_ID, findMentions, type Message, type RoomSummary } from "@parley/shared";
import type { Notice, PendingMessage } from "@parley/client";
import { compareNames } from "../lib/collate.js";
import { dayKey } from "../lib/time.js";

/**
 * Pure view-model builders over the core's state (the core's own selectors, `selectRoomMessages`
 * and friends, cover plain reads). No React here: these are table-tested in `test/` and wrapped
 * in hooks (`hooks.ts`) that memoise them.
 */

/**
 * The room list split the way the sidebar shows it. Unlike the core's `selectSortedRooms`, the
 * default room is pinned first (everyone has it; it is the lobby), and the result is memoised on
 * the rooms map by the hook, so it is safe to select without `useShallow`.
 */
export interface RoomSections {
  /** Public rooms: the default room first, then by name. */
  rooms: RoomSummary[];
  /** Direct messages: most recent activity first. */
  dms: RoomSummary[];
}

/** `locale` is the UI's: names sort as its readers expect (pinyin order in zh-CN). */
export function selectRoomSections(rooms: Record<string, RoomSummary>, locale: string): RoomSections {
  const publicRooms: RoomSummary[] = [];
  const dms: RoomSummary[] = [];
  for (const room of Object.values(rooms)) (room.kind === "dm" ? dms : publicRooms).push(room);
  publicRooms.sort((a, b) => {
    if (a.id === DEFAULT_ROOM_ID) return -1;
    if (b.id === DEFAULT_ROOM_ID) return 1;
    return compareNames(a.name, b.name, locale);
  });
  dms.sort((a, b) => b.lastActivityAt - a.lastActivityAt || compareNames(a.name, b.name, locale));
  return { rooms: publicRooms, dms };
}

/** One row of the message list. `key` is stable for the row's lifetime (virtualiser cache key). */
export type TimelineItem =
  | { type: "day"; key: string; at: number }
  | { type: "divider"; key: string }
  | {
      type: "message";
      key: string;
      message: Message;
      /** Same author as the row above, close in time: render without avatar and name. */
      grouped: boolean;
      mentionsMe: boolean;
    }
  | { type: "system"; key: string; message: Message }
  | { type: "notice"; key: string; notice: Notice }
  | { type: "pending"; key: string; pending: PendingMessage; grouped: boolean };

export interface TimelineInput {
  /** The room's loaded window, ascending by seq. */
  messages: readonly Message[];
  /** This room's unacknowledged sends, in send order. */
  pending: readonly PendingMessage[];
  notices: readonly Notice[];
  /** Draw "New messages" before the first message by someone else after this seq; null: none. */
  dividerSeq: number | null;
  myId: string | null;
  /** Only for tests: the zone day separators are computed in. */
  timeZone?: string;
}

/** Consecutive messages by one author group together when less than this apart (Slack uses 5 min). */
export const GROUP_WINDOW_MS = 5 * 60_000;

/**
 * Merges the room's messages, its pending sends and its transient notices into the rows the list
 * renders: day separators, the "New messages" divider, author grouping, and pending sends last
 * (they have no seq yet, and the server will append them after everything already committed).
 */
export function buildTimelineItems(input: TimelineInput): TimelineItem[] {
  const { messages, pending, notices, dividerSeq, myId, timeZone } = input;
  const items: TimelineItem[] = [];
  // Notices are ordered by the seq they follow; walk them alongside the messages.
  const sortedNotices = [...notices].sort((a, b) => a.afterSeq - b.afterSeq || a.at - b.at);
  let noticeIndex = 0;
  let dividerPlaced = dividerSeq === null;
  let lastDay: string | null = null;
  // The author and time of the row above, when it can start or continue a group.
  let groupAuthor: string | null = null;
  let groupAt = 0;

  const pushNoticesUpTo = (seq: number) => {
    while (noticeIndex < sortedNotices.length && sortedNotices[noticeIndex]!.afterSeq < seq) {
      const notice = sortedNotices[noticeIndex++]!;
      items.push({ type: "notice", key: `notice:${notice.id}`, notice });
      groupAuthor = null;
    }
  };

  const pushDay = (at: number) => {
    const day = dayKey(at, timeZone);
    if (day !== lastDay) {
      lastDay = day;
      items.push({ type: "day", key: `day:${day}`, at });
      groupAuthor = null;
    }
  };

  for (const message of messages) {
    pushNoticesUpTo(message.seq);
    pushDay(message.createdAt);
    if (!dividerPlaced && dividerSeq !== null && message.seq > dividerSeq && message.authorId !== myId) {
      items.push({ type: "divider", key: "divider" });
      dividerPlaced = true;
      groupAuthor = null;
    }
    if (message.kind !== "text") {
      items.push({ type: "system", key: message.id, message });
      groupAuthor = null;
      continue;
    }
    const grouped = groupAuthor === message.authorId && message.createdAt - groupAt < GROUP_WINDOW_MS;
    items.push({
      type: "message",
      key: message.id,
      message,
      grouped,
      mentionsMe: myId !== null && message.mentions.includes(myId),
    });
    groupAuthor = message.authorId;
    groupAt = message.createdAt;
  }
  pushNoticesUpTo(Number.POSITIVE_INFINITY);

  for (const p of pending) {
    pushDay(p.createdAt);
    const grouped = groupAuthor === myId && p.createdAt - groupAt < GROUP_WINDOW_MS;
    items.push({ type: "pending", key: `pending:${p.clientId}`, pending: p, grouped });
    groupAuthor = myId;
    groupAt = p.createdAt;
  }
  return items;
}

/**
 * One row of the virtualised list: a message (or join/leave line, or pending send) with the
 * decorations drawn around it. Day separators, the "New messages" divider and notices are folded
 * into the next message's row (`above`), so every row is keyed by a message. That matters at the
 * very top: the virtualiser holds the view steady by the row under the scroll offset, and a day
 * separator's key (`day:<date>`) stays row 0 when an older page of the same day is prepended, so
 * the view would jump a whole page, scrollTop would stay 0, and (no scroll event) loading would
 * stall. Decorations after the last message (a notice) go `below` it, so that a new message is
 * still a new last row: the virtualiser follows appended rows only when the last key changes.
 */
export interface TimelineRow {
  key: string;
  item: TimelineItem;
  above: readonly TimelineItem[];
  below: readonly TimelineItem[];
}

const NO_ITEMS: readonly TimelineItem[] = [];

function isDecoration(item: TimelineItem): boolean {
  return item.type === "day" || item.type === "divider" || item.type === "notice";
}

/** Folds `buildTimelineItems`' rows into list rows (see `TimelineRow`). */
export function foldTimelineRows(items: readonly TimelineItem[]): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let above: TimelineItem[] = [];
  for (const item of items) {
    if (isDecoration(item)) above.push(item);
    else {
      rows.push({ key: item.key, item, above: above.length === 0 ? NO_ITEMS : above, below: NO_ITEMS });
      above = [];
    }
  }
  if (above.length > 0) {
    const last = rows.at(-1);
    if (last) rows[rows.length - 1] = { ...last, below: above };
    // No message at all (an empty room with notices): the decorations are the rows.
    else for (const item of above) rows.push({ key: item.key, item, above: NO_ITEMS, below: NO_ITEMS });
  }
  return rows;
}

/** A piece of a message body: plain text, or an @mention to highlight. */
export type BodySegment = { text: string; mention: null } | { text: string; mention: { nickname: string; me: boolean } };

/**
 * Splits a body into text and @mention segments using the shared `findMentions`, so the UI
 * highlights exactly what the server counted. Rendered as React text nodes, never as HTML.
 */
export function splitMentions(body: string, nicknames: readonly string[], myNickname: string | null): BodySegment[] {
  const found = findMentions(body, nicknames);
  if (found.length === 0) return [{ text: body, mention: null }];
  const segments: BodySegment[] = [];
  let at = 0;
  const mine = myNickname?.toLowerCase() ?? null;
  for (const m of found) {
    if (m.start > at) segments.push({ text: body.slice(at, m.start), mention: null });
    segments.push({
      text: body.slice(m.start, m.end),
      mention: { nickname: m.nickname, me: mine !== null && m.nickname.toLowerCase() === mine },
    });
    at = m.end;
  }
  if (at < body.length) segments.push({ text: body.slice(at), mention: null });
  return segments;
}

/** The seq to mark read when the user sees the bottom of the window, or null if nothing new. */
export function selectSeqToMarkRead(
  room: Pick<RoomSummary, "lastReadSeq"> | undefined,
  windowLastSeq: number,
  hasNewer: boolean,
): number | null {
  if (!room || hasNewer || windowLastSeq <= room.lastReadSeq) return null;
  return windowLastSeq;
}
