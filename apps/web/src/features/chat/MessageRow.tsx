import { selectCanModerate, selectChangesForMessage, selectMessageView, selectUploadsOf, type PendingChange } from "@parley/client";
import type { Message, PendingMessage, UploadJob } from "../../store/types.js";
import { memo, useState } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { formatDay, formatFullDate, formatTime } from "../../lib/time.js";
import { useNow } from "../../lib/use-now.js";
import type { TimelineItem } from "../../store/selectors.js";
import { Avatar } from "../../ui/Avatar.js";
import { ProfileTrigger } from "../profiles/ProfileTrigger.js";
import { UserAvatar } from "../profiles/UserAvatar.js";
import { AlertIcon, ClockIcon, RetryIcon, TrashIcon } from "../../ui/icons.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat, useChatShallow } from "../../store/hooks.js";
import { retryLabel } from "./attachments/attach.js";
import { fitImage } from "./attachments/attachment-layout.js";
import { MessageAttachments } from "./attachments/MessageAttachments.js";
import { UploadChip } from "./attachments/UploadChip.js";
import { excerptOf, plainBody, useChatUi, useChatUiStore } from "./chat-ui.js";
import { estimateItem } from "./row-estimate.js";
import { useLightRow } from "./light-row.js";
import { MessageBody } from "./MessageBody.js";
import { ChangeStatus, DeleteDialog, EditedMark, MessageActions, ReplyQuote } from "./MessageParts.js";
import { ReactionBar } from "./reactions/ReactionBar.js";
import { systemText } from "./system-text.js";
import { ReasonDialog } from "../moderation/ReasonDialog.js";
import { showToast } from "../../ui/toasts.js";

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
    case "muted":
      return b.type === "muted" && a.message === b.message;
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
    case "muted":
      return <MutedRow message={item.message} ctx={ctx} />;
    case "notice":
      return <NoticeRow kind={item.notice.kind} nickname={item.notice.nickname} at={item.notice.at} />;
    case "message":
      return <MessageItemRow item={item} ctx={ctx} />;
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

/** A join, leave or moderation line: centred, in the reader's language (system-text.ts). */
function SystemRow({ message }: { message: Message }) {
  const t = useT();
  const text = systemText(message, t);
  return (
    <div className="system-line" data-testid="system-message" data-kind={message.kind} data-seq={message.seq}>
      <span>{text}</span>
      <Time at={message.createdAt} className="system-time" />
    </div>
  );
}

/**
 * A message from a user I muted: one quiet line, the way Discord shows a blocked user's message.
 * "Show" reveals it in place for this look only (it folds again when the row leaves the screen);
 * the author is not named, since not hearing from them is the point.
 */
