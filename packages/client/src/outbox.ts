import type { OutboxEntry, OutboxStorage } from "./api.js";

/** Outbox order: the order the user wrote the messages in. */
export function sortOutbox(entries: OutboxEntry[]): OutboxEntry[] {
  return [...entries].sort((a, b) => a.createdAt - b.createdAt || a.order - b.order || a.clientId.localeCompare(b.clientId));
}

/** An outbox that lives as long as the process (tests, bots that do not need to survive a crash). */
export function memoryOutbox(initial: OutboxEntry[] = []): OutboxStorage & { entries(): OutboxEntry[] } {
  const map = new Map(initial.map((e) => [e.clientId, e]));
  return {
    load: () => [...map.values()],
    put: (entry) => void map.set(entry.clientId, entry),
    remove: (clientId) => void map.delete(clientId),
    entries: () => sortOutbox([...map.values()]),
  };
}

/** The slice of the Web Storage API the browser outbox needs (so it can be tested without a DOM). */
export interface KeyValueStore {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * An outbox in Web Storage (localStorage): one key per entry under `parley:outbox:<userId>:`, so
 * tabs of the same user share it without overwriting each other, and it survives reloads and
 * closed tabs.
 */
export function keyValueOutbox(store: KeyValueStore, userId: string): OutboxStorage {
  const prefix = `parley:outbox:${userId}:`;
  return {
    load() {
      const entries: OutboxEntry[] = [];
      for (let i = 0; i < store.length; i++) {
        const key = store.key(i);
        if (!key?.startsWith(prefix)) continue;
        try {
          entries.push(JSON.parse(store.getItem(key) ?? "null") as OutboxEntry);
        } catch {
          // A corrupt entry cannot be sent; keeping it would block nothing, dropping it loses
          // nothing readable.
          store.removeItem(key);
        }
      }
      return entries.filter((e) => e && typeof e.clientId === "string");
    },
    put: (entry) => store.setItem(prefix + entry.clientId, JSON.stringify(entry)),
    remove: (clientId) => store.removeItem(prefix + clientId),
  };
}
