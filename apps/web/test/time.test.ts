import { describe, expect, it } from "vitest";
import { dayKey, formatDay, formatFullDate, formatRelative, formatTime } from "../src/lib/time.js";

const labels = { today: "Today", yesterday: "Yesterday" };
// 2025-11-23 14:05:09 UTC
const at = Date.UTC(2025, 10, 23, 14, 5, 9);

describe("time formatting", () => {
  it("formats the local clock time per locale", () => {
    expect(formatTime(at, "en-GB", "UTC")).toBe("14:05");
    expect(formatTime(at, "en-US", "UTC")).toMatch(/^2:05\sPM$/);
    expect(formatTime(at, "en-GB", "Asia/Shanghai")).toBe("22:05");
  });

  it("gives the full date for tooltips", () => {
    const full = formatFullDate(at, "en-GB", "UTC");
    expect(full).toContain("23 November 2025");
    expect(full).toContain("14:05:09");
  });

  it("keys days in the given time zone", () => {
    expect(dayKey(at, "UTC")).toBe("2025-11-23");
    // 23:30 UTC is 07:30 the next morning in Shanghai (UTC+8).
    expect(dayKey(Date.UTC(2025, 10, 23, 23, 30), "Asia/Shanghai")).toBe("2025-11-24");
  });

  it("keys days right in zones offset by quarter hours (day keys are cached per UTC quarter hour)", () => {
    // Kathmandu is UTC+05:45: local midnight of the 24th is 18:15 UTC on the 23rd.
    expect(dayKey(Date.UTC(2025, 10, 23, 18, 14, 59, 999), "Asia/Kathmandu")).toBe("2025-11-23");
    expect(dayKey(Date.UTC(2025, 10, 23, 18, 15), "Asia/Kathmandu")).toBe("2025-11-24");
    // Same quarter hour, other zone: the cache is per zone.
    expect(dayKey(Date.UTC(2025, 10, 23, 18, 15), "UTC")).toBe("2025-11-23");
    // Across a DST change (Berlin leaves summer time at 01:00 UTC on 2025-10-26).
    expect(dayKey(Date.UTC(2025, 9, 25, 22, 59), "Europe/Berlin")).toBe("2025-10-26");
    expect(dayKey(Date.UTC(2025, 9, 26, 22, 59), "Europe/Berlin")).toBe("2025-10-26");
    expect(dayKey(Date.UTC(2025, 9, 26, 23, 0), "Europe/Berlin")).toBe("2025-10-27");
  });

  it("labels today, yesterday, and older days", () => {
    const now = Date.UTC(2025, 10, 23, 18, 0);
    expect(formatDay(at, now, "en-GB", labels, "UTC")).toBe("Today");
    expect(formatDay(at - 86_400_000, now, "en-GB", labels, "UTC")).toBe("Yesterday");
    expect(formatDay(Date.UTC(2025, 10, 1, 9, 0), now, "en-GB", labels, "UTC")).toBe("1 Nov 2025");
  });

  it("follows the zone's calendar across midnight", () => {
    const now = Date.UTC(2025, 10, 24, 0, 30); // 00:30 UTC on the 24th
    expect(formatDay(Date.UTC(2025, 10, 23, 23, 50), now, "en-GB", labels, "UTC")).toBe("Yesterday");
  });
});

describe("relative times (last seen)", () => {
  const now = Date.UTC(2025, 10, 23, 14, 0);
  const ago = (ms: number) => now - ms;
  it.each([
    ["en", ago(20_000), "now"],
    ["en", ago(5 * 60_000), "5 minutes ago"],
    ["en", ago(3 * 3_600_000), "3 hours ago"],
    ["en", Date.UTC(2025, 10, 22, 23, 0), "yesterday"],
    ["en", Date.UTC(2025, 10, 20, 9, 0), "3 days ago"],
    ["en", Date.UTC(2025, 10, 1, 9, 0), "Nov 1, 2025"],
    ["zh-CN", ago(20_000), "现在"],
    ["zh-CN", ago(5 * 60_000), "5分钟前"],
    ["zh-CN", ago(3 * 3_600_000), "3小时前"],
    ["zh-CN", Date.UTC(2025, 10, 22, 23, 0), "昨天"],
    ["zh-CN", Date.UTC(2025, 10, 20, 9, 0), "3天前"],
    ["zh-CN", Date.UTC(2025, 10, 1, 9, 0), "2025年11月1日"],
  ])("%s %i -> %s", (locale, at, expected) => {
    expect(formatRelative(at, now, locale, "UTC")).toBe(expected);
  });

  it("counts calendar days: late last night is yesterday even when under 24 hours ago", () => {
    expect(formatRelative(Date.UTC(2025, 10, 22, 23, 50), Date.UTC(2025, 10, 23, 1, 10), "en", "UTC")).toBe("yesterday");
  });
});

describe("absolute times in zh-CN", () => {
  it("formats clock time, full dates and day headings the Chinese way", () => {
    expect(formatTime(at, "zh-CN", "UTC")).toBe("14:05");
    expect(formatFullDate(at, "zh-CN", "UTC")).toBe("2025年11月23日星期日 14:05:09");
    const now = Date.UTC(2025, 10, 23, 18, 0);
    expect(formatDay(Date.UTC(2025, 10, 1, 9, 0), now, "zh-CN", { today: "今天", yesterday: "昨天" }, "UTC")).toBe("2025年11月1日");
  });
});
