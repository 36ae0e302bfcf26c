import { parseSearch, type ClientPayload, type RoomSummary } from "@parley/shared";

/** Why a search box cannot be searched, in the words of the box (shown under it). */
export type SearchBoxError =
  | { code: "SEARCH_EMPTY" | "SEARCH_TOO_MANY_TERMS" }
  | { code: "SEARCH_BAD_DATE" | "SEARCH_TERM_TOO_LONG"; value: string }
  /** `in:` names no room or DM of mine. */
  | { code: "SEARCH_NO_ROOM"; value: string };

export type SearchRequest = { ok: true; payload: ClientPayload<"search:messages">; terms: string[] } | { ok: false; error: SearchBoxError };

/**
 * The search box's text as a `search:messages` request: `parseSearch` reads it (dates in the
 * reader's zone), and `in:` is resolved among the rooms I am in (`in:#name` a public room,
 * `in:@nick` the DM with that person), so a search never asks about a room I cannot see.
 * `terms` are what the results highlight.
 */
export function searchRequest(text: string, rooms: readonly RoomSummary[], startOfDay?: (y: number, m: number, d: number) => number): SearchRequest {
  const parsed = parseSearch(text, startOfDay);
  if (!parsed.ok) return parsed;
  const { terms, inRoom, from, after, before, hasFile } = parsed.search;
  const payload: ClientPayload<"search:messages"> = { terms };
  if (inRoom) {
    const name = inRoom.name.toLowerCase();
    const room = rooms.find((r) => r.kind === inRoom.kind && r.name.toLowerCase() === name);
    if (!room) return { ok: false, error: { code: "SEARCH_NO_ROOM", value: `${inRoom.kind === "dm" ? "@" : "#"}${inRoom.name}` } };
    payload.roomId = room.id;
  }
  if (from !== null) payload.from = from;
  if (after !== null) payload.after = after;
  if (before !== null) payload.before = before;
  if (hasFile) payload.hasFile = true;
  return { ok: true, payload, terms };
}

/**
 * The part of a long body a result shows: from a little before the first highlight, so a match deep
 * in a long message is on screen. Returns the text and the highlights shifted into it.
 */
export function excerptAround(
  body: string,
  ranges: ReadonlyArray<readonly [number, number]>,
  lead = 60,
): { text: string; ranges: Array<[number, number]>; cut: boolean } {
  const first = ranges[0];
  if (!first || first[0] <= lead) return { text: body, ranges: ranges.map(([s, e]) => [s, e]), cut: false };
  // Start at a word boundary (or at a character, never inside a surrogate pair).
  let start = first[0] - lead;
  const space = body.indexOf(" ", start);
  if (space !== -1 && space < first[0]) start = space + 1;
  const code = body.charCodeAt(start);
  if (code >= 0xdc00 && code <= 0xdfff) start++;
  return { text: body.slice(start), ranges: ranges.map(([s, e]) => [s - start, e - start]), cut: true };
}
