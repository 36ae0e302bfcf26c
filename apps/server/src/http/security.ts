import type { NextFunction, Request, RequestHandler, Response } from "express";
import helmet from "helmet";
import type { OriginPolicy } from "./origin.js";

/**
 * Security headers (helmet). The CSP allows scripts and styles from this origin only:
 * - the built SPA (apps/web/dist/index.html) has no inline <script> or <style>; Vite emits one
 *   module script and one stylesheet under /assets;
 * - React's `style={...}` props are applied through the CSSOM (`element.style.setProperty`),
 *   which CSP does not govern, so `style-src 'self'` needs no 'unsafe-inline';
 * - `connect-src 'self'` covers the Socket.IO websocket to the same host (CSP Level 3 matches
 *   ws:/wss: for 'self');
 * - `frame-ancestors 'none'`: no page may frame Parley (clickjacking).
 * HSTS and `upgrade-insecure-requests` are sent only on HTTPS requests: on a plain-http deployment
 * (local use, the e2e suite) they would send the browser to an https:// that does not exist.
 */
export function securityHeaders(): RequestHandler {
  const directives = (https: boolean) => ({
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", "data:"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", "data:"],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'"],
    upgradeInsecureRequests: https ? [] : null,
  });
  const common = {
    referrerPolicy: { policy: "no-referrer" as const },
    // X-Frame-Options for browsers that predate frame-ancestors.
    frameguard: { action: "deny" as const },
  };
  const overHttps = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: directives(true) },
    strictTransportSecurity: { maxAge: 365 * 24 * 60 * 60, includeSubDomains: false },
  });
  const overHttp = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: directives(false) },
    strictTransportSecurity: false,
  });
  // `req.secure` honours `trust proxy`, so HTTPS terminated at a proxy counts as HTTPS.
  return (req, res, next) => (req.secure ? overHttps : overHttp)(req, res, next);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses a state-changing request (any method but GET/HEAD/OPTIONS) that a page of another origin
 * made: `Sec-Fetch-Site: cross-site`, or an `Origin` header outside the allowlist (which also
 * catches a sibling subdomain or another port, both "same-site"). A request with neither header
 * is a non-browser client and passes (see OriginPolicy). SameSite=Lax alone would let a sibling
 * subdomain sign a user out or in (login CSRF).
 */
export function refuseCrossSiteWrites(policy: OriginPolicy, onRefused: (req: Request, res: Response) => void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const fetchSite = req.headers["sec-fetch-site"];
    if (fetchSite === "cross-site" || !policy.allows(req.headers.origin, req.headers.host)) return onRefused(req, res);
    next();
  };
}
