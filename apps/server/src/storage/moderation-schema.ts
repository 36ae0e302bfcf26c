/**
 * Migration 6 of both backends (moderation, ADR 0016), written once: they differ only in their
 * 64-bit integer type, how a boolean column is declared, and how an auto-numbered key is. Shipped:
 * never edit, add a migration.
 *
 * - `members.role`: owner / moderator / member. The creator of a public room becomes its owner (for
 *   rooms created before this migration too: `rooms.created_by`).
 * - `rooms.topic`, `rooms.invite_only` (0/1 in both: an INTEGER, not PostgreSQL's BOOLEAN, so the shared queries
 *   and the row mapping are one).
 * - `messages.deleted_by`: who deleted a message (its author, or a moderator: "removed by a moderator").
 * - `users.deactivated_at`: an admin deactivated the account; its sessions no longer authenticate.
 * - `bans`, `mutes` (one user hides another, for themselves), `reports` (one per reporter and
 *   message: a repeated report finds the first), `audit_log` (every moderation action; `n` orders it).
 */
export const moderationSchema = (dialect: { int: "INTEGER" | "BIGINT"; serial: string }): string => `
  ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'moderator', 'member'));
  UPDATE members SET role = 'owner'
    WHERE EXISTS (SELECT 1 FROM rooms r WHERE r.id = members.room_id AND r.kind = 'public' AND r.created_by = members.user_id);
  ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
  ALTER TABLE rooms ADD COLUMN invite_only INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN deleted_by TEXT;
  ALTER TABLE users ADD COLUMN deactivated_at ${dialect.int};
  CREATE TABLE bans (
    room_id TEXT NOT NULL REFERENCES rooms(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    banned_by TEXT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    created_at ${dialect.int} NOT NULL,
    PRIMARY KEY (room_id, user_id)
  );
  CREATE TABLE mutes (
    user_id TEXT NOT NULL REFERENCES users(id),
    muted_id TEXT NOT NULL REFERENCES users(id),
    created_at ${dialect.int} NOT NULL,
    PRIMARY KEY (user_id, muted_id)
  );
  CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms(id),
    message_id TEXT NOT NULL,
    reporter_id TEXT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    created_at ${dialect.int} NOT NULL,
    resolved_at ${dialect.int},
    resolved_by TEXT REFERENCES users(id)
  );
  CREATE UNIQUE INDEX reports_once ON reports(message_id, reporter_id);
  CREATE INDEX reports_by_room ON reports(room_id, created_at);
  CREATE TABLE audit_log (
    n ${dialect.serial},
    room_id TEXT,
    actor_id TEXT NOT NULL REFERENCES users(id),
    action TEXT NOT NULL,
    target_id TEXT,
    message_id TEXT,
    detail TEXT NOT NULL,
    created_at ${dialect.int} NOT NULL
  );
  CREATE INDEX audit_by_room ON audit_log(room_id, n);
`;
