import AxeBuilder from "@axe-core/playwright";
import type { Locator, Page } from "@playwright/test";
import { expect, messageRows, openRoom, roomItem, sendMessage, test, uniqueName, type ChatUser } from "../fixtures/chat.js";

/**
 * Moderation (issue 14) as its people meet it: an owner, a moderator they appoint, members, and
 * someone outside the room, each in their own browser (the member with two tabs). Every step waits
 * on what the others see, never on time.
 *
 * On a fresh server the first account is an admin (ADMIN_NICKNAMES aside). Each test signs up a
 * throwaway account first, so that when this file runs alone the admin is nobody under test and
 * the roles exercised are only the room roles.
 */

/** Creates a public room from the sidebar; returns its id (the creator is its owner). */
async function createRoom(page: Page, name: string): Promise<string> {
  await page.getByRole("button", { name: "Create room" }).click();
  const dialog = page.getByRole("dialog", { name: "Create room" });
  await dialog.getByLabel("Room name").fill(name);
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(page.getByTestId("room-title")).toHaveText(name);
  const id = await page.locator('[data-testid="room-item"][aria-current="page"]').getAttribute("data-room-id");
  expect(id).toBeTruthy();
  return id!;
}

/** Finds a room in the directory and presses Join; returns the directory dialog (still open on a refusal). */
async function tryJoin(page: Page, name: string): Promise<Locator> {
  await page.getByRole("button", { name: "Browse rooms" }).click();
  const browse = page.getByRole("dialog", { name: "Browse rooms" });
  await browse.getByRole("searchbox").fill(name);
  await browse.getByRole("button", { name: `Join ${name}` }).click();
  return browse;
}

async function join(page: Page, name: string): Promise<void> {
  const browse = await tryJoin(page, name);
  await expect(browse).toBeHidden();
  await expect(page.getByTestId("room-title")).toHaveText(name);
}

