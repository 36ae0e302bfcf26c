import { useId, useState, type FormEvent } from "react";
import { ERROR_CODES, LIMITS } from "@parley/shared";
import { errorText, t as translate, useT } from "../../i18n/index.js";
import { LanguageSelect } from "./UserMenu.js";
import { signIn } from "../../realtime/session.js";
import { useImeSafeEnter } from "../../lib/ime.js";

const knownCodes = new Set<string>(ERROR_CODES);

/** The translated sentence for a known code; the server's own sentence for anything else. */
function reasonText(code: string, serverMessage = ""): string {
  if (code === "NETWORK") return translate("auth.networkError");
  // A schema failure's own sentence ("Password must be at least 8 characters") says more than ours.
  if (code === "INVALID_PAYLOAD" && serverMessage) return serverMessage;
  return knownCodes.has(code) || !serverMessage ? errorText(code) : serverMessage;
}

/** One form that signs in, or creates the account when the nickname is new. */
export function SignInScreen({ reason }: { reason: string | null }) {
  const t = useT();
  // Enter that picks a Chinese (IME) candidate must not submit the form.
  const imeSafe = useImeSafeEnter();
  const [nickname, setNickname] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  // The code, not the sentence: switching the language beside the form translates a shown error too.
  const [error, setError] = useState<{ code: string; message?: string } | null>(() => (reason ? { code: reason } : null));
  const errorId = useId();
  const hintId = useId();

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    const result = await signIn(nickname, password);
    // On success this screen unmounts; only a failure needs local state.
    if (!result.ok) {
      setBusy(false);
      setError({ code: result.code, ...(result.message ? { message: result.message } : {}) });
    }
  }

  return (
    <main className="auth-screen">
      <LanguageSelect />
      <form className="auth-card" onSubmit={(e) => void onSubmit(e)} aria-describedby={error ? errorId : undefined} noValidate {...imeSafe}>
        <div className="auth-logo" aria-hidden="true">
          <svg viewBox="0 0 32 32" width="40" height="40">
            <rect width="32" height="32" rx="9" fill="var(--accent)" />
            <path d="M9 10h14a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2h-7l-5 4v-4H9a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2z" fill="#fff" />
          </svg>
        </div>
        <h1>{t("auth.title")}</h1>
        <p className="muted">{t("auth.subtitle")}</p>
        <label className="field">
          <span>{t("auth.nickname")}</span>
          <input
            name="nickname"
            autoComplete="username"
            autoCapitalize="off"
            spellCheck={false}
            required
            maxLength={LIMITS.nicknameMax}
            value={nickname}
            onChange={(e) => setNickname(e.target.value)}
            autoFocus
          />
        </label>
        <label className="field">
          <span>{t("auth.password")}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            minLength={LIMITS.passwordMin}
            maxLength={LIMITS.passwordMax}
            value={password}
            aria-describedby={hintId}
            onChange={(e) => setPassword(e.target.value)}
          />
          <small id={hintId} className="muted">
            {t("auth.passwordHint", { min: LIMITS.passwordMin })}
          </small>
        </label>
        {error && (
          <p id={errorId} className="form-error" role="alert">
            {reasonText(error.code, error.message)}
          </p>
        )}
        <button type="submit" className="button primary wide" disabled={busy}>
          {busy ? t("auth.submitting") : t("auth.submit")}
        </button>
      </form>
    </main>
  );
}
