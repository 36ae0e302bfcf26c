import Markdown, { type Components, type Options } from "react-markdown";
import remarkGfm from "remark-gfm";
import { useMemo } from "react";
import { remarkParley, safeUrl } from "./mdast-parley.js";

/**
 * The formatted body renderer: Markdown to React elements, never HTML (no `dangerouslySetInnerHTML`,
 * no rehype-raw; raw HTML reads as typed). Loaded on demand (see `markdown-loader.ts`): with
 * remark-gfm it is about 40 kB gzip, which every sign-in screen would otherwise download.
 */

/** What formatting renders as; anything else is unwrapped to its text (see mdast-parley.ts). */
const ALLOWED: readonly string[] = ["p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span"];

const components: Components = {
  a({ href, children }) {
    // urlTransform removed an unsafe href: the link text stays, inert.
    if (!href) return <span className="md-inert-link">{children}</span>;
    // Where a link goes is in its tooltip: `[https://bank.example](https://evil.example)` shows the truth on hover.
    return (
      <a href={href} target="_blank" rel="noopener noreferrer" title={href}>
        {children}
      </a>
    );
  },
  pre({ node, children }) {
    const code = node?.children[0];
    const classes = code?.type === "element" ? code.properties.className : undefined;
    const language = Array.isArray(classes) ? classes.map(String).find((c) => c.startsWith("language-"))?.slice("language-".length) : undefined;
    return (
      <div className="md-code-block">
        {language && <span className="md-code-lang">{language}</span>}
        <pre>{children}</pre>
      </div>
    );
  },
};

type Plugins = NonNullable<Options["remarkPlugins"]>;

export function MarkdownBody({ body, nicknames, myNickname }: { body: string; nicknames: readonly string[]; myNickname: string | null }) {
  const plugins = useMemo<Plugins>(
    // singleTilde off: `~` alone is everyday punctuation ("~5 min"); strike needs `~~` as in Discord.
    () => [[remarkGfm, { singleTilde: false }], [remarkParley, { nicknames, myNickname }]] as Plugins,
    [nicknames, myNickname],
  );
  return (
    <Markdown
      remarkPlugins={plugins}
      allowedElements={ALLOWED}
      unwrapDisallowed
      urlTransform={(url) => safeUrl(url)}
      components={components}
    >
      {body}
    </Markdown>
  );
}
