import { ERROR_CODES } from "@parley/shared";
import { describe, expect, it } from "vitest";
import { en } from "../src/i18n/en.js";
import { errorText, pickLocale, t } from "../src/i18n/index.js";
import { interpolate, translate } from "../src/i18n/translate.js";
import type { Dictionary } from "../src/i18n/types.js";

describe("interpolate", () => {
  it.each([
    ["Hello {name}", { name: "Ana" }, "Hello Ana"],
    ["{a} and {b}", { a: "A", b: "B" }, "A and B"],
    ["{n} left", { n: 0 }, "0 left"],
    ["same {x} twice {x}", { x: "1" }, "same 1 twice 1"],
    ["no params", undefined, "no params"],
    // A missing value stays visible instead of rendering "undefined".
    ["Hi {missing}", { other: "x" }, "Hi {missing}"],
  ])("%s", (template, params, expected) => {
    expect(interpolate(template, params)).toBe(expected);
  });

  it("inserts values as text, never as markup", () => {
    expect(interpolate("{name}", { name: "<b>x</b>" })).toBe("<b>x</b>");
  });
});

describe("translate", () => {
  it("picks the plural form for the count", () => {
    expect(t("rooms.memberCount", { count: 1 })).toBe("1 member");
    expect(t("rooms.memberCount", { count: 0 })).toBe("0 members");
    expect(t("rooms.memberCount", { count: 12 })).toBe("12 members");
  });

  it("falls back to English for a key missing in another dictionary", () => {
    const partial = { "app.name": "Parley (test)" } as unknown as Dictionary;
    expect(translate(partial, en, "xx", "app.name")).toBe("Parley (test)");
    expect(translate(partial, en, "xx", "chat.retry")).toBe("Retry");
  });

  it("uses `other` when a locale has no `one` form (e.g. Chinese)", () => {
    const zh = { ...en, "rooms.memberCount": { other: "{count} 位成员" } } as Dictionary;
    expect(translate(zh, en, "zh-CN", "rooms.memberCount", { count: 1 })).toBe("1 位成员");
  });

  it("has a sentence for every shared error code", () => {
    for (const code of ERROR_CODES) {
      expect(en[`error.${code}`]).toBeTypeOf("string");
      expect(errorText(code)).not.toBe(en["error.UNKNOWN"]);
    }
    expect(errorText("SOMETHING_NEW")).toBe(en["error.UNKNOWN"]);
    expect(errorText(null)).toBe(en["error.UNKNOWN"]);
  });
});

describe("pickLocale", () => {
  const supported = ["en", "zh-CN"];
  it.each([
    [["zh-CN", "en"], "zh-CN"],
    [["zh"], "zh-CN"],
    [["zh-TW"], "zh-CN"],
    [["fr-FR", "en-GB"], "en"],
    [["fr"], "en"],
    [[], "en"],
  ])("%j -> %s", (preferred, expected) => {
    expect(pickLocale(preferred, supported)).toBe(expected);
  });
});
