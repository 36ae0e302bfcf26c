import { createHash, randomBytes, randomUUID } from "node:crypto";
import { DEFAULT_ROOM_ID, type User } from "@parley/shared";
import { StorageConflictError, type Storage } from "../storage/storage.js";
import { DomainError } from "./errors.js";
import { DEFAULT_PASSWORD_PARAMS, hashPassword, needsRehash, verifyPassword, type ScryptParams } from "./password.js";

export interface AuthResult {
  user: User;
  created: boolean;
  /** The session token for the cookie; only its hash is stored. */
  token: string;
  expiresAt: number;
}

export interface AuthServiceOptions {
  sessionTtlMs: number;
  now?: () => number;
  /** Called after an account was created (the room service posts the "joined" notice). */
  onUserCreated?: (user: User) => Promise<void>;
  /** scrypt parameters for new hashes (default: OWASP's minimum); tests pass cheap ones. */
  passwordParams?: ScryptParams;
}

/** Same nickname but for case (and compatibility forms): what may sign in to an account. */
const sameSpelling = (a: string, b: string) => a.normalize("NFKC").toLowerCase() === b.normalize("NFKC").toLowerCase();
const lookAlike = () => new DomainError("NICKNAME_TAKEN", "That nickname looks too much like an existing one. Choose another.");

const hashToken = (token: string) => createHash("sha256").update(token).digest("base64url");

/** Accounts and sessions. A new nickname creates the account; an existing one needs its password. */
export class AuthService {
  private readonly now: () => number;
  private readonly passwordParams: ScryptParams;

  constructor(
    private readonly storage: Storage,
    private readonly options: AuthServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.passwordParams = options.passwordParams ?? DEFAULT_PASSWORD_PARAMS;
  }

  /** The clock sessions expire by (the socket layer arms its expiry timers with it). */
  readonly clock = (): number => this.now();

  /**
   * `nickname` and `password` must already be validated by the shared schemas. `beforeCreate` runs
   * before a new account's password is hashed (the per-IP account budget); it refuses by throwing.
   */
  async login(nickname: string, password: string, hooks: { beforeCreate?: () => Promise<void> } = {}): Promise<AuthResult> {
    let created = false;
    let record = await this.storage.findUserByNickname(nickname);
    // The lookup is by confusable skeleton: `аdmin` (Cyrillic а) finds `admin`. Only the same
    // spelling (any case) may sign in to it; a look-alike is refused before any password work.
    if (record && !sameSpelling(record.nickname, nickname)) throw lookAlike();
    if (!record) {
      // Rate limits on account creation run before the (costly) hash.
      await hooks.beforeCreate?.();
      const passwordHash = await hashPassword(password, this.passwordParams);
      try {
        record = await this.storage.createUser({ nickname, passwordHash });
        created = true;
      } catch (e) {
        // Two first sign-ins with one nickname raced; the loser signs in to the winner's account
        // only if the password matches, like any existing account.
        if (!(e instanceof StorageConflictError)) throw e;
        record = await this.storage.findUserByNickname(nickname);
        if (!record) throw e;
        if (!sameSpelling(record.nickname, nickname)) throw lookAlike();
      }
    }
    if (!created && !(await verifyPassword(password, record.passwordHash))) {
      throw new DomainError("WRONG_PASSWORD", "That nickname is taken and the password does not match.");
    }
    // Only after the password: a stranger must not learn which nicknames were deactivated.
    if (record.deactivatedAt !== null) throw new DomainError("ACCOUNT_DEACTIVATED", "This account was deactivated by an administrator.");
    // The only moment the plain password is at hand: upgrade a hash made with older parameters.
    if (!created && needsRehash(record.passwordHash, this.passwordParams)) {
      await this.storage.updatePasswordHash(record.id, await hashPassword(password, this.passwordParams));
    }
    const user: User = { id: record.id, nickname: record.nickname, createdAt: record.createdAt };
    if (created) {
      await this.storage.addMember(DEFAULT_ROOM_ID, user.id);
      await this.options.onUserCreated?.(user);
    }
    const token = randomBytes(32).toString("base64url");
    const expiresAt = this.now() + this.options.sessionTtlMs;
    await this.storage.createSession({ id: randomUUID(), userId: user.id, tokenHash: hashToken(token), expiresAt });
    return { user, created, token, expiresAt };
  }

  /** The user and session of a token, or null when it is unknown or expired. */
  async authenticate(token: string): Promise<{ user: User; sessionId: string; expiresAt: number } | null> {
    const session = await this.storage.findSession(hashToken(token), this.now());
    if (!session) return null;
    const user = await this.storage.getUser(session.userId);
    return user ? { user, sessionId: session.id, expiresAt: session.expiresAt } : null;
  }

  async currentUser(userId: string): Promise<User | null> {
    return this.storage.getUser(userId);
  }

  /** Ends a session; returns its id so that its open sockets can be disconnected. */
  async logout(token: string): Promise<string | null> {
    return (await this.storage.deleteSession(hashToken(token)))?.id ?? null;
  }

  /** "Sign out everywhere": ends every session of the user; returns how many there were. */
  async logoutAll(userId: string): Promise<number> {
    return this.storage.deleteUserSessions(userId);
  }

  /** Deletes sessions that have expired (they are already refused; this only reclaims the rows). */
  async purgeExpiredSessions(): Promise<number> {
    return this.storage.deleteExpiredSessions(this.now());
  }
}
