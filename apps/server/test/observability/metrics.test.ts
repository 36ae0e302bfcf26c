import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID } from "@parley/shared";
import { startMetricsServer, type MetricsServer } from "../../src/observability/metrics-http.js";
import {
  closeAllSockets,
  connect,
  request,
  requestOk,
  signInOk,
  silentLogger,
  startServer,
  text,
  type TestServer,
} from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const TOKEN = "metrics-token-of-at-least-32-characters";

let server: TestServer | undefined;
let admin: MetricsServer | undefined;
afterEach(async () => {
  closeAllSockets();
  await admin?.close();
  await server?.stop();
  admin = undefined;
  server = undefined;
});

/** The value of one series in a Prometheus exposition, or undefined when it is not there. */
function sample(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of exposition.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? "").split(",");
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return undefined;
}

async function scrape(s: TestServer): Promise<string> {
  const res = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}

describe("/metrics on the main port", () => {
  it("does not exist without METRICS_TOKEN (404, not the SPA's index.html)", async () => {
    const staticDir = mkdtempSync(join(tmpdir(), "parley-spa-"));
    writeFileSync(join(staticDir, "index.html"), "<!doctype html><title>Parley</title>");
    server = await startServer({ app: { staticDir } });
    // The SPA answers other paths, so the 404 below is /metrics's own.
    expect(await (await fetch(`${server.url}/some/client/route`)).text()).toContain("<title>Parley</title>");
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("parley_");
    // A token sent to a server that has none configured changes nothing.
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it("answers 401 without the bearer token or with a wrong one, and the exposition with it", async () => {
    server = await startServer({ app: { metricsToken: TOKEN } });
    const missing = await fetch(`${server.url}/metrics`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: TOKEN } })).status).toBe(401);

    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    expect(body).toContain("# TYPE parley_commands_total counter");
    expect(body).toContain("# TYPE parley_command_ack_seconds histogram");
    expect(body).toContain("# TYPE parley_socket_connections gauge");
    // prom-client's default metrics, once per process: event-loop lag among them, but none whose
    // scrape walks every connection (a file descriptor or a libuv handle each).
    expect(sample(body, "nodejs_eventloop_lag_seconds")).toEqual(expect.any(Number));
    expect(sample(body, "process_max_fds")).toEqual(expect.any(Number));
    for (const costly of ["process_open_fds", "nodejs_active_handles_total", "nodejs_active_resources_total"]) {
      expect(sample(body, costly), costly).toBeUndefined();
    }
  });
});

