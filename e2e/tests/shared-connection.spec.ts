import type { BrowserContext, Page, WebSocket } from "@playwright/test";
import { expect, expectConnected, expectSignedIn, openRoom, roomItem, sendMessage, signIn, test, uniqueName } from "../fixtures/chat.js";

/**
 * One connection per browser (issue 14, ADR 0017), with the flag on: three tabs of one browser
 * share the leader tab's socket; the leader is closed in the middle of a burst; another tab takes
 * over within a second; every tab ends with the server's history exactly, and the browser shows
 * one notification per message.
 *
 * The list is virtualised: the viewport is tall enough for the whole (fresh) DM to be rendered, so
 * the rows in the DOM are the messages the tab holds.
 */
const TALL = { viewport: { width: 1000, height: 3200 } };

/**
 * Before the app loads, in every tab: the flag; a `Notification` that records each popup in
 * localStorage (one key per popup, so tabs writing at once never overwrite each other's); and
 * every tab hidden, so a DM message from someone else is worth a notification (notify-rules.ts).
 */
async function prepareBrowser(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    // about:blank (a new tab before its first navigation) has no storage: nothing to prepare there.
    if (location.protocol === "about:") return;
    localStorage.setItem("parley:shared-connection", "1");
    class RecordingNotification {
      static get permission() {
        return "granted";
      }
      static requestPermission() {
        return Promise.resolve("granted");
      }
      onclick: (() => void) | null = null;
      constructor(title: string, options: { tag?: string; body?: string } = {}) {
        localStorage.setItem(`probe:notified:${options.tag ?? ""}:${crypto.randomUUID()}`, `${title} | ${options.body ?? ""}`);
      }
      close() {}
    }
    Object.defineProperty(window, "Notification", { value: RecordingNotification, configurable: true });
    Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
    Object.defineProperty(document, "hidden", { get: () => true, configurable: true });
  });
}

/** Every websocket any tab of the context opened, and which are still open. */
function watchWebsockets(context: BrowserContext) {
  const opened: { page: Page; ws: WebSocket; at: number }[] = [];
  const open = new Set<WebSocket>();
  const track = (page: Page) => {
    page.on("websocket", (ws) => {
      opened.push({ page, ws, at: Date.now() });
      open.add(ws);
      ws.on("close", () => open.delete(ws));
    });
    // A closed page's sockets are gone with it, whether or not their close event was reported.
    page.on("close", () => {
      for (const o of opened) if (o.page === page) open.delete(o.ws);
    });
  };
  context.on("page", track);
  return { opened, openCount: () => open.size };
}

/** The messages a tab shows, in list order: seq, id, body, status. */
function rows(page: Page) {
  return page.getByTestId("message").evaluateAll((els) =>
    els.map((el) => ({
      seq: Number(el.getAttribute("data-seq")),
      id: el.getAttribute("data-message-id"),
      body: el.querySelector(".message-body")?.textContent ?? "",
      status: el.getAttribute("data-status"),
    })),
  );
}

/** Popups recorded in the browser, per tag (the message id). */
function notifications(page: Page) {
  return page.evaluate(() => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      const m = key?.match(/^probe:notified:(.*):[^:]+$/);
      if (m) counts[m[1]!] = (counts[m[1]!] ?? 0) + 1;
    }
    return counts;
  });
}

