import { API, type CurrentSessionResponse, type ErrorInfo, type SessionResponse, type User } from "@parley/shared";

/** The HTTP half of auth. The session cookie is httpOnly: the browser sends it, we never read it. */

export type AuthResult = { ok: true; user: User; created: boolean } | { ok: false; code: string; message: string };

async function readError(res: Response): Promise<{ code: string; message: string }> {
  try {
    const body = (await res.json()) as { error?: Partial<ErrorInfo> };
    return { code: body.error?.code ?? "INTERNAL", message: body.error?.message ?? res.statusText };
  } catch {
    return { code: res.status === 401 ? "UNAUTHENTICATED" : "INTERNAL", message: res.statusText };
  }
}

/** GET /api/auth/session: the signed-in user, or null. Throws on network or server errors. */
export async function fetchMe(): Promise<User | null> {
  const res = await fetch(API.session, { credentials: "same-origin", headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`GET ${API.session} failed with ${res.status}`);
  const body = (await res.json()) as CurrentSessionResponse;
  return body.user;
}

/** POST /api/auth/login: signs in, or creates the account when the nickname is new. */
export async function login(nickname: string, password: string): Promise<AuthResult> {
  let res: Response;
  try {
    res = await fetch(API.login, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ nickname, password }),
    });
  } catch {
    return { ok: false, code: "NETWORK", message: "" };
  }
  if (!res.ok) return { ok: false, ...(await readError(res)) };
  const body = (await res.json()) as SessionResponse;
  return { ok: true, user: body.user, created: body.created };
}

/** POST /api/auth/logout. Best effort: the local session ends whatever the server says. */
export async function logout(): Promise<void> {
  // Offline the request cannot go (and would log an error): the tab signs out locally.
  if (!navigator.onLine) return;
  try {
    await fetch(API.logout, { method: "POST", credentials: "same-origin" });
  } catch {
    // Offline: the cookie stays, but this tab is signed out; the next sign-in replaces it.
  }
}

/**
 * POST /api/auth/logout-all: ends every session of this account (all devices). Unlike `logout`
 * this must reach the server to mean anything, so it reports failure instead of ending locally.
 */
export async function logoutEverywhere(): Promise<{ ok: true } | { ok: false; code: string }> {
  if (!navigator.onLine) return { ok: false, code: "OFFLINE" };
  let res: Response;
  try {
    res = await fetch(API.logoutAll, { method: "POST", credentials: "same-origin" });
  } catch {
    return { ok: false, code: "OFFLINE" };
  }
  if (res.ok) return { ok: true };
  return { ok: false, code: (await readError(res)).code };
}
