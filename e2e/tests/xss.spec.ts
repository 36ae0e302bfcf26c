import { randomUUID } from "node:crypto";
import type { Page } from "@playwright/test";
import { PASSWORD, expect, messageRows, openRoom, signIn, test, uniqueName } from "../fixtures/chat.js";
import { connectSeedClient } from "../fixtures/seed-room.js";
import { XSS_BODIES, XSS_NICKNAMES, XSS_ROOM_NAMES } from "../fixtures/xss-payloads.js";

/**
 * Hostile text stays text (issue 10): 100+ script-injection attempts as messages, nicknames and
 * room names, rendered in a real browser. Each payload calls a canary (`__xss()`) or `alert`; the
 * test fails if any ran, if any rendered element came from a payload, or if a payload's text does
 * not show exactly as typed.
 */

async function installCanary(page: Page): Promise<() => Promise<number>> {
  await page.addInitScript(() => {
    const w = window as unknown as { __xssHits: number; __xss: () => void };
    w.__xssHits = 0;
    w.__xss = () => void w.__xssHits++;
  });
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return async () => (await page.evaluate(() => (window as unknown as { __xssHits: number }).__xssHits)) + dialogs.length;
}

/**
 * Elements that only a payload could have put into user-text places. `a` stays forbidden here: an
 * autolinked http(s) URL (issue 11's Markdown) is the only legitimate `a` in a body, and no payload
 * below holds one (asserted in the test, so a new payload with a bare URL is noticed).
 */
const FOREIGN = "script, img, svg, iframe, object, embed, a, form, input, select, textarea, video, audio, style, link, meta, base, details, math, marquee, xss, x, b, table, dialog, template, slot, noscript";

/**
 * The payloads that contain Markdown syntax (issue 11) and the exact text they render as; every
 * other payload renders as exactly the text typed. A code span drops its backticks (and its
 * insides render in a <code>, as text); a paragraph drops a trailing space.
 */
const RENDERED_AS: ReadonlyMap<string, { text: string; code: string[] }> = new Map([
  ["<img src=`x` onerror=__xss()>", { text: "<img src=x onerror=__xss()>", code: ["x"] }],
  ["<img src=x onerror=__xss`1`>", { text: "<img src=x onerror=__xss1>", code: ["1"] }],
  ["<img src=x onerror=__xss() ", { text: "<img src=x onerror=__xss()", code: [] }],
]);

/** What the Markdown renderer may put inside a body, and nothing else (issue 11). */
const ALLOWED_IN_BODY = [
  "p",
  "br",
  "strong",
  "em",
  "del",
  "code",
  "pre",
  "blockquote",
  "ul",
  "ol",
  "li",
  'a[href^="http://"]',
  'a[href^="https://"]',
  "span.mention",
  // The renderer's own wrappers: a code block's box and language tag, an unsafe link's inert text,
  // and the plain body's text runs.
  "div.md-code-block",
  "span.md-code-lang",
  "span.md-inert-link",
  "span:not([class])",
].join(", ");
/** Attributes an element in a body may carry (event handlers, style, src… may not). */
const ALLOWED_ATTRIBUTES = ["class", "href", "target", "rel", "title"];

/**
 * Script-injection attempts that use Markdown itself (issue 11): unsafe link schemes in every link
 * form, HTML inside code and inside emphasis, autolinks carrying quotes, mentions inside links.
 */
