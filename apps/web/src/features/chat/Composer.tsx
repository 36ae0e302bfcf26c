import { LIMITS } from "@parley/shared";
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { errorText, useT } from "../../i18n/index.js";
import { requestNotificationPermission } from "../../realtime/notifications.js";
import { useChatClient } from "../../store/client-context.js";
import { SendIcon } from "../../ui/icons.js";

/** Show the character counter from this many characters (90% of the limit) so it is not noise. */
const COUNTER_FROM = Math.floor(LIMITS.messageMax * 0.9);
/** The textarea grows with its content up to this height, then scrolls. */
const MAX_HEIGHT_PX = 240;

/** Drafts per room survive switching rooms (not reloads). */
const drafts = new Map<string, string>();

/**
 * The message box: Enter sends, Shift+Enter adds a line; blank and over-long bodies are refused.
 * The Send button is never disabled, only dimmed: a click on it explains why nothing was sent
 * (the reason shows under the box) instead of silently doing nothing.
 */
export function Composer({ roomId, roomLabel }: { roomId: string; roomLabel: string }) {
  const t = useT();
  const client = useChatClient();
  const [body, setBody] = useState(() => drafts.get(roomId) ?? "");
  const [refusal, setRefusal] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const counterId = useId();
  const length = body.length;
  const tooLong = length > LIMITS.messageMax;
  const blank = body.trim().length === 0;

  // Grow the textarea with its content.
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [body]);

  // Leaving the room view (switching rooms, unmount) stops the typing indicator there.
  useEffect(() => () => client.setTyping(roomId, false), [client, roomId]);

  function update(next: string) {
    setBody(next);
    setRefusal(null);
    drafts.set(roomId, next);
    client.setTyping(roomId, next.trim().length > 0);
  }

  function send() {
    if (blank) return;
    if (tooLong) {
      setRefusal(errorText("MESSAGE_TOO_LONG"));
      return;
    }
    // Sending is a user gesture: the one moment besides the bell we may ask for notifications.
    requestNotificationPermission();
    const result = client.send(roomId, body);
    if (!result.ok) {
      setRefusal(errorText(result.code));
      return;
    }
    client.setTyping(roomId, false);
    setBody("");
    drafts.delete(roomId);
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // isComposing: Enter confirms an IME candidate (Chinese, Japanese input) and must not send.
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    send();
  }

  const showCounter = length >= COUNTER_FROM;
  return (
    <form className="composer" onSubmit={onSubmit}>
      <div className={`composer-box${tooLong ? " invalid" : ""}`}>
        <textarea
          ref={ref}
          rows={1}
          value={body}
          aria-label={t("composer.label", { room: roomLabel })}
          placeholder={t("composer.placeholder", { room: roomLabel })}
          aria-invalid={tooLong}
          aria-describedby={showCounter || refusal ? counterId : undefined}
          onChange={(e) => update(e.target.value)}
          onKeyDown={onKeyDown}
          onBlur={() => client.setTyping(roomId, false)}
          data-testid="composer-input"
        />
        <button type="submit" className={`send-button${blank || tooLong ? " idle" : ""}`} aria-label={t("composer.send")} title={t("composer.hint")}>
          <SendIcon size={18} />
        </button>
      </div>
      {(showCounter || refusal) && (
        <p id={counterId} className={`composer-meta${tooLong || refusal ? " error" : ""}`} role={tooLong || refusal ? "alert" : undefined}>
          {refusal ??
            (tooLong
              ? t("composer.tooLong", { count: length - LIMITS.messageMax, max: LIMITS.messageMax })
              : t("composer.remaining", { count: LIMITS.messageMax - length }))}
        </p>
      )}
    </form>
  );
}
