import { keyValueOutbox, type OutboxStorage } from "@parley/client";

/** The localStorage key prefix of a user's outbox entries (the core's `keyValueOutbox` scheme). */
export function outboxPrefix(userId: string): string {
  return `parley:outbox:${userId}:`;
}

/**
 * The browser's outbox: the core's per-entry localStorage outbox for this user, plus a `storage`
 * event subscription. The event fires in the *other* tabs of this origin on every write, so each
 * tab reloads the outbox and shows (or drops) the sends another tab queued (or confirmed).
 * Per user, so a shared browser never sends one person's drafts as another.
 */
export function createLocalStorageOutbox(userId: string, storage: Storage = window.localStorage): OutboxStorage {
  const prefix = outboxPrefix(userId);
  const base = keyValueOutbox(storage, userId);
  return {
    load() {
      try {
        return base.load();
      } catch {
        return []; // storage disabled (some private modes): behave like an empty outbox
      }
    },
    put(entry) {
      try {
        base.put(entry);
      } catch {
        // Quota exceeded or storage disabled: the send still lives in memory for this tab.
      }
    },
    remove(clientId) {
      try {
        base.remove(clientId);
      } catch {
        // See put().
      }
    },
    subscribe(listener) {
      const onStorage = (event: StorageEvent) => {
        // key === null: another tab called localStorage.clear().
        if (event.storageArea === storage && (event.key === null || event.key.startsWith(prefix))) listener();
      };
      window.addEventListener("storage", onStorage);
      return () => window.removeEventListener("storage", onStorage);
    },
  };
}
