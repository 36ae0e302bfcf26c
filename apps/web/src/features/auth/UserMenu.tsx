import { Suspense, lazy, useState } from "react";
import type { User } from "@parley/shared";
import { errorText, LOCALES, setLocale, useLocale, usePendingLocale, useT, type Locale } from "../../i18n/index.js";
import { signOut, signOutEverywhere } from "../../realtime/session.js";
import { UserAvatar } from "../profiles/UserAvatar.js";
import { GlobeIcon, LogOutIcon } from "../../ui/icons.js";

/** Opened on demand (with the avatar upload it brings): loaded on first use, not on the first visit. */
const ProfileDialog = lazy(() => import("../profiles/ProfileDialog.js").then((m) => ({ default: m.ProfileDialog })));

/**
 * The signed-in user's name, the language switch, the sign-out button and "end all sessions" (sign out everywhere). It lives in the chat header; phones, whose
 * header has no room for it next to the room name, show the `sidebar` copy at the foot of the
 * drawer instead (CSS picks one; the test id stays on the header copy only).
 */
export function UserMenu({ user, placement = "header" }: { user: User; placement?: "header" | "sidebar" }) {
  const t = useT();
  const [ending, setEnding] = useState(false);
  const [editing, setEditing] = useState(false);
  const [endError, setEndError] = useState<string | null>(null);
  const endAll = async () => {
    setEnding(true);
    setEndError(null);
    const result = await signOutEverywhere();
    // On success this component unmounts with the signed-in view; only a failure is left to show.
    if (!result.ok) {
      setEnding(false);
      setEndError(errorText(result.code));
    }
  };
  return (
    <div className={`user-menu in-${placement}`}>
      <button
        type="button"
        className="user-menu-profile"
        onClick={() => setEditing(true)}
        title={`${t("auth.signedInAs", { name: user.nickname })} · ${t("profile.edit")}`}
        data-testid={placement === "header" ? "edit-profile" : undefined}
      >
        <UserAvatar userId={user.id} nickname={user.nickname} size={32} online />
        <span className="user-name" data-testid={placement === "header" ? "current-user" : undefined}>
          {user.nickname}
        </span>
        {/* Named by its visible text plus what it does (WCAG 2.5.3, label in name), not an aria-label. */}
        <span className="visually-hidden"> {t("profile.edit")}</span>
      </button>
      {editing && (
        <Suspense fallback={null}>
          <ProfileDialog onClose={() => setEditing(false)} />
        </Suspense>
      )}
      <LanguageSelect testId={placement === "header" ? "language-select" : undefined} />
      <button type="button" className="icon-button" onClick={() => void signOut()} aria-label={t("auth.signOut")} title={t("auth.signOut")}>
        <LogOutIcon />
      </button>
      <button
        type="button"
        className="icon-button"
        onClick={() => void endAll()}
        disabled={ending}
        aria-label={t("auth.endAllSessions")}
        title={`${t("auth.endAllSessions")}: ${t("auth.endAllSessionsHint")}`}
      >
        <EndAllSessionsIcon />
      </button>
      {endError && (
        <span role="alert" className="user-menu-error">
          {endError}
        </span>
      )}
    </div>
  );
}

/**
 * A native select: keyboard, screen readers and phones' pickers come for free. The choice applies
 * at once (once its dictionary has loaded, the first time) and is remembered for the next visit
 * (setLocale). While the dictionary loads the select already shows the choice, busy; if it cannot
 * load (offline) the select goes back to the language the UI still speaks.
 */
export function LanguageSelect({ testId }: { testId?: string | undefined }) {
  const t = useT();
  const locale = useLocale();
  const pending = usePendingLocale();
  return (
    <label className="language-select" title={t("language.label")}>
      <GlobeIcon />
      <select
        value={pending ?? locale}
        aria-label={t("language.label")}
        aria-busy={pending !== null}
        onChange={(e) => void setLocale(e.currentTarget.value as Locale, { remember: true })}
        data-testid={testId}
      >
        {LOCALES.map((tag) => (
          // Each option is named in its own language (and tagged so a screen reader reads it so).
          <option key={tag} value={tag} lang={tag}>
            {t(`language.${tag}`)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The sign-out arrow leaving a stack of screens: every device, not just this one. */
function EndAllSessionsIcon() {
  return (
    <svg width={18} height={18} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <rect x="2" y="6" width="11" height="14" rx="2" />
      <path d="M6 3h8a2 2 0 0 1 2 2" />
      <path d="M17 17l4-4-4-4M21 13H10" />
    </svg>
  );
}
