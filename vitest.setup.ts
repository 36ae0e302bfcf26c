import { afterEach, vi } from "vitest";

// Any unexpected console.error fails the test that caused it (epic-stack's habit): errors that are
// only logged would otherwise pass unnoticed.
let errors: unknown[][] = [];
const original = console.error;
console.error = (...args: unknown[]) => {
  errors.push(args);
  original(...args);
};
afterEach(() => {
  const seen = errors;
  errors = [];
  vi.restoreAllMocks();
  if (seen.length > 0) throw new Error(`console.error was called during the test:\n${seen.map((a) => a.map(String).join(" ")).join("\n")}`);
});
