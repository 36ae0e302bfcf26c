import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BrowserContextOptions, CDPSession, Page } from "@playwright/test";
import { PASSWORD, composer, expect, expectSignedIn, roomItem, sendMessage, test, uniqueName } from "../fixtures/chat.js";

/**
 * 简体中文 (issue 14): the language comes from the browser's languages, the switch in the user
 * menu applies at once and is remembered, Chinese input methods' Enter picks a candidate instead of
 * sending, and Chinese names are found by substring.
 */

const ZH: BrowserContextOptions = { locale: "zh-CN" };

/** The Chinese dictionary's chunk (issue 15: loaded only for readers of Chinese). */
const DICTIONARY_CHUNK = /\/assets\/zh-CN-[\w-]+\.js$/;

/** The page's requests for the Chinese dictionary, from now on. */
function dictionaryRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on("request", (request) => {
    if (DICTIONARY_CHUNK.test(request.url())) urls.push(request.url());
  });
  return urls;
}

/** The sign-in form, in Chinese (fixtures' `signIn` speaks English). */
async function signInZh(page: Page, nickname: string): Promise<void> {
  await page.goto("/");
  await page.getByLabel("昵称").fill(nickname);
  await page.getByLabel("密码").fill(PASSWORD);
  await page.getByRole("button", { name: "登录", exact: true }).click();
  await expectSignedIn(page, nickname);
}

/** Creates a room from the sidebar's dialog (in Chinese) and returns its id. */
async function createRoomZh(page: Page, name: string): Promise<string> {
  await page.getByRole("button", { name: "创建房间" }).click();
  const dialog = page.getByRole("dialog", { name: "创建房间" });
  await dialog.getByLabel("房间名称").fill(name);
  await dialog.getByRole("button", { name: "创建", exact: true }).click();
  await expect(page.getByTestId("room-title")).toHaveText(name);
  return (await page.locator('[data-testid="room-item"][aria-current="page"]').getAttribute("data-room-id"))!;
}

