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
];
