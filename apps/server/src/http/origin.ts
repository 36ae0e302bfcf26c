/**
 * Which browser origins may talk to this server: the Socket.IO handshake (`allowRequest`, polling
 * and websocket alike) and every state-changing HTTP request go through the same policy.
 *
 * Why an allowlist and not SameSite alone: SameSite=Lax stops another *site*, but a sibling
 * subdomain or another port of the same host is the same site, and a websocket handshake is not
 * covered by CORS at all. Browsers always send `Origin` on a websocket handshake and on a
 * cross-origin or non-GET fetch, so an exact comparison is enough.
 *
 * A request WITHOUT an `Origin` header is allowed: browsers never omit it on the requests above,
 * so its absence means a non-browser client (a bot, curl, a test), which holds the session token
 * itself and cannot be tricked into using someone else's cookie.
 */
export interface OriginPolicy {
  /** True when a request carrying this `Origin` header (undefined: none) may proceed. */
  allows(origin: string | undefined, host: string | undefined): boolean;
}

export interface OriginPolicyOptions {
  /** The app's public URL (`PUBLIC_URL`); when unset the request's own Host header is the app's origin. */
  publicUrl?: string | undefined;
  /** More origins allowed exactly (`ALLOWED_ORIGINS`), already normalised by {@link normalizeOrigin}. */
  allowedOrigins?: readonly string[] | undefined;
}

/**
 * The serialised origin (`scheme://host[:port]`, lowercase, default port dropped) of an absolute
 * http(s) URL; throws on anything else, so a typo in the configuration stops the start-up.
 */
export function normalizeOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`not an http(s) origin: ${JSON.stringify(value)}`);
  return url.origin;
}

export function createOriginPolicy(options: OriginPolicyOptions = {}): OriginPolicy {
  const fixed = new Set(options.allowedOrigins ?? []);
  const publicOrigin = options.publicUrl ? normalizeOrigin(options.publicUrl) : undefined;
  if (publicOrigin) fixed.add(publicOrigin);
  return {
    allows(origin, host) {
      if (origin === undefined) return true;
      if (fixed.has(origin)) return true;
      if (publicOrigin || !host) return false;
      // No PUBLIC_URL: the page the browser shows was served by this host, so its origin is
      // http(s)://<Host header>. Either scheme: behind a TLS-terminating proxy the request that
      // reaches us is plain http while the page is https, and both name the same host and port.
      // Exact string comparison, so `localhost:3000.evil.example`, `evil-localhost:3000` or
      // another port never match; `null` (sandboxed frames, file:) never matches either.
      const h = host.toLowerCase();
      return origin === `http://${h}` || origin === `https://${h}`;
    },
  };
}

