import { memo } from "react";
import { splitMentions } from "../../store/selectors.js";

/**
 * A message body as React text nodes (never HTML), with @mentions highlighted exactly where the
 * shared `findMentions` finds them; a mention of me is highlighted more strongly.
 */
export const MessageBody = memo(function MessageBody({
  body,
  nicknames,
  myNickname,
}: {
  body: string;
  nicknames: readonly string[];
  myNickname: string | null;
}) {
  const segments = splitMentions(body, nicknames, myNickname);
  return (
    <div className="message-body">
      {segments.map((s, i) =>
        s.mention ? (
          <span key={i} className={s.mention.me ? "mention me" : "mention"}>
            {s.text}
          </span>
        ) : (
          <span key={i}>{s.text}</span>
        ),
      )}
    </div>
  );
});
