import type { RoomSummary } from "@parley/shared";
import { observeElementOffset, useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type UIEvent } from "react";
import { useT } from "../../i18n/index.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat, useDocumentVisible, useKnownNicknames, useTimelineItems } from "../../store/hooks.js";
import { foldTimelineRows, selectSeqToMarkRead, type TimelineRow } from "../../store/selectors.js";
import { ArrowDownIcon } from "../../ui/icons.js";
import { useChatUi, useChatUiStore } from "./chat-ui.js";
import { MessageRow, type RowContext } from "./MessageRow.js";
import { createFlingWatch } from "./fling.js";
import { FlingContext } from "./light-row.js";
import { estimateItem } from "./row-estimate.js";
import { createScrollAnchor, type ListLayout, type RowBox } from "./scroll-anchor.js";

/**
 * How close (px) to an edge counts as "at" it. At the bottom: follow new messages and mark them
 * read. At the top: start loading the previous page early enough that a fast flick rarely hits
 * the spinner (about two screens of rows on a laptop).
 */
const BOTTOM_THRESHOLD_PX = 48;
const LOAD_OLDER_THRESHOLD_PX = 800;
/** Room above the first row for the "loading older messages" line while older pages exist. */
const TOP_PADDING_PX = 72;
/** How long a message jumped to (from a reply's quote) stays highlighted. */
const HIGHLIGHT_MS = 1_800;

