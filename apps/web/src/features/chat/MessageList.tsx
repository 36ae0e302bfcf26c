import type { RoomSummary } from "@parley/shared";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState, type UIEvent } from "react";
import { useT } from "../../i18n/index.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat, useDocumentVisible, useKnownNicknames, useTimelineItems } from "../../store/hooks.js";
import { foldTimelineRows, selectSeqToMarkRead, type TimelineItem, type TimelineRow } from "../../store/selectors.js";
import { ArrowDownIcon } from "../../ui/icons.js";
import { MessageRow, type RowContext } from "./MessageRow.js";

/**
 * How close (px) to an edge counts as "at" it. At the bottom: follow new messages and mark them
 * read. At the top: start loading the previous page early enough that a fast flick rarely hits
 * the spinner (about two screens of rows on a laptop).
 */
const BOTTOM_THRESHOLD_PX = 48;
const LOAD_OLDER_THRESHOLD_PX = 800;
/** Room above the first row for the "loading older messages" line while older pages exist. */
const TOP_PADDING_PX = 72;

/** A list row: a message with its decorations (see `TimelineRow`), or the room's beginning. */
type Row = ({ type: "item" } & TimelineRow) | { type: "top"; key: "top" };

/**
 * First guesses at row heights (px, from the stylesheet at the laptop width); real heights are
 * measured as rows render. Close guesses matter: every first measurement of a row above the view
 * corrects scrollTop while the user scrolls up through history.
 */
function estimateItem(item: TimelineItem): number {
  switch (item.type) {
    case "message":
    case "pending":
      return item.grouped ? 26 : 58;
    case "day":
    case "divider":
      return 36;
    default:
      return 30;
  }
}

function estimateRow(row: Row | undefined): number {
  if (!row) return 58;
  if (row.type === "top") return 72;
  let size = estimateItem(row.item);
  for (const a of row.above) size += estimateItem(a);
  for (const b of row.below) size += estimateItem(b);
  return size;
}

/**
 * The virtualised message list. Only rows near the viewport are in the DOM (a room can hold
 * 100,000 messages); the virtualiser is anchored to the end, so appended rows are followed while
 * the user is at the bottom and prepended pages keep the visible row steady.
 */
