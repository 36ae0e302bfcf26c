import { splitMentions } from "../../../store/selectors.js";

/**
 * The remark step that keeps Parley's formatting to what a chat needs. DOM-free and React-free
 * (table-tested in apps/web/test/markdown.test.ts).
 *
 * - Constructs a chat has no use for (headings, images, tables, rules, footnotes, link
 *   definitions, raw HTML) become the text the user typed, so `# hi`, `![x](y)` or `<b>` read as
 *   written instead of vanishing. `allowedElements` in the renderer is the second fence.
 * - A link to anything but http(s) or mailto (`javascript:`, `data:`, relative paths) is shown as
 *   the text the user typed, inert (`safeUrl` in `urlTransform` is the second fence).
 * - @mentions are highlighted inside formatted text with the same `splitMentions` the plain body
 *   uses, so the UI highlights exactly what the server counted (text nodes only: never inside
 *   code).
 *
 * mdast node shapes are declared locally (only the fields read here) rather than importing
 * `@types/mdast`, which is not a dependency of the app.
 */
export interface MdNode {
  type: string;
  value?: string;
  children?: MdNode[];
  position?: { start: { offset?: number }; end: { offset?: number } };
  data?: { hName?: string; hProperties?: Record<string, unknown>; hChildren?: unknown[] };
}

export interface ParleyMarkdownOptions {
  nicknames: readonly string[];
  myNickname: string | null;
}

/** Block constructs shown as the paragraph of text the user typed. */
const BLOCK_AS_TEXT = new Set(["heading", "table", "thematicBreak", "html", "definition", "footnoteDefinition"]);
/** Inline constructs shown as the text the user typed. */
const INLINE_AS_TEXT = new Set(["image", "imageReference", "html", "footnoteReference"]);

function sourceOf(node: MdNode, source: string): string {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  if (start === undefined || end === undefined) return node.value ?? "";
  return source.slice(start, end);
}

function mentionNode(text: string, me: boolean): MdNode {
  return {
    type: "parleyMention",
    data: { hName: "span", hProperties: { className: me ? ["mention", "me"] : ["mention"] }, hChildren: [{ type: "text", value: text }] },
  };
}

/** Rewrites `tree` in place (see the module comment). `source` is the markdown it was parsed from. */
export function transformParleyTree(tree: MdNode, source: string, options: ParleyMarkdownOptions): void {
  const visit = (parent: MdNode, inline: boolean) => {
    const children = parent.children;
    if (!children) return;
    const out: MdNode[] = [];
    for (const node of children) {
      if (!inline && BLOCK_AS_TEXT.has(node.type)) {
        out.push({ type: "paragraph", children: [{ type: "text", value: sourceOf(node, source) }] });
      } else if (inline && INLINE_AS_TEXT.has(node.type)) {
        out.push({ type: "text", value: sourceOf(node, source) });
      } else if (inline && node.type === "link" && safeUrl((node as MdNode & { url?: string }).url ?? "") === null) {
        // `[x](javascript:...)`: shown as typed, inert, rather than as a link that goes nowhere.
        out.push({ type: "text", value: sourceOf(node, source) });
      } else if (node.type === "text" && node.value?.includes("@")) {
        for (const s of splitMentions(node.value, options.nicknames, options.myNickname)) {
          out.push(s.mention ? mentionNode(s.text, s.mention.me) : { type: "text", value: s.text });
        }
      } else {
        // Paragraph-like nodes hold inline content; lists, quotes and the root hold blocks.
        const holdsInline = node.type === "paragraph" || node.type === "emphasis" || node.type === "strong" || node.type === "delete" || node.type === "link" || node.type === "linkReference";
        visit(node, holdsInline);
        out.push(node);
      }
    }
    parent.children = out;
  };
  visit(tree, false);
}

/**
 * Markdown constructs the parser does not even look for (micromark's names): what a chat never
 * means (ATX and setext headings, rules, indented code, which pasted text triggers by accident,
 * link definitions) and character references: `&lt;` stays the four characters typed instead of
 * turning into `<`. Raw HTML and images are still parsed, so that their insides are not read as
 * formatting, and then shown as typed (`transformParleyTree`).
 */
const DISABLED_CONSTRUCTS = ["headingAtx", "setextUnderline", "thematicBreak", "codeIndented", "definition", "characterReference"];

interface RemarkProcessor {
  data(): Record<string, unknown>;
}

/** A remark plugin: disables the constructs above at parse time, then `transformParleyTree`. */
export function remarkParley(this: RemarkProcessor, options: ParleyMarkdownOptions) {
  const data = this.data();
  const extensions = (data.micromarkExtensions ??= []) as unknown[];
  extensions.push({ disable: { null: DISABLED_CONSTRUCTS } });
  return (tree: MdNode, file: { value: unknown }) => transformParleyTree(tree, String(file.value), options);
}

const SAFE_SCHEME = /^(?:https?|mailto):/i;

/**
 * Keeps http(s) and mailto links; everything else (`javascript:`, `data:`, `vbscript:`, relative
 * or protocol-relative paths) is dropped, and the renderer shows such a link as inert text.
 */
export function safeUrl(url: string): string | null {
  const trimmed = url.trim();
  return SAFE_SCHEME.test(trimmed) ? trimmed : null;
}

/**
 * True when a body may contain formatting: anything else renders as plain text without the
 * Markdown pipeline (most chat messages), which is both faster and exactly what the user typed.
 * False positives only cost a parse; a false negative would show markup characters as typed, so
 * every character that starts a construct is listed.
 */
export function mayHaveFormatting(body: string): boolean {
  return /[*_~`>[\]\\&<|]|https?:|www\.|mailto:|@[^\s@]+\.[^\s@]|^\s*(?:[-+*]|\d+[.)])\s|^\s*#|^\s*(?:=+|-+)\s*$|^ {4}|^\t/m.test(body);
}
