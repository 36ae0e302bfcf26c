import type { PendingChange } from "@parley/client";
import type { ReplyPreview } from "@parley/shared";
import { useState } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { formatFullDate } from "../../lib/time.js";
import { useChatClient } from "../../store/client-context.js";
import { Dialog } from "../../ui/Dialog.js";
import { AlertIcon, CornerUpRightIcon, FlagIcon, PencilIcon, ReplyIcon, RetryIcon, SmilePlusIcon, TrashIcon } from "../../ui/icons.js";
import { plainExcerpt, useChatUiStore } from "./chat-ui.js";
import { ReactionPicker } from "./reactions/ReactionPicker.js";

/**
 * The pieces a message row is made of besides its body: the hover/focus action bar, the reply
 * quote, the "(edited)" mark, the state of my unsent or refused changes, the delete confirmation.
 */

/** "(edited)", with the edit's time in its tooltip. */
export function EditedMark({ at }: { at: number }) {
  const t = useT();
  const locale = useLocale();
  const when = formatFullDate(at, locale);
  return (
    <time className="edited-mark" dateTime={new Date(at).toISOString()} title={t("message.editedAt", { time: when })}>
      {t("message.edited")}
    </time>
  );
}

/** The compact quote of the message a reply answers; a click jumps to it. */
export function ReplyQuote({ reply }: { reply: Pick<ReplyPreview, "seq" | "authorNickname" | "excerpt" | "deleted"> }) {
  const t = useT();
  const ui = useChatUiStore();
  return (
    <button
      type="button"
      className={`reply-quote${reply.deleted ? " deleted" : ""}`}
      onClick={() => ui.getState().jumpTo(reply.seq)}
      // The name is the visible text with a hidden lead-in (WCAG label-in-name), the hint a tooltip.
      title={t("message.jumpToReply", { name: reply.authorNickname })}
      data-testid="reply-quote"
    >
      <CornerUpRightIcon size={14} className="reply-quote-icon" />
      <span className="visually-hidden">{t("message.inReplyTo")} </span>
      {reply.deleted ? (
        <span className="reply-quote-text">{t("message.replyDeleted")}</span>
      ) : (
        <>
          <span className="reply-quote-author">{reply.authorNickname}</span>
          {/* A blank excerpt of a message that is not deleted: a message of files only. */}
          <span className="reply-quote-text">{plainExcerpt(reply.excerpt) || t("files.quote")}</span>
        </>
      )}
    </button>
  );
}

/** My edits, deletes and reactions of this message that are still sending or were refused. */
export function ChangeStatus({ changes }: { changes: readonly PendingChange[] }) {
  const t = useT();
  const client = useChatClient();
  const ui = useChatUiStore();
  const failed = changes.filter((c) => c.status === "failed");
  if (failed.length === 0) {
    if (!changes.some((c) => c.kind !== "react")) return null;
    return (
      <div className="pending-status" data-testid="change-status" data-status="sending">
        <span className="spinner small" aria-hidden="true" />
        <span>{t("message.saving")}</span>
      </div>
    );
  }
  return (
    <>
      {failed.map((c) => (
        <div key={c.changeId} className="change-failed" role="alert" data-testid="change-status" data-status="failed" data-kind={c.kind} data-error={c.error ?? ""}>
          <div className="pending-status failed">
            <AlertIcon size={14} />
            <span>{c.error === "EDIT_CONFLICT" ? t("message.editConflict") : t("message.changeFailed", { reason: errorText(c.error) })}</span>
          </div>
          {c.kind === "edit" && c.body !== undefined && (
            <blockquote className="change-draft" aria-label={t("message.yourEdit")}>
              {c.body}
            </blockquote>
          )}
          <div className="change-actions">
            <button type="button" className="link-button" onClick={() => client.retryChange(c.changeId)}>
              <RetryIcon size={13} />
              {t("chat.retry")}
            </button>
            {c.kind === "edit" && c.body !== undefined && (
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  ui.getState().startEdit(c.messageId, c.body ?? "");
                  client.discardChange(c.changeId);
                }}
              >
                <PencilIcon size={13} />
                {t("message.editAgain")}
              </button>
            )}
            <button type="button" className="link-button danger" onClick={() => client.discardChange(c.changeId)}>
              <TrashIcon size={13} />
              {t("chat.discard")}
            </button>
          </div>
        </div>
      ))}
    </>
  );
}

