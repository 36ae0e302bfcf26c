import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { Pool, TypeOverrides, type PoolClient, type QueryResultRow } from "pg";
import { consoleLogger, type Logger } from "../logger.js";
import {
  BlobTooLargeError,
  asBuffer,
  assertBlobHash,
  checkMaxBytes,
  resolveRange,
  type BlobRead,
  type BlobSource,
  type BlobStat,
  type BlobStore,
  type ByteRange,
  type PutOptions,
  type PutResult,
} from "./blob-store.js";
import { BLOB_MIGRATIONS } from "./pg-blob-migrations.js";

/**
 * Bytes per chunk row, written and read. 256 KiB: large enough that a 25 MB file is 100 rows and
 * 100 round trips, small enough that a put buffers and a read holds only that much at a time, and
 * far below bytea's 1 GB limit and the sizes at which one value strains the server's memory.
 */
export const CHUNK_BYTES = 256 * 1024;

/** Key of the advisory lock serialising the blob migrations: "blobs" in ASCII (the storage's is "parley"). */
const MIGRATION_LOCK_KEY = 0x626c6f6273;
const INT8_OID = 20;

export interface PostgresBlobStoreOptions {
  /** Clock for `created_at`; tests may pin it. */
  now?: () => number;
  /** Where errors of idle pooled connections go (a restarted database, a dropped connection). */
  logger?: Logger;
  /**
   * Connections of this pool, apart from the message storage's: a put holds one for as long as its
   * upload lasts (see put), so slow uploads must not be able to take the connections that message
   * appends need. 5 is five uploads at once per node (a sixth waits for a free connection); reads
   * borrow a connection per chunk only, so downloads never wait long behind them.
   */
  poolSize?: number;
}

/**
 * Blobs in PostgreSQL, so that any node serves any file (schema: pg-blob-migrations.ts).
 *
 * A put is one transaction: its chunks are inserted under a fresh content id as the bytes arrive,
 * and at the end, when the hash is known, the `blobs` row names them. If a blob with that hash
 * exists (or another put of the same bytes commits first: `ON CONFLICT` waits for it), the put
 * rolls back and its chunks vanish with the transaction; so does everything of a put that fails
 * halfway, or whose connection or node dies. Nothing ever needs sweeping.
 *
 * A read fetches one chunk per query, each on whatever pooled connection is free, so a slow
 * download holds no connection while the client catches up.
 */
export class PostgresBlobStore implements BlobStore {
  private readonly pool: Pool;
  private readonly now: () => number;
  private closed = false;
  /** Open connections; close() waits until each has really ended (as PostgresStorage.close). */
  private readonly connections = new Set<PoolClient>();

  constructor(
    readonly url: string,
    options: PostgresBlobStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    const logger = options.logger ?? consoleLogger;
    // BIGINT sizes and offsets as numbers (exact below 2^53), on this pool only: see PostgresStorage.
    const types = new TypeOverrides();
    types.setTypeParser(INT8_OID, (value: string) => Number(value));
    this.pool = new Pool({ connectionString: url, max: options.poolSize ?? 5, types });
    // Without a listener, an idle connection dying (database restart) would crash the process.
    this.pool.on("error", (error) => logger.error("postgres blobs: idle connection failed", error));
    this.pool.on("connect", (client) => {
      this.connections.add(client);
      client.once("end", () => this.connections.delete(client));
    });
  }

  /** Applies the pending blob migrations under an advisory lock, as PostgresStorage.init does. */
  async init(): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("SELECT pg_advisory_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
      try {
        await client.query("CREATE TABLE IF NOT EXISTS blob_schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
        const { rows } = await client.query<{ version: number }>("SELECT COALESCE(MAX(version), 0) AS version FROM blob_schema_migrations");
        const current = rows[0]?.version ?? 0;
        for (const [i, sql] of BLOB_MIGRATIONS.entries()) {
          const version = i + 1;
          if (version <= current) continue;
          await client.query("BEGIN");
          try {
            await client.query(sql);
            await client.query("INSERT INTO blob_schema_migrations (version, applied_at) VALUES ($1, $2)", [version, this.now()]);
            await client.query("COMMIT");
          } catch (e) {
            await client.query("ROLLBACK").catch(() => {});
            throw e;
          }
        }
      } finally {
        await client.query("SELECT pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK_KEY]);
      }
    } catch (e) {
      // A connection in an unknown state (it may still hold the lock) is discarded; closing it
      // releases the lock.
      broken = toError(e);
      throw e;
    } finally {
      client.release(broken);
    }
  }

  async put(source: BlobSource, options: PutOptions = {}): Promise<PutResult> {
    this.assertOpen();
    const { maxBytes } = options;
    checkMaxBytes(maxBytes);
    // The connection and transaction start with the first full chunk, not before the loop: reading
    // has to start before any I/O of ours, or an upload aborted meanwhile would emit its error with
    // nobody listening (an uncaught exception). It also spares a pooled connection to uploads that
    // have not yet sent 256 KiB.
    let client: PoolClient | undefined;
    // Set when the connection's state is unknown (BEGIN or ROLLBACK failed): closed, not reused.
    let broken: Error | undefined;
    const begin = async (): Promise<PoolClient> => {
      const connected = await this.pool.connect();
      client = connected;
      await connected.query("BEGIN").catch((e: unknown) => {
        broken = toError(e);
        throw e;
      });
      return connected;
    };
    const contentId = randomUUID();
    let written = 0;
    const writeChunk = async (data: Buffer) => {
      await (client ?? (await begin())).query("INSERT INTO blob_chunks (content_id, off, data) VALUES ($1, $2, $3)", [contentId, written, data]);
      written += data.length;
    };
    try {
      const hasher = createHash("sha256");
      let size = 0;
      // Source chunks (64 KiB from an HTTP request, or anything) gathered into CHUNK_BYTES rows.
      // Each row is inserted before more is read, so memory holds one row's worth at a time.
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const raw of source) {
        const chunk = asBuffer(raw);
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) throw new BlobTooLargeError(maxBytes);
        hasher.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < CHUNK_BYTES) continue;
        const gathered = Buffer.concat(pending, pendingBytes);
        let at = 0;
        for (; gathered.length - at >= CHUNK_BYTES; at += CHUNK_BYTES) await writeChunk(gathered.subarray(at, at + CHUNK_BYTES));
        pending = at < gathered.length ? [gathered.subarray(at)] : [];
        pendingBytes = gathered.length - at;
      }
      if (pendingBytes > 0) await writeChunk(Buffer.concat(pending, pendingBytes));