test("three tabs share one websocket; the leader closed mid-burst: a new leader within a second, 0 lost, 0 duplicated, one notification per message", async ({
  browser,
  createUser,
}) => {
  // Three tabs, a second user and 25 messages typed through the UI: 40-58 s on the shared 2-core
  // box, past the default 60 s once at a load average of ~25.
  test.setTimeout(120_000);
  const context = await browser.newContext(TALL);
  try {
    await prepareBrowser(context);
    const sockets = watchWebsockets(context);
    const ana = uniqueName("ana");
    const first = await context.newPage();
    await signIn(first, ana);
    const others: Page[] = [];
    for (let i = 0; i < 2; i++) {
      const tab = await context.newPage();
      await tab.goto("/");
      await expectSignedIn(tab, ana);
      others.push(tab);
    }
    const tabs = [first, ...others];
    // One socket for the browser: the first tab's, which took the lock; the others never opened one.
    await expect.poll(() => sockets.openCount()).toBe(1);
    expect(sockets.opened).toHaveLength(1);
    const leader = sockets.opened[0]!.page;
    expect(leader).toBe(first);

    // Bob (another browser) opens a DM with Ana; every tab of Ana's shows it.
    const bob = await createUser("bob", TALL);
    await bob.page.getByRole("button", { name: "New direct message" }).click();
    const dialog = bob.page.getByRole("dialog", { name: "New direct message" });
    await dialog.getByRole("searchbox").fill(ana);
    await dialog.getByRole("button", { name: `Message ${ana}` }).click();
    await expect(dialog).toBeHidden();
    const dmId = await bob.page.locator('[data-testid="room-item"][aria-current="page"]').getAttribute("data-room-id");
    expect(dmId).toMatch(/^dm:/);
    await sendMessage(bob.page, "hello from bob");
    for (const tab of tabs) {
      await expect(roomItem(tab, dmId!)).toBeVisible();
      await openRoom(tab, dmId!);
    }

    // The burst: every tab of Ana's and Bob write at once; the leader is closed after its third.
    const tag = uniqueName("b");
    const PER_WRITER = 6;
    const written: string[] = [];
    let closedAt = 0;
    const write = async (page: Page, who: string, closeAfter?: number) => {
      for (let i = 1; i <= PER_WRITER; i++) {
        const body = `${tag} ${who} ${i}`;
        await sendMessage(page, body);
        written.push(body);
        if (i === closeAfter) {
          closedAt = Date.now();
          await page.close();
          return;
        }
      }
    };
    await Promise.all([write(leader, "t1", 3), write(others[0]!, "t2"), write(others[1]!, "t3"), write(bob.page, "bob")]);

    // Another tab took the lock and opened the browser's one socket, within a second of the close.
    await expect.poll(() => sockets.opened.length).toBe(2);
    const takeover = sockets.opened[1]!;
    expect(others).toContain(takeover.page);
    console.log(`takeover: ${takeover.at - closedAt} ms from the close to the new websocket`);
    expect(takeover.at - closedAt).toBeLessThan(1_000);
    await expect.poll(() => sockets.openCount()).toBe(1);
    for (const tab of others) await expectConnected(tab);

    // The server's history, as a fresh load of Bob's shows it.
    const expected = ["hello from bob", ...written];
    await bob.page.reload();
    await expectConnected(bob.page);
    await openRoom(bob.page, dmId!);
    await expect.poll(async () => (await rows(bob.page)).map((r) => r.body).sort()).toEqual([...expected].sort());
    const history = (await rows(bob.page)).map(({ seq, id, body }) => ({ seq, id, body }));
    // Gap-free seqs, each message once (the DM is fresh: its seqs start at 1).
    expect(history.map((r) => r.seq)).toEqual(expected.map((_, i) => i + 1));
    expect(new Set(history.map((r) => r.body)).size).toBe(expected.length);

    // Every remaining tab shows exactly that history: nothing lost, nothing twice, all sent.
    for (const tab of others) {
      await expect.poll(async () => (await rows(tab)).map(({ seq, id, body, status }) => ({ seq, id, body, status }))).toEqual(
        history.map((r) => ({ ...r, status: "sent" })),
      );
    }

    // One notification per message of Bob's, whichever tab led when it came; none for Ana's own.
    const bobIds = history.filter((r) => r.body === "hello from bob" || r.body.startsWith(`${tag} bob `)).map((r) => r.id!);
    const want = Object.fromEntries(bobIds.map((id) => [id, 1]));
    try {
      await expect.poll(() => notifications(others[0]!)).toEqual(want);
    } catch (error) {
      // Which popup was wrong, with its title and body (one extra popup was seen once in 9 runs).
      const popups = await others[0]!.evaluate(() =>
        Object.keys(localStorage)
          .filter((k) => k.startsWith("probe:notified:"))
          .map((k) => `${k} = ${localStorage.getItem(k)}`),
      );
      console.log(`popups:\n${popups.join("\n")}\nhistory:\n${history.map((r) => `${r.seq} ${r.id} ${r.body}`).join("\n")}`);
      throw error;
    }
  } finally {
    await context.close();
  }
});
