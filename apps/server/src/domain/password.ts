import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** scrypt's cost parameters; stored with every hash (`scrypt$N$r$p$salt$key`). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * OWASP's current minimum for scrypt (Password Storage Cheat Sheet): N=2^17, r=8, p=1. That is
 * 128 MiB per hash (128 * N * r bytes) and ~0.4-1 s on this 2-core machine; it runs on libuv's
 * thread pool (4 threads by default), so sign-ins never block the event loop and at most 4 hashes,
 * 512 MiB, are in flight. The sign-in rate limits (issue 10) run before scrypt, so guessing cannot
 * turn this cost against the server. Parameters are stored with each hash and a sign-in re-hashes
 * when they differ from these, so raising them later upgrades accounts as their owners sign in.
 */
export const DEFAULT_PASSWORD_PARAMS: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // Node refuses more than 32 MiB unless maxmem says otherwise; twice the need leaves headroom.
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r * 2 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_PASSWORD_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return ["scrypt", params.N, params.r, params.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [algo, n, r, p, salt, hash] = stored.split("$");
  if (algo !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(password, Buffer.from(salt, "base64url"), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** True when `stored` was made with other parameters than `params` (or in another format): re-hash it. */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_PASSWORD_PARAMS): boolean {
  const [algo, n, r, p] = stored.split("$");
  return algo !== "scrypt" || Number(n) !== params.N || Number(r) !== params.r || Number(p) !== params.p;
}