      const hash = hasher.digest("hex");
      const transaction = client ?? (await begin());
      const inserted = await transaction.query(
        "INSERT INTO blobs (hash, size, content_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING",
        [hash, size, contentId, this.now()],
      );
      if (inserted.rowCount === 0) {
        // Stored already: this put's chunks are a copy, dropped with the transaction.
        await transaction.query("ROLLBACK");
        return { hash, size, existed: true };
      }
      await transaction.query("COMMIT");
      return { hash, size, existed: false };
    } catch (e) {
      if (client && !broken) {
        await client.query("ROLLBACK").catch((rollbackError: unknown) => {
          broken = toError(rollbackError);
        });
      }
      throw e;
    } finally {
      client?.release(broken);
    }
  }

  async get(hash: string, range?: ByteRange): Promise<BlobRead | null> {
    assertBlobHash(hash);
    this.assertOpen();
    const rows = await this.query<{ size: number; content_id: string }>("SELECT size, content_id FROM blobs WHERE hash = $1", [hash]);
    const row = rows[0];
    if (!row) return null;
    const span = range ? resolveRange(range, row.size) : null;
    const chunks = this.readChunks(hash, row.content_id, span?.start ?? 0, span?.end ?? row.size - 1);
    // objectMode false: the consumer sees a byte stream (highWaterMark in bytes), as from a file.
    return { size: row.size, range: span, stream: Readable.from(chunks, { objectMode: false }) };
  }

  /**
   * Bytes `start` to `end` (inclusive), one query each time the stream wants more. Each query
   * finds the chunk holding `pos` through the primary key (the last chunk starting at or before
   * it) and returns only the part still wanted: `substring` of an uncompressed TOAST value reads
   * just those bytes (see the migration's STORAGE EXTERNAL).
   */
  private async *readChunks(hash: string, contentId: string, start: number, end: number): AsyncGenerator<Buffer> {
    let pos = start;
    while (pos <= end) {
      const want = Math.min(end - pos + 1, CHUNK_BYTES);
      const rows = await this.query<{ data: Buffer }>(
        `SELECT substring(data FROM ($2::bigint - off + 1)::int FOR $3::int) AS data
         FROM blob_chunks WHERE content_id = $1 AND off <= $2 ORDER BY off DESC LIMIT 1`,
        [contentId, pos, want],
      );
      const data = rows[0]?.data;
      // No chunk covers pos: the blob was deleted while being read.
      if (!data || data.length === 0) throw new Error(`blob ${hash} was deleted while being read (at byte ${pos})`);
      yield data;
      pos += data.length;
    }
  }

  async stat(hash: string): Promise<BlobStat | null> {
    assertBlobHash(hash);
    this.assertOpen();
    const rows = await this.query<{ size: number }>("SELECT size FROM blobs WHERE hash = $1", [hash]);
    return rows[0] ? { size: rows[0].size } : null;
  }

  async has(hash: string): Promise<boolean> {
    return (await this.stat(hash)) !== null;
  }

  /** One statement: the chunks go with the row (ON DELETE CASCADE). */
  async delete(hash: string): Promise<boolean> {
    assertBlobHash(hash);
    this.assertOpen();
    const result = await this.pool.query("DELETE FROM blobs WHERE hash = $1", [hash]);
    return (result.rowCount ?? 0) > 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // pool.end() resolves once it has asked every connection to end; waiting for each 'end' means
    // no session of ours is left on the server afterwards (see PostgresStorage.close).
    const ending = [...this.connections].map((c) => new Promise<void>((resolve) => c.once("end", () => resolve())));
    await this.pool.end();
    await Promise.all(ending);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("blob store closed");
  }

  private async query<R extends QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
