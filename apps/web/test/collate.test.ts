import { describe, expect, it } from "vitest";
import { compareNames, sortByName } from "../src/lib/collate.js";

const names = ["张三", "李四", "王五", "alice", "Bob", "bob", "bob10", "bob2", "Émile", "阿明"];

describe("name sorting", () => {
  it("orders Chinese names by pinyin in zh-CN, Han before Latin", () => {
    // ā-míng, lǐ sì, wáng wǔ, zhāng sān; code points would give 张 李 王 阿.
    expect(sortByName(names, (n) => n, "zh-CN")).toEqual(["阿明", "李四", "王五", "张三", "alice", "Bob", "bob", "bob2", "bob10", "Émile"]);
  });

  it("orders Latin names alphabetically in en, ignoring case and accents, numbers by value", () => {
    expect(sortByName(names, (n) => n, "en").slice(0, 6)).toEqual(["alice", "Bob", "bob", "bob2", "bob10", "Émile"]);
    // Code-point order, what `sort()` does, would put "Bob" before "alice" and "bob10" before "bob2".
    expect([...names].sort().slice(0, 3)).toEqual(["Bob", "alice", "bob"]);
  });

  it("breaks collator ties by code point, so equal-looking names keep one order", () => {
    expect(compareNames("Bob", "bob", "en")).toBeLessThan(0);
    expect(compareNames("bob", "Bob", "en")).toBeGreaterThan(0);
    expect(compareNames("bob", "bob", "en")).toBe(0);
  });
});
