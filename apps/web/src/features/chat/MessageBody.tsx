import { memo } from "react";
import { splitMentions } from "../../store/selectors.js";
import { mayHaveFormatting } from "./markdown/mdast-parley.js";
import { useMarkdownRenderer } from "./markdown/markdown-loader.js";

/**
 * A message body as React elements (never HTML), with @mentions highlighted exactly where the
 * shared `findMentions` finds them; a mention of me is highlighted more strongly. A body that may
 * hold formatting goes through the Markdown renderer once it is loaded (plain text until then).
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
  const formatted = mayHaveFormatting(body);
  const Markdown = useMarkdownRenderer(formatted);
  if (formatted && Markdown) {
    return (
      <div className="message-body md">
        <Markdown body={body} nicknames={nicknames} myNickname={myNickname} />
      </div>
    );
  }
  return <PlainBody body={body} nicknames={nicknames} myNickname={myNickname} />;
});

function PlainBody({ body, nicknames, myNickname }: { body: string; nicknames: readonly string[]; myNickname: string | null }) {
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
}
