import { composer, expect, expectSignedIn, messageRows, sendMessage, test, uniqueName } from "../fixtures/chat.js";

test.describe("chat basics (issue 3)", () => {
  test("two users chat both ways; each message shows once in both windows with author and time", async ({ createUser }) => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");

    const hello = `hello from ${alice.nickname}`;
    const reply = `hi ${alice.nickname}, ${bob.nickname} here`;
    await sendMessage(alice.page, hello);
    await expect(messageRows(bob.page, hello)).toHaveCount(1);
    await sendMessage(bob.page, reply);
    await expect(messageRows(alice.page, reply)).toHaveCount(1);

    for (const page of [alice.page, bob.page]) {
      for (const [body, author] of [
        [hello, alice.nickname],
        [reply, bob.nickname],
      ] as const) {
        const row = messageRows(page, body);
        await expect(row).toHaveCount(1);
        await expect(row).toHaveAttribute("data-status", "sent");
        await expect(row).toHaveAttribute("data-author", author);
        await expect(row.locator(".message-author")).toHaveText(author);
        // The time is a <time> element with a machine-readable instant and a visible clock time.
        const time = row.locator("time");
        await expect(time).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT/);
        await expect(time).toHaveText(/\d{1,2}:\d\d/);
      }
    }
    // Nothing extra arrived late (a duplicate broadcast would show as a second row).
    await expect(messageRows(alice.page, hello)).toHaveCount(1);
    await expect(messageRows(bob.page, reply)).toHaveCount(1);
  });

  test("one user with two tabs sees every message once in each tab", async ({ createUser }) => {
    const alice = await createUser("alice");
    const tab2 = await alice.newTab();
    const bob = await createUser("bob");

    const fromTab1 = `tab one ${uniqueName("m")}`;
    const fromTab2 = `tab two ${uniqueName("m")}`;
    const fromBob = `bob says ${uniqueName("m")}`;
    await sendMessage(alice.page, fromTab1);
    await sendMessage(tab2, fromTab2);
    await sendMessage(bob.page, fromBob);

    for (const page of [alice.page, tab2, bob.page]) {
      for (const body of [fromTab1, fromTab2, fromBob]) {
        await expect(messageRows(page, body)).toHaveCount(1);
        await expect(messageRows(page, body)).toHaveAttribute("data-status", "sent");
      }
    }
  });

  test("reload keeps the session and the history", async ({ createUser }) => {
    const alice = await createUser("alice");
    const bodies = [`first ${uniqueName("m")}`, `second ${uniqueName("m")}`];
    for (const body of bodies) await sendMessage(alice.page, body);
    for (const body of bodies) await expect(messageRows(alice.page, body)).toHaveAttribute("data-status", "sent");

    await alice.page.reload();
    await expectSignedIn(alice.page, alice.nickname);
    for (const body of bodies) await expect(messageRows(alice.page, body)).toHaveCount(1);
    // In the order they were sent.
    const seqs = await Promise.all(bodies.map((b) => messageRows(alice.page, b).getAttribute("data-seq")));
    expect(Number(seqs[0])).toBeLessThan(Number(seqs[1]));
  });

  test("an existing nickname in another case with a wrong password is refused", async ({ createUser, browser, consoleGuard }) => {
    // The browser logs the refusal (401) itself; that is the answer this test asks for.
    consoleGuard.allow(/api\/auth\/login.*|status of 401/);
    const alice = await createUser("alice");
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto("/");
      await page.getByLabel("Nickname").fill(alice.nickname.toUpperCase());
      await page.getByLabel("Password").fill("not the right password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page.getByRole("alert")).toHaveText("Wrong password for this nickname.");
      // Still on the sign-in form, no session.
      await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
      await expect(page.getByTestId("current-user")).toHaveCount(0);
    } finally {
      await context.close();
    }
  });

  test("a blank message never sends and an over-long one is refused with a reason", async ({ createUser }) => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const { page } = alice;
    // #general holds earlier tests' messages: count only rows that are Alice's (sent or pending).
    const alicesRows = (p: typeof page) =>
      p.locator(`[data-testid="message"][data-author="${alice.nickname}"], [data-testid="message"][data-client-id]`);

    // Enter on an empty box and on whitespace only: no row, no alert.
    await composer(page).press("Enter");
    await composer(page).fill("   \n  ");
    await composer(page).press("Enter");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(alicesRows(page)).toHaveCount(0);

    // 4001 characters: the counter says why, Enter and Send both refuse, nothing goes out.
    const tooLong = "x".repeat(4001);
    await composer(page).fill(tooLong);
    await expect(composer(page)).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByRole("alert")).toHaveText("Too long by 1 character (limit 4000).");
    await composer(page).press("Enter");
    await expect(page.getByRole("alert")).toHaveText("The message is longer than 4000 characters.");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page.getByRole("alert")).toBeVisible();
    await expect(composer(page)).toHaveValue(tooLong);
    await expect(alicesRows(page)).toHaveCount(0);

    // Proof that the channel works and nothing from above went out before it: the next message
    // reaches Bob and is the only new row from Alice.
    const ok = `fine now ${uniqueName("m")}`;
    await composer(page).fill(ok);
    await composer(page).press("Enter");
    await expect(messageRows(bob.page, ok)).toHaveCount(1);
    await expect(alicesRows(bob.page)).toHaveCount(1);
    await expect(alicesRows(page)).toHaveCount(1);
  });

  test("the typing indicator shows for the other user and clears after the send", async ({ createUser }) => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const indicator = bob.page.getByTestId("typing-indicator");
    await expect(indicator).toHaveAttribute("data-count", "0");

    await composer(alice.page).pressSequentially("typing something", { delay: 10 });
    await expect(indicator).toHaveText(`${alice.nickname} is typing…`);
    await expect(indicator).toHaveAttribute("data-count", "1");
    // The typist does not see themself typing.
    await expect(alice.page.getByTestId("typing-indicator")).toHaveAttribute("data-count", "0");

    await composer(alice.page).press("Enter");
    await expect(messageRows(bob.page, "typing something")).toHaveCount(1);
    await expect(indicator).toHaveAttribute("data-count", "0");
    await expect(indicator).toHaveText("");
  });

  test("regression: the typing indicator stays while the other user keeps typing past the 6 s local expiry", async ({ createUser }) => {
    // The server used to broadcast only the first typing:start; the clients' 2 s refreshes were
    // silent, so other clients dropped the indicator at their 6 s local expiry.
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const indicator = bob.page.getByTestId("typing-indicator");
    await composer(alice.page).pressSequentially("a", { delay: 0 });
    await expect(indicator).toHaveAttribute("data-count", "1");
    // Keep typing, a key every 250 ms for 9 s (the refresh goes out every 2 s), checking as we go.
    for (let i = 0; i < 9; i++) {
      await composer(alice.page).pressSequentially("abcd", { delay: 250 });
      await expect(indicator).toHaveAttribute("data-count", "1", { timeout: 100 });
    }
  });
});
