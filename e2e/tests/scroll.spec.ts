import type { APIRequestContext, Locator, Page } from "@playwright/test";
import { PASSWORD, expect, expectConnected, messageRows, openRoom, roomItem, test, uniqueName, type ChatUser } from "../fixtures/chat.js";
import { startOwnServer, type OwnServer } from "../fixtures/own-server.js";
import { connectSeedClient, type SeedClient } from "../fixtures/seed-room.js";

/**
 * The view follows the conversation (issue 9). A reader at the bottom of a room stays at the
 * bottom, and a reader scrolled back stays on the message they were reading, through everything
 * that changes the list under them: a server restart, a cut connection with a 300-message
 * catch-up, a gap fetch (a live message revealing missed ones), and a 200-message burst.
 *
 * "Stays" is checked on every rendered frame, not just at the end: a sampler in the page records,
 * each animation frame, the distance from the bottom (and whether the list ever left "at bottom"),
 * or the on-screen position of the message being read. A jump that is corrected a frame later is
 * a flicker, and fails here.
 */

// The server is killed and connections are cut on purpose: the browser logs the failed requests.
const NETWORK_DOWN = /ERR_CONNECTION_(REFUSED|RESET|CLOSED)|ERR_SOCKET_NOT_CONNECTED|ERR_EMPTY_RESPONSE|WebSocket connection to .* failed/;

const SEEDED = 600;

interface Scene {
  server: OwnServer;
  reader: ChatUser;
  roomId: string;
  list: Locator;
  /** The other user's protocol client (reconnected after a restart). */
  writer(): Promise<SeedClient>;
  /** While true, `message:created` frames to the reader's page are dropped (a lost broadcast). */
  gap: { drop: boolean; dropped: number; fetchesSent: number };
  /**
   * Resolves once the page has the message: on screen when following; scrolled back, the list
   * renders only rows near the view, so it waits for the frame that carried it (live or in a
   * catch-up reply) and for the page to settle.
   */
  arrived(body: string): Promise<void>;
  countWritten(n: number): void;
}

const scenes: OwnServer[] = [];
test.afterEach(async () => {
  for (const s of scenes.splice(0)) await s.close();
});

async function setUp(
  request: APIRequestContext,
  createUser: (p: string, o: { baseURL: string; nickname: string }) => Promise<ChatUser>,
  /** The reader follows the bottom (else they will scroll back). */
  following: boolean,
): Promise<Scene> {
  const server = await startOwnServer();
  scenes.push(server);
  const writerName = uniqueName("writer");
  let writerClient = await connectSeedClient(request, server.directUrl, { nickname: writerName, password: PASSWORD });
  const created = await writerClient.ask("room:create", { name: uniqueName("follow") });
  const roomId = (created.data as { id: string }).id;
  await writerClient.send(roomId, Array.from({ length: SEEDED }, (_, i) => `seed ${i + 1}`));

  const readerName = uniqueName("reader");
  const readerJoin = await connectSeedClient(request, server.directUrl, { nickname: readerName, password: PASSWORD });
  expect((await readerJoin.ask("room:join", { roomId })).ok).toBe(true);
  readerJoin.close();

  const reader = await createUser("reader", { baseURL: server.url, nickname: readerName });
  const gap = { drop: false, dropped: 0, fetchesSent: 0 };
  let written = 0;
  // The page's WebSocket through Playwright, to lose broadcasts on demand; then reload so the
  // socket is opened through the route.
  await reader.page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const upstream = ws.connectToServer();
    upstream.onMessage((frame) => {
      if (gap.drop && typeof frame === "string" && frame.startsWith('42["message:created"')) {
        gap.dropped++;
        return;
      }
      ws.send(frame);
    });
    ws.onMessage((frame) => {
      if (typeof frame === "string" && frame.includes('"messages:fetch"') && frame.includes('"afterSeq"')) gap.fetchesSent++;
      upstream.send(frame);
    });
  });
  await reader.page.reload();
  await expectConnected(reader.page);
  await openRoom(reader.page, roomId);
  await expect(messageRows(reader.page, `seed ${SEEDED}`)).toBeInViewport();
  await expectConnected(reader.page);

  return {
    server,
    reader,
    roomId,
    list: reader.page.getByTestId("message-list"),
    gap,
    async arrived(body) {
      if (following) {
        await expect(messageRows(reader.page, body)).toHaveCount(1);
        return;
      }
      // Every message written since the reader scrolled up is unread: the sidebar counts it.
      await expect(roomItem(reader.page, roomId)).toHaveAccessibleName(new RegExp(`, ${written} unread messages?$`));
      await expectConnected(reader.page);
      await frames(reader.page);
    },
    countWritten(n) {
      written += n;
    },
    async writer() {
      try {
        await writerClient.ask("session:sync", {});
      } catch {
        writerClient.close();
        writerClient = await connectSeedClient(request, server.directUrl, { nickname: writerName, password: PASSWORD });
      }
      return writerClient;
    },
  };
}

const bodies = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);

