import { describe, expect, it } from "vitest";
import { DEFAULT_PASSWORD_PARAMS, hashPassword, needsRehash, verifyPassword } from "../../src/domain/password.js";

// Cheap parameters keep these fast; the format stores them, so verify reads them back.
const CHEAP = { N: 2 ** 10, r: 8, p: 1 } as const;

describe("password hashing", () => {
  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hashPassword("correct horse", CHEAP);
    expect(await verifyPassword("correct horse", stored)).toBe(true);
    expect(await verifyPassword("correct hors", stored)).toBe(false);
    expect(await verifyPassword("Correct horse", stored)).toBe(false);
  });

  it("stores the algorithm and parameters, never the password, with a fresh salt each time", async () => {
    const a = await hashPassword("secret-password", CHEAP);
    const b = await hashPassword("secret-password", CHEAP);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(a).not.toContain("secret-password");
    expect(a).not.toBe(b);
  });

  it("uses OWASP's minimum (N=2^17, r=8, p=1) when no parameters are given", { timeout: 30_000 }, async () => {
    const stored = await hashPassword("default-cost");
    expect(stored.startsWith("scrypt$131072$8$1$")).toBe(true);
    expect(await verifyPassword("default-cost", stored)).toBe(true);
  });

  it("normalises Unicode so the same password typed differently verifies", async () => {
    const composed = "caf\u00e9-password";
    const decomposed = "cafe\u0301-password";
    const stored = await hashPassword(composed, CHEAP);
    expect(await verifyPassword(decomposed, stored)).toBe(true);
  });

  it.each(["", "bcrypt$1$2$3$4$5", "scrypt$1024$8$1$salt", "not a hash"])("refuses a malformed stored hash %j", async (stored) => {
    expect(await verifyPassword("anything", stored)).toBe(false);
  });

  it("asks for a re-hash exactly when the stored parameters differ", async () => {
    const cheap = await hashPassword("pw-rehash", CHEAP);
    expect(needsRehash(cheap, CHEAP)).toBe(false);
    expect(needsRehash(cheap)).toBe(true);
    expect(needsRehash(cheap, { ...CHEAP, r: 16 })).toBe(true);
    expect(needsRehash("scrypt$131072$8$1$salt$key", DEFAULT_PASSWORD_PARAMS)).toBe(false);
    expect(needsRehash("something else")).toBe(true);
  });
});
