import { highlightRanges, type Message, type SearchPage } from "@parley/shared";
import { useEffect, useRef, useState } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { formatFullDate, formatDay, formatTime } from "../../lib/time.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat } from "../../store/hooks.js";
import { Avatar } from "../../ui/Avatar.js";
import { CloseIcon } from "../../ui/icons.js";
import { filesSummary } from "../chat/attachments/attach.js";
import { excerptAround, type SearchRequest } from "./search-request.js";

/** A search the panel shows: the request and a nonce (searching the same text again reruns it). */
export interface ActiveSearch {
  text: string;
  request: Extract<SearchRequest, { ok: true }>;
  nonce: number;
}

type Results =
  | { state: "loading" }
  | { state: "done"; hits: Message[]; nextCursor: string | null; loadingMore: boolean; moreError: string | null }
  | { state: "error"; code: string };

/**
 * Search results, newest first, with the matched words marked; a result opens its room at that
 * message (`onOpen`). Results are fetched page by page ("Show older results").
 */
export function SearchPanel({ search, onOpen, onClose }: { search: ActiveSearch; onOpen: (hit: Message) => void; onClose: () => void }) {
  const t = useT();
  const client = useChatClient();
  const [results, setResults] = useState<Results>({ state: "loading" });
  const current = useRef(0);

  useEffect(() => {
    const run = ++current.current;
    setResults({ state: "loading" });
    client.searchMessages(search.request.payload).then(
      (r) => {
        if (run !== current.current) return;
        setResults(r.ok ? { state: "done", hits: r.data.hits, nextCursor: r.data.nextCursor, loadingMore: false, moreError: null } : { state: "error", code: r.error.code });
      },
      () => run === current.current && setResults({ state: "error", code: "TIMEOUT" }),
    );
  }, [client, search]);

  const more = (cursor: string) => {
    const run = current.current;
    setResults((r) => (r.state === "done" ? { ...r, loadingMore: true, moreError: null } : r));
    const apply = (page: SearchPage | null, code: string | null) => {
      if (run !== current.current) return;
      setResults((r) =>
        r.state !== "done" ? r : page ? { ...r, hits: [...r.hits, ...page.hits], nextCursor: page.nextCursor, loadingMore: false } : { ...r, loadingMore: false, moreError: code },
      );
    };
    client.searchMessages({ ...search.request.payload, cursor }).then(
      (r) => (r.ok ? apply(r.data, null) : apply(null, r.error.code)),
      () => apply(null, "TIMEOUT"),
    );
  };

  return (
    <aside className="search-panel" aria-label={t("search.title")} data-testid="search-panel">
      <header className="panel-header">
        <h2 className="search-panel-title">{t("search.resultsFor", { text: search.text })}</h2>
        <button type="button" className="icon-button" aria-label={t("search.close")} onClick={onClose}>
          <CloseIcon />
        </button>
      </header>
      <div className="search-results" aria-busy={results.state === "loading"}>
        {results.state === "loading" && <p className="muted panel-empty">{t("search.searching")}</p>}
        {results.state === "error" && (
          <p className="form-error panel-empty" role="alert">
            {errorText(results.code)}
          </p>
        )}
        {results.state === "done" && results.hits.length === 0 && <p className="muted panel-empty">{t("search.none")}</p>}
        {results.state === "done" && results.hits.length > 0 && (
          <>
            <p className="muted small search-count" role="status">
              {results.nextCursor ? t("search.countMore", { count: results.hits.length }) : t("search.count", { count: results.hits.length })}
            </p>
            <ul className="search-hits">
              {results.hits.map((hit) => (
                <li key={hit.id}>
                  <SearchHit hit={hit} terms={search.request.terms} onOpen={onOpen} />
                </li>
              ))}
            </ul>
            {results.moreError && (
              <p className="form-error small panel-empty" role="alert">
                {errorText(results.moreError)}
              </p>
            )}
            {results.nextCursor && (
              <button type="button" className="button search-more" disabled={results.loadingMore} onClick={() => more(results.nextCursor!)}>
                {results.loadingMore ? t("search.searching") : t("search.more")}
              </button>
            )}
          </>
        )}
      </div>
    </aside>
  );
}

function SearchHit({ hit, terms, onOpen }: { hit: Message; terms: readonly string[]; onOpen: (hit: Message) => void }) {
  const t = useT();
  const locale = useLocale();
  const room = useChat((s) => s.rooms[hit.roomId]);
  const roomLabel = room ? (room.kind === "dm" ? `@${room.name}` : `#${room.name}`) : "";
  const { text, ranges, cut } = excerptAround(hit.body, highlightRanges(hit.body, terms));
  const parts: React.ReactNode[] = [];
  let at = 0;
  for (const [s, e] of ranges) {
    if (s > at) parts.push(text.slice(at, s));
    parts.push(<mark key={s}>{text.slice(s, e)}</mark>);
    at = e;
  }
  if (at < text.length) parts.push(text.slice(at));
  const now = Date.now();
  return (
    <button type="button" className="search-hit" data-testid="search-hit" data-room-id={hit.roomId} data-seq={hit.seq} onClick={() => onOpen(hit)}>
      <span className="search-hit-meta">
        <Avatar userId={hit.authorId} nickname={hit.authorNickname} size={20} />
        <span className="search-hit-author">{hit.authorNickname}</span>
        <span className="muted small search-hit-room">{roomLabel}</span>
        <time className="muted small search-hit-time" dateTime={new Date(hit.createdAt).toISOString()} title={formatFullDate(hit.createdAt, locale)}>
          {formatDay(hit.createdAt, now, locale, { today: t("time.today"), yesterday: t("time.yesterday") })} {formatTime(hit.createdAt, locale)}
        </time>
      </span>
      {hit.body.trim() !== "" && (
        <span className="search-hit-body">
          {cut && "…"}
          {parts}
        </span>
      )}
      {hit.attachments.length > 0 && (
        <span className="search-hit-files muted small" data-testid="search-hit-files">
          {filesSummary(hit.attachments)}
        </span>
      )}
    </button>
  );
}
