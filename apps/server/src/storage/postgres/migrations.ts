import { cjkCharClass, wordCharClass } from "../search.js";
import { attachmentsSchema } from "../attachments-schema.js";
import { moderationSchema } from "../moderation-schema.js";
import { profilesSchema } from "../profiles-schema.js";

/**
 * Numbered schema migrations for PostgreSQL, the same schema as SQLite's (`../sqlite/migrations.ts`).
 * `schema_migrations` records each version applied; each runs in its own transaction, and all of
 * them under one advisory lock (see `PostgresStorage.init`). Never edit a shipped migration: add
 * the next one.
 *
 * Times and seqs are BIGINT (ms since the epoch outgrow INTEGER); the storage parses them back into
 * JS numbers, which hold every value below 2^53 exactly.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  // 1: users, sessions, rooms, members, messages, mentions.
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    nickname TEXT NOT NULL,
    nickname_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL
  );
  CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('public', 'dm')),
    name TEXT NOT NULL,
    name_key TEXT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    -- The seq allocator: appends increment it under the row lock (see appendMessage).
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_activity_at BIGINT NOT NULL
  );
  CREATE UNIQUE INDEX rooms_public_name ON rooms(name_key) WHERE kind = 'public';
  CREATE TABLE members (
    room_id TEXT NOT NULL REFERENCES rooms(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    joined_at BIGINT NOT NULL,
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
  );
  CREATE INDEX members_by_user ON members(user_id);
  CREATE TABLE messages (
    room_id TEXT NOT NULL REFERENCES rooms(id),
    seq BIGINT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'join', 'leave')),
    author_id TEXT NOT NULL,
    author_nickname TEXT NOT NULL,
    client_id TEXT,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    mentions TEXT[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (room_id, seq)
  );
  -- The idempotency key of sends: a retry of a stored message finds it instead of storing it twice.
  CREATE UNIQUE INDEX messages_by_client_id ON messages(author_id, client_id) WHERE client_id IS NOT NULL;
  CREATE TABLE mentions (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id, seq)
  );
  `,
  // 2: sessions by user ("sign out everywhere") and by expiry (the periodic purge), so neither
  // scans every session.
  `
  CREATE INDEX sessions_by_user ON sessions(user_id);
  CREATE INDEX sessions_by_expiry ON sessions(expires_at);
  `,
  // 3: messages that change (ADR 0009); the same as SQLite's migration 3, see there. Existing
  // versions equal seqs: every message stored so far was one change, its creation.
  `
  ALTER TABLE rooms ADD COLUMN last_version BIGINT NOT NULL DEFAULT 0;
  UPDATE rooms SET last_version = last_seq;
  ALTER TABLE messages ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN body_version BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN edited_at BIGINT;
  ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
  ALTER TABLE messages ADD COLUMN reply_to_id TEXT;
  UPDATE messages SET version = seq, body_version = seq;
  CREATE UNIQUE INDEX messages_by_version ON messages(room_id, version);
  CREATE TABLE reactions (
    room_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    emoji TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (room_id, seq, emoji, user_id)
  );
  `,
  // 4: message search (searchMessages; the rule is `matchesTerm` in @parley/shared; SQLite's side
  // and why both look as they do: docs/decisions/0012-message-search.md).
  // - `search_order`: the commit order (an identity, taken at insert, which appends to one room take
  //   under the room's row lock, so it grows with seq within a room). Existing messages are numbered
  //   by time, but never out of seq order within a room (a clock that stepped back must not reorder
  //   a room's own messages), before the identity takes over above them.
  // - Substrings from three characters: pg_trgm's GIN index serves ILIKE. Its operator class is
  //   named with the schema the extension lives in, which need not be on this connection's
  //   search_path (an extension is one per database; it may have been installed in another schema).
  // - Word prefixes and short CJK terms: a GIN index on `search_keys(body)`, the one- and
  //   two-character prefixes of every word, words split exactly where the shared rule splits them
  //   (WORD_CHAR, as code point ranges), and every CJK character and pair of neighbours with one
  //   (the CJK ranges likewise). Not a tsvector: PostgreSQL's text-search parser keeps "foo.bar",
  //   "3.14", "a@b.com" and URL paths as one token each, so a word after a dot or a slash would not
  //   be found by its prefix, where the rule finds it. The ranges are those of the Node.js that
  //   first ran this migration; a later Unicode version's new letters only differ in being word
  //   characters for the rule and not yet for the index.
  // All three indexes cover only what search can return (text, not deleted).
  `
  ALTER TABLE messages ADD COLUMN search_order BIGINT;
  UPDATE messages m SET search_order = o.n
  FROM (
    SELECT room_id, seq, row_number() OVER (ORDER BY committed_by, room_id, seq) AS n
    FROM (SELECT room_id, seq, MAX(created_at) OVER (PARTITION BY room_id ORDER BY seq) AS committed_by FROM messages) c
  ) o
  WHERE m.room_id = o.room_id AND m.seq = o.seq;
  ALTER TABLE messages ALTER COLUMN search_order SET NOT NULL;
  ALTER TABLE messages ALTER COLUMN search_order ADD GENERATED ALWAYS AS IDENTITY;
  SELECT setval(pg_get_serial_sequence('messages', 'search_order'), COALESCE(MAX(search_order), 0) + 1, false) FROM messages;
  CREATE INDEX messages_search_order ON messages (search_order) WHERE kind = 'text' AND deleted_at IS NULL;

  DO $$
  DECLARE trgm_schema TEXT;
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    EXECUTE format(
      'CREATE INDEX messages_search_trigrams ON messages USING gin (body %I.gin_trgm_ops) WHERE kind = ''text'' AND deleted_at IS NULL',
      trgm_schema
    );
  END $$;

  CREATE FUNCTION search_keys(body TEXT) RETURNS TEXT[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
    SELECT COALESCE(array_agg(DISTINCT k), '{}') FROM (
      SELECT left(w, n) AS k
      FROM regexp_split_to_table(lower(body), '[^${wordCharClass()}]+') AS w, (VALUES (1), (2)) AS l(n)
      WHERE w <> ''
      UNION ALL
      SELECT substr(b, i, n)
      FROM (SELECT lower(body) AS b WHERE body ~ '[${cjkCharClass()}]') AS x,
        generate_series(1, length(x.b)) AS i, (VALUES (1), (2)) AS l(n)
      WHERE substr(b, i, n) ~ '[${cjkCharClass()}]' AND length(substr(b, i, n)) = n AND substr(b, i, n) !~ '[[:space:]]'
    ) AS keys
  $fn$;
  CREATE INDEX messages_search_keys ON messages USING gin (search_keys(body)) WHERE kind = 'text' AND deleted_at IS NULL;
  -- Ten times the default sample of keys: a rare key the statistics do not list is estimated as
  -- common as the rarest they do, and the planner then walks messages_search_order backwards through
  -- the whole history looking for it instead of reading its few rows from the GIN index.
  ALTER INDEX messages_search_keys ALTER COLUMN 1 SET STATISTICS 1000;
  `,
  // 5: attachments (ADR 0014); the same as SQLite's migration 5, see there.
  `
${attachmentsSchema("BIGINT", "search_order")}  `,
  // 6: moderation (ADR 0016); the same as SQLite's migration 6, see there, plus the wider check on
  // message kinds (SQLite's table never had one) and the accounts' creation order.
  `
  ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
  ALTER TABLE messages ADD CONSTRAINT messages_kind_check CHECK (kind IN ('text', 'join', 'leave', 'system'));
  -- The order accounts were created in, for "the first account is an admin": two sign-ups in the
  -- same millisecond have the same created_at. (SQLite has its rowid for this.)
  ALTER TABLE users ADD COLUMN created_order BIGINT GENERATED ALWAYS AS IDENTITY;
${moderationSchema({ int: "BIGINT", serial: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" })}  `,
  // 7: profiles, last seen, notification levels (issue 14; profiles-schema.ts). Moderation is 6.
  `
${profilesSchema("BIGINT")}  `,
];
