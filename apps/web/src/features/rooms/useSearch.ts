import type { AckResult } from "@parley/shared";
import { useEffect, useState } from "react";

/** Debounce for search-as-you-type: long enough to skip most keystrokes, short enough to feel live. */
const SEARCH_DEBOUNCE_MS = 200;

interface SearchState<T> {
  /** The query these results answer; `loading` is derived from it differing from the input. */
  query: string | null;
  items: T[];
  error: string | null;
}

/**
 * Runs `search(query)` after the user pauses typing and keeps only the latest answer (an older
 * request that resolves late is ignored).
 */
export function useDebouncedSearch<T>(
  search: (query: string) => Promise<AckResult<T[]>>,
  query: string,
): { items: T[]; loading: boolean; error: string | null } {
  const [state, setState] = useState<SearchState<T>>({ query: null, items: [], error: null });

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      search(query).then(
        (result) => {
          if (!current) return;
          setState(result.ok ? { query, items: result.data, error: null } : { query, items: [], error: result.error.code });
        },
        () => {
          if (current) setState({ query, items: [], error: "TIMEOUT" });
        },
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [search, query]);

  return { items: state.items, loading: state.query !== query, error: state.error };
}
