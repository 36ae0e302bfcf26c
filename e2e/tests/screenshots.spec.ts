import { fileURLToPath } from "node:url";
import type { Browser, BrowserContextOptions } from "@playwright/test";
import { composer, expect, expectConnected, messageRows, openRoom, roomItem, sendMessage, signIn, test, type ChatUser } from "../fixtures/chat.js";
import { PDF, pastePng, pickFiles } from "../fixtures/files.js";

/**
 * Regenerates docs/screenshots/*.png: a lively conversation seen by Maya on a laptop and a phone,
 * light and dark. Run on demand with `pnpm screenshots` (not part of `pnpm test:e2e`). Fixed nicknames (the
 * database is fresh for every run) so the pictures read like a real team, not like test data.
 */
const OUT = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));

const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

const CONVERSATION: [who: "maya" | "jonas" | "priya" | "leo", body: string][] = [
  ["priya", "Morning! The new onboarding mocks are up, links in the doc."],
  ["jonas", "Looks great. @Maya can you check the empty states on mobile?"],
  ["maya", "On it. The sidebar drawer felt cramped yesterday, fixing the spacing now."],
  ["maya", "Will post before/after shots here within the hour."],
  ["leo", "Reminder: release freeze is Thursday at 17:00."],
  ["priya", "@Jonas @Leo one more pass on colour contrast before the freeze?"],
  ["leo", "Yes please. Dark mode badges were hard to read last time."],
  ["jonas", "I'll pair with @Maya on it after lunch."],
];

test("screenshots for the docs", async ({ createUser, browser }) => {
  test.setTimeout(120_000);
  const maya = await createUser("maya", { nickname: "Maya" });
  const jonas = await createUser("jonas", { nickname: "Jonas" });
  const priya = await createUser("priya", { nickname: "Priya" });
  const leo = await createUser("leo", { nickname: "Leo" });
  const people = { maya, jonas, priya, leo };

  // Maya creates #design-review; the others join it from the directory.
  await maya.page.getByRole("button", { name: "Create room" }).click();
  await maya.page.getByRole("dialog", { name: "Create room" }).getByLabel("Room name").fill("design-review");
  await maya.page.getByRole("dialog", { name: "Create room" }).getByRole("button", { name: "Create" }).click();
  await expect(maya.page.getByTestId("room-title")).toHaveText("design-review");
  const roomId = (await maya.page.locator('[data-testid="room-item"][aria-current="page"]').getAttribute("data-room-id"))!;
  for (const user of [jonas, priya, leo]) {
    await user.page.getByRole("button", { name: "Browse rooms" }).click();
    const browse = user.page.getByRole("dialog", { name: "Browse rooms" });
    await browse.getByRole("searchbox").fill("design-review");
    await browse.getByRole("button", { name: "Join design-review" }).click();
    await expect(user.page.getByTestId("room-title")).toHaveText("design-review");
  }
  for (const [who, body] of CONVERSATION) {
    await sendMessage(people[who].page, body);
    await expect(messageRows(maya.page, body)).toHaveAttribute("data-status", "sent");
  }
  // Issue 13 in the pictures: Maya's screenshot pasted into the composer, Priya's PDF of the mocks.
  await pastePng(composer(maya.page), "drawer-spacing.png", 1440, 900, "Drawer spacing, after");
  await expect(maya.page.getByTestId("upload-chip")).toHaveAttribute("data-status", "done");
  await sendMessage(maya.page, "Drawer spacing after the fix, as promised.");
  await pickFiles(priya.page, [{ ...PDF, name: "onboarding-mocks-v3.pdf" }]);
  await expect(priya.page.getByTestId("upload-chip")).toHaveAttribute("data-status", "done");
  await sendMessage(priya.page, "And the mocks as a PDF for the review.");
  await expect(maya.page.getByTestId("file-card").filter({ hasText: "onboarding-mocks-v3.pdf" })).toBeVisible();
  // Leo's DM with Maya (a DM shows up for her with its first message).
  await leo.page.getByRole("button", { name: "New direct message" }).click();
  const dm = leo.page.getByRole("dialog", { name: "New direct message" });
  await dm.getByRole("searchbox").fill("Maya");
  await dm.getByRole("button", { name: "Message Maya" }).click();
  await expect(leo.page.getByTestId("room-title")).toHaveText("Maya");
  const dmId = (await leo.page.locator('[data-testid="room-item"][aria-current="page"]').getAttribute("data-room-id"))!;
  await sendMessage(leo.page, "Got a minute to look at the release notes?");
  // Issue 11 in the pictures: a formatted checklist, and a reply quoting Leo's reminder. (No
  // reactions: this machine has no colour emoji font, and chips of empty boxes would mislead.)
  await sendMessage(priya.page, "Freeze checklist:\n- **contrast** pass on the badges\n- `pnpm test` green on _main_");
  await expect(maya.page.locator(".message-body.md", { hasText: "contrast pass on the badges" })).toBeVisible();
  const reminder = messageRows(maya.page, "Reminder: release freeze is Thursday at 17:00.");
  await reminder.hover();
  await reminder.getByTestId("message-actions").getByRole("button", { name: "Reply", exact: true }).click();
  await sendMessage(maya.page, "Noted, I'll have the drawer fix in by Wednesday.");
  await expect(messageRows(jonas.page, "Noted, I'll have the drawer fix in by Wednesday.").getByTestId("reply-quote")).toBeVisible();
  await openRoom(priya.page, "general");

  await shoot(browser, { name: "desktop-light", base: DESKTOP, colorScheme: "light", roomId, dmId, jonas, leo, priya });
  await shoot(browser, { name: "desktop-dark", base: DESKTOP, colorScheme: "dark", roomId, dmId, jonas, leo, priya });
  await shoot(browser, { name: "phone-light", base: PHONE, colorScheme: "light", roomId, dmId, jonas, leo, priya, sidebar: true });
  await shoot(browser, { name: "phone-dark", base: PHONE, colorScheme: "dark", roomId, dmId, jonas, leo, priya });

  const context = await browser.newContext({ ...DESKTOP, colorScheme: "light" });
  try {
    const page = await context.newPage();
    await page.goto("/");
    await page.getByLabel("Nickname").fill("Maya");
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    await page.screenshot({ path: `${OUT}signin-light.png`, animations: "disabled" });
  } finally {
    await context.close();
  }
});