/** The four events, each ending when the reader's page shows its last message once. */
async function runEvents(scene: Scene, onEach: (event: string, newest: string) => Promise<void>): Promise<void> {
  const { server, reader, roomId, gap } = scene;
  const page = reader.page;

  const write = async (messages: string[]) => {
    await (await scene.writer()).send(roomId, messages);
    scene.countWritten(messages.length);
  };

  // 1. The server is killed and started again.
  await server.restart();
  await write(["after restart"]);
  await expectConnected(page);
  await scene.arrived("after restart");
  await onEach("restart", "after restart");

  // 2. The connection is cut (a TCP reset) and held down while 300 messages are written.
  server.cutAndHold();
  await expect(page.getByTestId("connection-status")).not.toHaveAttribute("data-status", "connected");
  await write(bodies("cut", 300));
  server.resume();
  await expectConnected(page);
  await scene.arrived("cut 300");
  await onEach("catch-up of 300", "cut 300");

  // 3. Twenty broadcasts are lost; the next one reveals the gap and the client fetches it.
  const fetchesBefore = gap.fetchesSent;
  gap.drop = true;
  await write(bodies("gap", 20));
  await expect.poll(() => gap.dropped).toBe(20);
  gap.drop = false;
  await write(["gap marker"]);
  await scene.arrived("gap marker");
  await scene.arrived("gap 1");
  expect(gap.fetchesSent).toBeGreaterThan(fetchesBefore);
  await onEach("gap fetch", "gap marker");

  // 4. Another user's burst of 200.
  await write(bodies("burst", 200));
  await scene.arrived("burst 200");
  await onEach("burst of 200", "burst 200");
}

/** Resolves after the page has rendered two more frames (everything queued has painted). */
const frames = (page: Page) => page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));

test.describe("the view follows the conversation (issue 9)", () => {
  test.describe.configure({ timeout: 240_000 });

  test("a reader at the bottom stays at the bottom through a restart, a 300-message catch-up, a gap fetch and a burst", async ({ request, createUser, consoleGuard }) => {
    consoleGuard.allow(NETWORK_DOWN);
    const scene = await setUp(request, createUser, true);
    const { list, reader } = scene;
    await expect(list).toHaveAttribute("data-at-bottom", "true");

    await list.evaluate((el) => {
      const w = window as unknown as { followSampler: { frames: number; maxFromBottom: number; leftBottom: number } };
      w.followSampler = { frames: 0, maxFromBottom: 0, leftBottom: 0 };
      const tick = () => {
        const s = w.followSampler;
        s.frames++;
        s.maxFromBottom = Math.max(s.maxFromBottom, el.scrollHeight - el.scrollTop - el.clientHeight);
        if (el.dataset.atBottom !== "true") s.leftBottom++;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });

    await runEvents(scene, async (event, newest) => {
      await expect(messageRows(reader.page, newest), `after the ${event}`).toBeInViewport();
      await frames(reader.page);
      const s = await reader.page.evaluate(() => (window as unknown as { followSampler: { frames: number; maxFromBottom: number; leftBottom: number } }).followSampler);
      expect(s.leftBottom, `frames not following during the ${event}`).toBe(0);
      // At most a row's rounding: never a frame showing the list away from its end.
      expect(s.maxFromBottom, `largest distance from the bottom in any frame during the ${event}`).toBeLessThanOrEqual(2);
      expect(s.frames).toBeGreaterThan(0);
    });
    await expect(reader.page.getByRole("button", { name: "Jump to latest" })).toHaveCount(0);
  });

  test("a reader scrolled back 500 messages stays on the same message, and Jump to latest brings them down", async ({ request, createUser, consoleGuard }) => {
    consoleGuard.allow(NETWORK_DOWN);
    const scene = await setUp(request, createUser, false);
    const { list, reader } = scene;
    const page = reader.page;
    const newestSeq = Number(await messageRows(page, `seed ${SEEDED}`).getAttribute("data-seq"));
    const targetSeq = newestSeq - 500;
    const target = list.locator(`[data-seq="${targetSeq}"]`);

    // Scroll back the way a reader does, with the mouse wheel, until that message sits in the
    // middle of the list (older pages load on the way up).
    const box = (await list.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; ; i++) {
      expect(i, "wheel steps to reach the message").toBeLessThan(300);
      const where = await list.evaluate((el, seq) => {
        const row = el.querySelector(`[data-seq="${seq}"]`);
        if (!row) return "above";
        const top = row.getBoundingClientRect().top - el.getBoundingClientRect().top;
        if (top < el.clientHeight * 0.3) return "above";
        if (top > el.clientHeight * 0.6) return "below";
        return "here";
      }, targetSeq);
      if (where === "here") break;
      await page.mouse.wheel(0, where === "above" ? -400 : 150);
      await frames(page);
    }
    await expect(list).toHaveAttribute("data-at-bottom", "false");
    await expect(target).toBeInViewport();

    const topOf = () => target.evaluate((row) => row.getBoundingClientRect().top);
    const before = await topOf();
    await list.evaluate((el, seq) => {
      const w = window as unknown as { readSampler: { frames: number; missing: number; min: number; max: number } };
      w.readSampler = { frames: 0, missing: 0, min: Infinity, max: -Infinity };
      const tick = () => {
        const s = w.readSampler;
        s.frames++;
        const row = el.querySelector(`[data-seq="${seq}"]`);
        if (!row) s.missing++;
        else {
          const top = row.getBoundingClientRect().top;
          s.min = Math.min(s.min, top);
          s.max = Math.max(s.max, top);
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }, targetSeq);

    await runEvents(scene, async (event) => {
      await frames(page);
      expect(await topOf(), `the message's position after the ${event}`).toBeCloseTo(before, 0);
      const s = await page.evaluate(() => (window as unknown as { readSampler: { frames: number; missing: number; min: number; max: number } }).readSampler);
      expect(s.missing, `frames without the message during the ${event}`).toBe(0);
      expect(s.max - s.min, `how far the message moved in any frame during the ${event}`).toBeLessThanOrEqual(1);
      await expect(list).toHaveAttribute("data-at-bottom", "false");
      await expect(page.getByRole("button", { name: "Jump to latest" })).toBeVisible();
    });

    await page.getByRole("button", { name: "Jump to latest" }).click();
    await expect(messageRows(page, "burst 200")).toBeInViewport();
    await expect(list).toHaveAttribute("data-at-bottom", "true");
    await expect(page.getByRole("button", { name: "Jump to latest" })).toHaveCount(0);
  });
});
