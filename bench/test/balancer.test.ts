import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { roundRobin } from "../src/lib/balancer.js";
import { freePort } from "../src/lib/server-process.js";
import { startProxy, type FaultProxy } from "../src/lib/proxy.js";

/**
 * The cluster test's balancer: which backend a new connection goes to. A table of event scripts
 * against the pure policy, then the proxy balancing real TCP connections over three listeners,
 * one of them down.
 */

type Step = { next: number[] } | { failed: number; at?: number } | { succeeded: number } | { at: number };

const cases: { name: string; backends: number[]; downForMs?: number; steps: Step[] }[] = [
  {
    name: "rotates over every backend, one step per connection",
    backends: [1, 2, 3],
    steps: [{ next: [1, 2, 3] }, { next: [2, 3, 1] }, { next: [3, 1, 2] }, { next: [1, 2, 3] }],
  },
  {
    name: "a failed backend goes to the end of the order and is passed over by the rotation",
    backends: [1, 2, 3],
    steps: [{ failed: 2 }, { next: [1, 3, 2] }, { next: [3, 1, 2] }, { next: [1, 3, 2] }],
  },
  {
    name: "a failed backend is tried again once its hold time is over",
    backends: [1, 2, 3],
    downForMs: 1_000,
    steps: [{ failed: 1, at: 0 }, { at: 999 }, { next: [2, 3, 1] }, { at: 1_000 }, { next: [3, 1, 2] }, { next: [1, 2, 3] }],
  },
  {
    name: "a connection that finds its pick down takes the next one, and the rotation moves past both",
    backends: [1, 2, 3],
    steps: [{ next: [1, 2, 3] }, { failed: 1 }, { next: [3, 2, 1] }],
  },
  {
    name: "a success marks a backend up at once",
    backends: [1, 2, 3],
    steps: [{ failed: 1 }, { next: [2, 3, 1] }, { succeeded: 1 }, { next: [3, 1, 2] }, { next: [1, 2, 3] }],
  },
  {
    name: "with every backend down, all are still tried, the longest down first",
    backends: [1, 2, 3],
    steps: [{ failed: 3, at: 0 }, { failed: 1, at: 10 }, { failed: 2, at: 20 }, { at: 30 }, { next: [3, 1, 2] }],
  },
  {
    name: "one backend is always the one",
    backends: [7],
    steps: [{ next: [7] }, { failed: 7 }, { next: [7] }],
  },
];

describe("roundRobin", () => {
  it.each(cases)("$name", ({ backends, downForMs, steps }) => {
    const policy = roundRobin(backends, downForMs === undefined ? {} : { downForMs });
    let now = 0;
    for (const step of steps) {
      if ("next" in step) expect(policy.next(now)).toEqual(step.next);
      else if ("failed" in step) policy.failed(step.failed, (now = step.at ?? now));
      else if ("succeeded" in step) policy.succeeded(step.succeeded);
      else now = step.at;
    }
  });

  it("needs a backend", () => {
    expect(() => roundRobin([])).toThrow(/at least one/);
  });
});

describe("FaultProxy over several upstreams", () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  let proxy: FaultProxy | null = null;
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await proxy?.close();
    proxy = null;
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  /** A listener that answers every connection with its own name, then whatever it receives. */
  const listen = async (name: string) => {
    const server = createServer((s) => {
      sockets.push(s);
      s.on("error", () => {});
      s.write(name);
      s.pipe(s);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  };
  /** Connects through the proxy and resolves with the name of the upstream that answered. */
  const whoAnswers = (port: number) =>
    new Promise<string>((resolve, reject) => {
      const s = connect({ port, host: "127.0.0.1" });
      sockets.push(s);
      s.once("data", (chunk: Buffer) => resolve(chunk.toString("latin1")));
      s.once("error", reject);
      s.once("close", () => reject(new Error("closed without an answer")));
    });

  it("spreads connections round robin and skips an upstream that refuses", async () => {
    const a = await listen("a");
    const down = await freePort(); // nothing listens there: every connect is refused
    const c = await listen("c");
    proxy = await startProxy([a, down, c]);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await whoAnswers(proxy.port));
    // The first pass finds `down` refusing and goes on to c; afterwards the rotation passes over it.
    expect(answers).toEqual(["a", "c", "a", "c", "a", "c"]);
    await vi.waitFor(() => expect(proxy!.liveByUpstream()).toEqual(new Map([[a, 3], [down, 0], [c, 3]])));
  });

  it("ends the client's connection when every upstream refuses", async () => {
    proxy = await startProxy([await freePort(), await freePort()]);
    await expect(whoAnswers(proxy.port)).rejects.toThrow(/closed without an answer/);
  });
});
