import { API, SESSION_COOKIE, type LoginRequest, type SessionResponse, type User } from "@parley/shared";

/**
 * Signs in over HTTP, straight to the server (not through the proxy: sign-in is not under test),
 * and returns the user and the `parley_session=<token>` pair for the socket handshake's Cookie header.
 */
export async function login(serverUrl: string, request: LoginRequest, { timeoutMs = 10_000 } = {}): Promise<{ user: User; cookie: string }> {
  const res = await fetch(serverUrl + API.login, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`login ${request.nickname}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as SessionResponse;
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (!cookie) throw new Error(`login ${request.nickname}: no ${SESSION_COOKIE} cookie in the response`);
  return { user: body.user, cookie };
}
