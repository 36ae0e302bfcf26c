import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { expect, it } from "vitest";
import { Server } from "socket.io";
import { attachRedisAdapter } from "../src/realtime/redis-adapter.js";
import { TEST_REDIS_URL, describeWithServices } from "./helpers/pg.js";

describeWithServices(["PARLEY_TEST_REDIS_URL"], "the Redis streams adapter", () => {
  it("closes right after attaching without an unhandled rejection (its SUBSCRIBE still pending)", async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    try {
      for (let i = 0; i < 5; i++) {
        const io = new Server(createServer());
        const handle = await attachRedisAdapter(io as never, TEST_REDIS_URL!, { key: `parley-test-${randomUUID()}` });
        await new Promise<void>((resolve) => io.close(() => resolve()));
        await handle.close();
      }
      // A rejection nobody handles is reported after the microtask queue drains: give it a turn.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(rejections).toEqual([]);
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });
});
