import type { BrowserContext, Page } from "@playwright/test";
import { expect, expectConnected, messageRows, openRoom, roomItem, sendMessage, signIn, test, uniqueName } from "../fixtures/chat.js";

/**
 * Going offline: `context.setOffline(true)` in this Chromium (Debian 156) drops the open WebSocket
 * at once and fires the page's `offline` event, so the pill shows "offline" within milliseconds
 * (checked below before anything is sent; older Chromiums kept sockets open under offline
 * emulation, and this assertion is what would catch that).
 */
async function goOffline(context: BrowserContext, pages: Page[]): Promise<void> {
  await context.setOffline(true);
  for (const page of pages) await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", /offline|reconnecting/);
}

async function goOnline(context: BrowserContext, pages: Page[]): Promise<void> {
  await context.setOffline(false);
  for (const page of pages) await expectConnected(page);
}

/** Seqs of the rows with these bodies, in the order given. */
async function seqsOf(page: Page, bodies: string[]): Promise<number[]> {
  return Promise.all(bodies.map(async (b) => Number(await messageRows(page, b).getAttribute("data-seq"))));
}

test.describe("delivery (issue 5)", () => {
  test("messages written offline show as sending and arrive once, in order; a closed tab's are sent by the next tab", async ({ createUser }) => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const tag = uniqueName("off");

    await goOffline(alice.context, [alice.page]);
    await expect(alice.page.getByTestId("connection-status")).toHaveAttribute("data-status", "offline");
    const first = [1, 2, 3].map((i) => `${tag} first ${i}`);
    for (const body of first) await sendMessage(alice.page, body);
    for (const body of first) {
      await expect(messageRows(alice.page, body)).toHaveCount(1);
      await expect(messageRows(alice.page, body)).toHaveAttribute("data-status", "sending");
    }
    // Nothing went out: checked once a later message of Bob's has made the round trip (anything
    // of Alice's stored before it would have reached Bob first).
    await sendMessage(bob.page, `${tag} bob waits`);
    await expect(messageRows(bob.page, `${tag} bob waits`)).toHaveAttribute("data-status", "sent");
    await expect(messageRows(bob.page, first[0]!)).toHaveCount(0);

    await goOnline(alice.context, [alice.page]);
    for (const body of first) {
      await expect(messageRows(bob.page, body)).toHaveCount(1);
      await expect(messageRows(alice.page, body)).toHaveCount(1);
      await expect(messageRows(alice.page, body)).toHaveAttribute("data-status", "sent");
    }
    const bobSeqs = await seqsOf(bob.page, first);
    expect(bobSeqs).toEqual([...bobSeqs].sort((a, b) => a - b));
    expect(new Set(bobSeqs).size).toBe(3);
    expect(await seqsOf(alice.page, first)).toEqual(bobSeqs);

    // Offline again: two more, then the tab is closed before they could go.
    await goOffline(alice.context, [alice.page]);
    const second = [1, 2].map((i) => `${tag} second ${i}`);
    for (const body of second) await sendMessage(alice.page, body);
    for (const body of second) await expect(messageRows(alice.page, body)).toHaveAttribute("data-status", "sending");
    await alice.page.close();
    await alice.context.setOffline(false);
    // Nothing went out with the closed tab.
    await sendMessage(bob.page, `${tag} bob is still here`);
    await expect(messageRows(bob.page, `${tag} bob is still here`)).toHaveAttribute("data-status", "sent");
    for (const body of second) await expect(messageRows(bob.page, body)).toHaveCount(0);

    // Later, a new tab of the same browser: the outbox (localStorage) sends them, once each.
    const tab = await alice.newTab();
    for (const body of second) {
      await expect(messageRows(bob.page, body)).toHaveCount(1);
      await expect(messageRows(tab, body)).toHaveCount(1);
      await expect(messageRows(tab, body)).toHaveAttribute("data-status", "sent");
    }
    const secondSeqs = await seqsOf(bob.page, second);
    expect(secondSeqs[0]).toBeLessThan(secondSeqs[1]!);
    // The first batch is still there exactly once in every window.
    for (const page of [bob.page, tab]) for (const body of [...first, ...second]) await expect(messageRows(page, body)).toHaveCount(1);
  });

  test("a send refused for good (no longer a member) can be retried and discarded", async ({ createUser, browser }) => {
    // Alice on two devices (two browser contexts, two sessions): her laptop is offline while her
    // phone leaves the room, so the laptop's queued messages are refused with NOT_A_MEMBER.
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const roomName = uniqueName("standup");
    await alice.page.getByRole("button", { name: "Create room" }).click();
    await alice.page.getByRole("dialog", { name: "Create room" }).getByLabel("Room name").fill(roomName);
    await alice.page.getByRole("dialog", { name: "Create room" }).getByRole("button", { name: "Create" }).click();
    await expect(alice.page.getByTestId("room-title")).toHaveText(roomName);
    const roomId = await alice.page.locator('[data-testid="room-item"][aria-current="page"]').getAttribute("data-room-id");
    expect(roomId).toBeTruthy();

    // Bob joins, so there is someone to receive the retried message.
    await bob.page.getByRole("button", { name: "Browse rooms" }).click();
    const browse = bob.page.getByRole("dialog", { name: "Browse rooms" });
    await browse.getByRole("searchbox").fill(roomName);
    await browse.getByRole("button", { name: `Join ${roomName}` }).click();
    await expect(bob.page.getByTestId("room-title")).toHaveText(roomName);

    const phone = await browser.newContext();
    try {
      const phonePage = await phone.newPage();
      await signIn(phonePage, alice.nickname, alice.password);
      await openRoom(phonePage, roomId!);

      await goOffline(alice.context, [alice.page]);
      const retryMe = `retry me ${uniqueName("m")}`;
      const discardMe = `discard me ${uniqueName("m")}`;
      await sendMessage(alice.page, retryMe);
      await sendMessage(alice.page, discardMe);
      await expect(messageRows(alice.page, retryMe)).toHaveAttribute("data-status", "sending");

      phonePage.once("dialog", (d) => void d.accept());
      await phonePage.getByRole("button", { name: "Leave room" }).click();
      await expect(roomItem(phonePage, roomId!)).toHaveCount(0);

      // Back online, the laptop learns it left the room; the sends fail at once (no retries).
      await goOnline(alice.context, [alice.page]);
      await expect(roomItem(alice.page, roomId!)).toHaveCount(0);
      await expect(alice.page.getByTestId("room-title")).toHaveText("general");
      // They are not shown in any room now, so a bar says they exist (and offers to discard them).
      await expect(alice.page.getByTestId("orphaned-sends")).toContainText("2 unsent messages to rooms you are no longer in");

      // Join again from the directory: the failed messages are there, with the reason.
      await alice.page.getByRole("button", { name: "Browse rooms" }).click();
      const again = alice.page.getByRole("dialog", { name: "Browse rooms" });
      await again.getByRole("searchbox").fill(roomName);
      await again.getByRole("button", { name: `Join ${roomName}` }).click();
      await expect(alice.page.getByTestId("room-title")).toHaveText(roomName);
      await expect(alice.page.getByTestId("orphaned-sends")).toHaveCount(0);
      for (const body of [retryMe, discardMe]) {
        const row = messageRows(alice.page, body);
        await expect(row).toHaveAttribute("data-status", "failed");
        await expect(row.getByRole("alert")).toContainText("Not sent: You are not a member of this room.");
      }
      // Not delivered: Alice's next message reaches Bob, and the failed one did not come before it.
      const marker = `back again ${uniqueName("m")}`;
      await sendMessage(alice.page, marker);
      await expect(messageRows(bob.page, marker)).toHaveCount(1);
      await expect(messageRows(bob.page, retryMe)).toHaveCount(0);

      // Retry: a member again, so it goes through, once.
      await messageRows(alice.page, retryMe).getByRole("button", { name: "Retry" }).click();
      await expect(messageRows(alice.page, retryMe)).toHaveAttribute("data-status", "sent");
      await expect(messageRows(alice.page, retryMe)).toHaveCount(1);
      await expect(messageRows(bob.page, retryMe)).toHaveCount(1);

      // Discard: gone here, never sent, and still gone after a reload.
      await messageRows(alice.page, discardMe).getByRole("button", { name: "Discard" }).click();
      await expect(messageRows(alice.page, discardMe)).toHaveCount(0);
      await alice.page.reload();
      await expectConnected(alice.page);
      await openRoom(alice.page, roomId!);
      await expect(messageRows(alice.page, retryMe)).toHaveCount(1);
      await expect(messageRows(alice.page, retryMe)).toHaveAttribute("data-status", "sent");
      await expect(messageRows(alice.page, discardMe)).toHaveCount(0);
      const last = `last word ${uniqueName("m")}`;
      await sendMessage(alice.page, last);
      await expect(messageRows(bob.page, last)).toHaveCount(1);
      await expect(messageRows(bob.page, discardMe)).toHaveCount(0);
    } finally {
      await phone.close();
    }
  });
});
