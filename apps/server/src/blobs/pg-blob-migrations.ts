/**
 * Numbered schema migrations of the PostgreSQL blob store, in the style of the message storage's
 * (`../storage/postgres/migrations.ts`) but recorded apart, in `blob_schema_migrations`, so the two
 * number their versions independently and neither can be broken by the other. Each runs in its own
 * transaction, all of them under one advisory lock (see `PostgresBlobStore.init`). Never edit a
 * shipped migration: add the next one.
 */
export const BLOB_MIGRATIONS: readonly string[] = [
  // 1: blobs and their chunks.
  //
  // A blob's bytes are rows of at most 256 KiB (see CHUNK_BYTES), so neither side ever holds a
  // whole large file in one value. The chunks belong to a `content_id` made up by the put, not to
  // the hash: the hash is known only once the last byte has been read, and keying the chunks by
  // it would mean rewriting every chunk row at the end. `off` is the chunk's first byte in the
  // blob, so a range read finds its first chunk through the primary key, whatever chunk size
  // wrote the blob.
  //
  // The foreign key is checked at commit (DEFERRABLE INITIALLY DEFERRED): a put writes its chunks
  // before the blobs row that names them exists, and no chunk without a blob can ever commit.
  // ON DELETE CASCADE makes a delete one statement.
  //
  // STORAGE EXTERNAL: out of line but uncompressed. Attachments are mostly images and archives,
  // already compressed, so pglz would spend CPU on every chunk for nothing; and uncompressed TOAST
  // values can be sliced (substring) without reading them whole, which range reads rely on.
  `
  CREATE TABLE blobs (
    hash TEXT PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
    size BIGINT NOT NULL CHECK (size >= 0),
    content_id UUID NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE blob_chunks (
    content_id UUID NOT NULL REFERENCES blobs(content_id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    off BIGINT NOT NULL CHECK (off >= 0),
    data BYTEA NOT NULL,
    PRIMARY KEY (content_id, off)
  );
  ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
  `,
];