function markdownPayloads(reader: string): string[] {
  return [
    "[x](javascript:__xss())",
    "[x](JaVaScRiPt:__xss())",
    "[x]( javascript:__xss() )",
    "[x](<javascript:__xss()>)",
    "[x](javascript&#58;__xss())",
    "[x](&#106;avascript:__xss())",
    "[x](java%73cript:__xss())",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html,<script>__xss()</script>)",
    "[x](data:text/html;base64,PHNjcmlwdD5fX3hzcygpPC9zY3JpcHQ+)",
    "[x](//evil.example/__xss)",
    "[https://safe.example](javascript:__xss())",
    "[**bold**](javascript:__xss())",
    "![x](javascript:__xss())",
    "[![x](https://example.com/i.png)](javascript:__xss())",
    "[x][ref]\n\n[ref]: javascript:__xss()",
    "<javascript:__xss()>",
    "<JAVASCRIPT:__xss()>",
    "<data:text/html,__xss()>",
    '<https://example.com/"onmouseover="__xss()>',
    "<https://example.com/'onerror='__xss()>",
    'https://example.com/"><script>__xss()</script>',
    "https://example.com/?q=<img src=x onerror=__xss()>",
    'www.example.com/"onmouseover="__xss()',
    "https://example.com/javascript:__xss()",
    '[x](https://example.com "\" onmouseover=\"__xss()")',
    "`<script>__xss()</script>`",
    "`<img src=x onerror=__xss()>`",
    "``<svg onload=__xss()>``",
    "```html\n<script>__xss()</script>\n<img src=x onerror=__xss()>\n```",
    "```\"><script>__xss()</script>\n<iframe src=javascript:__xss()>\n```",
    "**<img src=x onerror=__xss()>**",
    "_<script>__xss()</script>_",
    "***<svg onload=__xss()>***",
    "~~<iframe src=javascript:__xss()>~~",
    "**_~~<a href=javascript:__xss()>x</a>~~_**",
    "> <img src=x onerror=__xss()>",
    "- <script>__xss()</script>\n- [x](javascript:__xss())",
    "1. <svg/onload=__xss()>\n2. `<script>__xss()</script>`",
    "<a href=\"https://example.com\" onclick=\"__xss()\">x</a>",
    "**[x](https://example.com)<img src=x onerror=__xss()>**",
    `[@${reader}](javascript:__xss())`,
    `[@${reader}](https://example.com/@${reader})`,
    `**@${reader}** <img src=x onerror=__xss()>`,
    "\\[x](javascript:__xss())",
    "the last payload: <script>__xss()</script>",
  ];
}

