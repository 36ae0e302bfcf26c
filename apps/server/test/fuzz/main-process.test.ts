import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

/**
 * main.ts's last line of defence, on the real entry point in a child process: an unhandled
 * rejection is logged and the server keeps serving; an uncaught exception is logged and the
 * process exits 1 for its supervisor to restart. A preloaded module does the throwing on command
 * (a line on stdin), so the test waits on output, never on time.
 */

const serverDir = fileURLToPath(new URL("../..", import.meta.url));
const TRIGGER = `
import { createInterface } from "node:readline";
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "reject") Promise.reject(new Error("nobody awaited this"));
  if (line === "ping") setImmediate(() => console.log("pong"));
  if (line === "throw") setImmediate(() => { throw new Error("thrown from a callback"); });
});
`;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("main.ts: uncaught errors are never silent", () => {
  it("logs an unhandled rejection and keeps serving; logs an uncaught exception and exits 1", async () => {
    dir = mkdtempSync(join(tmpdir(), "parley-main-"));
    const trigger = join(dir, "trigger.mjs");
    writeFileSync(trigger, TRIGGER);
    const child = spawn(join(serverDir, "node_modules/.bin/tsx"), ["--import", trigger, "src/main.ts"], {
      cwd: serverDir,
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", DATABASE_URL: `file:${join(dir, "parley.sqlite")}`, STATIC_DIR: dir },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const waiters: (() => void)[] = [];
    const wake = () => waiters.splice(0).forEach((w) => w());
    child.stdout.on("data", (d: Buffer) => ((stdout += d.toString()), wake()));
    child.stderr.on("data", (d: Buffer) => ((stderr += d.toString()), wake()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => (resolve(code), wake())));
    const until = async (check: () => boolean) => {
      while (!check()) {
        if (child.exitCode !== null) throw new Error(`main.ts exited early (${child.exitCode}):\n${stdout}\n${stderr}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    try {
      await until(() => stdout.includes("listening on"));
      child.stdin.write("reject\nping\n");
      await until(() => stdout.includes("pong"));
      await until(() => stderr.includes("unhandled promise rejection (kept running)"));
      expect(stderr).toContain("nobody awaited this");

      child.stdin.write("throw\n");
      expect(await exited).toBe(1);
      expect(stderr).toContain("uncaughtException: exiting");
      expect(stderr).toContain("thrown from a callback");
    } finally {
      child.kill();
    }
  }, 60_000);
});
