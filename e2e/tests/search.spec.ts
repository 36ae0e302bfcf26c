import type { Page } from "@playwright/test";
import { PASSWORD, expect, openRoom, test, uniqueName } from "../fixtures/chat.js";
import { connectSeedClient } from "../fixtures/seed-room.js";

/**
 * Message search (issue 13): Ctrl/Cmd+K, the search box with filters, results with the matched
 * words marked, and a result that opens its room at the message however far back it is.
 */

function searchBox(page: Page) {
  return page.getByRole("searchbox", { name: "Search messages" });
}

test.describe("search (issue 13)", () => {
  test("Ctrl+K searches; a hit 20,000 messages back opens its room at that message; deleted messages and rooms I am not in are not found", async ({ createUser, request, baseURL }) => {
    test.setTimeout(180_000);
    // A word no other test (or rerun against the same database) writes.
    const needle = uniqueName("needle").replace("-", "");
    const aliceName = uniqueName("alice");
    const bobName = uniqueName("bob");
    const alice = await connectSeedClient(request, baseURL!, { nickname: aliceName, password: PASSWORD });
    const roomName = uniqueName("archive");
    const roomId = ((await alice.ask("room:create", { name: roomName })).data as { id: string }).id;
    const secretId = ((await alice.ask("room:create", { name: uniqueName("secret") })).data as { id: string }).id;

    const [hitSeq] = await alice.send(roomId, [`The ${needle} is in this message, 简体中文 too`]);
    await alice.send(roomId, Array.from({ length: 20_000 }, (_, i) => `filler ${i + 1}`));
    const doomed = await alice.ask("message:send", { roomId, clientId: crypto.randomUUID(), body: `${needle} that was deleted` });
    expect((await alice.ask("message:delete", { messageId: (doomed.data as { id: string }).id })).ok).toBe(true);
    await alice.send(secretId, [`${needle} in a room bob is not in`]);

    const bobClient = await connectSeedClient(request, baseURL!, { nickname: bobName, password: PASSWORD });
    expect((await bobClient.ask("room:join", { roomId })).ok).toBe(true);
    bobClient.close();
    alice.close();

    const bob = await createUser("bob", { nickname: bobName });
    const page = bob.page;
    await openRoom(page, roomId);
    await expect(page.locator('[data-testid="message"][data-deleted]').last()).toContainText("Message deleted");

    // Ctrl+K from the composer focuses the search box.
    await page.getByRole("textbox", { name: /^Message/ }).focus();
    await page.keyboard.press("Control+k");
    await expect(searchBox(page)).toBeFocused();

    // A filter naming a room Bob is not in is refused in words, before anything is sent.
    await page.keyboard.type(`${needle} in:#nosuchroom`);
    await page.keyboard.press("Enter");
    await expect(page.getByRole("alert").filter({ hasText: "You are in no room or conversation called #nosuchroom" })).toBeVisible();

    await searchBox(page).fill(`${needle.toUpperCase()} in:#${roomName}`);
    await searchBox(page).press("Enter");
    const panel = page.getByTestId("search-panel");
    await expect(panel.getByRole("status")).toHaveText("1 message");
    const hit = panel.getByTestId("search-hit");
    await expect(hit).toHaveCount(1);
    await expect(hit.locator("mark")).toHaveText(needle);
    await expect(hit).toContainText(`#${roomName}`);

    // Without the room filter: still one (the deleted one and the other room's are not found);
    // a Chinese word finds it too.
    await searchBox(page).fill(needle);
    await searchBox(page).press("Enter");
    await expect(panel.getByRole("status")).toHaveText("1 message");
    await searchBox(page).fill(`中文 ${needle}`);
    await searchBox(page).press("Enter");
    await expect(hit.locator("mark")).toHaveText([needle, "中文"]);

    // Opening the hit brings that message (20,000 back) into view, highlighted.
    await hit.click();
    const row = page.locator(`[data-testid="message"][data-seq="${hitSeq}"]`);
    await expect(row).toBeInViewport();
    await expect(row).toHaveClass(/\bhighlighted\b/);
    await expect(row.locator(".message-body")).toHaveText(`The ${needle} is in this message, 简体中文 too`);
    await expect(page.getByTestId("message-list")).toHaveAttribute("data-at-bottom", "false");

    // Closing the panel gives the right column back to the members.
    await panel.getByRole("button", { name: "Close search" }).click();
    await expect(panel).toHaveCount(0);
  });
});
