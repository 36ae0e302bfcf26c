import type { User } from "@parley/shared";
import { useT } from "../../i18n/index.js";
import { signOut } from "../../realtime/session.js";
import { Avatar } from "../../ui/Avatar.js";
import { LogOutIcon } from "../../ui/icons.js";

/** The signed-in user's name with the sign-out button (bottom of the sidebar). */
export function UserMenu({ user }: { user: User }) {
  const t = useT();
  return (
    <div className="user-menu">
      <Avatar userId={user.id} nickname={user.nickname} size={32} online />
      <span className="user-name" title={t("auth.signedInAs", { name: user.nickname })} data-testid="current-user">
        {user.nickname}
      </span>
      <button type="button" className="icon-button" onClick={() => void signOut()} aria-label={t("auth.signOut")} title={t("auth.signOut")}>
        <LogOutIcon />
      </button>
    </div>
  );
}
