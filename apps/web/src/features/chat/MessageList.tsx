import type { RoomSummary } from "@parley/shared";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState, type UIEvent } from "react";
import { useT } from "../../i18n/index.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat, useDocumentVisible, useKnownNicknames, useTimelineItems } from "../../store/hooks.js";
import { selectSeqToMarkRead, type TimelineItem } from "../../store/selectors.js";
import { ArrowDownIcon } from "../../ui/icons.js";
import { MessageRow, type RowContext } from "./MessageRow.js";

/**
 * How close (px) to an edge counts as "at" it. At the bottom: follow new messages and mark them
 * read. At the top: start loading the previous page early enough that a fast flick rarely hits
 * the spinner (about two screens of rows on a laptop).
 */
const BOTTOM_THRESHOLD_PX = 48;
const LOAD_OLDER_THRESHOLD_PX = 800;

type Row = TimelineItem | { type: "top"; key: "top" };

/** First guesses at row heights; real heights are measured as rows render. */
function estimateRow(row: Row | undefined): number {
  switch (row?.type) {
    case "message":
    case "pending":
      return row.grouped ? 26 : 58;
    case "top":
      return 72;
    default:
      return 34;
  }
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

  const rows = useMemo<Row[]>(() => [{ type: "top", key: "top" }, ...items], [items]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => estimateRow(rows[i]),
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 12,
    anchorTo: "end",
    followOnAppend: true,
    scrollEndThreshold: BOTTOM_THRESHOLD_PX,
  });

  const hasOlder = timeline?.hasOlder ?? false;
  const hasNewer = timeline?.hasNewer ?? false;
  const loadingOlder = timeline?.loadingOlder ?? false;
  const loadingNewer = timeline?.loadingNewer ?? false;
  const loaded = timeline?.loaded ?? false;

  // Open at the bottom once the first page is in.
  const openedAtBottom = useRef(false);
  useEffect(() => {
    if (loaded && !openedAtBottom.current && rows.length > 1) {
      openedAtBottom.current = true;
      virtualizer.scrollToEnd();
    }
  }, [loaded, rows.length, virtualizer]);

  // A short window that does not fill the viewport cannot be scrolled up: load older right away.
  useEffect(() => {
    const el = scrollRef.current;
    if (!el || !loaded || !hasOlder || loadingOlder) return;
    if (el.scrollHeight <= el.clientHeight + LOAD_OLDER_THRESHOLD_PX && el.scrollTop < LOAD_OLDER_THRESHOLD_PX) {
      void client.loadOlder(roomId);
    }
  }, [client, roomId, loaded, hasOlder, loadingOlder, rows.length]);

  // Seen the bottom while the page is visible: mark it read (moves forward only, in every tab).
  const lastReadSeq = room.lastReadSeq;
  useEffect(() => {
    if (!atBottom || !visible) return;
    const seq = selectSeqToMarkRead({ lastReadSeq }, lastSeq, hasNewer);
    if (seq !== null) client.markRead(roomId, seq);
  }, [client, roomId, atBottom, visible, lastSeq, lastReadSeq, hasNewer]);

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    const fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
    const bottom = fromBottom <= BOTTOM_THRESHOLD_PX;
    if (bottom !== atBottom) {
      setAtBottom(bottom);
      setSeqWhenScrolledUp(bottom ? null : lastSeq);
    }
    if (el.scrollTop < LOAD_OLDER_THRESHOLD_PX && hasOlder && !loadingOlder) void client.loadOlder(roomId);
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
          {virtualRows.map((v) => {
            const row = rows[v.index];
            if (!row) return null;
            return (
              <div key={v.key} data-index={v.index} ref={virtualizer.measureElement} className="virtual-row" style={{ transform: `translateY(${v.start}px)` }}>
                {row.type === "top" ? (
                  <TopRow room={room} loaded={loaded} hasOlder={hasOlder} />
                ) : (
                  <MessageRow item={row} ctx={ctx} />
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
