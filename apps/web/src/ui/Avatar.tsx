import type { CSSProperties } from "react";
import { avatarHue, initials } from "../lib/avatar.js";

/** A coloured circle with the person's initials; the hue is hashed from the user id. */
export function Avatar({ userId, nickname, size = 36, online }: { userId: string; nickname: string; size?: number; online?: boolean }) {
  const style = { "--avatar-hue": avatarHue(userId), "--avatar-size": `${size}px` } as CSSProperties;
  return (
    <span className="avatar" style={style} aria-hidden="true">
      {initials(nickname)}
      {online !== undefined && <span className={online ? "presence-dot online" : "presence-dot"} />}
    </span>
  );
}
