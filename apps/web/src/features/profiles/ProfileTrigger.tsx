import { Suspense, lazy, useState, type ReactNode } from "react";
import { useT } from "../../i18n/index.js";
import { useChat } from "../../store/hooks.js";

/**
 * The card opens on a click, and many readers never open one: its code is a chunk loaded on the
 * first open (issue 15), not part of the first visit. Until it is in, the trigger shows as
 * expanded and nothing else (a flash of a spinner would be worse than a few milliseconds' wait).
 */
const ProfileCard = lazy(() => import("./ProfileCard.js").then((m) => ({ default: m.ProfileCard })));

/**
 * A button around a name or an avatar that opens the person's card. `className` styles it like
 * what it wraps (a message author's name, a member row).
 */
export function ProfileTrigger({
  userId,
  nickname,
  className,
  children,
  showsName = false,
}: {
  userId: string;
  nickname: string;
  className?: string;
  children: ReactNode;
  /**
   * The content shows the user's name: the button is then named by it, plus a hidden "profile"
   * (WCAG 2.5.3, label in name: an aria-label would hide the visible name from voice control).
   * Without a visible name (an avatar) the aria-label names it.
   */
  showsName?: boolean;
}) {
  const t = useT();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const name = useChat((s) => s.profiles[userId]?.displayName ?? nickname);
  return (
    <>
      <button
        type="button"
        className={`profile-trigger${className ? ` ${className}` : ""}`}
        aria-label={showsName ? undefined : t("profile.open", { name })}
        aria-haspopup="dialog"
        aria-expanded={anchor !== null}
        onClick={(e) => setAnchor((a) => (a ? null : e.currentTarget))}
      >
        {children}
        {showsName && <span className="visually-hidden">{t("profile.openSuffix")}</span>}
      </button>
      {anchor && (
        <Suspense fallback={null}>
          <ProfileCard userId={userId} nickname={nickname} anchor={anchor} onClose={() => setAnchor(null)} />
        </Suspense>
      )}
    </>
  );
}