/** A system line (moderation, join, leave) with exactly this text. */
function systemLine(page: Page, text: string): Locator {
  return page.getByTestId("system-message").filter({ hasText: new RegExp(`^${escape(text)}`) });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A member's row in the members panel (open by default at laptop width). */
function memberRow(page: Page, nickname: string): Locator {
  return page.locator(`[data-testid="member"][data-nickname="${nickname}"]`);
}

/** Opens a member's "⋯" menu and picks an action. */
async function memberAction(page: Page, nickname: string, action: string): Promise<void> {
  await memberRow(page, nickname).getByRole("button", { name: `Actions for ${nickname}` }).click();
  const menu = page.getByRole("dialog", { name: `Actions for ${nickname}` });
  await menu.getByRole("button", { name: action, exact: true }).click();
  await expect(menu).toBeHidden();
}

/** One of a message row's action bar buttons (the bar shows on hover). */
async function messageAction(row: Locator, name: string | RegExp): Promise<void> {
  await row.hover();
  await row.getByTestId("message-actions").getByRole("button", { name }).click();
}

function rowById(page: Page, id: string): Locator {
  return page.locator(`[data-testid="message"][data-message-id="${id}"]`);
}

async function openSettings(page: Page): Promise<Locator> {
  await page.getByRole("button", { name: /^Room settings/ }).click();
  const dialog = page.getByRole("dialog", { name: "Room settings" });
  await expect(dialog).toBeVisible();
  return dialog;
}

/** Closes a dialog with its X (Escape in a search field only clears the field). */
async function closeDialog(_page: Page, dialog: Locator): Promise<void> {
  await dialog.getByRole("button", { name: "Close", exact: true }).click();
  await expect(dialog).toBeHidden();
}

test.describe("moderation (issue 14)", () => {
  test("owner appoints a moderator, who removes a message, sets the topic, renames, and resolves a report", async ({ createUser }) => {
    test.setTimeout(180_000);
    await createUser("first");
    const owner = await createUser("owner");
    const mod = await createUser("mod");
    const member = await createUser("member");
    const everyone = [owner, mod, member];
    const name = uniqueName("crew");
    const roomId = await createRoom(owner.page, name);
    await join(mod.page, name);
    await join(member.page, name);

    await test.step("the owner makes a moderator; everyone sees the line, the moderator gets the settings", async () => {
      await expect(mod.page.getByRole("button", { name: /^Room settings/ })).toHaveCount(0);
      await expect(memberRow(owner.page, owner.nickname).getByTestId("role-badge")).toHaveText("Owner");
      await memberAction(owner.page, mod.nickname, "Make moderator");
      for (const u of everyone) await expect(systemLine(u.page, `${owner.nickname} made ${mod.nickname} a moderator`)).toHaveCount(1);
      await expect(memberRow(owner.page, mod.nickname).getByTestId("role-badge")).toHaveText("Moderator");
      await expect(memberRow(member.page, mod.nickname).getByTestId("role-badge")).toHaveText("Moderator");
      await expect(mod.page.getByRole("button", { name: /^Room settings/ })).toBeVisible();
      // A member sees no moderation actions, only Mute.
      await memberRow(member.page, owner.nickname).getByRole("button", { name: `Actions for ${owner.nickname}` }).click();
      const menu = member.page.getByRole("dialog", { name: `Actions for ${owner.nickname}` });
      await expect(menu.getByRole("button")).toHaveText(["Mute"]);
      await member.page.keyboard.press("Escape");
      await expect(menu).toBeHidden();
    });

    await test.step("the moderator deletes the member's message: everyone sees it removed by a moderator", async () => {
      const body = `buy cheap watches ${uniqueName("spam")}`;
      await sendMessage(member.page, body);
      const row = messageRows(mod.page, body);
      await expect(row).toHaveAttribute("data-status", "sent");
      const id = (await row.getAttribute("data-message-id"))!;
      await messageAction(row, "Delete");
      const confirm = mod.page.getByRole("dialog", { name: `Delete ${member.nickname}'s message?` });
      await confirm.getByRole("button", { name: "Delete" }).click();
      for (const u of everyone) await expect(rowById(u.page, id).getByTestId("message-deleted")).toHaveText("Removed by a moderator");
    });

    await test.step("the moderator sets the topic, then renames the room: system lines for all", async () => {
      const topic = "Release on Friday — freeze at 17:00";
      let settings = await openSettings(mod.page);
      await settings.getByLabel("Topic").fill(topic);
      await settings.getByRole("button", { name: "Save" }).click();
      await expect(settings.getByText("Saved.")).toBeVisible();
      await closeDialog(mod.page, settings);
      for (const u of everyone) {
        await expect(systemLine(u.page, `${mod.nickname} set the topic: ${topic}`)).toHaveCount(1);
        await expect(u.page.getByTestId("room-topic")).toHaveText(topic);
      }
      const renamed = uniqueName("crew-renamed");
      settings = await openSettings(mod.page);
      await settings.getByLabel("Room name").fill(renamed);
      await settings.getByRole("button", { name: "Save" }).click();
      await expect(settings.getByText("Saved.")).toBeVisible();
      await closeDialog(mod.page, settings);
      for (const u of everyone) {
        await expect(systemLine(u.page, `${mod.nickname} renamed the room from #${name} to #${renamed}`)).toHaveCount(1);
        await expect(u.page.getByTestId("room-title")).toHaveText(renamed);
        await expect(roomItem(u.page, roomId)).toContainText(renamed);
      }
    });

    await test.step("the member reports a message; the moderator sees it in Reports and resolves it", async () => {
      const body = `you are all idiots ${uniqueName("rude")}`;
      await sendMessage(owner.page, body);
      const row = messageRows(member.page, body);
      await expect(row).toHaveAttribute("data-status", "sent");
      await messageAction(row, /^Report/);
      const dialog = member.page.getByRole("dialog", { name: "Report message" });
      await dialog.getByLabel("Reason (optional)").fill("insults");
      await dialog.getByRole("button", { name: "Report", exact: true }).click();
      await expect(dialog).toBeHidden();
      await expect(member.page.getByTestId("toast")).toHaveText("Thanks — the moderators were told.");

      // Live: the moderator's gear shows the open report, and the dialog opens on it.
      await expect(mod.page.getByTestId("reports-badge")).toHaveText("1");
      const settings = await openSettings(mod.page);
      await expect(settings.getByRole("tab", { name: /Reports/ })).toHaveAttribute("aria-selected", "true");
      const report = settings.getByTestId("report");
      await expect(report).toHaveCount(1);
      await expect(report).toContainText(body);
      await expect(report).toContainText(`Reported by ${member.nickname}`);
      await expect(report).toContainText("Reason: insults");
      await report.getByRole("button", { name: "Resolve" }).click();
      await expect(settings.getByTestId("report")).toHaveCount(0);
      await expect(settings.getByText("No reports.")).toBeVisible();
      await expect(mod.page.getByTestId("reports-badge")).toHaveCount(0);
      await settings.getByRole("button", { name: "Resolved" }).click();
      await expect(settings.getByTestId("report")).toContainText(`Resolved by ${mod.nickname}`);
      // The moderation log has it all.
      await settings.getByRole("tab", { name: "Moderation log" }).click();
      await expect(settings.getByTestId("audit-entry").first()).toBeVisible();
      await expect(settings.getByTestId("audit-entry").filter({ hasText: `${mod.nickname} resolved a report` })).toHaveCount(1);
      await closeDialog(mod.page, settings);
    });
  });

  test("a ban takes the room from both of the member's tabs at once; no way back until unbanned", async ({ createUser }) => {
    test.setTimeout(180_000);
    await createUser("first");
    const owner = await createUser("owner");
    const mod = await createUser("mod");
    const member = await createUser("member");
    const name = uniqueName("den");
    const roomId = await createRoom(owner.page, name);
    await join(mod.page, name);
    await join(member.page, name);
    await memberAction(owner.page, mod.nickname, "Make moderator");
    await expect(mod.page.getByRole("button", { name: /^Room settings/ })).toBeVisible();
    const memberTab2 = await member.newTab();
    await openRoom(memberTab2, roomId);

    await test.step("the moderator bans the member (with a reason)", async () => {
      await memberAction(mod.page, member.nickname, "Ban…");
      const dialog = mod.page.getByRole("dialog", { name: `Ban ${member.nickname} from #${name}` });
      await dialog.getByLabel("Reason (optional)").fill("spam");
      await dialog.getByRole("button", { name: "Ban", exact: true }).click();
      await expect(dialog).toBeHidden();
      for (const tab of [member.page, memberTab2]) {
        await expect(roomItem(tab, roomId)).toHaveCount(0);
        await expect(tab.getByTestId("removal-notice")).toHaveText(`You were banned from #${name}`);
        await expect(tab.getByTestId("room-title")).toHaveText("general");
      }
      for (const page of [owner.page, mod.page]) {
        await expect(systemLine(page, `${mod.nickname} banned ${member.nickname} (spam)`)).toHaveCount(1);
        await expect(memberRow(page, member.nickname)).toHaveCount(0);
      }
    });

    await test.step("the banned member cannot rejoin, and is told why", async () => {
      const browse = await tryJoin(member.page, name);
      await expect(browse.getByRole("alert")).toHaveText("You are banned from this room.");
      await closeDialog(member.page, browse);
      await expect(roomItem(member.page, roomId)).toHaveCount(0);
    });

    await test.step("the owner unbans; the member joins again", async () => {
      const settings = await openSettings(owner.page);
      await settings.getByRole("tab", { name: "Banned users" }).click();
      const ban = settings.getByTestId("ban");
      await expect(ban).toHaveCount(1);
      await expect(ban).toContainText(`Banned by ${mod.nickname}`);
      await expect(ban).toContainText("Reason: spam");
      await ban.getByRole("button", { name: `Unban ${member.nickname}` }).click();
      await expect(settings.getByText("Nobody is banned.")).toBeVisible();
      await closeDialog(owner.page, settings);
      await expect(systemLine(owner.page, `${owner.nickname} unbanned ${member.nickname}`)).toHaveCount(1);
      await join(member.page, name);
      await expect(roomItem(memberTab2, roomId)).toBeVisible();
    });
  });

  test("invite-only keeps a room closed until a moderator invites; a mute hides messages for the muter only", async ({ createUser }) => {
    test.setTimeout(180_000);
    await createUser("first");
    const owner = await createUser("owner");
    const member = await createUser("member");
    const carol = await createUser("carol");
    const name = uniqueName("club");
    const roomId = await createRoom(owner.page, name);
    await join(member.page, name);

    await test.step("the owner makes the room invite-only; an outsider can no longer find or join it", async () => {
      const settings = await openSettings(owner.page);
      await settings.getByLabel("Invite-only").check();
      await settings.getByRole("button", { name: "Save" }).click();
      await expect(settings.getByText("Saved.")).toBeVisible();
      await closeDialog(owner.page, settings);
      for (const page of [owner.page, member.page]) await expect(systemLine(page, `${owner.nickname} made the room invite-only`)).toHaveCount(1);
      await carol.page.getByRole("button", { name: "Browse rooms" }).click();
      const browse = carol.page.getByRole("dialog", { name: "Browse rooms" });
      await browse.getByRole("searchbox").fill(name);
      await expect(browse.getByText("No rooms match.")).toBeVisible();
      await closeDialog(carol.page, browse);
    });

    await test.step("the owner invites her: the room appears for her", async () => {
      const settings = await openSettings(owner.page);
      await settings.getByRole("tab", { name: "Invite people" }).click();
      await settings.getByRole("searchbox").fill(carol.nickname);
      await settings.getByRole("button", { name: `Invite ${carol.nickname}` }).click();
      await expect(owner.page.getByTestId("toast").filter({ hasText: `${carol.nickname} was added to the room.` })).toBeVisible();
      await closeDialog(owner.page, settings);
      await expect(roomItem(carol.page, roomId)).toBeVisible();
      await openRoom(carol.page, roomId);
      await expect(systemLine(carol.page, `${owner.nickname} added ${carol.nickname}`)).toHaveCount(1);
    });

    await test.step("Carol mutes the member: his messages fold for her only, and she can still look", async () => {
      await memberAction(carol.page, member.nickname, "Mute");
      await expect(memberRow(carol.page, member.nickname)).toContainText("Muted");
      const body = `anyone want pizza ${uniqueName("m")}`;
      await sendMessage(member.page, body);
      await expect(messageRows(owner.page, body)).toHaveAttribute("data-status", "sent");
      const folded = carol.page.getByTestId("muted-message");
      await expect(folded).toHaveCount(1);
      await expect(folded).toContainText("Message from a muted user");
      await expect(messageRows(carol.page, body)).toHaveCount(0);
      await folded.getByRole("button", { name: "Show" }).click();
      await expect(messageRows(carol.page, body)).toHaveCount(1);
      // Unmuted, his messages are back for good.
      await memberAction(carol.page, member.nickname, "Unmute");
      await expect(carol.page.getByTestId("muted-message")).toHaveCount(0);
      await expect(messageRows(carol.page, body)).toHaveCount(1);
    });
  });
});

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

async function audit(page: Page, what: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const bad = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(" ")} — ${n.failureSummary?.split("\n").slice(1).join(" ")}`).join("\n")}`);
  expect(bad, `${what}: serious or critical WCAG violations`).toEqual([]);
}

