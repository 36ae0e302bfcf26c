/**
 * The profiles migration of both backends (issue 14), written once: they differ only in the type
 * of their 64-bit integers. It is migration 7 (moderation is 6): shipped, never edit, add a migration.
 *
 * - `users`: the profile (display name, status, availability), the current avatar (`avatar_id`, a
 *   new UUID per upload that clients put in the URL, and the blob of its WebP square), and
 *   `last_seen_at`, written when a node's last socket of the user went away.
 * - `members.notify_level`: which messages of the room notify this member (all, mentions, none).
 * - `avatar_uploads`: the bytes of each avatar upload, so the daily upload quota counts them with
 *   the attachments (an avatar is not a room file, so it has no attachments row).
 */
export const profilesSchema = (int: "INTEGER" | "BIGINT"): string => `
  ALTER TABLE users ADD COLUMN display_name TEXT;
  ALTER TABLE users ADD COLUMN status_text TEXT;
  ALTER TABLE users ADD COLUMN availability TEXT NOT NULL DEFAULT 'online' CHECK (availability IN ('online', 'away', 'dnd'));
  ALTER TABLE users ADD COLUMN avatar_id TEXT;
  ALTER TABLE users ADD COLUMN avatar_hash TEXT;
  ALTER TABLE users ADD COLUMN last_seen_at ${int};
  ALTER TABLE members ADD COLUMN notify_level TEXT NOT NULL DEFAULT 'all' CHECK (notify_level IN ('all', 'mentions', 'none'));
  CREATE TABLE avatar_uploads (
    user_id TEXT NOT NULL REFERENCES users(id),
    upload_bytes ${int} NOT NULL,
    created_at ${int} NOT NULL
  );
  CREATE INDEX avatar_uploads_by_user_time ON avatar_uploads(user_id, created_at);
`;
