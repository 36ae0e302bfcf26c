/**
 * Time formatting for the message list. Formatters are cached per (locale, timeZone) because
 * building an `Intl.DateTimeFormat` costs far more than using one, and a long list formats
 * hundreds of timestamps per render. `timeZone` is only passed by tests.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone ?? ""}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, timeZone === undefined ? options : { ...options, timeZone });
    formatters.set(key, f);
  }
  return f;
}

/** Local clock time, e.g. "14:05" or "2:05 PM" depending on the locale. */
export function formatTime(ms: number, locale: string, timeZone?: string): string {
  return formatter(locale, timeZone, { hour: "numeric", minute: "2-digit" }).format(ms);
}

/** The full date and time, for tooltips: "Sunday, 23 November 2025 at 14:05:09". */
export function formatFullDate(ms: number, locale: string, timeZone?: string): string {
  return formatter(locale, timeZone, { dateStyle: "full", timeStyle: "medium" }).format(ms);
}

/** Calendar day key ("2025-11-23") in the given zone; two times on one day share it. */
export function dayKey(ms: number, timeZone?: string): string {
  // en-CA formats dates as YYYY-MM-DD, which makes a cheap, sortable key.
  return formatter("en-CA", timeZone, { year: "numeric", month: "2-digit", day: "2-digit" }).format(ms);
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
  return formatter(locale, timeZone, { dateStyle: "medium" }).format(ms);
}