/** An owner's room with a topic, a moderator line, a removed message, a muted user and an open report. */
async function moderatedRoom(owner: ChatUser, bob: ChatUser, carol: ChatUser): Promise<string> {
  const name = uniqueName("audit");
  await createRoom(owner.page, name);
  await join(bob.page, name);
  await join(carol.page, name);
  const settings = await openSettings(owner.page);
  await settings.getByLabel("Topic").fill("Weekly planning and release notes");
  await settings.getByRole("button", { name: "Save" }).click();
  await expect(settings.getByText("Saved.")).toBeVisible();
  await closeDialog(owner.page, settings);
  await memberAction(owner.page, bob.nickname, "Make moderator");
  const rude = `this is a rude message ${uniqueName("r")}`;
  await sendMessage(carol.page, rude);
  const row = messageRows(bob.page, rude);
  await expect(row).toHaveAttribute("data-status", "sent");
  await messageAction(row, /^Report/);
  const report = bob.page.getByRole("dialog", { name: "Report message" });
  await report.getByLabel("Reason (optional)").fill("Insults another member");
  await report.getByRole("button", { name: "Report", exact: true }).click();
  await expect(report).toBeHidden();
  const spam = `cheap watches here ${uniqueName("s")}`;
  await sendMessage(carol.page, spam);
  const spamRow = messageRows(owner.page, spam);
  await expect(spamRow).toHaveAttribute("data-status", "sent");
  await messageAction(spamRow, "Delete");
  await owner.page.getByRole("dialog", { name: `Delete ${carol.nickname}'s message?` }).getByRole("button", { name: "Delete" }).click();
  await expect(owner.page.getByText("Removed by a moderator")).toBeVisible();
  await sendMessage(bob.page, "Noted, thanks all.");
  await expect(owner.page.getByTestId("reports-badge")).toHaveText("1");
  return name;
}