test.describe("简体中文 (issue 14)", () => {
  test("a zh-CN browser gets Chinese; the switch changes the language at once, sets <html lang> and is remembered", async ({ browser }) => {
    const context = await browser.newContext(ZH);
    try {
      const page = await context.newPage();
      const nickname = uniqueName("张三");
      await signInZh(page, nickname);
      await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
      await expect(page.getByRole("heading", { name: "房间" })).toBeVisible();
      await expect(composer(page)).toHaveAttribute("placeholder", "发消息到 #general");
      await expect(page.getByTestId("connection-status")).toContainText("已连接");

      // Sending shows today's day separator in Chinese (in a fresh room: #general's first message
      // of today may be far above the fold in a full run).
      const roomName = uniqueName("你好");
      await createRoomZh(page, roomName);
      await sendMessage(page, "你好，世界");
      await expect(page.getByText("今天", { exact: true })).toBeVisible();

      // The emoji picker speaks Chinese too: its names and search words are emojibase's zh data.
      const row = page.getByTestId("message").filter({ hasText: "你好，世界" });
      await row.hover();
      await row.getByTestId("message-actions").getByRole("button", { name: "添加表情回应", exact: true }).click();
      await page.getByRole("button", { name: "更多表情" }).click();
      await page.getByRole("searchbox", { name: "搜索表情" }).fill("笑");
      await page.getByRole("gridcell", { name: "大笑", exact: true }).click();
      await expect(row.locator('[data-testid="reaction"][data-emoji="😄"]')).toHaveCount(1);

      // English, at once, without a reload (the composer keeps its draft: nothing remounted).
      await composer(page).fill("草稿");
      await page.getByTestId("language-select").selectOption("en");
      await expect(page.locator("html")).toHaveAttribute("lang", "en");
      await expect(composer(page)).toHaveAttribute("placeholder", `Message #${roomName}`);
      await expect(page.getByText("Today", { exact: true })).toBeVisible();
      await expect(composer(page)).toHaveValue("草稿");

      // Remembered over the browser's zh-CN, after a reload and in a new tab.
      await page.reload();
      await expectSignedIn(page, nickname);
      await expect(page.locator("html")).toHaveAttribute("lang", "en");
      await expect(page.getByRole("heading", { name: "Rooms" })).toBeVisible();

      // And back, which another open tab of the browser follows.
      const other = await context.newPage();
      await other.goto("/");
      await expectSignedIn(other, nickname);
      await page.getByTestId("language-select").selectOption("zh-CN");
      await expect(page.getByRole("heading", { name: "房间" })).toBeVisible();
      await expect(other.getByRole("heading", { name: "房间" })).toBeVisible();
      await expect(other.locator("html")).toHaveAttribute("lang", "zh-CN");
    } finally {
      await context.close();
    }
  });

  test("an English browser gets English, never downloads the Chinese dictionary, and can switch to 简体中文 on the sign-in screen", async ({ page }) => {
    const chunks = dictionaryRequests(page);
    await page.goto("/");
    await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
    await page.waitForLoadState("networkidle");
    expect(chunks).toEqual([]);
    await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
    await expect(page.getByRole("heading", { name: "登录 Parley" })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await page.getByRole("combobox", { name: "语言" }).selectOption("en");
    await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
    // Loaded once: the second switch to Chinese takes the dictionary from memory.
    await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
    await expect(page.getByRole("heading", { name: "登录 Parley" })).toBeVisible();
    expect(chunks).toHaveLength(1);
  });

  test("a zh-CN browser's first paint is Chinese: the app waits for the dictionary instead of showing English", async ({ browser }) => {
    const context = await browser.newContext(ZH);
    try {
      // Before the app's scripts: record every text #root shows, and <html lang> when it first shows any.
      await context.addInitScript(() => {
        const seen = { texts: [] as string[], langAtFirstText: "" };
        (window as unknown as { parleySeen: typeof seen }).parleySeen = seen;
        new MutationObserver(() => {
          const text = document.getElementById("root")?.textContent?.trim() ?? "";
          if (!text || seen.texts.at(-1) === text) return;
          if (seen.texts.length === 0) seen.langAtFirstText = document.documentElement.lang;
          seen.texts.push(text);
        }).observe(document, { subtree: true, childList: true, characterData: true });
      });
      const page = await context.newPage();
      const chunks = dictionaryRequests(page);
      await page.goto("/");
      await expect(page.getByRole("heading", { name: "登录 Parley" })).toBeVisible();
      const seen = await page.evaluate(() => (window as unknown as { parleySeen: { texts: string[]; langAtFirstText: string } }).parleySeen);
      expect(seen.langAtFirstText).toBe("zh-CN");
      // The loading splash and the sign-in form, only ever in Chinese ("English" alone is the
      // language switch's option, named in its own language).
      expect(seen.texts.join("\n")).not.toMatch(/Loading|Sign in|Nickname|Password/);
      expect(seen.texts.at(-1)).toContain("登录 Parley");
      expect(chunks).toHaveLength(1);
    } finally {
      await context.close();
    }
  });

  test("when the dictionary cannot load (offline), the UI stays in English and keeps working", async ({ page, consoleGuard }) => {
    consoleGuard.allow(/Failed to load resource|Failed to fetch dynamically imported module/);
    await page.route(DICTIONARY_CHUNK, (route) => route.abort("internetdisconnected"));
    await page.goto("/");
    const select = page.getByRole("combobox", { name: "Language" });
    await select.selectOption("zh-CN");
    // The switch goes back to the language the UI still speaks; nothing crashed.
    await expect(select).toHaveValue("en");
    await expect(select).not.toHaveAttribute("aria-busy", "true");
    await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await page.getByLabel("Nickname").fill("still-typing");
    await expect(page.getByLabel("Nickname")).toHaveValue("still-typing");
  });

  test("Enter while an IME composition is open picks the candidate and sends nothing; the next Enter sends once", async ({ browser }) => {
    const context = await browser.newContext(ZH);
    try {
      const page = await context.newPage();
      await signInZh(page, uniqueName("李四"));
      const roomId = await createRoomZh(page, uniqueName("输入法"));
      const box = composer(page);
      await box.click();

      // Chrome's path, through the real input pipeline (CDP): a composition of pinyin is open,
      // Enter goes to the page as a keydown with isComposing set, and must not send.
      const cdp: CDPSession = await page.context().newCDPSession(page);
      await cdp.send("Input.imeSetComposition", { text: "zhongwen", selectionStart: 8, selectionEnd: 8 });
      await expect(box).toHaveValue("zhongwen");
      // Record what the page saw of the Enter (registered before the key is sent).
      await page.evaluate(() => {
        document.addEventListener("keydown", (e) => ((window as unknown as { seen: string }).seen = `${e.key}:${e.isComposing}`), { once: true, capture: true });
      });
      // rawKeyDown: the key as an IME-eaten keystroke (no text of its own), as a real IME sends it.
      await cdp.send("Input.dispatchKeyEvent", { type: "rawKeyDown", key: "Enter", code: "Enter", windowsVirtualKeyCode: 13 });
      await cdp.send("Input.dispatchKeyEvent", { type: "keyUp", key: "Enter", code: "Enter", windowsVirtualKeyCode: 13 });
      expect(await page.evaluate(() => (window as unknown as { seen: string }).seen)).toBe("Enter:true");
      // The candidate is committed: the pinyin becomes 中文 in the box, and nothing was sent.
      await cdp.send("Input.insertText", { text: "中文" });
      await expect(box).toHaveValue("中文");

      // Safari's order: compositionend first, then the Enter's keydown with isComposing false, in
      // the same task. Dispatched as DOM events (CDP cannot reorder Chrome's).
      await box.evaluate((el: HTMLTextAreaElement) => {
        el.dispatchEvent(new CompositionEvent("compositionstart", { bubbles: true, data: "" }));
        el.dispatchEvent(new CompositionEvent("compositionend", { bubbles: true, data: "中文" }));
        el.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", code: "Enter", keyCode: 13, bubbles: true, cancelable: true }));
      });
      // Shift+Enter still makes a line.
      await box.press("End");
      await box.press("Shift+Enter");
      await box.pressSequentially("输入法");
      await expect(box).toHaveValue("中文\n输入法");
      // Nothing was sent so far: the room has only the composer's text, no message row.
      await expect(page.getByTestId("message")).toHaveCount(0);

      // A plain Enter sends, exactly once.
      await box.press("Enter");
      await expect(box).toHaveValue("");
      const sent = page.getByTestId("message").filter({ hasText: "中文" });
      await expect(sent).toHaveCount(1);
      await expect(sent).toHaveAttribute("data-status", "sent");
      await expect(sent.locator(".message-body")).toHaveText("中文\n输入法");
      await expect(page.getByTestId("message")).toHaveCount(1);
      await expect(roomItem(page, roomId)).toBeVisible();
      await cdp.detach();
    } finally {
      await context.close();
    }
  });

  test("Chinese room names and nicknames are found by substring and listed in pinyin order", async ({ browser, createUser }) => {
    const tag = uniqueName("").slice(1);
    const context = await browser.newContext(ZH);
    try {
      const owner = await context.newPage();
      await signInZh(owner, `王小明${tag}`);
      await createRoomZh(owner, `产品设计评审${tag}`);
      await createRoomZh(owner, `周末闲聊${tag}`);

      // Another person (in English) finds the room by a Chinese substring from its middle.
      const bob = await createUser("bob");
      await bob.page.getByRole("button", { name: "Browse rooms" }).click();
      const browse = bob.page.getByRole("dialog", { name: "Browse rooms" });
      await browse.getByRole("searchbox").fill("设计评审");
      await expect(browse.getByRole("button", { name: `Join 产品设计评审${tag}` })).toBeVisible();
      await expect(browse.getByText(`周末闲聊${tag}`)).toHaveCount(0);
      await browse.getByRole("button", { name: `Join 产品设计评审${tag}` }).click();
      await expect(bob.page.getByTestId("room-title")).toHaveText(`产品设计评审${tag}`);

      // ...and the owner by the middle of the nickname, in the new-DM dialog.
      await bob.page.getByRole("button", { name: "New direct message" }).click();
      const dm = bob.page.getByRole("dialog", { name: "New direct message" });
      await dm.getByRole("searchbox").fill("小明");
      await expect(dm.getByRole("button", { name: `Message 王小明${tag}` })).toBeVisible();
      await dm.getByRole("button", { name: "Close" }).click();

      // The owner's room list is in pinyin order after #general: chǎn (产品…) before zhōu (周末…).
      const names = await owner.getByTestId("room-item").filter({ hasText: tag }).allInnerTexts();
      expect(names.map((n) => n.split("\n")[0]?.trim())).toEqual([`产品设计评审${tag}`, `周末闲聊${tag}`]);
    } finally {
      await context.close();
    }
  });
});

/**
 * The main screens in zh-CN, looked at by a person (nothing cut off, no mojibake, a CJK font).
 * Written to test-results/ on every run and to docs/screenshots/zh-CN/ by `pnpm screenshots`.
 */
test("screenshots of the main screens in zh-CN", async ({ browser }) => {
  test.setTimeout(120_000);
  const dir = process.env.PARLEY_SCREENSHOTS
    ? fileURLToPath(new URL("../../docs/screenshots/zh-CN/", import.meta.url))
    : test.info().outputPath("zh-CN/");
  mkdirSync(dir, { recursive: true });
  const tag = uniqueName("").slice(1, 5);
  const desktop = await browser.newContext({ ...ZH, viewport: { width: 1280, height: 800 } });
  const other = await browser.newContext(ZH);
  try {
    const page = await desktop.newPage();
    await page.goto("/");
    await page.getByLabel("昵称").fill("林小雨");
    await expect(page.getByRole("button", { name: "登录", exact: true })).toBeVisible();
    await page.screenshot({ path: `${dir}signin.png`, animations: "disabled" });

    const me = `林小雨${tag}`;
    const friend = `陈建国${tag}`;
    await signInZh(page, me);
    const roomName = `设计评审${tag}`;
    const roomId = await createRoomZh(page, roomName);
    const peer = await other.newPage();
    await signInZh(peer, friend);
    await peer.getByRole("button", { name: "浏览房间" }).click();
    const browse = peer.getByRole("dialog", { name: "浏览房间" });
    await browse.getByRole("searchbox").fill(roomName);
    await browse.getByRole("button", { name: `加入 ${roomName}` }).click();
    await expect(peer.getByTestId("room-title")).toHaveText(roomName);

    const lines: [Page, string][] = [
      [page, "早上好！新版引导页的设计稿已经上传，链接在文档里。"],
      [peer, "看起来很棒。@" + me + " 能帮忙看看手机上的空状态吗？"],
      [page, "好的，我正在调整侧边栏的间距，一小时内发对比图。"],
      [peer, "提醒：周四 17:00 代码冻结，**请提前合并**。"],
    ];
    for (const [who, body] of lines) await sendMessage(who, body);
    await expect(page.getByTestId("message")).toHaveCount(lines.length);
    await composer(peer).fill("我再看一下配色");
    await expect(page.getByTestId("typing-indicator")).toHaveText(`${friend} 正在输入…`);
    if (!(await page.getByRole("complementary", { name: "成员" }).isVisible())) await page.getByRole("button", { name: "显示成员" }).click();
    await expect(page.getByRole("complementary", { name: "成员" })).toContainText(friend);
    await page.screenshot({ path: `${dir}chat.png`, animations: "disabled" });

    await page.getByRole("button", { name: "浏览房间" }).click();
    await expect(page.getByRole("dialog", { name: "浏览房间" }).getByRole("listitem").first()).toBeVisible();
    await page.screenshot({ path: `${dir}room-browser.png`, animations: "disabled" });
    await page.getByRole("dialog", { name: "浏览房间" }).getByRole("button", { name: "关闭" }).click();

    const search = page.getByRole("searchbox", { name: "搜索消息" });
    await search.fill(`间距 in:#${roomName}`);
    await search.press("Enter");
    await expect(page.getByTestId("search-hit")).toHaveCount(1);
    await page.screenshot({ path: `${dir}search.png`, animations: "disabled" });

    const phone = await browser.newContext({ ...ZH, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    try {
      const small = await phone.newPage();
      await signInZh(small, me);
      await small.getByRole("button", { name: "打开房间列表" }).click();
      await small.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`).click();
      await expect(small.getByTestId("message")).toHaveCount(lines.length);
      await small.screenshot({ path: `${dir}phone.png`, animations: "disabled" });
      await small.getByRole("button", { name: "打开房间列表" }).click();
      await expect(roomItem(small, "general")).toBeInViewport();
      await small.screenshot({ path: `${dir}phone-sidebar.png`, animations: "disabled" });
    } finally {
      await phone.close();
    }
  } finally {
    await desktop.close();
    await other.close();
  }
});
