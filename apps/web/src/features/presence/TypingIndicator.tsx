import { useT } from "../../i18n/index.js";
import { useTypingNames } from "../../store/hooks.js";
import { typingText } from "./typing-text.js";

/** The line under the composer saying who is typing; always mounted so the layout does not jump. */
export function TypingIndicator({ roomId }: { roomId: string }) {
  const t = useT();
  const names = useTypingNames(roomId);
  const text = typingText(names, t);
  return (
    <div className="typing-indicator" data-testid="typing-indicator" aria-live="polite" data-count={names.length}>
      {text && (
        <>
          <span className="typing-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          <span>{text}</span>
        </>
      )}
    </div>
  );
}
