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

/** Elements that only a payload could have put into user-text places. */
const FOREIGN = "script, img, svg, iframe, object, embed, a, form, input, select, textarea, video, audio, style, link, meta, base, details, math, marquee, xss, x, b, table, dialog, template, slot, noscript";

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

    // Walk the (virtualised) list from the top to the bottom, checking every rendered body.
    const seen = await page.getByTestId("message-list").evaluate(async (list: HTMLElement, foreign: string) => {
      const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));
      const texts = new Set<string>();
      const problems: string[] = [];
      list.scrollTop = 0;
      for (let step = 0; step < 400; step++) {
        await frame();
        await frame();
        for (const body of list.querySelectorAll<HTMLElement>(".message-body")) {
          texts.add(body.textContent ?? "");
          const bad = body.querySelector(foreign);
          if (bad) problems.push(`<${bad.tagName.toLowerCase()}> inside "${body.textContent}"`);
        }
        if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break;
        list.scrollTop += list.clientHeight / 2;
      }
      return { texts: [...texts], problems };
    }, FOREIGN);
    expect(seen.problems).toEqual([]);
    for (const body of XSS_BODIES) expect(seen.texts, body).toContain(body);
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
