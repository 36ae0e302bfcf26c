import { composer, expect, messageRows, sendMessage, test, uniqueName } from "../fixtures/chat.js";

/**
 * Promised behaviour that had no browser test (issue 9): sign-out reaches every tab of the
 * session, presence goes offline after the grace, and typing clears when the typist gives up.
 */
test.describe("sessions, presence and typing (issue 9)", () => {
  test("signing out in one tab signs out every tab of that browser; the same user elsewhere stays", async ({ createUser, browser, consoleGuard }) => {
    // The server closes the other tab's socket when the session ends. If that socket is still on
    // long-polling (not yet upgraded), a poll already on its way reaches a closed engine.io session
    // and is answered 400, which the browser logs (seen once in CI). Only that request is allowed.
    consoleGuard.allow(/status of 400 .*\/socket\.io\/\?EIO=4&transport=polling&/);
    const alice = await createUser("alice");
    const secondTab = await alice.newTab();
    // Alice's phone: another browser, another session.
    const phone = await browser.newContext();
    try {
      const phonePage = await phone.newPage();
      await phonePage.goto("/");
      await phonePage.getByLabel("Nickname").fill(alice.nickname);
      await phonePage.getByLabel("Password").fill(alice.password);
      await phonePage.getByRole("button", { name: "Sign in" }).click();
      await expect(phonePage.getByTestId("current-user")).toHaveText(alice.nickname);

      await alice.page.getByRole("button", { name: "Sign out" }).click();
      for (const page of [alice.page, secondTab]) {
        await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
        await expect(page.getByTestId("current-user")).toHaveCount(0);
      }
      // A reload does not bring the session back.
      await secondTab.reload();
      await expect(secondTab.getByRole("button", { name: "Sign in" })).toBeVisible();

      // The phone still chats.
      const body = `still signed in ${uniqueName("m")}`;
      await sendMessage(phonePage, body);
      await expect(messageRows(phonePage, body)).toHaveAttribute("data-status", "sent");
      await expect(phonePage.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
    } finally {
      await phone.close();
    }
  });

  test("a user whose last tab closes shows offline to others after the grace", async ({ createUser }) => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const panel = alice.page.getByRole("complementary", { name: "Members" });
    if (!(await panel.isVisible())) await alice.page.getByRole("button", { name: "Show members" }).click();
    const bobInList = panel.locator(`[data-testid="member"]`).filter({ hasText: bob.nickname });
    await expect(bobInList).toHaveAttribute("data-online", "true");

    await bob.page.close();
    // PRESENCE_GRACE_MS is 1.5 s in the e2e server: offline within the expect timeout, live.
    await expect(bobInList).toHaveAttribute("data-online", "false");
    await expect(bobInList).toContainText("Offline");
    await expect(alice.page.getByText(`${bob.nickname} went offline`)).toBeVisible();
  });

  test("the typing indicator clears for others when the typist deletes what they wrote", async ({ createUser }) => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const indicator = bob.page.getByTestId("typing-indicator");
    await composer(alice.page).pressSequentially("never mind", { delay: 10 });
    await expect(indicator).toHaveText(`${alice.nickname} is typing…`);
    await composer(alice.page).fill("");
    await expect(indicator).toHaveAttribute("data-count", "0");
    await expect(indicator).toHaveText("");
    // And nothing was sent: her next message is the first Bob gets from her.
    const next = `ok then ${uniqueName("m")}`;
    await sendMessage(alice.page, next);
    await expect(messageRows(bob.page, next)).toHaveCount(1);
    await expect(messageRows(bob.page, "never mind")).toHaveCount(0);
  });
});
