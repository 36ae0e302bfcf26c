import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { API } from "@parley/shared";
import { TEST_PG_URL, TEST_REDIS_URL, createTestDatabase, describeWithServices, type TestDatabase } from "./helpers/pg.js";
import { waitFor } from "./helpers/wait.js";

/**
 * The production build as production runs it: `pnpm build`, then `node apps/server/dist/main.js`
 * from the repository root, the Docker image's CMD from its WORKDIR. What tsx hid and a bundle can
 * break: the workspace packages' TypeScript, the lazily imported Redis and PostgreSQL modules, the
 * built web app found relative to the compiled file, source maps, and the exit on SIGTERM.
 */

const root = fileURLToPath(new URL("../../..", import.meta.url));
const ENTRY = "apps/server/dist/main.js";

/** A port free right now; the server binds it a moment later (PORT=0 would need its log line parsed). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}

interface Started {
  url: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

const started: Started[] = [];

/** Starts the compiled server with `env` on top of a production environment of no Redis and no STATIC_DIR. */
async function startBuilt(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !["REDIS_URL", "STATIC_DIR", "DATABASE_URL", "PUBLIC_URL"].includes(name)));
  const child = spawn(process.execPath, [ENTRY], {
    cwd: root,
    env: { ...base, NODE_ENV: "production", PORT: String(port), HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const server = { url: `http://127.0.0.1:${port}`, child, output: () => output, exited };
  started.push(server);
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`the built server exited (${child.exitCode}) before answering:\n${output}`);
      const response = await fetch(`${server.url}${API.health}`);
      expect(response.status).toBe(200);
    },
    { timeout: 30_000, interval: 100 },
  );
  return server;
}

/** SIGTERM, and the exit code; the process must be gone within the 10 s shutdown bound. */
async function terminate(server: Started): Promise<number | null> {
  server.child.kill("SIGTERM");
  return await waitFor(() => {
    if (server.child.exitCode === null && server.child.signalCode === null) throw new Error(`still running 10 s after SIGTERM:\n${server.output()}`);
    return server.exited;
  }, { timeout: 10_000, interval: 50 });
}

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "parley-build-"));
  // The whole build, server and web, as CI and the Dockerfile run it.
  await promisify(execFile)("pnpm", ["build"], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
}, 180_000);

afterEach(() => {
  // A failed assertion must not leave a server running.
  for (const server of started.splice(0)) if (server.child.exitCode === null) server.child.kill("SIGKILL");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the production build", () => {
  it("serves the health check and the built web app, and exits 0 on SIGTERM", async () => {
    const server = await startBuilt({ DATABASE_URL: `file:${join(dir, "parley.sqlite")}` });

    const health = await fetch(`${server.url}${API.health}`);
    expect(health.status).toBe(200);

    // apps/web/dist, found from the compiled file's own URL (no STATIC_DIR), and a client route.
    for (const path of ["/", "/a/client/route"]) {
      const page = await fetch(`${server.url}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain('<div id="root">');
      const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script, html).toBeDefined();
      const asset = await fetch(`${server.url}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(/javascript/);
    }

    expect(await terminate(server)).toBe(0);
  }, 60_000);

  it("names the TypeScript source in a stack trace (source maps on without a flag)", async () => {
    const run = promisify(execFile)(process.execPath, [ENTRY], { cwd: root, env: { ...process.env, PORT: "not-a-port" } });
    const failure = await run.then(
      () => null,
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain("PORT: Invalid input");
    expect(failure?.stderr).toMatch(/at loadConfig \(.*apps\/server\/src\/config\.ts:\d+:\d+\)/);
  });
});

describeWithServices(["PARLEY_TEST_PG_URL", "PARLEY_TEST_REDIS_URL"], "the production build on PostgreSQL and Redis", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(TEST_PG_URL!);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("loads the PostgreSQL storage and the Redis modules (imported lazily) and exits 0 on SIGTERM", async () => {
    // Healthy means both loaded: the health check pings the storage, and the server listens only
    // once its Redis connections are up.
    const server = await startBuilt({ DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL! });
    expect(await terminate(server)).toBe(0);
  }, 60_000);
});
