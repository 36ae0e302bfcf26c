import { describe, expect, it } from "vitest";
import { skeleton } from "../../src/security/skeleton.js";
import { nameKey } from "../../src/storage/keys.js";

describe("skeleton (UTS #39)", () => {
  it.each([
    ["аdmin", "admin"], // Cyrillic а
    ["ΑDMIN", "ADMIN"], // Greek capital alpha
    ["paypa1", "paypal"],
    ["rnoderator", "moderator"],
    ["ad\u200bmin", "admin"], // a zero-width space is ignored
    ["é", "e\u0301"], // composed and decomposed
  ])("%s looks like %s", (a, b) => expect(skeleton(a)).toBe(skeleton(b)));

  it.each([
    ["admin", "admins"],
    ["bob", "rob"],
    ["张伟", "张玮"],
  ])("%s does not look like %s", (a, b) => expect(skeleton(a)).not.toBe(skeleton(b)));

  it("is idempotent", () => {
    for (const s of ["аdmin", "paypa1", "Ωmega", "ﬁle", "张伟"]) expect(skeleton(skeleton(s))).toBe(skeleton(s));
  });
});

describe("nameKey: the uniqueness key of nicknames and room names", () => {
  it.each([
    ["Admin", "admin"],
    ["АDMIN", "admin"], // Cyrillic А, any case
    ["ＡＤＭＩＮ", "admin"], // full-width
    ["ad\u200dmin", "admin"],
  ])("%s and %s share a key", (a, b) => expect(nameKey(a)).toBe(nameKey(b)));

  it("keeps different names apart", () => {
    expect(nameKey("anna")).not.toBe(nameKey("hanna"));
  });
});