test.describe("hostile text stays text (issue 10)", () => {
  test("100+ injection attempts as messages render as the exact text, inert", async ({ page, request, baseURL }) => {
    test.setTimeout(120_000);
    expect(XSS_BODIES.length).toBeGreaterThanOrEqual(100);
    const hits = await installCanary(page);
    const attacker = await connectSeedClient(request, baseURL!, { nickname: uniqueName("mallory"), password: PASSWORD });
    const created = await attacker.ask("room:create", { name: uniqueName("xss") });
    const roomId = (created.data as { id: string }).id;
    await attacker.send(roomId, [...XSS_BODIES]);
    const reader = uniqueName("reader");
    const joiner = await connectSeedClient(request, baseURL!, { nickname: reader, password: PASSWORD });
    expect((await joiner.ask("room:join", { roomId })).ok).toBe(true);
    joiner.close();

    await page.setViewportSize({ width: 1280, height: 900 });
    await signIn(page, reader);
    await openRoom(page, roomId);
    await expect(messageRows(page, XSS_BODIES.at(-1)!)).toBeVisible();
    // The Markdown renderer is loaded on demand: walk once it formats (the last payload has a "<").
    await expect(messageRows(page, XSS_BODIES.at(-1)!).locator(".message-body.md")).toBeVisible();

    // Walk the (virtualised) list from the top to the bottom, checking every rendered body.
    const seen = await page.getByTestId("message-list").evaluate(async (list: HTMLElement, foreign: string) => {
      const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));
      const texts = new Set<string>();
      const code: Record<string, string[]> = {};
      const problems: string[] = [];
      list.scrollTop = 0;
      for (let step = 0; step < 400; step++) {
        await frame();
        await frame();
        for (const body of list.querySelectorAll<HTMLElement>(".message-body")) {
          texts.add(body.textContent ?? "");
          code[body.textContent ?? ""] = [...body.querySelectorAll("code")].map((c) => c.textContent ?? "");
          const bad = body.querySelector(foreign);
          if (bad) problems.push(`<${bad.tagName.toLowerCase()}> inside "${body.textContent}"`);
        }
        if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break;
        list.scrollTop += list.clientHeight / 2;
      }
      return { texts: [...texts], code, problems };
    }, FOREIGN);
    expect(seen.problems).toEqual([]);
    // The table above lists exactly the payloads that Markdown changes, and none autolinks.
    for (const body of RENDERED_AS.keys()) expect(XSS_BODIES).toContain(body);
    for (const body of XSS_BODIES) expect(body, "a payload autolinks: allow its <a> (http(s) only)").not.toMatch(/https?:\/\/|www\./i);
    for (const body of XSS_BODIES) {
      const rendered = RENDERED_AS.get(body);
      expect(seen.texts, body).toContain(rendered?.text ?? body);
      if (rendered) {
        expect(seen.texts, `${body} renders formatted`).not.toContain(body);
        expect(seen.code[rendered.text] ?? [], body).toEqual(rendered.code);
      }
    }
    expect(await hits()).toBe(0);
  });

  test("injection attempts inside Markdown stay inert: only formatting elements, only http(s) links that open safely", async ({ page, request, baseURL }) => {
    test.setTimeout(60_000);
    const hits = await installCanary(page);
    const reader = uniqueName("reader");
    const joiner = await connectSeedClient(request, baseURL!, { nickname: reader, password: PASSWORD });
    const attacker = await connectSeedClient(request, baseURL!, { nickname: uniqueName("mallory"), password: PASSWORD });
    const created = await attacker.ask("room:create", { name: uniqueName("xss-md") });
    const roomId = (created.data as { id: string }).id;
    expect((await joiner.ask("room:join", { roomId })).ok).toBe(true);
    joiner.close();
    const payloads = markdownPayloads(reader);
    await attacker.send(roomId, payloads);
    attacker.close();

    await page.setViewportSize({ width: 1280, height: 900 });
    await signIn(page, reader);
    await openRoom(page, roomId);
    const last = page.getByTestId("message").filter({ hasText: "the last payload" });
    await expect(last.locator(".message-body.md")).toBeVisible();

    const seen = await page.getByTestId("message-list").evaluate(
      async (list: HTMLElement, { allowed, attributes }: { allowed: string; attributes: string[] }) => {
        const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));
        const problems = new Set<string>();
        const texts = new Set<string>();
        const links = new Map<string, string>();
        list.scrollTop = 0;
        for (let step = 0; step < 400; step++) {
          await frame();
          await frame();
          for (const body of list.querySelectorAll<HTMLElement>(".message-body")) {
            texts.add(body.textContent ?? "");
            for (const el of body.querySelectorAll("*")) {
              if (!el.matches(allowed)) problems.add(`<${el.tagName.toLowerCase()} ${el.getAttributeNames().join(" ")}> in "${body.textContent}"`);
              for (const name of el.getAttributeNames()) {
                if (!attributes.includes(name)) problems.add(`${name}= on <${el.tagName.toLowerCase()}> in "${body.textContent}"`);
              }
              if (el.tagName === "A") {
                const a = el as HTMLAnchorElement;
                const rel = (a.getAttribute("rel") ?? "").split(/\s+/);
                if (!/^https?:\/\//i.test(a.getAttribute("href") ?? "") || (a.protocol !== "http:" && a.protocol !== "https:")) problems.add(`href ${a.getAttribute("href")}`);
                if (a.target !== "_blank" || !rel.includes("noopener") || !rel.includes("noreferrer")) problems.add(`unsafe link ${a.outerHTML}`);
                links.set(a.textContent ?? "", a.getAttribute("href") ?? "");
              }
            }
          }
          if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break;
          list.scrollTop += list.clientHeight / 2;
        }
        return { problems: [...problems], texts: [...texts], links: Object.fromEntries(links) };
      },
      { allowed: ALLOWED_IN_BODY, attributes: ALLOWED_ATTRIBUTES },
    );
    expect(seen.problems).toEqual([]);
    // The walk reached the end.
    expect(seen.texts).toContain("the last payload: <script>__xss()</script>");
    // Unsafe links read as typed, inert.
    for (const inert of ["[x](javascript:__xss())", "[x](data:text/html,<script>__xss()</script>)", "[x](//evil.example/__xss)", "![x](javascript:__xss())"]) {
      expect(seen.texts, inert).toContain(inert);
    }
    // Code keeps markup as text.
    expect(seen.texts).toContain("<script>__xss()</script>");
    // The safe forms did become links (so the link checks above were not vacuous), to http(s) only.
    expect(Object.keys(seen.links).length).toBeGreaterThanOrEqual(4);
    for (const href of Object.values(seen.links)) expect(href).toMatch(/^https?:\/\//);
    // A mention inside a link is still only a highlighted span.
    await expect(page.locator(`.message-body a .mention.me`).first()).toHaveText(`@${reader}`);
    expect(await hits()).toBe(0);
  });

  test("injection attempts as nicknames and room names render as text in every place they show", async ({ page, request, baseURL }) => {
    test.setTimeout(120_000);
    const hits = await installCanary(page);
    const me = uniqueName("host");
    const host = await connectSeedClient(request, baseURL!, { nickname: me, password: PASSWORD });
    const roomIds: string[] = [];
    const roomNames = XSS_ROOM_NAMES.map((name) => `${name}${randomUUID().slice(0, 4)}`);
    for (const name of roomNames) {
      const r = await host.ask("room:create", { name });
      expect(r.ok, name).toBe(true);
      roomIds.push((r.data as { id: string }).id);
    }
    // Hostile nicknames join the first room and talk.
    const suffixes = XSS_NICKNAMES.map(() => randomUUID().slice(0, 3));
    const nicknames = XSS_NICKNAMES.map((n, i) => `${n.slice(0, 28)}${suffixes[i]}`);
    for (const nickname of nicknames) {
      const c = await connectSeedClient(request, baseURL!, { nickname, password: PASSWORD });
      expect((await c.ask("room:join", { roomId: roomIds[0] })).ok, nickname).toBe(true);
      await c.send(roomIds[0]!, [`hello from ${nickname}`]);
      c.close();
    }

    await signIn(page, me);
    for (const roomId of roomIds) await expect(page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`)).toBeVisible();
    await openRoom(page, roomIds[0]!);
    for (const nickname of nicknames) await expect(messageRows(page, `hello from ${nickname}`)).toBeVisible();
    // Authors, the room title, the sidebar and the member list.
    const authors = await page.locator(".message-author").allTextContents();
    for (const nickname of nicknames) expect(authors).toContain(nickname);
    if (!(await page.getByRole("complementary", { name: "Members" }).isVisible())) await page.getByRole("button", { name: "Show members" }).click();
    const members = await page.locator(".member-name").allTextContents();
    for (const nickname of nicknames) expect(members).toContain(nickname);
    const foreign = await page.evaluate(
      (sel) =>
        [...document.querySelectorAll(".message-author, .member-name, .room-name, [data-testid=room-title], .message-body")]
          .filter((el) => el.querySelector(sel))
          .map((el) => el.textContent),
      FOREIGN,
    );
    expect(foreign).toEqual([]);
    // The room directory finds and lists the hostile room names as text too.
    await page.getByRole("button", { name: "Browse rooms" }).click();
    const directory = page.getByRole("dialog", { name: "Browse rooms" });
    for (const name of roomNames) {
      await directory.getByRole("searchbox").fill(name);
      await expect(directory.locator(".directory-name").filter({ hasText: name })).toHaveText(name);
      expect(await directory.locator(".directory-name").evaluateAll((els, sel) => els.filter((el) => el.querySelector(sel)).length, FOREIGN)).toBe(0);
    }
    // The sidebar shows each as its exact text.
    const sidebarNames = await page.locator(".room-name").allTextContents();
    for (const name of roomNames) expect(sidebarNames).toContain(name);
    expect(await hits()).toBe(0);
    host.close();
  });

  test("a nickname that only looks like an existing one is refused with a clear message", async ({ page, browser, consoleGuard }) => {
    consoleGuard.allow(/status of 409|api\/auth\/login/);
    const base = uniqueName("admin");
    await signIn(page, base);
    const other = await browser.newContext();
    try {
      const p = await other.newPage();
      await p.goto("/");
      // A Cyrillic "а" in place of the Latin "a".
      await p.getByLabel("Nickname").fill(`\u0430${base.slice(1)}`);
      await p.getByLabel("Password").fill(PASSWORD);
      await p.getByRole("button", { name: "Sign in" }).click();
      await expect(p.getByRole("alert")).toHaveText("That nickname looks too much like an existing one. Choose another.");
      await expect(p.getByTestId("current-user")).toHaveCount(0);
    } finally {
      await other.close();
    }
  });
});
