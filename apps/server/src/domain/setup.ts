import { DEFAULT_ROOM_ID, DEFAULT_ROOM_NAME } from "@parley/shared";
import type { Storage } from "../storage/storage.js";

/**
 * What must exist before the first request: the schema (the storage's business) and the default
 * room every account joins and nobody can leave (a product rule, so it is stated here and not in
 * either backend). Idempotent: every node runs it at every start.
 */
export async function prepareStorage<S extends Storage>(storage: S): Promise<S> {
  await storage.init();
  await storage.ensurePublicRoom({ id: DEFAULT_ROOM_ID, name: DEFAULT_ROOM_NAME });
  return storage;
}
