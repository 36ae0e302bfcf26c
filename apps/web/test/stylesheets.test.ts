import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The stylesheets are plain CSS without nesting. A merge that drops one closing brace still parses
 * (CSS nesting is valid), so every later rule silently moves inside the unclosed one: the language
 * switch ended up inside a phone-only media query and the profile styles inside a select's rule
 * (issue 14's merges). This finds a rule opened inside another rule, and unbalanced braces.
 */
const dir = fileURLToPath(new URL("../src/styles", import.meta.url));

export function nestingProblems(css: string): string[] {
  const text = css.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
  const problems: string[] = [];
  const stack: { line: number; head: string }[] = [];
  let head = "";
  let line = 1;
  for (const ch of text) {
    if (ch === "\n") line++;
    if (ch === "{") {
      const h = head.trim();
      const parent = stack.at(-1);
      if (parent && !parent.head.startsWith("@")) problems.push(`line ${line}: "${h.slice(0, 60)}" opens inside "${parent.head.slice(0, 60)}" (line ${parent.line})`);
      stack.push({ line, head: h });
      head = "";
    } else if (ch === "}") {
      if (!stack.pop()) problems.push(`line ${line}: a closing brace without an open rule`);
      head = "";
    } else if (ch === ";") {
      head = "";
    } else head += ch;
  }
  for (const open of stack) problems.push(`line ${open.line}: "${open.head.slice(0, 60)}" is never closed`);
  return problems;
}

describe("stylesheets", () => {
  it("finds a rule left open by a merge", () => {
    expect(nestingProblems("a { color: red; }\n@media (x) { b { c: d; } }")).toEqual([]);
    expect(nestingProblems("@media (x) {\n  b { c: d; }\n.e { f: g; }")).toEqual(['line 1: "@media (x)" is never closed']);
    expect(nestingProblems(".a select {\n.b { c: d; }\n}")).toEqual(['line 2: ".b" opens inside ".a select" (line 1)']);
  });

  for (const file of readdirSync(dir).filter((f) => f.endsWith(".css"))) {
    it(`${file} has no rule inside another rule and no unclosed brace`, () => {
      expect(nestingProblems(readFileSync(join(dir, file), "utf8"))).toEqual([]);
    });
  }
});
