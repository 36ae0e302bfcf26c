/**
 * Time formatting for the message list. Formatters are cached per (locale, timeZone) because
 * building an `Intl.DateTimeFormat` costs far more than using one, and a long list formats
 * hundreds of timestamps per render. `timeZone` is only passed by tests.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * `style` names the options (one fixed object per style), so the cache key is a short string
 * concatenation: this runs for every row rendered while scrolling, where `JSON.stringify` of the
 * options showed up in profiles.
 */
function formatter(style: string, locale: string, timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${style}|${locale}|${timeZone ?? ""}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, timeZone === undefined ? options : { ...options, timeZone });
    formatters.set(key, f);
  }
  return f;
}

const TIME: Intl.DateTimeFormatOptions = { hour: "numeric", minute: "2-digit" };
const FULL: Intl.DateTimeFormatOptions = { dateStyle: "full", timeStyle: "medium" };
const DAY_KEY: Intl.DateTimeFormatOptions = { year: "numeric", month: "2-digit", day: "2-digit" };
const MEDIUM_DATE: Intl.DateTimeFormatOptions = { dateStyle: "medium" };

/** Local clock time, e.g. "14:05" or "2:05 PM" depending on the locale. */
export function formatTime(ms: number, locale: string, timeZone?: string): string {
  return formatter("time", locale, timeZone, TIME).format(ms);
}

/** The full date and time, for tooltips: "Sunday, 23 November 2025 at 14:05:09". */
export function formatFullDate(ms: number, locale: string, timeZone?: string): string {
  return formatter("full", locale, timeZone, FULL).format(ms);
}

/**
 * Every UTC offset in the tz database is a whole number of quarter hours, and zones change offset
 * on quarter-hour boundaries: all instants of one UTC quarter hour fall on the same local day. So
 * day keys are cached per quarter hour; a room's timeline (thousands of messages, rebuilt on every
 * page) then formats about one date per quarter hour of history instead of one per message.
 */
const QUARTER_HOUR_MS = 15 * 60_000;
/** Bounds the cache (a quarter hour per entry: 20,000 is about 200 days of busy history). */
const DAY_KEY_CACHE_MAX = 20_000;
const dayKeys = new Map<string, string>();

/** Calendar day key ("2025-11-23") in the given zone; two times on one day share it. */
export function dayKey(ms: number, timeZone?: string): string {
  const cacheKey = `${timeZone ?? ""}|${Math.floor(ms / QUARTER_HOUR_MS)}`;
  let day = dayKeys.get(cacheKey);
  if (day === undefined) {
    // en-CA formats dates as YYYY-MM-DD, which makes a cheap, sortable key.
    day = formatter("dayKey", "en-CA", timeZone, DAY_KEY).format(ms);
    if (dayKeys.size >= DAY_KEY_CACHE_MAX) dayKeys.clear();
    dayKeys.set(cacheKey, day);
  }
  return day;
}

/** A day heading: "Today", "Yesterday", or a medium date ("Nov 21, 2025"). */
export function formatDay(
  ms: number,
  now: number,
  locale: string,
  labels: { today: string; yesterday: string },
  timeZone?: string,
): string {
  const day = dayKey(ms, timeZone);
  if (day === dayKey(now, timeZone)) return labels.today;
  if (day === dayKey(now - 86_400_000, timeZone)) return labels.yesterday;
  return formatter("medium", locale, timeZone, MEDIUM_DATE).format(ms);
}

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();

function relativeFormat(locale: string): Intl.RelativeTimeFormat {
  let f = relativeFormats.get(locale);
  if (!f) {
    // numeric "auto": "yesterday"/"昨天" and "now"/"现在" rather than "1 day ago"/"0 seconds ago".
    f = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
    relativeFormats.set(locale, f);
  }
  return f;
}

/**
 * How long ago, in the locale's words, for texts like "last seen": "now", "5 minutes ago",
 * "3 hours ago", "yesterday", "3 days ago" (zh-CN: 现在, 5分钟前, 3小时前, 昨天, 3天前); a week or
 * more back, the medium date. Units switch at 60 s, 60 min, 24 h and 7 days; the day counts
 * calendar days (dayKey), so 23:50 seen at 00:10 is "yesterday", not "20 minutes ago" twice over.
 */
export function formatRelative(ms: number, now: number, locale: string, timeZone?: string): string {
  const seconds = Math.round((ms - now) / 1000);
  const rtf = relativeFormat(locale);
  if (Math.abs(seconds) < 60) return rtf.format(0, "second");
  if (Math.abs(seconds) < 3600) return rtf.format(Math.trunc(seconds / 60), "minute");
  if (Math.abs(seconds) < 86_400 && dayKey(ms, timeZone) === dayKey(now, timeZone)) return rtf.format(Math.trunc(seconds / 3600), "hour");
  const days = Math.round((Date.parse(dayKey(ms, timeZone)) - Date.parse(dayKey(now, timeZone))) / 86_400_000);
  if (Math.abs(days) < 7) return rtf.format(days, "day");
  return formatter("medium", locale, timeZone, MEDIUM_DATE).format(ms);
}
