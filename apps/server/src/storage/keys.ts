/** Case-insensitive uniqueness key for nicknames and room names (NFKC, then lower case). */
export function nameKey(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

/** Escapes LIKE wildcards so a search for "50%" finds "50%" literally. */
export function likePattern(query: string): string {
  return `%${nameKey(query).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
