import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { composer, expect, expectSignedIn, openRoom, sendMessage, test, uniqueName, PASSWORD } from "../fixtures/chat.js";
import { PDF, pastePng, pickFiles } from "../fixtures/files.js";

/**
 * WCAG 2.1 A/AA audit (axe-core) of every screen a user meets, in both themes and on a phone:
 * no serious or critical violation. Each screen is audited in the state that shows the most at
 * once (unread badges, a mention, a system line, someone else's and one's own messages).
 */

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

async function audit(page: Page, what: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const bad = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(" ")} — ${n.failureSummary?.split("\n").slice(1).join(" ")}`).join("\n")}`);
  expect(bad, `${what}: serious or critical WCAG violations`).toEqual([]);
}

for (const colorScheme of ["light", "dark"] as const) {
  test.describe(`accessibility audit, ${colorScheme} theme (issue 9)`, () => {
    test.use({ colorScheme });

    test("sign-in screen, with and without an error", async ({ page, consoleGuard }) => {
      consoleGuard.allow(/status of 401/);
      await page.goto("/");
      await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
      await audit(page, "sign-in");
      // A refused sign-in shows its error on the form.
      const taken = uniqueName("taken");
      await page.request.post("/api/auth/login", { data: { nickname: taken, password: PASSWORD } });
      await page.getByLabel("Nickname").fill(taken);
      await page.getByLabel("Password").fill("not the password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page.getByRole("alert")).toBeVisible();
      await audit(page, "sign-in with an error");
    });

    test("chat screen and its dialogs, on a laptop", async ({ createUser }) => {
      const alice = await createUser("alice", { colorScheme, viewport: { width: 1280, height: 800 } });
      const bob = await createUser("bob", { colorScheme });
      await sendMessage(bob.page, `hello @${alice.nickname}, have a look at this`);
      await sendMessage(alice.page, "Looking now");
      await sendMessage(bob.page, "Thanks! Also `code` and a longer line to wrap around the message list width");
      // An unread DM in the sidebar.
      await bob.page.getByRole("button", { name: "New direct message" }).click();
      const dialog = bob.page.getByRole("dialog", { name: "New direct message" });
      await dialog.getByRole("searchbox").fill(alice.nickname);
      await dialog.getByRole("button", { name: `Message ${alice.nickname}` }).click();
      await expect(bob.page.getByTestId("room-title")).toHaveText(alice.nickname);
      await sendMessage(bob.page, "a private word");
      await expect(alice.page.locator('[data-testid="room-item"]').filter({ hasText: bob.nickname })).toBeVisible();
      await openRoom(alice.page, "general");
      await audit(alice.page, "chat");

      for (const name of ["Browse rooms", "Create room", "New direct message"]) {
        await alice.page.getByRole("button", { name }).click();
        const dialog = alice.page.getByRole("dialog");
        await expect(dialog).toBeVisible();
        await audit(alice.page, `dialog "${name}"`);
        await alice.page.keyboard.press("Escape");
        await expect(dialog).toHaveCount(0);
      }

      // Search results (issue 13), with matched words marked, and a refused search's message.
      await alice.page.keyboard.press("Control+k");
      await alice.page.keyboard.type("look");
      await alice.page.keyboard.press("Enter");
      await expect(alice.page.getByTestId("search-hit").first()).toBeVisible();
      await audit(alice.page, "search results");
      await alice.page.getByRole("searchbox", { name: "Search messages" }).fill("look in:#nowhere");
      await alice.page.keyboard.press("Enter");
      await expect(alice.page.getByRole("alert").filter({ hasText: "#nowhere" })).toBeVisible();
      await audit(alice.page, "search refused");
    });

    test("files (issue 13): the composer's tray and a refusal, a message with an image and a file, the lightbox", async ({ createUser }) => {
      const alice = await createUser("alice", { colorScheme, viewport: { width: 1280, height: 800 } });
      const page = alice.page;
      await pastePng(composer(page), "diagram.png", 800, 500, "Diagram");
      await pickFiles(page, [PDF]);
      await expect(page.getByTestId("upload-chip")).toHaveCount(2);
      for (const chip of await page.getByTestId("upload-chip").all()) await expect(chip).toHaveAttribute("data-status", "done");
      await pickFiles(page, [{ name: "empty.txt", type: "text/plain", text: "" }]);
      await expect(page.getByTestId("composer-notice")).toHaveText("“empty.txt” is empty.");
      await audit(page, "composer with files");

      const body = `files for the audit ${uniqueName("a11y")}`;
      await sendMessage(page, body);
      const row = page.getByTestId("message").filter({ hasText: body });
      await expect(row).toHaveAttribute("data-status", "sent");
      const thumb = row.getByTestId("attachment-image");
      await expect.poll(() => thumb.locator("img").evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
      await expect(row.getByTestId("file-card")).toBeVisible();
      await audit(page, "a message with files");

      await thumb.click();
      await expect(page.getByTestId("lightbox")).toBeVisible();
      await audit(page, "lightbox");
      // A click beside the image closes it, like Escape.
      await page.mouse.click(20, 780);
      await expect(page.getByTestId("lightbox")).toHaveCount(0);
      await expect(thumb).toBeFocused();
    });

    test("phone layout: chat and the rooms drawer", async ({ createUser }) => {
      const maya = await createUser("maya", { colorScheme, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await sendMessage(maya.page, "on the go");
      await audit(maya.page, "phone chat");
      await maya.page.getByRole("button", { name: "Open rooms" }).click();
      await expect(maya.page.getByRole("navigation", { name: "Rooms" })).toBeInViewport();
      await audit(maya.page, "phone rooms drawer");
      await expectSignedIn(maya.page, maya.nickname);
    });
  });
}
