import type { Availability, Profile } from "@parley/shared";
import type { Dialect } from "./queries.js";

/**
 * The SQL of profiles, notification levels and last seen (issue 14), shared by both backends like
 * queries.ts (kept apart so that its merges stay simple).
 */

export interface ProfileRow {
  id: string;
  nickname: string;
  display_name: string | null;
  status_text: string | null;
  availability: Availability;
  avatar_id: string | null;
  last_seen_at: number | null;
}

export const PROFILE_COLUMNS = "id, nickname, display_name, status_text, availability, avatar_id, last_seen_at";

export const toProfile = (r: ProfileRow): Profile => ({
  id: r.id,
  nickname: r.nickname,
  displayName: r.display_name,
  statusText: r.status_text,
  availability: r.availability,
  avatarId: r.avatar_id,
  lastSeenAt: r.last_seen_at,
});

/** A change to a profile's own fields; undefined keeps a field, null clears a text. */
export interface ProfilePatch {
  displayName?: string | null;
  statusText?: string | null;
  availability?: Availability;
}

/** A stored avatar: its id (in URLs) and the blob of its WebP square. */
export interface AvatarRecord {
  avatarId: string;
  blobHash: string;
}

export interface ProfileQueries {
  /** (user ids as the dialect's list) -> ProfileRow[] */
  profilesByIds: string;
  /**
   * (user_id, user_id, limit) -> ProfileRow[]: the user's own profile, and those of users sharing a
   * room with them who set anything (what `session:sync` sends).
   */
  profilesForSync: string;
  /**
   * (display_name given?, display_name, status_text given?, status_text, availability or null,
   * id) -> ProfileRow: a patch in one statement; a "given" flag of 0 keeps the column.
   */
  updateProfile: string;
  /** (avatar_id, avatar_hash, id) -> ProfileRow */
  setAvatar: string;
  /** (user_id, upload_bytes, created_at) */
  insertAvatarUpload: string;
  /** (id) -> { avatar_id, avatar_hash } */
  avatarOf: string;
  /** (last_seen_at, id) */
  setLastSeen: string;
  /** (notify_level, room_id, user_id) */
  setNotifyLevel: string;
}

export function profileQueries(d: Dialect & { inTextList(expr: string, n: number): string }): ProfileQueries {
  const p = d.param;
  return {
    profilesByIds: `SELECT ${PROFILE_COLUMNS} FROM users WHERE ${d.inTextList("id", 1)}`,
    profilesForSync: `SELECT ${PROFILE_COLUMNS} FROM users u WHERE u.id = ${p(1)} OR u.id IN (
        SELECT o.user_id FROM members me JOIN members o ON o.room_id = me.room_id
        WHERE me.user_id = ${p(2)}
      ) AND (u.display_name IS NOT NULL OR u.status_text IS NOT NULL OR u.avatar_id IS NOT NULL OR u.availability <> 'online')
      LIMIT ${p(3)}`,
    updateProfile: `UPDATE users SET
        display_name = CASE WHEN ${p(1)} = 1 THEN ${p(2)} ELSE display_name END,
        status_text = CASE WHEN ${p(3)} = 1 THEN ${p(4)} ELSE status_text END,
        availability = COALESCE(${p(5)}, availability)
      WHERE id = ${p(6)} RETURNING ${PROFILE_COLUMNS}`,
    setAvatar: `UPDATE users SET avatar_id = ${p(1)}, avatar_hash = ${p(2)} WHERE id = ${p(3)} RETURNING ${PROFILE_COLUMNS}`,
    insertAvatarUpload: `INSERT INTO avatar_uploads (user_id, upload_bytes, created_at) VALUES (${p(1)}, ${p(2)}, ${p(3)})`,
    avatarOf: `SELECT avatar_id, avatar_hash FROM users WHERE id = ${p(1)}`,
    setLastSeen: `UPDATE users SET last_seen_at = ${p(1)} WHERE id = ${p(2)}`,
    setNotifyLevel: `UPDATE members SET notify_level = ${p(1)} WHERE room_id = ${p(2)} AND user_id = ${p(3)}`,
  };
}

/** Parameters of `updateProfile` for a patch. */
export function updateProfileParams(userId: string, patch: ProfilePatch): (string | number | null)[] {
  return [
    patch.displayName !== undefined ? 1 : 0,
    patch.displayName ?? null,
    patch.statusText !== undefined ? 1 : 0,
    patch.statusText ?? null,
    patch.availability ?? null,
    userId,
  ];
}
