/**
 * Migration 5 of both backends (ADR 0014), written once: the two differ only in the type of their
 * 64-bit integers (SQLite's INTEGER is 64-bit already) and the column that orders search results
 * (`search_order`, which is `search_docid` on SQLite). Shipped: never edit, add a migration.
 */
export const attachmentsSchema = (int: "INTEGER" | "BIGINT", searchOrder: "search_docid" | "search_order"): string => `
  CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    uploader_id TEXT NOT NULL REFERENCES users(id),
    upload_id TEXT NOT NULL,
    room_id TEXT NOT NULL REFERENCES rooms(id),
    name TEXT NOT NULL,
    size ${int} NOT NULL,
    content_type TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('image', 'file')),
    width INTEGER,
    height INTEGER,
    blob_hash TEXT NOT NULL,
    thumb_hash TEXT,
    upload_bytes ${int} NOT NULL,
    created_at ${int} NOT NULL,
    message_id TEXT
  );
  -- The idempotency key of uploads: a retried upload finds the first one instead of storing twice.
  CREATE UNIQUE INDEX attachments_by_upload ON attachments(uploader_id, upload_id);
  -- The daily quota sums one user's recent uploads.
  CREATE INDEX attachments_by_uploader_time ON attachments(uploader_id, created_at);
  ALTER TABLE messages ADD COLUMN attachments TEXT;
  -- \`has:file\` on its own reads the messages with files newest first from here, instead of
  -- walking the whole history for the few that have some.
  CREATE INDEX messages_with_files ON messages(${searchOrder}) WHERE attachments IS NOT NULL AND kind = 'text' AND deleted_at IS NULL;
`;
