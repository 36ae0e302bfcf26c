import { defineConfig } from "vitest/config";

// One vitest run covers every package's unit and integration tests; e2e (Playwright) and the
// fault test have their own runners.
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.{ts,tsx}", "apps/*/test/**/*.test.{ts,tsx}", "bench/test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    setupFiles: ["./vitest.setup.ts"],
  },
});