for (const colorScheme of ["light", "dark"] as const) {
  test(`moderation dialogs and menus pass the accessibility audit, ${colorScheme} theme`, async ({ createUser }) => {
    test.setTimeout(180_000);
    await createUser("first");
    const owner = await createUser("owner", { colorScheme, viewport: { width: 1280, height: 800 } });
    const bob = await createUser("bob", { colorScheme });
    const carol = await createUser("carol", { colorScheme });
    await moderatedRoom(owner, bob, carol);
    await memberAction(owner.page, carol.nickname, "Mute");
    await expect(owner.page.getByTestId("muted-message").first()).toBeVisible();
    await audit(owner.page, "room with system lines, a removed and a muted message");

    await memberRow(owner.page, bob.nickname).getByRole("button", { name: `Actions for ${bob.nickname}` }).click();
    await expect(owner.page.getByRole("dialog", { name: `Actions for ${bob.nickname}` })).toBeVisible();
    await audit(owner.page, "member menu");
    await owner.page.getByRole("dialog", { name: `Actions for ${bob.nickname}` }).getByRole("button", { name: "Ban…" }).click();
    const ban = owner.page.getByRole("dialog", { name: new RegExp(`^Ban ${bob.nickname}`) });
    await expect(ban).toBeVisible();
    await audit(owner.page, "ban dialog");
    await closeDialog(owner.page, ban);

    const settings = await openSettings(owner.page);
    for (const tab of ["Reports", "General", "Invite people", "Banned users", "Moderation log"]) {
      await settings.getByRole("tab", { name: new RegExp(`^${tab}`) }).click();
      await expect(settings.getByRole("tabpanel")).toBeVisible();
      await expect(settings.getByText("Loading…")).toHaveCount(0);
      await audit(owner.page, `settings: ${tab}`);
    }
    await closeDialog(owner.page, settings);
  });
}

