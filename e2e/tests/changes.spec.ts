import { randomUUID } from "node:crypto";
import type { APIRequestContext, Locator, Page } from "@playwright/test";
import { PASSWORD, composer, expect, expectConnected, messageRows, openRoom, roomItem, sendMessage, test, uniqueName, type ChatUser } from "../fixtures/chat.js";
import { connectSeedClient, type SeedClient } from "../fixtures/seed-room.js";

/**
 * Messages that change (issue 11, ADR 0009): edits, deletes, reactions, replies, formatting and
 * mention completion, seen by two people, one of them in two tabs. Every change made in one page
 * must show in every page; a conflicting edit must end with every page on the stored winner.
 *
 * Each test gets a fresh room (shared #general holds other tests' messages), created and joined
 * through the protocol before the browsers sign in, so the room is in every sidebar from the start.
 */

const clients: SeedClient[] = [];
test.afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

type CreateUser = (prefix: string, options?: { nickname?: string }) => Promise<ChatUser>;

interface Scene {
  roomId: string;
  alice: ChatUser;
  /** Alice's second tab (same browser, same session). */
  aliceTab: Page;
  bob: ChatUser;
  /** All three pages: Alice's two tabs and Bob's. */
  pages: Page[];
  /** Protocol clients signed in as Alice and as Bob. */
  aliceClient: SeedClient;
  bobClient: SeedClient;
}

async function setUp(
  request: APIRequestContext,
  baseURL: string,
  createUser: CreateUser,
  opts: { secondAliceTab?: boolean; alsoMembers?: (bobNickname: string) => string[] } = {},
): Promise<Scene> {
  const aliceName = uniqueName("alice");
  const bobName = uniqueName("bob");
  const aliceClient = await connectSeedClient(request, baseURL, { nickname: aliceName, password: PASSWORD });
  clients.push(aliceClient);
  const created = await aliceClient.ask("room:create", { name: uniqueName("changes") });
  expect(created.ok).toBe(true);
  const roomId = (created.data as { id: string }).id;
  const bobClient = await connectSeedClient(request, baseURL, { nickname: bobName, password: PASSWORD });
  clients.push(bobClient);
  expect((await bobClient.ask("room:join", { roomId })).ok).toBe(true);
  for (const nickname of opts.alsoMembers?.(bobName) ?? []) {
    const c = await connectSeedClient(request, baseURL, { nickname, password: PASSWORD });
    expect((await c.ask("room:join", { roomId })).ok).toBe(true);
    c.close();
  }

  const alice = await createUser("alice", { nickname: aliceName });
  const aliceTab = opts.secondAliceTab === false ? alice.page : await alice.newTab();
  const bob = await createUser("bob", { nickname: bobName });
  const pages = opts.secondAliceTab === false ? [alice.page, bob.page] : [alice.page, aliceTab, bob.page];
  for (const page of pages) await openRoom(page, roomId);
  return { roomId, alice, aliceTab, bob, pages, aliceClient, bobClient };
}

/** The row of one message by id (its body changes, so rows cannot be found by text). */
function rowById(page: Page, messageId: string): Locator {
  return page.locator(`[data-testid="message"][data-message-id="${messageId}"]`);
}

/** Waits until `body` is stored (sent) in `page` and returns its message id. */
async function sentId(page: Page, body: string): Promise<string> {
  const row = messageRows(page, body);
  await expect(row).toHaveAttribute("data-status", "sent");
  const id = await row.getAttribute("data-message-id");
  expect(id).toBeTruthy();
  return id!;
}

/** One of the row's action bar buttons (the bar shows on hover). */
async function action(row: Locator, name: "Add reaction" | "Reply" | "Edit" | "Delete"): Promise<void> {
  await row.hover();
  await row.getByTestId("message-actions").getByRole("button", { name, exact: true }).click();
}

function composerForm(page: Page): Locator {
  return page.locator("form.composer");
}

