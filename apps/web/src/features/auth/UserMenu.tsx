import type { User } from "@parley/shared";
import { useT } from "../../i18n/index.js";
import { signOut } from "../../realtime/session.js";
import { Avatar } from "../../ui/Avatar.js";
import { LogOutIcon } from "../../ui/icons.js";

/**
 * The signed-in user's name with the sign-out button. It lives in the chat header; phones, whose
 * header has no room for it next to the room name, show the `sidebar` copy at the foot of the
 * drawer instead (CSS picks one; the test id stays on the header copy only).
 */
export function UserMenu({ user, placement = "header" }: { user: User; placement?: "header" | "sidebar" }) {
  const t = useT();
  return (
    <div className={`user-menu in-${placement}`}>
      <Avatar userId={user.id} nickname={user.nickname} size={32} online />
      <span className="user-name" title={t("auth.signedInAs", { name: user.nickname })} data-testid={placement === "header" ? "current-user" : undefined}>
        {user.nickname}
      </span>
      <button type="button" className="icon-button" onClick={() => void signOut()} aria-label={t("auth.signOut")} title={t("auth.signOut")}>
        <LogOutIcon />
      </button>
    </div>
  );
}