function MutedRow({ message, ctx }: { message: Message; ctx: RowContext }) {
  const t = useT();
  const [shown, setShown] = useState(false);
  return (
    <div className="muted-row" data-testid="muted-message" data-seq={message.seq} data-shown={shown || undefined}>
      <div className="system-line muted-line">
        <span>{t("message.muted")}</span>
        <button type="button" className="link-button" aria-expanded={shown} onClick={() => setShown((v) => !v)}>
          {shown ? t("message.hideMuted") : t("message.showMuted")}
        </button>
      </div>
      {shown && <TextRow message={message} grouped={false} mentionsMe={false} ctx={ctx} />}
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

const NO_CHANGES: readonly PendingChange[] = [];
const NO_UPLOADS: readonly UploadJob[] = [];

/**
 * A message row, light while the reader flings the list (see light-row.ts): decided at mount, it
 * turns full once the list is still.
 */
function MessageItemRow({ item, ctx }: { item: Extract<TimelineItem, { type: "message" }>; ctx: RowContext }) {
  const light = useLightRow();
  if (light) return <LightTextRow item={item} />;
  return <TextRow message={item.message} grouped={item.grouped} mentionsMe={item.mentionsMe} ctx={ctx} />;
}

/**
 * What a row mounted mid-fling shows: the author and the body as plain text in a box of exactly the
 * height the list estimated for the full row (`estimateItem`), clipped. Why that height: a row
 * whose measured height equals its estimate moves no other row, so the list renders and lays out
 * once per frame instead of twice (a second render to place the rows from their measured heights,
 * and the anchor correcting scrollTop for them, was half of each frame of a fast flick through
 * formatted history: bench:client, issue 11). And why so little: no Markdown, chips, actions,
 * store subscriptions or tooltips; a handful of elements per row. Nobody reads a row that crosses
 * the screen in two frames; the rows the reader stops at turn full within a few frames.
 */
function LightTextRow({ item }: { item: Extract<TimelineItem, { type: "message" }> }) {
  const t = useT();
  const { message, grouped, mentionsMe } = item;
  const deleted = message.deletedAt !== null;
  const classes = ["message", "light"];
  if (grouped) classes.push("grouped");
  if (mentionsMe && !deleted) classes.push("mentions-me");
  return (
    <article
      className={classes.join(" ")}
      data-testid="message"
      data-status="sent"
      data-seq={message.seq}
      data-message-id={message.id}
      data-author={message.authorNickname}
      data-light=""
      style={{ height: estimateItem(item) }}
    >
      <div className="message-gutter">{!grouped && <Avatar userId={message.authorId} nickname={message.authorNickname} />}</div>
      <div className="message-main">
        {!grouped && (
          <header className="message-header">
            <span className="message-author">{message.authorNickname}</span>
          </header>
        )}
        {(deleted || message.body.trim() !== "") && (
          <div className="message-body">{deleted ? t(message.removedByModerator ? "message.removedByModerator" : "message.deleted") : plainBody(message.body)}</div>
        )}
        {!deleted && message.attachments.length > 0 && <LightAttachments attachments={message.attachments} />}
      </div>
    </article>
  );
}

/**
 * A light row's files: empty boxes of the sizes the full row will have (images) and card-sized
 * bars (files), so the row is laid out as it will be without loading a thumbnail mid-fling.
 */
function LightAttachments({ attachments }: { attachments: Message["attachments"] }) {
  const images = attachments.filter((a) => a.kind === "image");
  const files = attachments.filter((a) => a.kind !== "image");
  return (
    <div className="attachments light">
      {images.length > 0 && (
        <div className="attachment-images">
          {images.map((a) => {
            const size = fitImage(a.width, a.height);
            return <span key={a.id} className="attachment-image placeholder" style={{ width: size.width, aspectRatio: `${size.width} / ${size.height}` }} />;
          })}
        </div>
      )}
      {files.map((a) => (
        <span key={a.id} className="file-card placeholder">
          {a.name}
        </span>
      ))}
    </div>
  );
}

function TextRow({ message: stored, grouped, mentionsMe, ctx }: { message: Message; grouped: boolean; mentionsMe: boolean; ctx: RowContext }) {
  const t = useT();
  const client = useChatClient();
  const ui = useChatUiStore();
  // The stored copy with my unsent edit, delete or reactions laid over it (same object while
  // nothing changes, so the row re-renders only for its own message).
  const view = useChat((s) => selectMessageView(s, stored.roomId, stored.id));
  const message: Message = view ?? stored;
  const changes = useChat((s) => (s.changeOrder.length === 0 ? NO_CHANGES : selectChangesForMessage(s, stored.id)));
  // An edit or delete on its way dims the body; a reaction on its way shows only in its chip.
  const changing = (view?.pending ?? false) && changes.some((c) => c.status === "sending" && c.kind !== "react");
  const editing = useChatUi((s) => s.editing?.messageId === stored.id);
  const highlighted = useChatUi((s) => s.highlightedId === stored.id);
  const tapped = useChatUi((s) => s.tappedId === stored.id);
  const [actionsOpen, setActionsOpen] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [reporting, setReporting] = useState(false);
  // A moderator (owner, admin) deletes others' messages too; the server checks it again.
  const moderates = useChat((s) => selectCanModerate(s, stored.roomId));
  // The action bar is mounted only on the row the pointer is over, the row focus is in, or the row
  // tapped: a bar of buttons and icons in every row made each new row of a fast scroll cost ~3x
  // (bench:client: p95 frame 50 ms with it on every row). Keyboard users reach it through one
  // plain button per row (`message-actions-trigger`), which shows it as soon as it has focus.
  const [hovered, setHovered] = useState(false);
  const [focused, setFocused] = useState(false);
  const showActions = hovered || focused || actionsOpen || tapped;

  const myId = ctx.me?.id ?? null;
  const mine = myId === message.authorId;
  const deleted = message.deletedAt !== null;
  const myReactions = new Set(message.reactions.filter((r) => r.users.some((u) => u.id === myId)).map((r) => r.emoji));
  const react = (emoji: string, on: boolean) => client.react(message.id, emoji, on);

  const classes = ["message"];
  if (grouped) classes.push("grouped");
  if (mentionsMe && !deleted) classes.push("mentions-me");
  if (mine) classes.push("mine");
  if (deleted) classes.push("deleted");
  if (editing) classes.push("editing");
  if (highlighted) classes.push("highlighted");
  if (actionsOpen || tapped) classes.push("actions-open");
  return (
    <article
      className={classes.join(" ")}
      data-testid="message"
      data-status="sent"
      data-seq={message.seq}
      data-message-id={message.id}
      data-author={message.authorNickname}
      data-deleted={deleted || undefined}
      aria-busy={changing || undefined}
      onPointerEnter={() => setHovered(true)}
      onPointerLeave={() => setHovered(false)}
      onFocus={() => setFocused(true)}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setFocused(false);
      }}
      onClick={(e) => {
        // Touch screens have no hover: a tap on the row (not on a control in it, nor in the picker
        // or dialog it opened, whose clicks React bubbles here) shows its actions.
        const target = e.target as Element;
        if (deleted || !e.currentTarget.contains(target) || target.closest("button, a, dialog")) return;
        if (window.matchMedia("(hover: none)").matches) ui.getState().tap(message.id);
      }}
    >
      <div className="message-gutter">
        {grouped ? (
          <Time at={message.createdAt} className="message-time gutter-time" />
        ) : (
          <ProfileTrigger userId={message.authorId} nickname={message.authorNickname} className="avatar-trigger">
            <UserAvatar userId={message.authorId} nickname={message.authorNickname} />
          </ProfileTrigger>
        )}
      </div>
      <div className="message-main">
        {!grouped && (
          <header className="message-header">
            <AuthorName userId={message.authorId} nickname={message.authorNickname} />
            <Time at={message.createdAt} />
          </header>
        )}
        {message.replyTo && !deleted && <ReplyQuote reply={message.replyTo} />}
        {deleted ? (
          <p className="message-deleted" data-testid="message-deleted" data-by-moderator={message.removedByModerator || undefined}>
            <TrashIcon size={14} />
            {t(message.removedByModerator ? "message.removedByModerator" : "message.deleted")}
          </p>
        ) : (
          <>
            {/* A message of files only has no text block at all (not an empty line). */}
            {(message.body.trim() !== "" || message.attachments.length === 0) && (
              <MessageBody body={message.body} nicknames={ctx.nicknames} myNickname={ctx.me?.nickname ?? null} />
            )}
            {/* Beside the body, not in it: `.message-body` holds exactly the text (the e2e helpers match it). */}
            {message.editedAt !== null && <EditedMark at={message.editedAt} />}
            {message.attachments.length > 0 && <MessageAttachments attachments={message.attachments} />}
          </>
        )}
        {changes.length > 0 && <ChangeStatus changes={changes} />}
        {!deleted && message.reactions.length > 0 && <ReactionBar reactions={message.reactions} myId={myId} onToggle={react} />}
      </div>
      {!deleted && (
        <button
          type="button"
          className="message-actions-trigger"
          aria-label={t("message.actionsFor", { name: message.authorNickname })}
          aria-expanded={showActions}
          onClick={(e) => e.currentTarget.parentElement?.querySelector<HTMLButtonElement>(".message-actions button")?.focus()}
        >
          <span aria-hidden="true">⋯</span>
        </button>
      )}
      {!deleted && showActions && (
        <MessageActions
          mine={mine}
          canDelete={mine || (moderates && message.kind === "text")}
          onReport={mine ? null : () => setReporting(true)}
          myReactions={myReactions}
          onReact={(emoji) => react(emoji, !myReactions.has(emoji))}
          onReply={() => ui.getState().startReply(message.id, message.authorNickname, message.body)}
          onEdit={() => ui.getState().startEdit(message.id, message.body)}
          onDelete={() => setConfirmDelete(true)}
          onOpenChange={setActionsOpen}
        />
      )}
      {confirmDelete && (
        <DeleteDialog
          excerpt={excerptOf(message.body)}
          // Someone else's message: the confirmation names whose it is and what they will see.
          author={mine ? null : message.authorNickname}
          onConfirm={() => client.deleteMessage(message.id)}
          onClose={() => setConfirmDelete(false)}
        />
      )}
      {reporting && (
        <ReasonDialog
          title={t("message.reportTitle")}
          body={t("message.reportBody")}
          label={t("message.reportReason")}
          submitLabel={t("message.reportSubmit")}
          quote={<blockquote className="delete-preview">{excerptOf(message.body) || message.authorNickname}</blockquote>}
          onSubmit={(reason) => client.reportMessage(message.id, reason)}
          onDone={() => showToast(t("message.reported"))}
          onClose={() => setReporting(false)}
        />
      )}
    </article>
  );
}

