import type { Message, PendingMessage } from "../../store/types.js";
import { memo } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { formatDay, formatFullDate, formatTime } from "../../lib/time.js";
import { useNow } from "../../lib/use-now.js";
import type { TimelineItem } from "../../store/selectors.js";
import { Avatar } from "../../ui/Avatar.js";
import { AlertIcon, ClockIcon, RetryIcon, TrashIcon } from "../../ui/icons.js";
import { MessageBody } from "./MessageBody.js";

export interface RowContext {
  nicknames: readonly string[];
  me: { id: string; nickname: string } | null;
  onRetry: (clientId: string) => void;
  onDiscard: (clientId: string) => void;
}

/**
 * True when two items render the same. The timeline is rebuilt (new item objects, same stored
 * messages) whenever a page of history arrives, so identity alone would re-render every mounted row.
 */
function sameItem(a: TimelineItem, b: TimelineItem): boolean {
  if (a === b) return true;
  if (a.key !== b.key) return false;
  switch (a.type) {
    case "day":
      return b.type === "day" && a.at === b.at;
    case "divider":
      return b.type === "divider";
    case "system":
      return b.type === "system" && a.message === b.message;
    case "notice":
      return b.type === "notice" && a.notice === b.notice;
    case "message":
      return b.type === "message" && a.message === b.message && a.grouped === b.grouped && a.mentionsMe === b.mentionsMe;
    case "pending":
      return b.type === "pending" && a.pending === b.pending && a.grouped === b.grouped;
  }
}

type RowProps = { item: TimelineItem; ctx: RowContext };

/** One virtualised row of the message list. Memoised: rows re-render only when their item changes. */
export const MessageRow = memo(function MessageRow({ item, ctx }: RowProps) {
  switch (item.type) {
    case "day":
      return <DayRow at={item.at} />;
    case "divider":
      return <NewMessagesDivider />;
    case "system":
      return <SystemRow message={item.message} />;
    case "notice":
      return <NoticeRow kind={item.notice.kind} nickname={item.notice.nickname} at={item.notice.at} />;
    case "message":
      return <TextRow message={item.message} grouped={item.grouped} mentionsMe={item.mentionsMe} ctx={ctx} />;
    case "pending":
      return <PendingRow pending={item.pending} grouped={item.grouped} ctx={ctx} />;
  }
}, (prev: RowProps, next: RowProps) => prev.ctx === next.ctx && sameItem(prev.item, next.item));

function Time({ at, className }: { at: number; className?: string }) {
  const locale = useLocale();
  return (
    <time className={className ?? "message-time"} dateTime={new Date(at).toISOString()} title={formatFullDate(at, locale)}>
      {formatTime(at, locale)}
    </time>
  );
}

function DayRow({ at }: { at: number }) {
  const t = useT();
  const locale = useLocale();
  const now = useNow();
  return (
    <div className="day-separator" role="separator">
      <span>{formatDay(at, now, locale, { today: t("time.today"), yesterday: t("time.yesterday") })}</span>
    </div>
  );
}

function NewMessagesDivider() {
  const t = useT();
  return (
    <div className="new-divider" role="separator" data-testid="new-messages-divider">
      <span>{t("chat.newMessages")}</span>
    </div>
  );
}

function SystemRow({ message }: { message: Message }) {
  const t = useT();
  const text = message.kind === "join" ? t("chat.joined", { name: message.authorNickname }) : t("chat.left", { name: message.authorNickname });
  return (
    <div className="system-line" data-testid="system-message" data-kind={message.kind} data-seq={message.seq}>
      <span>{text}</span>
      <Time at={message.createdAt} className="system-time" />
    </div>
  );
}

function NoticeRow({ kind, nickname, at }: { kind: "online" | "offline"; nickname: string; at: number }) {
  const t = useT();
  return (
    <div className="system-line notice" data-testid="notice" data-kind={kind}>
      <span>{kind === "online" ? t("chat.cameOnline", { name: nickname }) : t("chat.wentOffline", { name: nickname })}</span>
      <Time at={at} className="system-time" />
    </div>
  );
}

function TextRow({ message, grouped, mentionsMe, ctx }: { message: Message; grouped: boolean; mentionsMe: boolean; ctx: RowContext }) {
  const mine = ctx.me?.id === message.authorId;
  return (
    <article
      className={`message${grouped ? " grouped" : ""}${mentionsMe ? " mentions-me" : ""}${mine ? " mine" : ""}`}
      data-testid="message"
      data-status="sent"
      data-seq={message.seq}
      data-message-id={message.id}
      data-author={message.authorNickname}
    >
      <div className="message-gutter">
        {grouped ? <Time at={message.createdAt} className="message-time gutter-time" /> : <Avatar userId={message.authorId} nickname={message.authorNickname} />}
      </div>
      <div className="message-main">
        {!grouped && (
          <header className="message-header">
            <span className="message-author">{message.authorNickname}</span>
            <Time at={message.createdAt} />
          </header>
        )}
        <MessageBody body={message.body} nicknames={ctx.nicknames} myNickname={ctx.me?.nickname ?? null} />
      </div>
    </article>
  );
}

function PendingRow({ pending, grouped, ctx }: { pending: PendingMessage; grouped: boolean; ctx: RowContext }) {
  const t = useT();
  const failed = pending.status === "failed";
  const me = ctx.me;
  return (
    <article
      className={`message pending ${pending.status}${grouped ? " grouped" : ""}`}
      data-testid="message"
      data-status={pending.status}
      data-client-id={pending.clientId}
      aria-busy={!failed}
    >
      <div className="message-gutter">
        {grouped || !me ? <Time at={pending.createdAt} className="message-time gutter-time" /> : <Avatar userId={me.id} nickname={me.nickname} />}
      </div>
      <div className="message-main">
        {!grouped && me && (
          <header className="message-header">
            <span className="message-author">{me.nickname}</span>
            <Time at={pending.createdAt} />
          </header>
        )}
        <MessageBody body={pending.body} nicknames={ctx.nicknames} myNickname={me?.nickname ?? null} />
        {failed ? (
          <div className="pending-status failed" role="alert">
            <AlertIcon size={14} />
            <span>{t("chat.failed", { reason: errorText(pending.error) })}</span>
            <button type="button" className="link-button" onClick={() => ctx.onRetry(pending.clientId)}>
              <RetryIcon size={13} />
              {t("chat.retry")}
            </button>
            <button type="button" className="link-button danger" onClick={() => ctx.onDiscard(pending.clientId)}>
              <TrashIcon size={13} />
              {t("chat.discard")}
            </button>
          </div>
        ) : (
          <div className="pending-status">
            <ClockIcon size={13} />
            <span>{t("chat.sending")}</span>
          </div>
        )}
      </div>
    </article>
  );
}
