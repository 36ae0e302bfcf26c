import { ERROR_CODES } from "@parley/shared";
import { afterEach, describe, expect, it, vi } from "vitest";
import { en } from "../src/i18n/en.js";
import { errorText, loadDictionary, LOCALES, pickLocale, t } from "../src/i18n/index.js";
import { interpolate, translate } from "../src/i18n/translate.js";
import type { Dictionary, Plural } from "../src/i18n/types.js";
import { zhCN } from "../src/i18n/zh-CN.js";

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

/** The `{placeholders}` of an entry, over all its plural forms (a `one` form may leave out {count}). */
function placeholdersOf(entry: string | Plural | undefined): string[] {
  if (entry === undefined) return [];
  const forms = typeof entry === "string" ? [entry] : Object.values(entry).filter((f): f is string => typeof f === "string");
  const names = new Set<string>();
  for (const form of forms) for (const m of form.matchAll(/\{(\w+)\}/g)) names.add(m[1] ?? "");
  return [...names].sort();
}

/** Every way `dict` differs from the reference: missing or extra keys, placeholders not the same. */
function dictionaryProblems(reference: Record<string, string | Plural>, dict: Record<string, string | Plural>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(reference)) {
    if (!(key in dict)) problems.push(`missing ${key}`);
    else if (placeholdersOf(reference[key]).join() !== placeholdersOf(dict[key]).join()) {
      problems.push(`${key}: {${placeholdersOf(reference[key]).join("}, {")}} vs {${placeholdersOf(dict[key]).join("}, {")}}`);
    }
  }
  for (const key of Object.keys(dict)) if (!(key in reference)) problems.push(`extra ${key}`);
  return problems;
}

/** Every locale's dictionary as the app loads it (from its own chunk, except English). */
const otherDictionaries = await Promise.all(LOCALES.filter((tag) => tag !== "en").map(async (tag) => [tag, await loadDictionary(tag)] as const));

describe("dictionaries", () => {
  it("loads every locale but English from a chunk of its own", () => {
    expect(otherDictionaries.map(([tag]) => tag)).toEqual(["zh-CN"]);
    expect(otherDictionaries[0]?.[1]).toBe(zhCN);
  });

  it.each(otherDictionaries)("%s has every key of en and the same placeholders", (_tag, dict) => {
    expect(dictionaryProblems(en, dict)).toEqual([]);
    expect(dictionaryProblems(dict, en)).toEqual([]);
  });

  it("the check fails on a missing key, an extra key and a changed placeholder", () => {
    const { "chat.retry": _dropped, ...rest } = zhCN;
    const broken = { ...rest, "rooms.memberCount": { other: "{n} 位成员" }, "chat.typo": "x" };
    expect(dictionaryProblems(en, broken)).toEqual(["rooms.memberCount: {count} vs {n}", "missing chat.retry", "extra chat.typo"]);
  });

  it("has only the plural forms Chinese uses (`other`)", () => {
    const rules = new Intl.PluralRules("zh-CN").resolvedOptions().pluralCategories;
    for (const entry of Object.values(zhCN)) {
      if (typeof entry !== "string") expect(Object.keys(entry).every((form) => rules.includes(form as Intl.LDMLPluralRule))).toBe(true);
    }
  });

  it("leaves no English sentence untranslated in zh-CN", () => {
    // Keys whose text is the same in every language: the product name, a language's own name,
    // placeholders only, and the emoji file marker.
    const same = new Set(["app.name", "language.en", "language.zh-CN", "files.percent", "notifications.dm"]);
    const untranslated = Object.keys(en).filter((key) => !same.has(key) && JSON.stringify(en[key as keyof typeof en]) === JSON.stringify(zhCN[key as keyof typeof zhCN]));
    expect(untranslated).toEqual([]);
  });

  it("translates into Chinese, plurals included", () => {
    expect(translate(zhCN, en, "zh-CN", "rooms.memberCount", { count: 1 })).toBe("1 位成员");
    expect(translate(zhCN, en, "zh-CN", "presence.typing2", { a: "张三", b: "李四" })).toBe("张三 和 李四 正在输入…");
    expect(translate(zhCN, en, "zh-CN", "composer.send")).toBe("发送");
  });
});

describe("setLocale", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.doUnmock("../src/i18n/zh-CN.js");
    vi.restoreAllMocks();
    vi.resetModules();
  });

  function fakeStorage(initial: Record<string, string> = {}) {
    const data = new Map(Object.entries(initial));
    return {
      getItem: (k: string) => data.get(k) ?? null,
      setItem: (k: string, v: string) => void data.set(k, v),
      data,
    };
  }

  it("loads the dictionary, then switches, and remembers the choice over the browser's languages", async () => {
    const storage = fakeStorage();
    vi.stubGlobal("localStorage", storage);
    vi.stubGlobal("navigator", { languages: ["en-US"] });
    vi.resetModules();
    const first = await import("../src/i18n/index.js");
    expect(first.startingLocale()).toBe("en");
    expect(first.getLocale()).toBe("en");
    const switching = first.setLocale("zh-CN", { remember: true });
    // In flight: the UI still speaks English (no half-translated screen), the switch shows the choice.
    expect(first.getLocale()).toBe("en");
    expect(first.getPendingLocale()).toBe("zh-CN");
    expect(first.t("composer.send")).toBe("Send");
    await switching;
    expect(first.getLocale()).toBe("zh-CN");
    expect(first.getPendingLocale()).toBeNull();
    expect(first.t("composer.send")).toBe("发送");
    expect(storage.data.get("parley.locale")).toBe("zh-CN");
    // Back to English at once: it is always loaded.
    void first.setLocale("en");
    expect(first.getLocale()).toBe("en");

    // The next visit: the remembered choice wins over navigator.languages.
    vi.resetModules();
    const next = await import("../src/i18n/index.js");
    expect(next.startingLocale()).toBe("zh-CN");
  });

  it("follows the browser's languages when nothing (or nonsense) is remembered", async () => {
    vi.stubGlobal("localStorage", fakeStorage({ "parley.locale": "xx-YY" }));
    vi.stubGlobal("navigator", { languages: ["zh-Hans-CN", "en"] });
    vi.resetModules();
    const mod = await import("../src/i18n/index.js");
    expect(mod.startingLocale()).toBe("zh-CN");
  });

  it("stays in English when the dictionary's chunk cannot load (offline), without throwing", async () => {
    vi.stubGlobal("localStorage", fakeStorage());
    vi.stubGlobal("navigator", { languages: ["zh-CN"] });
    vi.doMock("../src/i18n/zh-CN.js", () => {
      throw new TypeError("Failed to fetch dynamically imported module");
    });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.resetModules();
    const mod = await import("../src/i18n/index.js");
    await expect(mod.setLocale(mod.startingLocale(), { remember: true })).resolves.toBeUndefined();
    expect(mod.getLocale()).toBe("en");
    expect(mod.getPendingLocale()).toBeNull();
    expect(mod.t("composer.send")).toBe("Send");
    expect(warn).toHaveBeenCalledOnce();
  });

  it("the last choice wins over a slower earlier load", async () => {
    vi.stubGlobal("localStorage", fakeStorage());
    vi.stubGlobal("navigator", { languages: ["en"] });
    vi.resetModules();
    const mod = await import("../src/i18n/index.js");
    const chinese = mod.setLocale("zh-CN");
    await mod.setLocale("en");
    await chinese;
    expect(mod.getLocale()).toBe("en");
    expect(mod.getPendingLocale()).toBeNull();
  });
});
