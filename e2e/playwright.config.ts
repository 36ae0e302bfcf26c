import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * e2e runs against the production build: `pnpm build`, then the compiled server started with the
 * Docker image's command (`node apps/server/dist/main.js` from the repository root, NODE_ENV
 * production), so CI tests what the image runs. On a fresh SQLite file, in Debian's Chromium:
 * Playwright cannot download its own browser on this network.
 */
const port = Number(process.env.PARLEY_E2E_PORT ?? 3310);
const dbDir = mkdtempSync(join(tmpdir(), "parley-e2e-"));
export const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  // The docs' screenshots are rewritten on demand (`pnpm screenshots`), not by every test run.
  testIgnore: process.env.PARLEY_SCREENSHOTS ? [] : ["**/screenshots.spec.ts"],
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.PARLEY_CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: "pnpm build && node apps/server/dist/main.js",
    cwd: "..",
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 180_000,
    env: {
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: `file:${join(dbDir, "e2e.sqlite")}`,
      PRESENCE_GRACE_MS: "1500",
      // Every account of the run signs up from 127.0.0.1 and specs seed thousands of messages
      // through one socket: the budgets are scaled up, not switched off (the rate-limit tests and
      // `pnpm bench:abuse` check the production ones).
      RATE_LIMIT_SCALE: "1000",
      // Small enough that files.spec.ts builds a file over it in the page (the default is larger).
      FILE_MAX_BYTES: "5000000",
    },
    stdout: "ignore",
    stderr: "pipe",
  },
});
