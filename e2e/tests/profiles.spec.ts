import type { BrowserContext, Page } from "@playwright/test";
import { expect, messageRows, sendMessage, signIn, test, uniqueName } from "../fixtures/chat.js";

/**
 * Profiles and presence (issue 14): a display name, status and picture set in the profile dialog
 * reach another user live (on messages already on screen and in the profile card), "do not
 * disturb" silences notifications, and a room set to "mentions only" notifies only mentions.
 * Notifications are recorded by a stand-in installed before the app loads (as in
 * notifications.spec.ts): headless Chromium has no notification centre and cannot hide a tab.
 */
declare global {
  interface Window {
    __parleyTest: { hidden: boolean; permissionRequests: number; shown: { title: string; body: string; tag: string }[] };
  }
}

/** A 64 x 48 green PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwCAIAAAAuKetIAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAfUlEQVR4nO2SAQkAURSDlsWS63QpL4Y8/sAAOha+nia6AQuoviK7UO8S3YAFVF+RXah3iW7AAqqvyC7Uu0Q3YAHVV2QX6l2iG7CA6iuyC/Uu0Q1YQPUV2YV6l+gGLKD6iuxCvUt0AxZQfUV2od4lugELqL4iu1DvEt2AxwN+liEk4ru3XscAAAAASUVORK5CYII=",
  "base64",
);

async function installNotificationProbe(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const probe: Window["__parleyTest"] = { hidden: false, permissionRequests: 0, shown: [] };
    window.__parleyTest = probe;
    class RecordingNotification {
      static get permission() {
        return "granted";
      }
      static requestPermission() {
        return Promise.resolve("granted");
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
  });
}

const shown = (page: Page) => page.evaluate(() => window.__parleyTest.shown.map((n) => n.body));
const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate((h) => {
    window.__parleyTest.hidden = h;
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);

async function openProfileDialog(page: Page) {
  await page.getByTestId("edit-profile").click();
  const dialog = page.getByRole("dialog", { name: "Your profile" });
  await expect(dialog).toBeVisible();
  return dialog;
}

test("profiles reach others live; DND silences notifications; a room on mentions only notifies mentions", async ({ browser }) => {
  // Two users, three profile saves, a picture decoded on the server and five notification checks:
  // ~30 s on a quiet machine, over the default 60 s when the 2 shared cores are busy.
  test.setTimeout(120_000);
  const contexts = [await browser.newContext(), await browser.newContext()];
  await Promise.all(contexts.map(installNotificationProbe));
  const [anaPage, boPage] = [await contexts[0]!.newPage(), await contexts[1]!.newPage()];
  const ana = { nickname: uniqueName("ana") };
  const bo = { nickname: uniqueName("bo") };
  try {
    await signIn(anaPage, ana.nickname);
    await signIn(boPage, bo.nickname);

    // Ana writes first, as her plain nickname.
    await sendMessage(anaPage, "before my profile");
    const anaRowOnBo = messageRows(boPage, "before my profile");
    await expect(anaRowOnBo.locator(".message-author")).toHaveText(ana.nickname);

    // Ana sets a display name, a status and a picture.
    const dialog = await openProfileDialog(anaPage);
    await dialog.getByTestId("avatar-input").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: PNG });
    await expect(dialog.locator("img.avatar-image")).toBeVisible();
    await dialog.getByLabel("Display name").fill("Ana Lima");
    await dialog.getByLabel("Status").fill("Writing the quarterly report");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect(dialog).toBeHidden();

    // Bo sees all of it live on the message already on his screen, and in her card.
    await expect(anaRowOnBo.locator(".message-author")).toHaveText("Ana Lima");
    await expect(anaRowOnBo.locator(".message-handle")).toHaveText(`@${ana.nickname}`);
    const picture = anaRowOnBo.locator(".message-gutter img.avatar-image");
    await expect(picture).toBeVisible();
    await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(256);
    await anaRowOnBo.getByRole("button", { name: "Show the profile of Ana Lima" }).first().click();
    const card = boPage.getByTestId("profile-card").locator("..");
    await expect(card.getByTestId("profile-card-name")).toHaveText("Ana Lima");
    await expect(card).toContainText(`@${ana.nickname}`);
    await expect(card.getByTestId("profile-card-status")).toHaveText("Writing the quarterly report");
    await expect(card.getByTestId("profile-card-presence")).toHaveText("Online");
    await boPage.keyboard.press("Escape");
    await expect(card).toBeHidden();

    // Ana goes "do not disturb": even a mention in the room she has open does not notify her.
    const again = await openProfileDialog(anaPage);
    await again.getByLabel("Do not disturb").check();
    await again.getByRole("button", { name: "Save" }).click();
    await expect(again).toBeHidden();
    await setHidden(anaPage, true);
    await sendMessage(boPage, `@${ana.nickname} are you there?`);
    await expect(messageRows(anaPage, `@${ana.nickname} are you there?`)).toHaveCount(1);
    expect(await shown(anaPage)).toEqual([]);
    // Bo sees her as do not disturb in her card.
    await anaRowOnBo.getByRole("button", { name: "Show the profile of Ana Lima" }).first().click();
    await expect(boPage.getByTestId("profile-card-presence")).toHaveText("Do not disturb");
    await boPage.keyboard.press("Escape");

    // Bo sets #general to mentions only (another tab would see it: the server keeps it).
    await boPage.getByLabel("Notifications for this room").selectOption("mentions");
    await expect(boPage.getByLabel("Notifications for this room")).toHaveValue("mentions");
    await setHidden(boPage, true);
    await sendMessage(anaPage, "plain words, no ping");
    await expect(messageRows(boPage, "plain words, no ping")).toHaveCount(1);
    expect(await shown(boPage)).toEqual([]);
    await sendMessage(anaPage, `@${bo.nickname} this one is for you`);
    await expect.poll(() => shown(boPage)).toEqual([`@${bo.nickname} this one is for you`]);

    // The level survives a reload (it is the server's, not the tab's).
    await setHidden(boPage, false);
    await boPage.reload();
    await expect(boPage.getByLabel("Notifications for this room")).toHaveValue("mentions");
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});

test("the card's Message button opens the DM; the members panel opens cards too", async ({ createUser }) => {
  const [ana, bo] = [await createUser("ana"), await createUser("bo")];
  await sendMessage(ana.page, "hello bo");
  await messageRows(bo.page, "hello bo").getByRole("button", { name: `Show the profile of ${ana.nickname}` }).first().click();
  await bo.page.getByRole("dialog", { name: `Profile of ${ana.nickname}` }).getByRole("button", { name: "Message", exact: true }).click();
  await expect(bo.page.getByTestId("room-title")).toHaveText(ana.nickname);

  const panel = bo.page.getByRole("complementary", { name: "Members" });
  if (!(await panel.isVisible())) await bo.page.getByRole("button", { name: "Show members" }).click();
  // The row also has the moderation menu's button ("Actions for …"): the profile's is named by the name, then "profile".
  await bo.page.locator(`[data-testid="member"][data-user-id]`).filter({ hasText: ana.nickname }).getByRole("button", { name: /, profile$/ }).click();
  await expect(bo.page.getByTestId("profile-card-name")).toHaveText(ana.nickname);
});
