import { selectComposerUploads, selectMessageView } from "@parley/client";
import { LIMITS, type Member } from "@parley/shared";
import { useEffect, useId, useMemo, useRef, useState, type ClipboardEvent, type FormEvent, type KeyboardEvent } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { requestNotificationPermission } from "../../realtime/notifications.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat, useChatShallow } from "../../store/hooks.js";
import { Avatar } from "../../ui/Avatar.js";
import { CloseIcon, PaperclipIcon, PencilIcon, ReplyIcon, SendIcon } from "../../ui/icons.js";
import { attachFiles } from "./attachments/attach.js";
import { UploadChip } from "./attachments/UploadChip.js";
import { plainExcerpt, useChatUi, useChatUiStore } from "./chat-ui.js";
import { insertMention, matchMembers, mentionAt } from "./mention-complete.js";
import { useImeGuard } from "../../lib/ime.js";

/** Show the character counter from this many characters (90% of the limit) so it is not noise. */
const COUNTER_FROM = Math.floor(LIMITS.messageMax * 0.9);
/** The textarea grows with its content up to this height, then scrolls. */
const MAX_HEIGHT_PX = 240;

/** Drafts per room survive switching rooms (not reloads). */
const drafts = new Map<string, string>();

type Mention = { start: number; query: string };

/**
 * The message box: Enter sends, Shift+Enter adds a line; blank and over-long bodies are refused.
 * The Send button is never disabled, only dimmed: a click on it explains why nothing was sent
 * (the reason shows under the box) instead of silently doing nothing.
 *
 * It also edits (a row's "Edit", or ↑ in the empty box edits my last message: Enter saves, Esc
 * cancels, the draft comes back afterwards), quotes the message a reply answers, and completes
 * @mentions from the room's members (↑/↓, Enter or Tab, Esc).
 */
