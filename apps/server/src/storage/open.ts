import type { DatabaseConfig } from "../config.js";
import type { Logger } from "../logger.js";
import type { Storage } from "./storage.js";
import { SqliteStorage } from "./sqlite/sqlite-storage.js";

/** Opens and migrates the storage named by the configuration. */
export async function openStorage(config: DatabaseConfig, logger?: Logger): Promise<Storage> {
  if (config.kind === "postgres") {
    const { PostgresStorage } = await import("./postgres/postgres-storage.js");
    const storage = new PostgresStorage(config.url);
    await storage.init();
    return storage;
  }
  const storage = new SqliteStorage(config.path, logger ? { logger } : {});
  await storage.init();
  return storage;
}
