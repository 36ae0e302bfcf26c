/**
 * Sorting of people's and rooms' names for the UI's current locale. `Intl.Collator("zh-CN")` orders
 * Chinese by pinyin (阿明, 李四, 王五, 张三) and puts Han before Latin; "en" orders Latin
 * alphabetically, case- and accent-blind. Code-point order (`sort()`, or `localeCompare` without a
 * locale, which follows the browser's language rather than the UI's) would give neither.
 *
 * One collator per locale, cached: building one costs far more than comparing with it.
 */
const collators = new Map<string, Intl.Collator>();

/** The name collator for `locale`: base sensitivity (Bob = bob = Böb), numeric (bob2 < bob10). */
export function nameCollator(locale: string): Intl.Collator {
  let collator = collators.get(locale);
  if (!collator) {
    collator = new Intl.Collator(locale, { sensitivity: "base", numeric: true });
    collators.set(locale, collator);
  }
  return collator;
}

/**
 * Compares two names in `locale`, falling back to code points so names the collator finds equal
 * ("Bob" and "bob") still sort the same way on every render.
 */
export function compareNames(a: string, b: string, locale: string): number {
  return nameCollator(locale).compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A copy of `items` sorted by the name `nameOf` gives, in `locale`. */
export function sortByName<T>(items: readonly T[], nameOf: (item: T) => string, locale: string): T[] {
  return [...items].sort((a, b) => compareNames(nameOf(a), nameOf(b), locale));
}