export function Composer({ roomId, roomLabel }: { roomId: string; roomLabel: string }) {
  const t = useT();
  const locale = useLocale();
  const ime = useImeGuard();
  const client = useChatClient();
  const ui = useChatUiStore();
  const files = useChatShallow((s) => selectComposerUploads(s, roomId));
  const fileNotice = useChatUi((s) => s.fileNotice);
  const fileInput = useRef<HTMLInputElement>(null);
  const editing = useChatUi((s) => s.editing);
  const replyingTo = useChatUi((s) => s.replyingTo);
  const focusRequest = useChatUi((s) => s.focusComposer);
  const myId = useChat((s) => s.me?.id ?? null);
  const [body, setBody] = useState(() => drafts.get(roomId) ?? "");
  const [refusal, setRefusal] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const counterId = useId();
  const listId = useId();
  const length = body.length;
  const tooLong = length > LIMITS.messageMax;
  // Files may go without words (a screenshot says enough); only an edit needs text.
  const blank = body.trim().length === 0 && (editing !== null || files.length === 0);


  // The message being edited was deleted (here or in another tab): nothing left to edit.
  const editedGone = useChat((s) => {
    if (!editing) return false;
    const m = selectMessageView(s, roomId, editing.messageId);
    return !m || m.deletedAt !== null;
  });
  useEffect(() => {
    if (editedGone) ui.getState().cancelEdit();
  }, [editedGone, ui]);

  // Mention completion: the mention at the caret (the members and the highlighted one below).
  const [mention, setMention] = useState<Mention | null>(null);

  // Entering or leaving edit mode swaps the box's text: the message's body in, the draft back out.
  // (Adjusted while rendering, React's pattern for state derived from a changed input.)
  const [editingId, setEditingId] = useState<string | null>(null);
  const nextEditingId = editing?.messageId ?? null;
  if (nextEditingId !== editingId) {
    setEditingId(nextEditingId);
    setBody(editing ? editing.body : (drafts.get(roomId) ?? ""));
    setRefusal(null);
    setMention(null);
  }

  // The room's members, fetched when a mention is first typed and again once the member count
  // changed; until they arrive, everyone the client knows by name (the store's `users`).
  const memberCount = useChat((s) => s.rooms[roomId]?.memberCount ?? 0);
  const knownUsers = useChat((s) => s.users);
  const [fetched, setFetched] = useState<{ count: number; members: Member[] } | null>(null);
  const fetchingFor = useRef<number | null>(null);
  const candidates = useMemo(
    () => fetched?.members ?? Object.entries(knownUsers).map(([id, nickname]) => ({ id, nickname })),
    [fetched, knownUsers],
  );
  const [active, setActive] = useState(0);
  const suggestions = mention ? matchMembers(candidates, mention.query, myId, locale) : [];
  const open = suggestions.length > 0;
  const activeIndex = Math.min(active, Math.max(0, suggestions.length - 1));
  const optionId = (i: number) => `${listId}-option-${i}`;

  // Grow the textarea with its content.
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [body]);

  // A row's Reply or Edit hands the keyboard to the box, caret at the end.
  useEffect(() => {
    const el = ref.current;
    if (!el || focusRequest === 0) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, [focusRequest]);

  // Leaving the room view (switching rooms, unmount) stops the typing indicator there.
  useEffect(() => () => client.setTyping(roomId, false), [client, roomId]);

  function loadMembers() {
    const count = memberCount;
    if (fetched?.count === count || fetchingFor.current === count) return;
    fetchingFor.current = count;
    const failed = () => {
      fetchingFor.current = null;
    };
    client.listMembers(roomId).then((result) => (result.ok ? setFetched({ count, members: result.data }) : failed()), failed);
  }

  function trackMention(text: string, caret: number) {
    const next = mentionAt(text, caret);
    setMention((prev) => (prev?.start === next?.start && prev?.query === next?.query ? prev : next));
    if (next && next.start !== mention?.start) setActive(0);
    if (next) loadMembers();
  }

  function update(next: string, caret: number) {
    setBody(next);
    setRefusal(null);
    if (fileNotice) ui.getState().setFileNotice(null);
    trackMention(next, caret);
    // An edit is not a new message: no draft to keep, nobody to tell that I am typing.
    if (editing) return;
    drafts.set(roomId, next);
    client.setTyping(roomId, next.trim().length > 0);
  }

  function pick(nickname: string) {
    const el = ref.current;
    if (!el || !mention) return;
    const { text, caret } = insertMention(body, mention.start, el.selectionStart, nickname);
    update(text, caret);
    setMention(null);
    // After React wrote the new value.
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(caret, caret);
    });
  }

  function cancelEdit() {
    ui.getState().cancelEdit();
  }

  function saveEdit() {
    if (!editing) return;
    if (body === editing.body) {
      cancelEdit();
      return;
    }
    if (blank) {
      setRefusal(errorText("MESSAGE_BLANK"));
      return;
    }
    if (tooLong) {
      setRefusal(errorText("MESSAGE_TOO_LONG"));
      return;
    }
    const result = client.edit(editing.messageId, body);
    if (!result.ok) {
      setRefusal(errorText(result.code));
      return;
    }
    cancelEdit();
  }

  /** ↑ in the empty box: edit my newest message here that can still be edited. */
  function editLastMessage(): boolean {
    const state = client.store.getState();
    const me = state.me?.id;
    const ids = state.timelines[roomId]?.ids ?? [];
    for (let i = ids.length - 1; i >= 0; i--) {
      const m = selectMessageView(state, roomId, ids[i]!);
      if (m && m.authorId === me && m.kind === "text" && m.deletedAt === null) {
        ui.getState().startEdit(m.id, m.body);
        return true;
      }
    }
    return false;
  }

  function send() {
    if (editing) {
      saveEdit();
      return;
    }
    if (blank) return;
    if (tooLong) {
      setRefusal(errorText("MESSAGE_TOO_LONG"));
      return;
    }
    if (files.some((f) => f.status === "failed")) {
      setRefusal(errorText("UPLOAD_FAILED"));
      return;
    }
    // Sending is a user gesture: the one moment besides the bell we may ask for notifications.
    requestNotificationPermission();
    const result = client.send(roomId, body, replyingTo ? { replyToId: replyingTo.messageId } : undefined);
    if (!result.ok) {
      setRefusal(errorText(result.code));
      return;
    }
    client.setTyping(roomId, false);
    ui.getState().cancelReply();
    ui.getState().noteSent();
    setBody("");
    setMention(null);
    ui.getState().setFileNotice(null);
    drafts.delete(roomId);
    ref.current?.focus();
  }

  function attach(list: readonly File[]) {
    setRefusal(null);
    ui.getState().setFileNotice(attachFiles(client, roomId, list, locale));
  }

  /**
   * A pasted image (a screenshot) or files copied in a file manager are attached. A clipboard that
   * also holds text pastes only the text: cells copied from a spreadsheet come with a picture of
   * themselves, which nobody means to send.
   */
  function onPaste(e: ClipboardEvent<HTMLTextAreaElement>) {
    const pasted = [...e.clipboardData.files];
    if (pasted.length === 0 || e.clipboardData.types.includes("text/plain")) return;
    e.preventDefault();
    attach(pasted);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter (or ↑, Esc, Tab) while an IME composition is open acts on the candidate window (Chinese,
    // Japanese input): it must not send, pick a mention or start an edit. See lib/ime.ts.
    if (ime.isComposing(e.nativeEvent)) return;
    if (open) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const step = e.key === "ArrowDown" ? 1 : -1;
        setActive((activeIndex + step + suggestions.length) % suggestions.length);
        return;
      }
      if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
        e.preventDefault();
        const chosen = suggestions[activeIndex];
        if (chosen) pick(chosen.nickname);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setMention(null);
        return;
      }
    }
    if (e.key === "Escape") {
      if (editing) {
        e.preventDefault();
        cancelEdit();
      } else if (replyingTo) {
        e.preventDefault();
        ui.getState().cancelReply();
      }
      return;
    }
    if (e.key === "ArrowUp" && body === "" && !editing && !e.shiftKey && !e.altKey && !e.metaKey && !e.ctrlKey) {
      if (editLastMessage()) e.preventDefault();
      return;
    }
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      send();
    }
  }

  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    send();
  }

  const showCounter = length >= COUNTER_FROM;
  const notice = refusal ?? fileNotice;
  const label = editing ? t("composer.editLabel") : t("composer.label", { room: roomLabel });
  return (
    <form className={`composer${editing ? " editing" : ""}`} onSubmit={onSubmit} data-mode={editing ? "edit" : replyingTo ? "reply" : "send"}>
      {open && (
        <ul id={listId} className="mention-popup" role="listbox" aria-label={t("composer.mentionSuggestions")} data-testid="mention-suggestions">
          {suggestions.map((m, i) => (
            <li
              key={m.id}
              id={optionId(i)}
              role="option"
              aria-selected={i === activeIndex}
              className="mention-option"
              // mousedown, not click: the textarea keeps its focus and caret.
              onMouseDown={(e) => {
                e.preventDefault();
                pick(m.nickname);
              }}
              onMouseEnter={() => setActive(i)}
            >
              <Avatar userId={m.id} nickname={m.nickname} size={22} />
              <span className="mention-option-name">{m.nickname}</span>
            </li>
          ))}
        </ul>
      )}
      {editing && (
        <div className="composer-context editing" data-testid="composer-editing">
          <PencilIcon size={14} />
          <span className="composer-context-text">
            <strong>{t("composer.editing")}</strong>
            <span className="muted"> · {t("composer.editingHint")}</span>
          </span>
          <button type="button" className="icon-button small" aria-label={t("composer.cancelEdit")} title={t("composer.cancelEdit")} onClick={cancelEdit}>
            <CloseIcon size={15} />
          </button>
        </div>
      )}
      {!editing && replyingTo && (
        <div className="composer-context reply" data-testid="composer-reply">
          <ReplyIcon size={14} />
          <span className="composer-context-text">
            <strong>{t("composer.replyingTo", { name: replyingTo.authorNickname })}</strong>
            <span className="muted composer-reply-excerpt">{plainExcerpt(replyingTo.excerpt) || t("files.quote")}</span>
          </span>
          <button type="button" className="icon-button small" aria-label={t("composer.cancelReply")} title={t("composer.cancelReply")} onClick={() => ui.getState().cancelReply()}>
            <CloseIcon size={15} />
          </button>
        </div>
      )}
      {files.length > 0 && (
        <ul className="upload-tray" aria-label={t("files.tray")} data-testid="upload-tray">
          {files.map((job) => (
            <UploadChip key={job.uploadId} job={job} onRemove={() => client.cancelUpload(job.uploadId)} onRetry={() => client.retryUpload(job.uploadId)} />
          ))}
        </ul>
      )}
      <div className={`composer-box${tooLong ? " invalid" : ""}`}>
        <button
          type="button"
          className="icon-button attach-button"
          aria-label={t("composer.attach")}
          title={t("composer.attach")}
          onClick={() => fileInput.current?.click()}
          data-testid="attach-button"
        >
          <PaperclipIcon size={19} />
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          tabIndex={-1}
          aria-hidden="true"
          data-testid="file-input"
          onChange={(e) => {
            attach([...(e.currentTarget.files ?? [])]);
            // The same file picked again must fire `change` again.
            e.currentTarget.value = "";
            ref.current?.focus();
          }}
        />
        <textarea
          ref={ref}
          rows={1}
          value={body}
          aria-label={label}
          placeholder={t("composer.placeholder", { room: roomLabel })}
          aria-invalid={tooLong}
          aria-describedby={showCounter || notice ? counterId : undefined}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? optionId(activeIndex) : undefined}
          onChange={(e) => update(e.target.value, e.target.selectionStart)}
          onSelect={(e) => trackMention(e.currentTarget.value, e.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
          onCompositionStart={ime.onCompositionStart}
          onCompositionEnd={ime.onCompositionEnd}
          onPaste={onPaste}
          onBlur={() => {
            client.setTyping(roomId, false);
            setMention(null);
          }}
          data-testid="composer-input"
        />
        <button
          type="submit"
          className={`send-button${blank || tooLong ? " idle" : ""}`}
          aria-label={editing ? t("composer.save") : t("composer.send")}
          title={editing ? t("composer.editingHint") : t("composer.hint")}
        >
          <SendIcon size={18} />
        </button>
      </div>
      {(showCounter || notice) && (
        <p id={counterId} className={`composer-meta${tooLong || notice ? " error" : ""}`} role={tooLong || notice ? "alert" : undefined} data-testid="composer-notice">
          {notice ??
            (tooLong
              ? t("composer.tooLong", { count: length - LIMITS.messageMax, max: LIMITS.messageMax })
              : t("composer.remaining", { count: LIMITS.messageMax - length }))}
        </p>
      )}
    </form>
  );
}
