import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { createClient } from "redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Server } from "socket.io";
import { attachRedisAdapter } from "../src/realtime/redis-adapter.js";
import { TEST_REDIS_URL, describeWithServices } from "./helpers/pg.js";
import { waitFor } from "./helpers/wait.js";

describeWithServices(["PARLEY_TEST_REDIS_URL"], "the Redis streams adapter", () => {
  let redis: ReturnType<typeof createClient>;
  beforeAll(async () => {
    redis = createClient({ url: TEST_REDIS_URL! });
    await redis.connect();
  });
  afterAll(async () => {
    await redis.close();
  });

  it("closes right after attaching without an unhandled rejection (its SUBSCRIBE still pending)", async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    try {
      const names: string[] = [];
      for (let i = 0; i < 5; i++) {
        const io = new Server(createServer());
        const name = `parley-test-${randomUUID()}:adapter`;
        names.push(name);
        const handle = await attachRedisAdapter(io as never, TEST_REDIS_URL!, { key: `parley-test-${randomUUID()}`, name });
        await new Promise<void>((resolve) => io.close(() => resolve()));
        await handle.close();
      }
      // The rejection comes with the disconnect of the adapter's duplicates (they carry the name):
      // once Redis lists none of them, it has happened, and one more turn lets Node report it.
      await waitFor(async () => {
        const list = String(await redis.sendCommand(["CLIENT", "LIST"]));
        expect(names.filter((name) => list.includes(` name=${name} `))).toEqual([]);
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).toEqual([]);
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });
});