/**
 * The row's action bar (shown on hover and when focus is inside the row): react, reply, for my own
 * messages edit, delete for mine (or anyone's, for a moderator), and report for others'.
 */
export function MessageActions({
  mine,
  canDelete,
  onReport,
  myReactions,
  onReact,
  onReply,
  onEdit,
  onDelete,
  onOpenChange,
}: {
  mine: boolean;
  canDelete: boolean;
  /** Others' messages: "Report…"; null hides it. */
  onReport: (() => void) | null;
  myReactions: ReadonlySet<string>;
  onReact: (emoji: string) => void;
  onReply: () => void;
  onEdit: () => void;
  onDelete: () => void;
  onOpenChange: (open: boolean) => void;
}) {
  const t = useT();
  const [pickerAnchor, setPickerAnchor] = useState<HTMLElement | null>(null);
  const setAnchor = (a: HTMLElement | null) => {
    setPickerAnchor(a);
    onOpenChange(a !== null);
  };
  return (
    <div
      className="message-actions"
      role="toolbar"
      aria-label={t("message.actions")}
      data-testid="message-actions"
      onKeyDown={(e) => {
        // ←/→ move between the actions, as in any toolbar (each is also a Tab stop).
        if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
        const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>(":scope > button")];
        const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
        if (at === -1) return;
        e.preventDefault();
        buttons[(at + (e.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length]?.focus();
      }}
    >
      <button
        type="button"
        className="icon-button small"
        aria-label={t("message.react")}
        title={t("message.react")}
        aria-expanded={pickerAnchor !== null}
        onClick={(e) => setAnchor(pickerAnchor ? null : e.currentTarget)}
      >
        <SmilePlusIcon size={16} />
      </button>
      <button type="button" className="icon-button small" aria-label={t("message.reply")} title={t("message.reply")} onClick={onReply}>
        <ReplyIcon size={16} />
      </button>
      {mine && (
        <button type="button" className="icon-button small" aria-label={t("message.edit")} title={t("message.edit")} onClick={onEdit}>
          <PencilIcon size={16} />
        </button>
      )}
      {onReport && (
        <button type="button" className="icon-button small" aria-label={t("message.report")} title={t("message.report")} onClick={onReport}>
          <FlagIcon size={16} />
        </button>
      )}
      {canDelete && (
        <button type="button" className="icon-button small danger" aria-label={t("message.delete")} title={t("message.delete")} onClick={onDelete}>
          <TrashIcon size={16} />
        </button>
      )}
      {pickerAnchor && <ReactionPicker anchor={pickerAnchor} mine={myReactions} onPick={onReact} onClose={() => setAnchor(null)} />}
    </div>
  );
}

/**
 * "Delete message?" with the message quoted; Delete is the danger button, Cancel has the focus.
 * A moderator deleting someone else's message (`author`) is told whose it is.
 */
export function DeleteDialog({
  excerpt,
  author = null,
  onConfirm,
  onClose,
}: {
  excerpt: string;
  author?: string | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const t = useT();
  return (
    <Dialog title={author === null ? t("message.deleteTitle") : t("message.removeTitle", { name: author })} onClose={onClose}>
      <div className="dialog-form">
        <p className="muted">{author === null ? t("message.deleteBody") : t("message.removeBody")}</p>
        {excerpt && <blockquote className="delete-preview">{excerpt}</blockquote>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose} data-autofocus>
            {t("dialog.cancel")}
          </button>
          <button
            type="button"
            className="button danger"
            onClick={() => {
              onConfirm();
              onClose();
            }}
            data-testid="confirm-delete"
          >
            <TrashIcon size={15} />
            {t("message.deleteConfirm")}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
