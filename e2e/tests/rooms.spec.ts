import type { Page } from "@playwright/test";
import { expect, expectConnected, messageRows, openRoom, roomItem, sendMessage, signIn, test, uniqueName, PASSWORD } from "../fixtures/chat.js";
import { seedRoom } from "../fixtures/seed-room.js";

/** The room id of the room the page has open (its sidebar entry is the current page). */
async function activeRoomId(page: Page): Promise<string> {
  const id = await page.locator('[data-testid="room-item"][aria-current="page"]').getAttribute("data-room-id");
  expect(id).toBeTruthy();
  return id!;
}

test.describe("rooms and DMs (issue 4)", () => {
  test("a DM shows with an unread badge in both of the recipient's tabs; reading it in one clears the other", async ({ createUser }) => {
    const alice = await createUser("alice");
    const aliceTab2 = await alice.newTab();
    const bob = await createUser("bob");

    // Bob finds Alice through the people search and opens the conversation.
    await bob.page.getByRole("button", { name: "New direct message" }).click();
    const dialog = bob.page.getByRole("dialog", { name: "New direct message" });
    await dialog.getByRole("searchbox").fill(alice.nickname);
    await dialog.getByRole("button", { name: `Message ${alice.nickname}` }).click();
    await expect(dialog).toBeHidden();
    await expect(bob.page.getByTestId("room-title")).toHaveText(alice.nickname);
    const dmId = await activeRoomId(bob.page);
    expect(dmId).toMatch(/^dm:/);

    // An empty DM is not shown to Alice; the first message brings it, in every tab. ("Not shown"
    // is checked after a later round trip of Alice's own: anything the server had to tell her
    // about the DM would have come before its answer.)
    const aliceMarker = `still here ${uniqueName("m")}`;
    await sendMessage(alice.page, aliceMarker);
    await expect(messageRows(alice.page, aliceMarker)).toHaveAttribute("data-status", "sent");
    await expect(roomItem(alice.page, dmId)).toHaveCount(0);
    const first = `psst ${uniqueName("dm")}`;
    await sendMessage(bob.page, first);
    await sendMessage(bob.page, "are you there?");
    for (const tab of [alice.page, aliceTab2]) {
      await expect(roomItem(tab, dmId)).toBeVisible();
      await expect(roomItem(tab, dmId).locator(".room-name")).toHaveText(bob.nickname);
      await expect(roomItem(tab, dmId).getByTestId("unread-badge")).toHaveText("2");
    }

    // Alice reads it in her first tab: the badge goes in both tabs.
    await openRoom(alice.page, dmId);
    await expect(messageRows(alice.page, first)).toHaveCount(1);
    await expect(roomItem(alice.page, dmId).getByTestId("unread-badge")).toHaveCount(0);
    await expect(roomItem(aliceTab2, dmId).getByTestId("unread-badge")).toHaveCount(0);
    // And the DM stays listed in the second tab, which is still in #general.
    await expect(aliceTab2.getByTestId("room-title")).toHaveText("general");
    await expect(roomItem(aliceTab2, dmId)).toBeVisible();
  });

  test("a new room is joined from the directory and used while #general's unread badge rises", async ({ createUser }) => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const roomName = uniqueName("plans");

    // Alice creates the room and lands in it.
    await alice.page.getByRole("button", { name: "Create room" }).click();
    const create = alice.page.getByRole("dialog", { name: "Create room" });
    await create.getByLabel("Room name").fill(roomName);
    await create.getByRole("button", { name: "Create" }).click();
    await expect(alice.page.getByTestId("room-title")).toHaveText(roomName);
    const roomId = await activeRoomId(alice.page);

    // Bob finds it in the directory and joins.
    await bob.page.getByRole("button", { name: "Browse rooms" }).click();
    const browse = bob.page.getByRole("dialog", { name: "Browse rooms" });
    await browse.getByRole("searchbox").fill(roomName);
    const listing = browse.locator(`[data-testid="directory-room"][data-room-id="${roomId}"]`);
    await expect(listing).toContainText("1 member");
    await listing.getByRole("button", { name: `Join ${roomName}` }).click();
    await expect(browse).toBeHidden();
    await expect(bob.page.getByTestId("room-title")).toHaveText(roomName);
    await expect(bob.page.locator(".member-count")).toHaveText("2 members");
    await expect(alice.page.getByTestId("system-message").filter({ hasText: `${bob.nickname} joined the room` })).toHaveCount(1);

    // They talk in the new room...
    const a1 = `agenda? ${uniqueName("m")}`;
    const b1 = `ship it ${uniqueName("m")}`;
    await sendMessage(alice.page, a1);
    await expect(messageRows(bob.page, a1)).toHaveCount(1);
    await sendMessage(bob.page, b1);
    await expect(messageRows(alice.page, b1)).toHaveCount(1);
    // ...which Carol, not a member, never sees. Checked after a round trip of hers that follows
    // them (the directory answers her after anything the server sent her before): the room is
    // listed for her to join, and nothing of it reached her.
    await carol.page.getByRole("button", { name: "Browse rooms" }).click();
    const carolBrowse = carol.page.getByRole("dialog", { name: "Browse rooms" });
    await carolBrowse.getByRole("searchbox").fill(roomName);
    await expect(carolBrowse.getByRole("button", { name: `Join ${roomName}` })).toBeVisible();
    await carolBrowse.getByRole("button", { name: "Close" }).click();
    await expect(carolBrowse).toBeHidden();
    await expect(roomItem(carol.page, roomId)).toHaveCount(0);
    await expect(messageRows(carol.page, b1)).toHaveCount(0);

    // Meanwhile #general gets busy: Carol writes twice, Bob once (from a second tab).
    const general = roomItem(alice.page, "general");
    await expect(general.getByTestId("unread-badge")).toHaveCount(0);
    await sendMessage(carol.page, `lunch? ${uniqueName("m")}`);
    await expect(general.getByTestId("unread-badge")).toHaveText("1");
    await sendMessage(carol.page, `anyone? ${uniqueName("m")}`);
    await expect(general.getByTestId("unread-badge")).toHaveText("2");
    const bobTab2 = await bob.newTab();
    await sendMessage(bobTab2, `me! ${uniqueName("m")}`);
    await expect(general.getByTestId("unread-badge")).toHaveText("3");
    // Bob has #general open in his second tab: he has read it, in every tab.
    await expect(roomItem(bob.page, "general").getByTestId("unread-badge")).toHaveCount(0);
    // The room they are in has no badge.
    await expect(roomItem(alice.page, roomId).getByTestId("unread-badge")).toHaveCount(0);

    // Going back to #general reads it.
    await openRoom(alice.page, "general");
    await expect(general.getByTestId("unread-badge")).toHaveCount(0);
  });

  test("scrolling back through thousands of messages shows every one, once, in order", async ({ page, request, baseURL }) => {
    test.setTimeout(120_000);
    const COUNT = 3000;
    const nickname = uniqueName("archivist");
    const { roomId, lastSeq } = await seedRoom(request, baseURL!, { nickname, password: PASSWORD, roomName: uniqueName("archive"), count: COUNT });
    // seq 1 is the room's "joined" line, then the seeded messages.
    expect(lastSeq).toBe(COUNT + 1);

    await page.setViewportSize({ width: 1280, height: 1000 });
    await signIn(page, nickname);
    await openRoom(page, roomId);
    await expect(messageRows(page, `seed ${COUNT}`)).toBeVisible();
    await expectConnected(page);

    // Scroll up half a screen at a time (the list is virtualised: only rows near the viewport
    // exist), recording each frame's seqs in on-screen order. The loop runs in the page and waits
    // for rendered frames, not for time; older pages load as the top comes near.
    const result = await page.getByTestId("message-list").evaluate(async (list: HTMLElement) => {
      const frame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
      const seen = new Set<number>();
      const problems: string[] = [];
      let steps = 0;
      for (;;) {
        const rows = Array.from(list.querySelectorAll<HTMLElement>("[data-seq]"))
          .map((el) => ({ seq: Number(el.dataset.seq), top: el.getBoundingClientRect().top }))
          .sort((a, b) => a.top - b.top);
        for (let i = 1; i < rows.length; i++) {
          if (rows[i]!.seq <= rows[i - 1]!.seq) problems.push(`step ${steps}: seq ${rows[i]!.seq} after ${rows[i - 1]!.seq}`);
        }
        for (const r of rows) seen.add(r.seq);
        if (seen.has(1) && list.scrollTop === 0) break;
        if (++steps > 1500) {
          problems.push(`gave up: scrollTop ${list.scrollTop} h ${list.scrollHeight} min ${Math.min(...seen)} max ${Math.max(...seen)} n ${seen.size}`);
          break;
        }
        list.scrollTop = Math.max(0, list.scrollTop - list.clientHeight / 2);
        await frame();
        await frame();
      }
      return { seen: [...seen].sort((a, b) => a - b), problems: problems.slice(0, 20), steps };
    });

    expect(result.problems).toEqual([]);
    expect(result.seen.length).toBe(lastSeq);
    expect(result.seen).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    // The top of the room is reached and says so.
    await expect(page.getByText(/^This is the beginning of #archive-/)).toBeVisible();
  });
});