/**
 * Pictures of the moderation screens for a person to look at (not the docs'): light and dark, a
 * laptop and a phone. Only with PARLEY_MODERATION_SHOTS set; written to test-results/moderation/.
 */
test("moderation screenshots", async ({ createUser }) => {
  test.skip(!process.env.PARLEY_MODERATION_SHOTS, "on demand");
  test.setTimeout(300_000);
  await createUser("first");
  const out = (n: string) => `test-results/moderation/${n}.png`;
  // The room is made at laptop width (the flows use the members panel beside the conversation),
  // then looked at in both widths and both themes: the layout follows the viewport and the colour
  // scheme at once.
  const owner = await createUser("owner", { viewport: { width: 1280, height: 800 } });
  const bob = await createUser("bob");
  const carol = await createUser("carol");
  await moderatedRoom(owner, bob, carol);
  const page = owner.page;
  for (const device of ["laptop", "phone"] as const) {
    await page.setViewportSize(device === "laptop" ? { width: 1280, height: 800 } : { width: 390, height: 844 });
    for (const colorScheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme });
      const tag = `${device}-${colorScheme}`;
      const panel = page.getByRole("complementary", { name: "Members" });
      // On a phone the members panel covers the conversation: closed for the room's picture.
      if (device === "phone" && (await panel.isVisible())) await panel.getByRole("button", { name: "Hide members" }).click();
      await page.screenshot({ path: out(`room-${tag}`) });
      if (!(await panel.isVisible())) await page.getByRole("button", { name: "Show members" }).click();
      await memberRow(page, carol.nickname).getByRole("button", { name: `Actions for ${carol.nickname}` }).click();
      await expect(page.getByRole("dialog", { name: `Actions for ${carol.nickname}` })).toBeVisible();
      await page.screenshot({ path: out(`members-menu-${tag}`) });
      await page.keyboard.press("Escape");
      if (device === "phone") await panel.getByRole("button", { name: "Hide members" }).click();
      const settings = await openSettings(page);
      await expect(settings.getByTestId("report")).toHaveCount(1);
      await page.screenshot({ path: out(`reports-${tag}`) });
      await settings.getByRole("tab", { name: "General" }).click();
      await page.screenshot({ path: out(`settings-${tag}`) });
      await closeDialog(page, settings);
    }
  }
});
