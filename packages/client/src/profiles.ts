import type { Profile } from "@parley/shared";
import type { ChatState } from "./state.js";

/**
 * Pure reducers of the profiles the client holds (issue 14). The server sends the set profiles of
 * everyone sharing a room at each sync, every change live as `user:updated`, and any other on
 * request (`profiles:get`); a user the client holds no profile of shows as their nickname.
 */

/** After a sync: exactly the profiles it carried (one cleared while offline is not in it any more). */
export function replaceProfiles(state: ChatState, profiles: readonly Profile[]): ChatState {
  const byId: ChatState["profiles"] = {};
  for (const p of profiles) byId[p.id] = p;
  return { ...state, profiles: byId, users: { ...state.users, ...Object.fromEntries(profiles.map((p) => [p.id, p.nickname])) } };
}

/** A profile that arrived live or on request replaces the copy held. */
export function applyProfiles(state: ChatState, profiles: readonly Profile[]): ChatState {
  if (profiles.length === 0) return state;
  const byId = { ...state.profiles };
  for (const p of profiles) byId[p.id] = p;
  return { ...state, profiles: byId };
}

/**
 * A user went offline (presence) at `at`: their last seen moves there, so a profile card shows it
 * without asking (the server wrote the same moment, give or take the grace delay).
 */
export function markLastSeen(state: ChatState, userId: string, at: number): ChatState {
  const p = state.profiles[userId];
  if (!p) return state;
  return { ...state, profiles: { ...state.profiles, [userId]: { ...p, lastSeenAt: at } } };
}

/** The name to show for a user: their display name, else the nickname. */
export function displayNameOf(state: Pick<ChatState, "profiles">, userId: string, nickname: string): string {
  return state.profiles[userId]?.displayName ?? nickname;
}