function PendingRow({ pending, grouped, ctx }: { pending: PendingMessage; grouped: boolean; ctx: RowContext }) {
  const t = useT();
  const client = useChatClient();
  const failed = pending.status === "failed";
  const me = ctx.me;
  const uploads = useChatShallow((s) => (pending.uploadIds.length === 0 ? NO_UPLOADS : selectUploadsOf(s, pending)));
  const uploading = uploads.filter((u) => u.status !== "done" && u.status !== "failed").length;
  return (
    <article
      className={`message pending ${pending.status}${grouped ? " grouped" : ""}`}
      data-testid="message"
      data-status={pending.status}
      data-client-id={pending.clientId}
      aria-busy={!failed}
    >
      <div className="message-gutter">
        {grouped || !me ? <Time at={pending.createdAt} className="message-time gutter-time" /> : <UserAvatar userId={me.id} nickname={me.nickname} />}
      </div>
      <div className="message-main">
        {!grouped && me && (
          <header className="message-header">
            <span className="message-author">{me.nickname}</span>
            <Time at={pending.createdAt} />
          </header>
        )}
        {pending.replyToId && <PendingReplyQuote roomId={pending.roomId} messageId={pending.replyToId} />}
        {(pending.body.trim() !== "" || uploads.length === 0) && <MessageBody body={pending.body} nicknames={ctx.nicknames} myNickname={me?.nickname ?? null} />}
        {uploads.length > 0 && (
          <ul className="upload-tray pending-uploads" aria-label={t("files.attachments")}>
            {uploads.map((job) => (
              <UploadChip key={job.uploadId} job={job} onRemove={() => client.cancelUpload(job.uploadId)} onRetry={failed ? undefined : () => client.retryUpload(job.uploadId)} />
            ))}
          </ul>
        )}
        {failed ? (
          <div className="pending-status failed" role="alert">
            <AlertIcon size={14} />
            <span>{t("chat.failed", { reason: errorText(pending.error) })}</span>
            <button type="button" className="link-button" onClick={() => ctx.onRetry(pending.clientId)}>
              <RetryIcon size={13} />
              {retryLabel(uploads)}
            </button>
            <button type="button" className="link-button danger" onClick={() => ctx.onDiscard(pending.clientId)}>
              <TrashIcon size={13} />
              {t("chat.discard")}
            </button>
          </div>
        ) : (
          <div className="pending-status">
            <ClockIcon size={13} />
            <span>{uploading > 0 ? t("chat.uploadingFiles", { count: uploading }) : t("chat.sending")}</span>
          </div>
        )}
      </div>
    </article>
  );
}

/** A pending reply quotes what it answers from the held copy (the server fills `replyTo` on commit). */
function PendingReplyQuote({ roomId, messageId }: { roomId: string; messageId: string }) {
  const quoted = useChat((s) => s.messages[roomId]?.[messageId]);
  if (!quoted) return null;
  return <ReplyQuote reply={{ seq: quoted.seq, authorNickname: quoted.authorNickname, excerpt: excerptOf(quoted.body), deleted: quoted.deletedAt !== null }} />;
}

/**
 * A message's author: the display name (issue 14) with the @nickname beside it when they differ,
 * as a button that opens the author's card. `.message-author` holds the name shown.
 */
function AuthorName({ userId, nickname }: { userId: string; nickname: string }) {
  const displayName = useChat((s) => s.profiles[userId]?.displayName ?? null);
  return (
    <ProfileTrigger userId={userId} nickname={nickname} className="author-trigger" showsName>
      <span className="message-author">{displayName ?? nickname}</span>
      {displayName !== null && <span className="message-handle">@{nickname}</span>}
    </ProfileTrigger>
  );
}