test.describe("messages that change (issue 11)", () => {
  test("an edit shows in every tab with (edited); ↑ edits my last message, Esc cancels, Enter saves", async ({ createUser, request, baseURL }) => {
    const { alice, pages } = await setUp(request, baseURL!, createUser);
    const page = alice.page;
    const first = `first ${uniqueName("m")}`;
    const second = `second ${uniqueName("m")}`;
    await sendMessage(page, first);
    await sendMessage(page, second);
    const firstId = await sentId(page, first);
    const secondId = await sentId(page, second);
    for (const p of pages) await expect(rowById(p, secondId).locator(".message-body")).toHaveText(second);

    // The pencil: the composer switches to editing, with the body in it and the keyboard there.
    await action(rowById(page, firstId), "Edit");
    await expect(composerForm(page)).toHaveAttribute("data-mode", "edit");
    await expect(page.getByTestId("composer-editing")).toBeVisible();
    await expect(composer(page)).toHaveValue(first);
    await expect(composer(page)).toBeFocused();
    const edited = `${first} (fixed a typo)`;
    await composer(page).fill(edited);
    await composer(page).press("Enter");
    await expect(composerForm(page)).toHaveAttribute("data-mode", "send");
    await expect(composer(page)).toHaveValue("");
    for (const p of pages) {
      const row = rowById(p, firstId);
      await expect(row.locator(".message-body")).toHaveText(edited);
      await expect(row.locator(".edited-mark")).toHaveText("(edited)");
      await expect(row.getByTestId("change-status")).toHaveCount(0);
      // Editing is not sending: still one row, in its place.
      await expect(p.getByTestId("message").filter({ hasText: edited })).toHaveCount(1);
    }

    // ↑ in the empty box edits my last message; Esc leaves it as it was.
    await composer(page).press("ArrowUp");
    await expect(composerForm(page)).toHaveAttribute("data-mode", "edit");
    await expect(composer(page)).toHaveValue(second);
    await composer(page).fill("this text must never be saved");
    await composer(page).press("Escape");
    await expect(composerForm(page)).toHaveAttribute("data-mode", "send");
    await expect(page.getByTestId("composer-editing")).toHaveCount(0);
    await expect(composer(page)).toHaveValue("");

    // ↑ again, and this time Enter saves.
    await composer(page).press("ArrowUp");
    await expect(composer(page)).toHaveValue(second);
    const edited2 = `${second}, edited with the arrow key`;
    await composer(page).fill(edited2);
    await composer(page).press("Enter");
    await expect(composerForm(page)).toHaveAttribute("data-mode", "send");
    for (const p of pages) {
      const row = rowById(p, secondId);
      await expect(row.locator(".message-body")).toHaveText(edited2);
      await expect(row.locator(".edited-mark")).toHaveText("(edited)");
    }
    // The cancelled text never reached anyone.
    for (const p of pages) await expect(p.getByText("this text must never be saved")).toHaveCount(0);
  });

  test("a delete asks first, then shows 'Message deleted' in place everywhere and lowers the unread count", async ({ createUser, request, baseURL }) => {
    const { alice, aliceTab, bob, roomId } = await setUp(request, baseURL!, createUser);
    // Bob looks at another room: the new messages here are unread for him.
    await openRoom(bob.page, "general");
    const badge = roomItem(bob.page, roomId).getByTestId("unread-badge");
    await expect(badge).toHaveCount(0);

    const keep = `keep ${uniqueName("m")}`;
    const doomed = `doomed ${uniqueName("m")}`;
    await sendMessage(alice.page, keep);
    await sendMessage(alice.page, doomed);
    const keepId = await sentId(alice.page, keep);
    const doomedId = await sentId(alice.page, doomed);
    await expect(badge).toHaveText("2");
    const doomedSeq = await rowById(alice.page, doomedId).getAttribute("data-seq");

    // Cancel first: nothing happens.
    await action(rowById(alice.page, doomedId), "Delete");
    let dialog = alice.page.getByRole("dialog", { name: "Delete message?" });
    await expect(dialog).toBeVisible();
    await expect(dialog.locator(".delete-preview")).toHaveText(doomed);
    await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toHaveCount(0);
    await expect(rowById(alice.page, doomedId).locator(".message-body")).toHaveText(doomed);

    // Now for real.
    await action(rowById(alice.page, doomedId), "Delete");
    dialog = alice.page.getByRole("dialog", { name: "Delete message?" });
    await dialog.getByTestId("confirm-delete").click();
    await expect(dialog).toHaveCount(0);
    for (const p of [alice.page, aliceTab]) {
      const row = rowById(p, doomedId);
      await expect(row.getByTestId("message-deleted")).toHaveText("Message deleted");
      await expect(row.locator(".message-body")).toHaveCount(0);
      await expect(row.getByTestId("message-actions")).toHaveCount(0);
      // In place: same seq, still right after the message before it.
      await expect(row).toHaveAttribute("data-seq", doomedSeq!);
      await expect(rowById(p, keepId).locator(".message-body")).toHaveText(keep);
      await expect(p.getByText(doomed)).toHaveCount(0);
    }
    // Bob had two unread messages; one of them is gone.
    await expect(badge).toHaveText("1");

    // Bob opens the room: the deleted message is there as deleted, in its place.
    await openRoom(bob.page, roomId);
    await expect(rowById(bob.page, doomedId).getByTestId("message-deleted")).toHaveText("Message deleted");
    await expect(rowById(bob.page, doomedId)).toHaveAttribute("data-seq", doomedSeq!);
    await expect(bob.page.getByText(doomed)).toHaveCount(0);
    await expect(rowById(bob.page, keepId).locator(".message-body")).toHaveText(keep);

    // A delete while Bob watches reaches him live, and Alice's other tab.
    await action(rowById(aliceTab, keepId), "Delete");
    await aliceTab.getByTestId("confirm-delete").click();
    for (const p of [alice.page, aliceTab, bob.page]) {
      await expect(rowById(p, keepId).getByTestId("message-deleted")).toHaveText("Message deleted");
      await expect(p.getByText(keep)).toHaveCount(0);
    }
    await expect(roomItem(bob.page, roomId).getByTestId("unread-badge")).toHaveCount(0);
  });

  test("a reaction shows in every tab, pressed only for who reacted; a second person counts, toggling off counts down", async ({ createUser, request, baseURL }) => {
    const { alice, aliceTab, bob } = await setUp(request, baseURL!, createUser);
    const body = `react to me ${uniqueName("m")}`;
    await sendMessage(bob.page, body);
    const id = await sentId(bob.page, body);
    const chip = (p: Page) => rowById(p, id).locator('[data-testid="reaction"][data-emoji="👍"]');
    const alicePages = [alice.page, aliceTab];
    const all = [...alicePages, bob.page];

    // Alice: the action bar's quick reactions.
    await action(rowById(alice.page, id), "Add reaction");
    await alice.page.getByRole("group", { name: "Quick reactions" }).getByRole("button", { name: "👍" }).click();
    for (const p of all) {
      await expect(chip(p)).toHaveCount(1);
      await expect(chip(p).locator(".reaction-count")).toHaveText("1");
    }
    for (const p of alicePages) {
      await expect(chip(p)).toHaveAttribute("aria-pressed", "true");
      await expect(chip(p)).toHaveAttribute("title", "you reacted with 👍");
    }
    await expect(chip(bob.page)).toHaveAttribute("aria-pressed", "false");
    await expect(chip(bob.page)).toHaveAttribute("title", `${alice.nickname} reacted with 👍`);

    // Bob clicks the chip: two.
    await chip(bob.page).click();
    for (const p of all) {
      await expect(chip(p).locator(".reaction-count")).toHaveText("2");
      await expect(chip(p)).toHaveAttribute("aria-pressed", "true");
    }
    for (const p of alicePages) await expect(chip(p)).toHaveAttribute("title", `you and ${bob.nickname} reacted with 👍`);
    await expect(chip(bob.page)).toHaveAttribute("title", `you and ${alice.nickname} reacted with 👍`);

    // Alice takes hers back from her other tab: one, Bob's.
    await chip(aliceTab).click();
    for (const p of all) await expect(chip(p).locator(".reaction-count")).toHaveText("1");
    for (const p of alicePages) {
      await expect(chip(p)).toHaveAttribute("aria-pressed", "false");
      await expect(chip(p)).toHaveAttribute("title", `${bob.nickname} reacted with 👍`);
    }
    await expect(chip(bob.page)).toHaveAttribute("aria-pressed", "true");
    await expect(chip(bob.page)).toHaveAttribute("title", "you reacted with 👍");
    // Still one chip (no second chip for the same emoji anywhere).
    for (const p of all) await expect(rowById(p, id).getByTestId("reaction")).toHaveCount(1);
  });

  test("a reply quotes its original everywhere; the quote jumps to an original 2,000 messages back, and back to the latest", async ({ createUser, request, baseURL }) => {
    const { alice, aliceTab, bob, pages, roomId, bobClient } = await setUp(request, baseURL!, createUser);
    const original = `What time is the release? ${uniqueName("q")}`;
    await sendMessage(bob.page, original);
    const originalId = await sentId(bob.page, original);

    await action(rowById(alice.page, originalId), "Reply");
    await expect(composerForm(alice.page)).toHaveAttribute("data-mode", "reply");
    const quote = alice.page.getByTestId("composer-reply");
    await expect(quote).toContainText(`Replying to ${bob.nickname}`);
    await expect(quote.locator(".composer-reply-excerpt")).toHaveText(original);
    await expect(composer(alice.page)).toBeFocused();
    const answer = `At five. ${uniqueName("a")}`;
    await sendMessage(alice.page, answer);
    await expect(quote).toHaveCount(0);
    await expect(composerForm(alice.page)).toHaveAttribute("data-mode", "send");
    for (const p of pages) {
      const replyQuote = messageRows(p, answer).getByTestId("reply-quote");
      await expect(replyQuote.locator(".reply-quote-author")).toHaveText(bob.nickname);
      await expect(replyQuote.locator(".reply-quote-text")).toHaveText(original);
      await expect(messageRows(p, answer)).toHaveAttribute("data-status", "sent");
    }

    // 2,000 messages later (everyone looking elsewhere), Bob replies to the same original.
    for (const p of pages) await openRoom(p, "general");
    await bobClient.send(roomId, Array.from({ length: 2_000 }, (_, i) => `filler ${i + 1}`));
    const late = `Following up on this. ${uniqueName("f")}`;
    const sent = await bobClient.ask("message:send", { roomId, clientId: randomUUID(), body: late, replyToId: originalId });
    expect(sent.ok).toBe(true);

    for (const page of [alice.page, bob.page]) {
      await openRoom(page, roomId);
      const lateRow = messageRows(page, late);
      await expect(lateRow).toBeInViewport();
      // The original is far outside the loaded window.
      await expect(rowById(page, originalId)).toHaveCount(0);
      await expect(lateRow.getByTestId("reply-quote").locator(".reply-quote-author")).toHaveText(bob.nickname);
      await lateRow.getByTestId("reply-quote").click();
      const target = rowById(page, originalId);
      await expect(target).toBeInViewport();
      await expect(target).toHaveClass(/\bhighlighted\b/);
      await expect(target.locator(".message-body")).toHaveText(original);
      // And back.
      const jump = page.getByRole("button", { name: "Jump to latest" });
      await jump.click();
      await expect(lateRow).toBeInViewport();
      await expect(jump).toHaveCount(0);
      await expect(page.getByTestId("message-list")).toHaveAttribute("data-at-bottom", "true");
    }
    // Alice's other tab, which was elsewhere all along, shows the late reply with its quote too.
    await openRoom(aliceTab, roomId);
    await expect(messageRows(aliceTab, late).getByTestId("reply-quote").locator(".reply-quote-text")).toHaveText(original);
  });

  test("Markdown renders as formatting elements, links open safely elsewhere, a mention in bold is still a mention", async ({ createUser, request, baseURL }) => {
    const { alice, aliceTab, bob } = await setUp(request, baseURL!, createUser);
    // Bob has spoken, so everyone knows his nickname as a mention.
    await sendMessage(bob.page, "hello");
    const tag = uniqueName("fmt");
    const body = [
      `**bold @${bob.nickname}** _italic_ ~~strike~~ \`inline code\` see https://example.com/docs?q=${tag}`,
      "",
      "```ts",
      "const answer: number = 42;",
      "```",
      "",
      "> a quoted line",
      "",
      "- first item",
      "- second item",
    ].join("\n");
    await composer(alice.page).fill(body);
    await composer(alice.page).press("Enter");
    await expect(composer(alice.page)).toHaveValue("");

    for (const p of [alice.page, aliceTab, bob.page]) {
      const row = p.getByTestId("message").filter({ has: p.locator(`a[href="https://example.com/docs?q=${tag}"]`) });
      await expect(row).toHaveAttribute("data-status", "sent");
      const md = row.locator(".message-body");
      await expect(md.locator("strong")).toHaveText(`bold @${bob.nickname}`);
      await expect(md.locator("em")).toHaveText("italic");
      await expect(md.locator("del")).toHaveText("strike");
      await expect(md.locator("p code")).toHaveText("inline code");
      await expect(md.locator("pre code")).toHaveText("const answer: number = 42;\n");
      await expect(md.locator("pre code")).toHaveClass(/language-ts/);
      await expect(md.locator(".md-code-lang")).toHaveText("ts");
      await expect(md.locator("blockquote")).toHaveText("a quoted line");
      await expect(md.locator("ul > li")).toHaveText(["first item", "second item"]);
      const link = md.locator("a");
      await expect(link).toHaveCount(1);
      await expect(link).toHaveText(`https://example.com/docs?q=${tag}`);
      await expect(link).toHaveAttribute("target", "_blank");
      await expect(link).toHaveAttribute("rel", /(?=.*\bnoopener\b)(?=.*\bnoreferrer\b)/);
      // The mention inside the bold text is highlighted; for Bob, as a mention of him.
      const mention = md.locator("strong .mention");
      await expect(mention).toHaveText(`@${bob.nickname}`);
      if (p === bob.page) await expect(mention).toHaveClass(/\bme\b/);
      else await expect(mention).not.toHaveClass(/\bme\b/);
      // No markup characters left over.
      await expect(md).not.toContainText("**");
      await expect(md).not.toContainText("```");
    }
  });

  test("@ + the first letters of a nickname offers the members; ↓ and Enter, or Tab, insert the mention", async ({ createUser, request, baseURL }) => {
    const { alice, bob } = await setUp(request, baseURL!, createUser, {
      secondAliceTab: false,
      // A second member whose nickname starts with Bob's, so there is a list to move through.
      alsoMembers: (bobName) => [`${bobName}-2`],
    });
    const bob2 = `${bob.nickname}-2`;
    const page = alice.page;
    const box = composer(page);
    const list = page.getByTestId("mention-suggestions");
    const prefix = bob.nickname.slice(0, 7);

    await box.pressSequentially(`hi @${prefix}`);
    await expect(list).toHaveAttribute("role", "listbox");
    await expect(list.getByRole("option").locator(".mention-option-name")).toHaveText([bob.nickname, bob2]);
    await expect(list.getByRole("option").first()).toHaveAttribute("aria-selected", "true");
    await box.press("ArrowDown");
    await expect(list.getByRole("option").nth(1)).toHaveAttribute("aria-selected", "true");
    await box.press("Enter");
    await expect(list).toHaveCount(0);
    // Enter picked; it did not send.
    await expect(box).toHaveValue(`hi @${bob2} `);
    await expect(box).toBeFocused();

    await box.pressSequentially(`and @${prefix}`);
    await expect(list.getByRole("option").locator(".mention-option-name")).toHaveText([bob.nickname, bob2]);
    await box.press("Tab");
    await expect(list).toHaveCount(0);
    await expect(box).toHaveValue(`hi @${bob2} and @${bob.nickname} `);
    await expect(box).toBeFocused();

    await box.press("Enter");
    // Sent as typed, the space after the completed mention included.
    const row = messageRows(bob.page, `hi @${bob2} and @${bob.nickname} `);
    await expect(row.locator(".mention.me")).toHaveText(`@${bob.nickname}`);
    await expect(row.locator(".mention")).toHaveText([`@${bob2}`, `@${bob.nickname}`]);
  });

  test("an edit made offline that loses to a newer edit shows the winner and EDIT_CONFLICT with Retry/Discard; no page diverges", async ({ createUser, request, baseURL }) => {
    const { alice, bob, roomId, aliceClient } = await setUp(request, baseURL!, createUser, { secondAliceTab: false });
    // Alice's message, sent through her protocol client (which tells us its version).
    const sent = await aliceClient.ask("message:send", { roomId, clientId: randomUUID(), body: `version one ${uniqueName("m")}` });
    expect(sent.ok).toBe(true);
    const message = sent.data as { id: string; body: string; version: number };
    for (const p of [alice.page, bob.page]) await expect(rowById(p, message.id).locator(".message-body")).toHaveText(message.body);

    // Alice's browser goes offline and she edits there: the edit waits in the outbox.
    await alice.context.setOffline(true);
    await expect(alice.page.getByTestId("connection-status")).not.toHaveAttribute("data-status", "connected");
    const mine = `my offline edit ${uniqueName("m")}`;
    await action(rowById(alice.page, message.id), "Edit");
    await composer(alice.page).fill(mine);
    await composer(alice.page).press("Enter");
    const row = rowById(alice.page, message.id);
    await expect(row.locator(".message-body")).toHaveText(mine);
    await expect(row.getByTestId("change-status")).toHaveAttribute("data-status", "sending");

    // Meanwhile Alice (elsewhere) edits the same message from the same version, and wins.
    const theirs = `the edit that got there first ${uniqueName("m")}`;
    const won = await aliceClient.ask("message:edit", { messageId: message.id, body: theirs, baseVersion: message.version });
    expect(won.ok).toBe(true);
    expect((won.data as { conflict: boolean }).conflict).toBe(false);
    await expect(rowById(bob.page, message.id).locator(".message-body")).toHaveText(theirs);

    // Back online: the queued edit is refused as a conflict, the page shows the winner.
    await alice.context.setOffline(false);
    await expectConnected(alice.page);
    await expect(row.locator(".message-body")).toHaveText(theirs);
    const status = row.getByTestId("change-status");
    await expect(status).toHaveAttribute("data-status", "failed");
    await expect(status).toHaveAttribute("data-kind", "edit");
    await expect(status).toHaveAttribute("data-error", "EDIT_CONFLICT");
    await expect(status).toContainText("Someone changed this message first");
    await expect(status.locator(`blockquote[aria-label="Your edit"]`)).toHaveText(mine);
    await expect(status.getByRole("button", { name: "Retry" })).toBeVisible();
    await expect(status.getByRole("button", { name: "Discard" })).toBeVisible();
    // Nobody saw the losing text stored.
    await expect(rowById(bob.page, message.id).locator(".message-body")).toHaveText(theirs);
    await expect(rowById(bob.page, message.id).getByTestId("change-status")).toHaveCount(0);

    // Discard: the winner stays, everywhere, also after a reload.
    await status.getByRole("button", { name: "Discard" }).click();
    await expect(row.getByTestId("change-status")).toHaveCount(0);
    await alice.page.reload();
    await expectConnected(alice.page);
    await openRoom(alice.page, roomId);
    for (const p of [alice.page, bob.page]) {
      await expect(rowById(p, message.id).locator(".message-body")).toHaveText(theirs);
      await expect(rowById(p, message.id).locator(".edited-mark")).toHaveText("(edited)");
      await expect(rowById(p, message.id).getByTestId("change-status")).toHaveCount(0);
    }
  });

  test("a fast flick mounts light rows; when the list stops they turn full, Markdown and reactions included", async ({ createUser, request, baseURL }) => {
    const { roomId, bob, aliceClient, bobClient } = await setUp(request, baseURL!, createUser, { secondAliceTab: false });
    const page = bob.page;
    // 300 messages, every tenth formatted and the first reacted to, then enough below to flick through.
    const bodies = Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? `**bold ${i + 1}** and \`code ${i + 1}\`` : `flick ${i + 1}`));
    const seqs = await aliceClient.send(roomId, bodies);
    const first = await aliceClient.ask("messages:fetch", { roomId, afterSeq: seqs[0]! - 1, limit: 1 });
    const firstId = (first.data as { messages: { id: string }[] }).messages[0]!.id;
    expect((await bobClient.ask("reaction:set", { messageId: firstId, emoji: "🎉", on: true })).ok).toBe(true);
    await expect(messageRows(page, "flick 300")).toBeInViewport();

    // Flick up by 500 px in each of 40 frames (30,000 px/s), counting the light rows in each frame.
    const seen = await page.getByTestId("message-list").evaluate(
      (list) =>
        new Promise<{ light: number }>((resolve) => {
          let frames = 0;
          const out = { light: 0 };
          const step = () => {
            out.light += list.querySelectorAll('[data-testid="message"][data-light]').length;
            if (++frames === 40 || list.scrollTop === 0) return resolve(out);
            list.scrollTop -= 500;
            requestAnimationFrame(step);
          };
          requestAnimationFrame(step);
        }),
    );
    expect(seen.light, "light rows mounted during the flick").toBeGreaterThan(0);

    // Stopped: every row turns full, with its formatting and its reaction chip.
    const list = page.getByTestId("message-list");
    await expect(list.locator("[data-light]")).toHaveCount(0);
    await list.evaluate((el) => (el.scrollTop = 0));
    await expect(list.locator("[data-light]")).toHaveCount(0);
    const firstRow = messageRows(page, "bold 1 and code 1");
    await expect(firstRow.locator(".message-body strong")).toHaveText("bold 1");
    await expect(firstRow.locator(".message-body code")).toHaveText("code 1");
    await expect(firstRow.getByRole("button", { name: /🎉/ })).toBeVisible();
  });
});
