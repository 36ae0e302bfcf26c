import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_ROOM_ID, matchesAll, matchesTerm, type Message } from "@parley/shared";
import { prepareStorage } from "../../src/domain/setup.js";
import { indexText, termTrigrams } from "../../src/storage/sqlite/search-index.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";

/**
 * SQLite's search index only narrows a search down (the rule decides what is left), so what it must
 * never do is leave out a body the rule matches: every trigram a term looks up is in the indexed
 * text of every body the term matches. Bodies and terms come from a small alphabet in which words,
 * capitals, punctuation, CJK, marks, the FTS5 and LIKE specials and letters whose lower case is
 * longer ("İ", on whose bodies the rule matches nothing) collide often.
 */
const ALPHABET = [..."aAbgoOsé É-_.%'\" 中文你好テ한\u0308\u0001\n1İΣ"];
const text = (max: number) => fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: max }).map((cs) => cs.join(""));
/** A term as the protocol gives them: trimmed, not empty. */
const term = text(5)
  .map((t) => t.trim())
  .filter((t) => t !== "");

/**
 * Case folded as FTS5 folds it: one character at a time, to one character (so "Σ" is always "σ",
 * where toLowerCase of a whole string makes a final one "ς").
 */
const fold = (c: string) => (c.toLowerCase().length === c.length ? c.toLowerCase() : c);

/** The trigrams (as three-character strings, folded) of `s`. */
function trigramsOf(s: string): Set<string> {
  const chars = [...s].map(fold);
  return new Set(chars.slice(0, -2).map((_, i) => chars.slice(i, i + 3).join("")));
}

describe("SQLite search index", () => {
  it("holds every trigram a term looks up in each body the term matches", () => {
    fc.assert(
      fc.property(text(40), fc.nat(40), fc.nat(5), term, (body, at, length, other) => {
        // Half the terms are cut from the body, so that they match often.
        const chars = [...body];
        const cut = chars.slice(at % chars.length, (at % chars.length) + 1 + length).join("").trim();
        for (const t of [cut, other]) {
          if (t === "" || !matchesTerm(body, t)) continue;
          const indexed = trigramsOf(indexText(body));
          for (const trigram of termTrigrams(t)) expect(indexed, JSON.stringify({ body, t, trigram })).toContain([...trigram].map(fold).join(""));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("finds exactly what the rule finds, through FTS5, for random bodies and terms", async () => {
    const storage = await prepareStorage(new SqliteStorage(":memory:"));
    try {
      const alice = await storage.createUser({ nickname: "alice", passwordHash: "x" });
      await storage.addMember(DEFAULT_ROOM_ID, alice.id);
      const bodies = fc.sample(text(30), { numRuns: 300, seed: 42 });
      const messages: Message[] = [];
      for (const body of bodies) {
        const { message } = await storage.appendMessage({ roomId: DEFAULT_ROOM_ID, authorId: alice.id, clientId: randomUUID(), kind: "text", body, mentions: [] });
        messages.push(message);
      }
      // Some edits, so that re-indexed documents are searched too.
      for (const m of messages.filter((_, i) => i % 10 === 0)) {
        await storage.editMessage({ messageId: m.id, body: `${m.body} é-中`, mentions: [], baseVersion: m.version });
      }
      const current = await Promise.all(messages.map(async (m) => (await storage.getMessage(m.id))!));
      for (const terms of fc.sample(fc.array(term, { minLength: 1, maxLength: 2 }), { numRuns: 300, seed: 7 })) {
        const expected = current.filter((m) => matchesAll(m.body, terms)).reverse().map((m) => m.id);
        const found = await storage.searchMessages({ userId: alice.id, terms, roomId: null, authorId: null, after: null, before: null, hasFile: false, cursor: null, limit: 50 });
        expect(found.messages.map((m) => m.id), JSON.stringify(terms)).toEqual(expected.slice(0, 50));
      }
    } finally {
      await storage.close();
    }
  });
});