export function MessageList({ room }: { room: RoomSummary }) {
  const t = useT();
  const client = useChatClient();
  const roomId = room.id;
  // The divider stays where the read position was when the room was opened (this component is
  // keyed by room), so it does not vanish the moment the room is marked read.
  const [dividerSeq] = useState(() => (room.lastReadSeq < room.lastSeq ? room.lastReadSeq : null));
  const { timeline, items, messages, lastSeq } = useTimelineItems(roomId, dividerSeq);
  const me = useChat((s) => s.me);
  const nicknames = useKnownNicknames(messages);
  const visible = useDocumentVisible();

  const [atBottom, setAtBottom] = useState(true);
  // lastSeq when the user scrolled away from the bottom; newer messages since then show the button.
  const [seqWhenScrolledUp, setSeqWhenScrolledUp] = useState<number | null>(null);

  const hasOlder = timeline?.hasOlder ?? false;
  const hasNewer = timeline?.hasNewer ?? false;
  const loadingOlder = timeline?.loadingOlder ?? false;
  const loadingNewer = timeline?.loadingNewer ?? false;
  const loaded = timeline?.loaded ?? false;

  // The "beginning of the room" row is a list row only once the beginning is reached. While older
  // pages exist, the loading line sits in the list's top padding instead: were it row 0, a reader
  // who reached the very top would be anchored to it, so a prepended page would keep scrollTop at
  // 0 (the view jumps a whole page and, with no further scroll event, loading stalls for good).
  const showTopRow = loaded && !hasOlder;
  const rows = useMemo<Row[]>(() => {
    const folded = foldTimelineRows(items).map((r): Row => ({ type: "item", ...r }));
    return showTopRow ? [{ type: "top", key: "top" }, ...folded] : folded;
  }, [items, showTopRow]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => estimateRow(rows[i]),
    getItemKey: (i) => rows[i]?.key ?? i,
    paddingStart: showTopRow ? 0 : TOP_PADDING_PX,
    overscan: 12,
    anchorTo: "end",
    followOnAppend: true,
    scrollEndThreshold: BOTTOM_THRESHOLD_PX,
  });

  // Open at the bottom once the first page is in.
  const openedAtBottom = useRef(false);
  useEffect(() => {
    if (loaded && !openedAtBottom.current && items.length > 0) {
      openedAtBottom.current = true;
      virtualizer.scrollToEnd();
    }
  }, [loaded, items.length, virtualizer]);

  // Loading older pages is driven by scroll events, which stop when the view cannot move: a short
  // window that does not fill the viewport cannot be scrolled up, and a reader who reached the top
  // while a page was loading sees no further event once the page lands (or if it was too short to
  // push the view down past the threshold). So check again whenever the window or the loading state
  // changes (`rows`, not `rows.length`: a full window keeps its length when a page is prepended, the
  // newest end being trimmed by as much). `atBottom` keeps this from firing on open, before the
  // list has scrolled to the end.
  useEffect(() => {
    const el = scrollRef.current;
    if (!el || !loaded || !hasOlder || loadingOlder) return;
    const short = el.scrollHeight <= el.clientHeight + LOAD_OLDER_THRESHOLD_PX;
    if (el.scrollTop < LOAD_OLDER_THRESHOLD_PX && (short || !atBottom)) void client.loadOlder(roomId);
  }, [client, roomId, loaded, hasOlder, loadingOlder, rows, atBottom]);

  // Seen the bottom while the page is visible: mark it read (moves forward only, in every tab).
  const lastReadSeq = room.lastReadSeq;
  useEffect(() => {
    if (!atBottom || !visible) return;
    const seq = selectSeqToMarkRead({ lastReadSeq }, lastSeq, hasNewer);
    if (seq !== null) client.markRead(roomId, seq);
  }, [client, roomId, atBottom, visible, lastSeq, lastReadSeq, hasNewer]);

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    // One layout read per event (the virtualiser's own handler reads scrollTop right after, for
    // free); the heights come from the virtualiser's model and ResizeObserver, not from
    // scrollHeight/clientHeight.
    const el = e.currentTarget;
    const scrollTop = el.scrollTop;
    const fromBottom = virtualizer.getTotalSize() - scrollTop - (virtualizer.scrollRect?.height ?? el.clientHeight);
    const bottom = fromBottom <= BOTTOM_THRESHOLD_PX;
    if (bottom !== atBottom) {
      setAtBottom(bottom);
      setSeqWhenScrolledUp(bottom ? null : lastSeq);
    }
    if (scrollTop < LOAD_OLDER_THRESHOLD_PX && hasOlder && !loadingOlder) void client.loadOlder(roomId);
    if (fromBottom < LOAD_OLDER_THRESHOLD_PX && hasNewer && !loadingNewer) void client.loadNewer(roomId);
  };

  const jumpToLatest = async () => {
    // The window was trimmed while scrolling back: the core swaps in the latest page first.
    await client.jumpToLatest(roomId);
    virtualizer.scrollToEnd({ behavior: "smooth" });
  };

  const onRetry = useCallback((clientId: string) => client.retry(clientId), [client]);
  const onDiscard = useCallback((clientId: string) => client.discard(clientId), [client]);
  const ctx = useMemo<RowContext>(
    () => ({ nicknames, me: me ? { id: me.id, nickname: me.nickname } : null, onRetry, onDiscard }),
    [nicknames, me, onRetry, onDiscard],
  );

  const showJump = !atBottom && (hasNewer || (seqWhenScrolledUp !== null && lastSeq > seqWhenScrolledUp));
  const roomLabel = room.kind === "dm" ? room.name : `#${room.name}`;
  const virtualRows = virtualizer.getVirtualItems();

  return (
    <div className="message-list-wrap">
      <div
        ref={scrollRef}
        className="message-scroll"
        role="log"
        aria-label={t("chat.messagesLabel", { room: roomLabel })}
        aria-busy={!loaded || loadingOlder}
        tabIndex={0}
        onScroll={onScroll}
        data-testid="message-list"
      >
        <div className="message-canvas" style={{ height: virtualizer.getTotalSize() }}>
          {!showTopRow && (
            <div className="list-top-padding">
              <TopRow room={room} loaded={loaded} hasOlder={hasOlder} />
            </div>
          )}
          {virtualRows.map((v) => {
            const row = rows[v.index];
            if (!row) return null;
            return (
              <div key={v.key} data-index={v.index} ref={virtualizer.measureElement} className="virtual-row" style={{ transform: `translateY(${v.start}px)` }}>
                {row.type === "top" ? (
                  <TopRow room={room} loaded={loaded} hasOlder={hasOlder} />
                ) : (
                  <>
                    {row.above.map((a) => (
                      <MessageRow key={a.key} item={a} ctx={ctx} />
                    ))}
                    <MessageRow item={row.item} ctx={ctx} />
                    {row.below.map((b) => (
                      <MessageRow key={b.key} item={b} ctx={ctx} />
                    ))}
                  </>
                )}
              </div>
            );
          })}
        </div>
      </div>
      {showJump && (
        <button type="button" className="jump-button" onClick={() => void jumpToLatest()}>
          <ArrowDownIcon size={16} />
          {t("chat.jumpToLatest")}
        </button>
      )}
    </div>
  );
}

/** The first row: a loading line while older pages exist, the room's beginning once reached. */
function TopRow({ room, loaded, hasOlder }: { room: RoomSummary; loaded: boolean; hasOlder: boolean }) {
  const t = useT();
  if (!loaded) return <div className="list-top muted">{t("chat.loading")}</div>;
  if (hasOlder)
    return (
      <div className="list-top muted" aria-hidden="true">
        <span className="spinner" />
        {t("chat.loadingOlder")}
      </div>
    );
  return (
    <div className="list-top beginning">
      <h2>{room.kind === "dm" ? room.name : `#${room.name}`}</h2>
      <p className="muted">{room.kind === "dm" ? t("chat.beginningDm", { name: room.name }) : t("chat.beginning", { room: `#${room.name}` })}</p>
    </div>
  );
}