describe("/metrics on the admin port", () => {
  it("serves only /metrics, without a token when none is configured", async () => {
    server = await startServer();
    admin = await startMetricsServer({ metrics: server.app.metrics, port: 0, host: "127.0.0.1", token: undefined, logger: silentLogger });
    const res = await fetch(`http://127.0.0.1:${admin.port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("parley_storage_seconds");
    expect((await fetch(`http://127.0.0.1:${admin.port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${admin.port}/api/auth/me`)).status).toBe(404);
  });

  it("requires the token there too when METRICS_TOKEN is set", async () => {
    server = await startServer({ app: { metricsToken: TOKEN } });
    admin = await startMetricsServer({ metrics: server.app.metrics, port: 0, host: "127.0.0.1", token: TOKEN, logger: silentLogger });
    expect((await fetch(`http://127.0.0.1:${admin.port}/metrics`)).status).toBe(401);
    const res = await fetch(`http://127.0.0.1:${admin.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
  });
});

describe("what the metrics count", () => {
  it("commands by result (ok, and the error code of a refusal), ack latency, storage latency and broadcast fan-out", async () => {
    server = await startServer({ app: { metricsToken: TOKEN } });
    const s = server;
    const alice = await connect(s.url, (await signInOk(s.url, "Alice")).cookie);
    await connect(s.url, (await signInOk(s.url, "Bob")).cookie);
    const before = await scrape(s);
    const recipientsBefore = sample(before, "parley_broadcast_recipients_sum", { event: "message:created" }) ?? 0;

    await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "hello"));
    const refused = await request(alice, "message:send", text(DEFAULT_ROOM_ID, "   "));
    expect(refused.ok).toBe(false);

    const after = await scrape(s);
    expect(sample(after, "parley_commands_total", { event: "message:send", result: "ok" })).toBe(1);
    expect(sample(after, "parley_commands_total", { event: "message:send", result: "MESSAGE_BLANK" })).toBe(1);
    expect(sample(after, "parley_command_ack_seconds_count", { event: "message:send" })).toBe(2);
    expect(sample(after, "parley_command_ack_seconds_bucket", { event: "message:send", le: "+Inf" })).toBe(2);
    // The sign-ins and the send reached the storage, each method a series of its own.
    expect(sample(after, "parley_storage_seconds_count", { method: "appendMessage" })).toBeGreaterThanOrEqual(1);
    expect(sample(after, "parley_storage_seconds_count", { method: "findUserByNickname" })).toBeGreaterThanOrEqual(2);
    expect(sample(after, "parley_storage_errors_total", { method: "appendMessage" })).toBeUndefined();
    // The accepted send went to both members' sockets: one broadcast, two deliveries.
    expect(sample(after, "parley_broadcast_recipients_sum", { event: "message:created" })).toBe(recipientsBefore + 2);
    expect(sample(after, "parley_broadcasts_total", { event: "message:created" })).toBeGreaterThanOrEqual(1);
    // Named for the lead's Redis adapter to increment; declared so that dashboards can rely on it.
    expect(after).toContain("# TYPE parley_redis_adapter_errors_total counter");
  });

  it("keeps counting broadcasts after the adapter is replaced (main.ts attaches the Redis adapter after createApp)", async () => {
    server = await startServer({ app: { metricsToken: TOKEN } });
    const s = server;
    // What `io.adapter(createAdapter(...))` does: a new adapter class, a new instance per namespace.
    const Current = s.app.io.of("/").adapter.constructor as new (...args: never[]) => object;
    class Replacement extends Current {}
    s.app.io.adapter(Replacement as unknown as Parameters<typeof s.app.io.adapter>[0]);
    expect(s.app.io.of("/").adapter).toBeInstanceOf(Replacement);

    const alice = await connect(s.url, (await signInOk(s.url, "Alice")).cookie);
    await connect(s.url, (await signInOk(s.url, "Bob")).cookie);
    const before = sample(await scrape(s), "parley_broadcast_recipients_sum", { event: "message:created" }) ?? 0;
    await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "after the swap"));
    expect(sample(await scrape(s), "parley_broadcast_recipients_sum", { event: "message:created" })).toBe(before + 2);
  });

  it("the connection gauge goes up with each socket and down when one leaves", async () => {
    server = await startServer({ app: { metricsToken: TOKEN } });
    const s = server;
    const connections = async () => sample(await scrape(s), "parley_socket_connections");
    expect(await connections()).toBe(0);
    const a = await connect(s.url, (await signInOk(s.url, "Alice")).cookie);
    const b = await connect(s.url, (await signInOk(s.url, "Bob")).cookie);
    await waitFor(async () => expect(await connections()).toBe(2));
    a.close();
    await waitFor(async () => expect(await connections()).toBe(1));
    b.close();
    await waitFor(async () => expect(await connections()).toBe(0));
  });

  it("keeps each app's counts apart (a registry per app, not prom-client's global one)", async () => {
    server = await startServer({ app: { metricsToken: TOKEN } });
    const other = await startServer({ app: { metricsToken: TOKEN } });
    try {
      const alice = await connect(server.url, (await signInOk(server.url, "Alice")).cookie);
      await requestOk(alice, "message:send", text(DEFAULT_ROOM_ID, "only on the first"));
      expect(sample(await scrape(server), "parley_commands_total", { event: "message:send", result: "ok" })).toBe(1);
      expect(sample(await scrape(other), "parley_commands_total", { event: "message:send", result: "ok" })).toBeUndefined();
    } finally {
      closeAllSockets();
      await other.stop();
    }
  });
});