/** A list row: a message with its decorations (see `TimelineRow`), or the room's beginning. */
type Row = ({ type: "item" } & TimelineRow) | { type: "top"; key: "top" };

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

  // "At the bottom" is the anchor's state, changed only by the reader (see scroll-anchor.ts).
  const [anchor] = useState(() => createScrollAnchor({ bottomThreshold: BOTTOM_THRESHOLD_PX }));
  // Rows mounted while the reader flings the list render light (fling.ts, light-row.ts).
  const [fling] = useState(createFlingWatch);
  const [atBottom, setAtBottom] = useState(true);
  // lastSeq when the user scrolled away from the bottom; newer messages since then show the button.
  const [seqWhenScrolledUp, setSeqWhenScrolledUp] = useState<number | null>(null);
  const lastSeqRef = useRef(0);
  lastSeqRef.current = lastSeq;
  useEffect(
    () =>
      anchor.subscribe((bottom) => {
        setAtBottom(bottom);
        setSeqWhenScrolledUp(bottom ? null : lastSeqRef.current);
      }),
    [anchor],
  );

  const hasOlder = timeline?.hasOlder ?? false;
  const hasNewer = timeline?.hasNewer ?? false;
  const loadingOlder = timeline?.loadingOlder ?? false;
  const loadingNewer = timeline?.loadingNewer ?? false;
  const loaded = timeline?.loaded ?? false;
  // At the end of the list is at the end of the conversation only when the window reaches it.
  const canFollow = loaded && !hasNewer && (timeline?.following ?? true);
  const canFollowRef = useRef(canFollow);
  canFollowRef.current = canFollow;

  // The "beginning of the room" row is a list row only once the beginning is reached. While older
  // pages exist, the loading line sits in the list's top padding instead, so that every row stays
  // keyed by a message (the anchor holds the view by a row's key).
  const showTopRow = loaded && !hasOlder;
  const rows = useMemo<Row[]>(() => {
    const folded = foldTimelineRows(items).map((r): Row => ({ type: "item", ...r }));
    return showTopRow ? [{ type: "top", key: "top" }, ...folded] : folded;
  }, [items, showTopRow]);
  const scrollRef = useRef<HTMLDivElement>(null);
  // The virtualiser's scroll-offset callback, so that a scrollTop written by the anchor reaches
  // its range before the browser paints (its own listener hears of it only at the next scroll
  // event, a frame later: a frame of blank list after a jump).
  const offsetChanged = useRef<((offset: number, isScrolling: boolean) => void) | null>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => estimateRow(rows[i]),
    getItemKey: (i) => rows[i]?.key ?? i,
    paddingStart: showTopRow ? 0 : TOP_PADDING_PX,
    // Rows rendered beyond each edge. A fling brings in ~10 rows a frame whatever this is; each row
    // more off screen is layout, style and paint every frame (20k fling, frames over 20 ms,
    // interleaved runs: 6 → 118/134/150, 3 → 103/121/99 of ~2,070).
    overscan: 3,
    // A row's size comes from its ResizeObserver entry, reported after the browser's own layout.
    // On mount the virtualiser would read offsetHeight, forcing the layout of every new row in the
    // middle of React's commit (a fling mounts ten a frame; that forced layout was a quarter of the
    // main thread in a profile); the size assumed until the entry arrives is the estimate, which
    // for a light row is exact (light-row.ts), and a full row corrected by its entry is restored by
    // the anchor before the frame is painted.
    measureElement: (element, entry, instance) => {
      const box = entry?.borderBoxSize[0];
      if (box) return Math.round(box.blockSize);
      const index = instance.indexFromElement(element);
      return instance.itemSizeCache.get(instance.options.getItemKey(index)) ?? instance.options.estimateSize(index);
    },
    observeElementOffset: (instance, cb) => {
      offsetChanged.current = cb;
      const unsubscribe = observeElementOffset(instance, cb);
      return () => {
        offsetChanged.current = null;
        unsubscribe?.();
      };
    },
  });

  // The anchor alone moves the view: two owners of scrollTop would correct each other's
  // corrections (a row measured above the view would be compensated twice).
  virtualizer.shouldAdjustScrollPositionOnItemSizeChange = () => false;

  /** The scrollTop the anchor last heard of: its last scroll event or its own write. */
  const knownTop = useRef<number | null>(null);
  /** The list as the DOM shows it: the measurements of the last committed render. */
  const rendered = useRef<readonly RowBox[]>([]);
  const layoutOf = (el: HTMLElement, rowsNow: readonly RowBox[]): ListLayout => ({
    rows: rowsNow,
    scrollTop: el.scrollTop,
    maxScrollTop: Math.max(0, el.scrollHeight - el.clientHeight),
  });

  // Jumping to a reply's original: the core brings its seq into the window (replacing the window
  // if it is far away), then the row is held in the middle of the viewport by the anchor, the one
  // owner of scrollTop, so measurements and pages arriving afterwards keep it there.
  const ui = useChatUiStore();
  const jump = useChatUi((s) => s.jump);
  const pendingJump = useRef<number | null>(null);
  const [jumpTick, setJumpTick] = useState(0);
  useEffect(() => {
    if (!jump) return;
    let current = true;
    void client.jumpTo(roomId, jump.seq).then((held) => {
      if (!current || !held) return;
      pendingJump.current = jump.seq;
      setJumpTick((n) => n + 1);
    });
    return () => {
      current = false;
    };
  }, [client, roomId, jump]);
  useEffect(() => {
    if (jumpTick === 0) return;
    const timer = setTimeout(() => ui.getState().highlight(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [jumpTick, ui]);

  // After every render (new rows, a trimmed or replaced window, a row measured, the viewport
  // resized): put the view back where the anchor says, before the browser paints.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    // Reading the reader's row: if this render moved neither that row nor the list's end (rows
    // mounted and unmounted at their estimated, exact, heights: every frame of a fling), nothing
    // needs restoring, and reading scrollTop here would only force the layout of the new rows
    // inside this effect (a quarter of a fling's main-thread time in a profile). The browser lays
    // them out once, at its own time, and a scroll in flight arrives with its event as usual.
    const measurements = virtualizer.measurementsCache;
    const mode = anchor.mode;
    if (pendingJump.current === null && mode.kind === "reading" && knownTop.current !== null) {
      const before = rendered.current[mode.index];
      const now = measurements[mode.index];
      const last = (rows: readonly RowBox[]) => rows[rows.length - 1]?.end ?? 0;
      if (before && now && before.key === mode.key && now.key === mode.key && before.start === now.start && last(rendered.current) === last(measurements)) {
        rendered.current = measurements;
        return;
      }
    }
    // A scroll whose event has not been dispatched yet: a script set scrollTop in a frame (the
    // wheel, touch and scrollbar scroll with their event), and this render landed before the event.
    // Restoring from the anchor's mode of before would undo the move; so the move is taken first,
    // against the rows it was made on. A browser clamping scrollTop to a list that shrank is no move.
    const now = layoutOf(el, rendered.current);
    const known = knownTop.current;
    const clamped = known !== null && known > now.maxScrollTop && now.maxScrollTop - now.scrollTop < 1;
    if (known !== null && Math.abs(now.scrollTop - known) >= 1 && !clamped) {
      anchor.scrolled(now, canFollowRef.current);
      fling.scrolled(now.scrollTop);
      knownTop.current = now.scrollTop;
    }
    if (pendingJump.current !== null) {
      const seq = pendingJump.current;
      const index = rows.findIndex((r) => r.type === "item" && "message" in r.item && r.item.message.seq === seq);
      const row = rows[index];
      if (row?.type === "item" && "message" in row.item) {
        pendingJump.current = null;
        const box = virtualizer.measurementsCache[index];
        const height = box ? box.end - box.start : estimateRow(row);
        anchor.hold(row.key, -Math.max(0, (el.clientHeight - height) / 2));
        ui.getState().highlight(row.item.message.id);
      }
    }
    // `measurementsCache` is what this render's rows were positioned from (getVirtualItems reads it).
    rendered.current = virtualizer.measurementsCache;
    const target = anchor.restore({ ...now, rows: rendered.current });
    if (target === null) return;
    el.scrollTop = target;
    knownTop.current = el.scrollTop;
    fling.wrote(el.scrollTop);
    offsetChanged.current?.(el.scrollTop, false);
  });

  // Tell the core which messages are on screen while reading, so that messages arriving at the
  // other end never trim them out of the window (it drops the newest instead and stops following).
  const keepSeq = useRef<number | null>(null);
  const reportInView = () => {
    let seq: number | null = null;
    if (anchor.mode.kind === "reading") {
      const first = virtualizer.getVirtualItems()[0];
      const row = first ? rows[first.index] : undefined;
      if (row?.type === "item" && "message" in row.item) seq = row.item.message.seq;
    }
    if (seq !== keepSeq.current) {
      keepSeq.current = seq;
      client.keepInView(roomId, seq);
    }
  };
  useEffect(() => () => client.keepInView(roomId, null), [client, roomId]);

  // Loading older pages is driven by scroll events, which stop when the view cannot move: a short
  // window that does not fill the viewport cannot be scrolled up, and a reader who reached the top
  // while a page was loading sees no further event once the page lands. So check again whenever the
  // window or the loading state changes (`rows`, not `rows.length`: a full window keeps its length
  // when a page is prepended). A reader following the bottom never loads older pages: only a
  // window too short to fill the screen does.
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

  // The watch looks at every frame while the list moves and until it has been quiet for a moment.
  const flingFrame = useRef(0);
  useEffect(() => () => cancelAnimationFrame(flingFrame.current), []);
  const watchFling = (scrollTop: number) => {
    fling.scrolled(scrollTop);
    if (flingFrame.current !== 0) return;
    const frame = (now: number) => {
      flingFrame.current = fling.frame(now) ? requestAnimationFrame(frame) : 0;
    };
    flingFrame.current = requestAnimationFrame(frame);
  };

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    const layout = layoutOf(el, rendered.current);
    knownTop.current = layout.scrollTop;
    anchor.scrolled(layout, canFollowRef.current);
    watchFling(layout.scrollTop);
    reportInView();
    if (anchor.atBottom) return;
    const fromBottom = layout.maxScrollTop - layout.scrollTop;
    if (layout.scrollTop < LOAD_OLDER_THRESHOLD_PX && hasOlder && !loadingOlder) void client.loadOlder(roomId);
    if (fromBottom < LOAD_OLDER_THRESHOLD_PX && hasNewer && !loadingNewer) void client.loadNewer(roomId);
  };

  const jumpToLatest = async () => {
    // Follow first: the latest page replaces a trimmed window, and the anchor puts the view at its end.
    anchor.stickToBottom();
    reportInView();
    await client.jumpToLatest(roomId);
  };

  // Sending a message shows it, as in Slack: a reader scrolled back (say, to reply to an old
  // message) is taken to the end of the conversation.
  const sent = useChatUi((s) => s.sent);
  const jumpToLatestRef = useRef(jumpToLatest);
  jumpToLatestRef.current = jumpToLatest;
  useEffect(() => {
    if (sent > 0) void jumpToLatestRef.current();
  }, [sent]);

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
    <FlingContext.Provider value={fling}>
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
          data-at-bottom={atBottom}
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
    </FlingContext.Provider>
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
