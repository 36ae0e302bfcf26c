import type { CSSProperties } from "react";
import type { Availability } from "@parley/shared";
import { avatarHue, initials } from "../lib/avatar.js";

/**
 * A person's picture (`imageUrl`, their uploaded avatar) or, without one, a coloured circle with
 * their initials; the hue is hashed from the user id. The dot says online (green), away (amber) or
 * do not disturb (red) while they are connected, grey when they are not. Decorative: the name beside
 * it says who it is.
 */
export function Avatar({
  userId,
  nickname,
  size = 36,
  online,
  imageUrl,
  availability,
}: {
  userId: string;
  nickname: string;
  size?: number;
  online?: boolean;
  imageUrl?: string | null;
  availability?: Availability;
}) {
  const style = { "--avatar-hue": avatarHue(userId), "--avatar-size": `${size}px` } as CSSProperties;
  const dot = online ? `presence-dot online${availability && availability !== "online" ? ` ${availability}` : ""}` : "presence-dot";
  return (
    <span className={imageUrl ? "avatar has-image" : "avatar"} style={style} aria-hidden="true">
      {imageUrl ? <img className="avatar-image" src={imageUrl} alt="" width={size} height={size} loading="lazy" decoding="async" draggable={false} /> : initials(nickname)}
      {online !== undefined && <span className={dot} />}
    </span>
  );
}
