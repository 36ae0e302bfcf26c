import type { BlobStoreConfig } from "../config.js";
import type { Logger } from "../logger.js";
import type { BlobStore } from "./blob-store.js";
import { FsBlobStore } from "./fs-blob-store.js";

/**
 * Opens and initialises the blob store named by the configuration (`Config.blobs`, from BLOB_DIR
 * and DATABASE_URL): files under a directory, or PostgreSQL so that any node serves any file.
 */
export async function openBlobStore(config: BlobStoreConfig, options: { logger?: Logger } = {}): Promise<BlobStore> {
  let store: BlobStore;
  if (config.kind === "postgres") {
    // Loaded only when used, as storage/open.ts does: a SQLite deployment never loads pg.
    const { PostgresBlobStore } = await import("./pg-blob-store.js");
    store = new PostgresBlobStore(config.url, options.logger ? { logger: options.logger } : {});
  } else {
    store = new FsBlobStore(config.root);
  }
  try {
    await store.init();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
