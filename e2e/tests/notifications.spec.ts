import type { BrowserContext, Page } from "@playwright/test";
import { expect, sendMessage, signIn, test, uniqueName } from "../fixtures/chat.js";

/**
 * Browser notifications. Headless Chromium has no notification centre and no way to hide a tab,
 * so each test installs, before the app loads, a recording `Notification` stand-in and a
 * `visibilityState` the test can flip. The app's real code decides when to ask and when to notify.
 */
declare global {
  interface Window {
    __parleyTest: {
      hidden: boolean;
      permissionRequests: number;
      shown: { title: string; body: string; tag: string }[];
    };
  }
}

async function installNotificationProbe(context: BrowserContext, permission: NotificationPermission): Promise<void> {
  await context.addInitScript((initial: NotificationPermission) => {
    const probe: Window["__parleyTest"] = { hidden: false, permissionRequests: 0, shown: [] };
    window.__parleyTest = probe;
    let current = initial;
    class RecordingNotification {
      static get permission() {
        return current;
      }
      static requestPermission() {
        probe.permissionRequests += 1;
        current = "granted";
        return Promise.resolve(current);
      }
      onclick: (() => void) | null = null;
      constructor(title: string, options: { body?: string; tag?: string } = {}) {
        probe.shown.push({ title, body: options.body ?? "", tag: options.tag ?? "" });
      }
      close() {}
    }
    Object.defineProperty(window, "Notification", { value: RecordingNotification, configurable: true });
    Object.defineProperty(document, "visibilityState", { get: () => (probe.hidden ? "hidden" : "visible"), configurable: true });
    Object.defineProperty(document, "hidden", { get: () => probe.hidden, configurable: true });
  }, permission);
}

const shown = (page: Page) => page.evaluate(() => window.__parleyTest.shown);
const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate((h) => {
    window.__parleyTest.hidden = h;
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);

test("permission is asked on a user gesture, never on load", async ({ browser }) => {
  const context = await browser.newContext();
  try {
    await installNotificationProbe(context, "default");
    const page = await context.newPage();
    await signIn(page, uniqueName("asker"));
    expect(await page.evaluate(() => window.__parleyTest.permissionRequests)).toBe(0);
    await page.getByRole("button", { name: "Enable notifications" }).click();
    await expect.poll(() => page.evaluate(() => window.__parleyTest.permissionRequests)).toBe(1);
    await expect(page.getByRole("button", { name: "Notifications on" })).toBeVisible();
  } finally {
    await context.close();
  }
});

test("a hidden tab notifies once per message (tag = message id), a visible one does not", async ({ browser, createUser }) => {
  const context = await browser.newContext();
  try {
    await installNotificationProbe(context, "granted");
    const page = await context.newPage();
    const ana = uniqueName("ana");
    await signIn(page, ana);
    const bo = await createUser("bo");

    await sendMessage(bo.page, "seen while looking");
    await expect(page.getByTestId("message").filter({ hasText: "seen while looking" })).toHaveCount(1);
    expect(await shown(page)).toEqual([]);

    await setHidden(page, true);
    await sendMessage(bo.page, "while you were away");
    await expect.poll(() => shown(page)).toHaveLength(1);
    const [popup] = await shown(page);
    expect(popup).toMatchObject({ title: `${bo.nickname} in #general`, body: "while you were away" });
    // The tag is the message id: every tab of this browser uses the same one, so they replace
    // each other instead of stacking.
    expect(popup!.tag).toMatch(/^[0-9a-f-]{36}$/);

    // My own messages never notify, even hidden.
    await setHidden(page, false);
    await sendMessage(page, "my own words");
    await setHidden(page, true);
    await sendMessage(bo.page, "second while away");
    await expect.poll(() => shown(page)).toHaveLength(2);
    const tags = (await shown(page)).map((n) => n.tag);
    expect(new Set(tags).size).toBe(2);
  } finally {
    await context.close();
  }
});

test("DMs and @mentions notify even for rooms you are not looking at", async ({ browser, createUser }) => {
  const context = await browser.newContext();
  try {
    await installNotificationProbe(context, "granted");
    const page = await context.newPage();
    const ana = uniqueName("ana");
    await signIn(page, ana);
    const bo = await createUser("bo");

    // Ana looks at a room of her own; Bo talks in #general.
    await page.getByRole("button", { name: "Create room" }).click();
    const roomName = uniqueName("quiet");
    await page.getByLabel("Room name").fill(roomName);
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await expect(page.getByTestId("room-title")).toContainText(roomName);
    await setHidden(page, true);

    await sendMessage(bo.page, "general chatter");
    await sendMessage(bo.page, `hey @${ana} look`);
    await expect.poll(() => shown(page)).toHaveLength(1);
    expect((await shown(page))[0]).toMatchObject({ title: `${bo.nickname} mentioned you in #general`, body: `hey @${ana} look` });

    // A DM from Bo notifies too, though Ana has never opened it.
    await bo.page.getByRole("button", { name: "New direct message" }).click();
    const dialog = bo.page.getByRole("dialog", { name: "New direct message" });
    await dialog.getByRole("searchbox").fill(ana);
    await dialog.getByRole("button", { name: `Message ${ana}` }).click();
    await expect(bo.page.getByTestId("room-title")).toHaveText(ana);
    await sendMessage(bo.page, "just between us");
    await expect.poll(() => shown(page)).toHaveLength(2);
    expect((await shown(page))[1]).toMatchObject({ title: bo.nickname, body: "just between us" });
  } finally {
    await context.close();
  }
});
