import { API } from "@parley/shared";
import { useChat } from "../../store/hooks.js";
import { Avatar } from "../../ui/Avatar.js";

/**
 * A user's avatar as their profile says (issue 14): their picture when they uploaded one, else
 * initials of their display name (or nickname); the presence dot shows their availability.
 */
export function UserAvatar({ userId, nickname, size, online }: { userId: string; nickname: string; size?: number; online?: boolean }) {
  const avatarId = useChat((s) => s.profiles[userId]?.avatarId ?? null);
  const displayName = useChat((s) => s.profiles[userId]?.displayName ?? null);
  const availability = useChat((s) => s.profiles[userId]?.availability ?? "online");
  return (
    <Avatar
      userId={userId}
      nickname={displayName ?? nickname}
      {...(size !== undefined && { size })}
      {...(online !== undefined && { online })}
      imageUrl={avatarId ? API.avatar(userId, avatarId) : null}
      availability={availability}
    />
  );
}

/** A user's display name, else their nickname. */
export function useDisplayName(userId: string, nickname: string): string {
  return useChat((s) => s.profiles[userId]?.displayName ?? nickname);
}
