import { attachmentsSchema } from "../attachments-schema.js";
import { moderationSchema } from "../moderation-schema.js";
import { profilesSchema } from "../profiles-schema.js";

/**
 * Numbered schema migrations for SQLite. `PRAGMA user_version` records the last one applied; each
 * runs in its own transaction. Never edit a shipped migration: add the next one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: users, sessions, rooms, members, messages.
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    nickname TEXT NOT NULL,
    nickname_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('public', 'dm')),
    name TEXT NOT NULL,
    name_key TEXT,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX rooms_public_name ON rooms(name_key) WHERE kind = 'public';
  CREATE TABLE members (
    room_id TEXT NOT NULL REFERENCES rooms(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    joined_at INTEGER NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX members_by_user ON members(user_id);
  CREATE TABLE messages (
    room_id TEXT NOT NULL REFERENCES rooms(id),
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_nickname TEXT NOT NULL,
    client_id TEXT,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    mentions TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (room_id, seq)
  ) WITHOUT ROWID;
  -- The idempotency key of sends: a retry of a stored message finds it instead of storing it twice.
  CREATE UNIQUE INDEX messages_by_client_id ON messages(author_id, client_id) WHERE client_id IS NOT NULL;
  CREATE TABLE mentions (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id, seq)
  ) WITHOUT ROWID;
  `,
  // 2: sessions by user ("sign out everywhere") and by expiry (the periodic purge), so neither
  // scans every session.
  `
  CREATE INDEX sessions_by_user ON sessions(user_id);
  CREATE INDEX sessions_by_expiry ON sessions(expires_at);
  `,
  // 3: messages that change (ADR 0009). Each room gets a change sequence beside its seq; every
  // message stored so far was one change, its creation, so existing versions equal seqs.
  // `body_version` is the version of the last body change (edit conflicts compare with it; a
  // reaction bumps `version` but is no conflict for an edit). `reactions.version` is the version the
  // reaction was set at: it orders emoji by first use and users by when they reacted, where
  // `created_at` (ms) could tie.
  `
  ALTER TABLE rooms ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
  UPDATE rooms SET last_version = last_seq;
  ALTER TABLE messages ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN body_version INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN edited_at INTEGER;
  ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
  ALTER TABLE messages ADD COLUMN reply_to_id TEXT;
  UPDATE messages SET version = seq, body_version = seq;
  -- The changedSince catch-up; unique because each change takes a version of its own, so a
  -- duplicate is a bug the database refuses instead of a client silently missing a change.
  CREATE UNIQUE INDEX messages_by_version ON messages(room_id, version);
  CREATE TABLE reactions (
    room_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    emoji TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (room_id, seq, emoji, user_id)
  ) WITHOUT ROWID;
  `,
  // 4: message search (searchMessages; the rule is `matchesTerm` in @parley/shared; why it looks
  // like this: docs/decisions/0012-message-search.md).
  // - `messages.search_docid`: a searchable message's place in commit order, assigned by
  //   SqliteStorage as it appends (one writer, so increasing; within a room it grows with seq too)
  //   and never reused; an edit keeps it. Null for notices.
  // - `search_docs`: which message each docid is, for every searchable one (text, not deleted).
  // - `search_index`: one FTS5 trigram table over the messages' bodies and markers for word starts
  //   and short CJK terms (see search-index.ts), so every term is one lookup in one table and all
  //   the terms of a search are one FTS5 query. Contentless (the check reads the message itself),
  //   `detail=none` (which documents hold a trigram, not where: the check decides).
  // SqliteStorage writes both for the messages it appends: `search_docs` once per group commit,
  // after the messages' own savepoints (FTS5 writes its pending terms out as a new segment at every
  // savepoint, which made each indexed append five times as costly), the index a few hundred
  // documents at a time and before every search (SEARCH_INDEX_BATCH), and it computes the markers,
  // which split words by Unicode properties no SQL function knows. The triggers below note every
  // change to an indexed message's body (an edit, a delete), by whatever client, in
  // `search_changed`, and the storage re-indexes those in the same transaction.
  // `search_state`: the newest docid in the index (`indexed_docid`); and for date filters, the
  // newest created_at so far and `clock_slack`, the most a message's created_at ever was below an
  // earlier message's (a clock that stepped back), so that a date is a docid range (see
  // SqliteStorage.searchRange). Existing messages get docids in the order they were most likely
  // committed: by time, but never out of seq order within a room (a clock that stepped back must
  // not reorder a room's messages), and are indexed when the storage opens the database.
  `
  ALTER TABLE messages ADD COLUMN search_docid INTEGER;
  CREATE TABLE search_docs (
    docid INTEGER PRIMARY KEY,
    room_id TEXT NOT NULL,
    seq INTEGER NOT NULL
  );
  CREATE VIRTUAL TABLE search_index USING fts5(
    text, content = '', contentless_delete = 1, tokenize = 'trigram', detail = none
  );
  CREATE TABLE search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_docid INTEGER NOT NULL,
    newest_at INTEGER NOT NULL,
    clock_slack INTEGER NOT NULL
  );
  CREATE TABLE search_changed (docid INTEGER PRIMARY KEY);

  UPDATE messages SET search_docid = o.docid
  FROM (
    SELECT room_id, seq, row_number() OVER (ORDER BY committed_by, room_id, seq) AS docid
    FROM (
      SELECT room_id, seq, MAX(created_at) OVER (PARTITION BY room_id ORDER BY seq) AS committed_by
      FROM messages WHERE kind = 'text' AND deleted_at IS NULL
    )
  ) AS o
  WHERE messages.room_id = o.room_id AND messages.seq = o.seq;
  INSERT INTO search_docs (docid, room_id, seq)
  SELECT search_docid, room_id, seq FROM messages WHERE search_docid IS NOT NULL ORDER BY search_docid;
  INSERT INTO search_state (id, indexed_docid, newest_at, clock_slack)
  SELECT 1, 0, COALESCE(MAX(created_at), 0), COALESCE(MAX(MAX(earlier - created_at, 0)), 0)
  FROM (
    SELECT created_at, MAX(created_at) OVER (ORDER BY search_docid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier
    FROM messages WHERE search_docid IS NOT NULL
  );

  CREATE TRIGGER messages_search_edit AFTER UPDATE OF body ON messages
  WHEN new.search_docid <= (SELECT indexed_docid FROM search_state) AND new.body IS NOT old.body BEGIN
    INSERT OR IGNORE INTO search_changed (docid) VALUES (new.search_docid);
  END;
  CREATE TRIGGER messages_search_delete AFTER UPDATE OF deleted_at ON messages
  WHEN new.search_docid IS NOT NULL AND new.deleted_at IS NOT NULL BEGIN
    DELETE FROM search_docs WHERE docid = new.search_docid;
    INSERT OR IGNORE INTO search_changed (docid)
    SELECT new.search_docid WHERE new.search_docid <= (SELECT indexed_docid FROM search_state);
  END;
  CREATE TRIGGER messages_search_remove AFTER DELETE ON messages
  WHEN old.search_docid IS NOT NULL BEGIN
    DELETE FROM search_docs WHERE docid = old.search_docid;
    INSERT OR IGNORE INTO search_changed (docid)
    SELECT old.search_docid WHERE old.search_docid <= (SELECT indexed_docid FROM search_state);
  END;
  `,
  // 5: attachments (ADR 0014). An upload is a row here from the moment its bytes are stored;
  // `message_id` is set by the send that carries it, in the message's transaction. What readers of
  // a message see of its files never changes after upload, so it is also written onto the message
  // (`messages.attachments`, JSON of Attachment[]): a page of history needs no join.
  `
${attachmentsSchema("INTEGER", "search_docid")}  `,
  // 6: moderation (ADR 0016): roles, topic, invite-only, bans, mutes, reports, the audit log.
  `
${moderationSchema({ int: "INTEGER", serial: "INTEGER PRIMARY KEY" })}  `,
  // 7: profiles, last seen, notification levels (issue 14; profiles-schema.ts). Moderation is 6.
  `
${profilesSchema("INTEGER")}  `,
];
