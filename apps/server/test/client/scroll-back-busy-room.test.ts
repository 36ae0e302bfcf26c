import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createChatClient, memoryOutbox, type ChatClient, type ChatState } from "@parley/client";
import { DEFAULT_ROOM_ID, type Message } from "@parley/shared";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import type { PageQuery } from "../../src/storage/storage.js";
import { closeAllSockets, connect, requestOk, signInOk, startServer, text, type ClientSocket, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Regression (found by the fault test's windowed clients): scrolling back in a busy room did
 * nothing. With the window full, messages arriving while an older page was on its way trimmed the
 * window's oldest end, so the page (which ends just before the old first seq) no longer touched the
 * window and was dropped; the next try raced the same way (up to 48 tries for one page).
 */

/** SQLite whose "older page" reads wait until the test lets them go. */
class HeldPagesStorage extends SqliteStorage {
  hold = false;
  private held: (() => void)[] = [];
  heldCount = 0;

  override async getMessages(roomId: string, query: PageQuery): Promise<{ messages: Message[]; hasMore: boolean; version: number }> {
    const page = await super.getMessages(roomId, query);
    if (this.hold && "beforeSeq" in query) {
      this.heldCount++;
      await new Promise<void>((resolve) => this.held.push(resolve));
    }
    return page;
  }

  release(): void {
    for (const go of this.held.splice(0)) go();
  }
}

let server: TestServer;
let storage: HeldPagesStorage;
let client: ChatClient;
let writer: ClientSocket;

beforeEach(async () => {
  server = await startServer({ openStorage: (path) => (storage = new HeldPagesStorage(path)) });
  const reader = await signInOk(server.url, "reader");
  const w = await signInOk(server.url, "writer");
  writer = await connect(server.url, w.cookie);
  for (let i = 1; i <= 120; i++) await requestOk(writer, "message:send", text(DEFAULT_ROOM_ID, `old ${i}`));
  client = createChatClient({
    url: server.url,
    outbox: memoryOutbox(),
    windowSize: 50,
    pageSize: 25,
    socketOptions: { transports: ["websocket"], extraHeaders: { cookie: reader.cookie } },
  });
  client.connect();
  client.setActiveRoom(DEFAULT_ROOM_ID);
  await waitFor(() => expect(timeline()?.loaded).toBe(true));
  // Fill the window to its size, still following the live end.
  await client.loadOlder(DEFAULT_ROOM_ID);
  await waitFor(() => expect(timeline()).toMatchObject({ following: true, ids: expect.any(Array) as unknown }));
  expect(timeline()?.ids.length).toBe(50);
});
afterEach(async () => {
  client.disconnect();
  closeAllSockets();
  await server.stop();
});

const timeline = () => (client.store.getState() as ChatState).timelines[DEFAULT_ROOM_ID];

describe("regression: scrolling back in a busy room", () => {
  it("an older page lands even when the window overflowed with live messages while it was on its way", async () => {
    const firstBefore = timeline()!.firstSeq;
    storage.hold = true;
    const loading = client.loadOlder(DEFAULT_ROOM_ID);
    await waitFor(() => expect(storage.heldCount).toBe(1));
    // Ten live messages arrive while the page is held: the full window must give way somewhere.
    const lastLive = (await Promise.all(Array.from({ length: 10 }, (_, i) => requestOk(writer, "message:send", text(DEFAULT_ROOM_ID, `live ${i}`))))).at(-1)!;
    await waitFor(() => expect(client.store.getState().rooms[DEFAULT_ROOM_ID]?.lastSeq).toBeGreaterThanOrEqual(lastLive.seq));
    storage.release();
    await loading;

    const t = timeline()!;
    // The page was merged: the window now starts a page earlier, still contiguous and full.
    expect(t.firstSeq).toBe(firstBefore - 25);
    expect(t.ids.length).toBe(50);
    expect(t.lastSeq - t.firstSeq + 1).toBe(50);
    // The newest end gave way instead, and the room knows there is more below.
    expect(t.following).toBe(false);
    expect(t.hasNewer).toBe(true);
  });
});