/**
 * Signs Maya in on a fresh device, opens the DM (so it is read) and #design-review, then has the
 * others make some noise she should notice: a mention and a message in #general, a new DM, and
 * Jonas typing in the room she is looking at.
 */
async function shoot(
  browser: Browser,
  opts: {
    name: string;
    base: BrowserContextOptions;
    colorScheme: "light" | "dark";
    roomId: string;
    dmId: string;
    jonas: ChatUser;
    leo: ChatUser;
    priya: ChatUser;
    sidebar?: boolean;
  },
): Promise<void> {
  const context = await browser.newContext({ ...opts.base, colorScheme: opts.colorScheme });
  try {
    const page = await context.newPage();
    await signIn(page, "Maya");
    const phone = (opts.base.viewport?.width ?? 1280) < 700;
    const go = async (roomId: string) => {
      if (phone) await page.getByRole("button", { name: "Open rooms" }).click();
      await openRoom(page, roomId);
    };
    await go(opts.dmId);
    await expect(roomItem(page, opts.dmId).getByTestId("unread-badge")).toHaveCount(0);
    await go(opts.roomId);
    await expect(messageRows(page, CONVERSATION.at(-1)![1])).toBeVisible();
    // The thumbnail is in the picture, loaded (it is lazy: wait for it).
    const thumb = page.getByTestId("attachment-image").locator("img");
    await expect.poll(() => thumb.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);

    await openRoom(opts.leo.page, "general");
    await sendMessage(opts.leo.page, "@Maya lunch at 12:30?");
    await sendMessage(opts.priya.page, "Coffee machine on 3 is fixed, finally.");
    await openRoom(opts.leo.page, opts.dmId);
    await sendMessage(opts.leo.page, "No rush, after standup is fine.");
    await expect(roomItem(page, "general").getByTestId("mention-badge")).toHaveText("@1");
    await expect(roomItem(page, "general").getByTestId("unread-badge")).toHaveText("2");
    await expect(roomItem(page, opts.dmId).getByTestId("unread-badge")).toHaveText("1");

    // Clear first: that sends typing:stop, so the next keystroke is a fresh typing:start, which the
    // server broadcasts (it stays silent on refreshes; see the typing test in chat.spec.ts), and
    // this freshly connected device hears it.
    await composer(opts.jonas.page).fill("");
    await composer(opts.jonas.page).fill(`Quick thought on the ${opts.name} layout`);
    await expect(page.getByTestId("typing-indicator")).toHaveText("Jonas is typing…");
    await expectConnected(page);
    await page.screenshot({ path: `${OUT}${opts.name}.png`, animations: "disabled" });

    if (opts.sidebar) {
      await page.getByRole("button", { name: "Open rooms" }).click();
      await expect(roomItem(page, "general")).toBeInViewport();
      await page.screenshot({ path: `${OUT}phone-sidebar-${opts.colorScheme}.png`, animations: "disabled" });
    }
  } finally {
    await context.close();
  }
}

