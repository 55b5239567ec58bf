/**
 * The auth service: accounts, login/refresh/logout over sessions, and `authorize`, the one
 * decision every transport calls (bearer header → identity → allowed for this access and key).
 * Pure: no HTTP framework, no keyspace, no files; durability comes from an injected `save`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Role, TokenPairJson } from '@memkv/client/protocol';
import { MemkvError, quoteKey } from '../errors.js';
import { AuthError } from './auth-error.js';
import type { AuthState, SharedAuthStore } from './auth-state.js';
import type { KeyMatcher } from './key-patterns.js';
import { checkScryptParams, hashPassword, verifyPassword, type ScryptParams } from './passwords.js';
import { DEFAULT_MAX_SESSIONS_PER_USER, SessionTable, type Session } from './sessions.js';
import { TokenSigner, type AuthClock } from './tokens.js';
import { UserDirectory, checkNewUser, describeBadPassword, type UserRecord } from './users.js';

/**
 * What an operation needs, as a route declares it:
 * - `public`: no token (login, refresh, the health check);
 * - `authenticated`: any valid access token (logout);
 * - `read`: any role; `write`: readwrite or admin; `admin`: admin only.
 * `read` and `write` on a key also need one of the user's key patterns to match it.
 */
export type Access = 'public' | 'authenticated' | 'read' | 'write' | 'admin';

/** Every access level, for validation of route declarations. */
export const ACCESS_LEVELS = ['public', 'authenticated', 'read', 'write', 'admin'] as const satisfies readonly Access[];

/** Who a valid access token speaks for. Immutable; cached per token. */
export interface Identity {
  readonly userId: string;
  readonly username: string;
  readonly role: Role;
  readonly sessionId: string;
  /** `jti` of the access token. */
  readonly tokenId: string;
  /** Expiry of the access token, epoch ms. */
  readonly expiresAtMs: number;
  /** Key matcher of the user; `null` = every key. */
  readonly keyMatcher: KeyMatcher | null;
}

/** Fields of a new account. `keys` defaults to `["*"]`. */
export interface NewUser {
  username: string;
  password: string;
  role: Role;
  keys?: readonly string[];
}

export interface AuthServiceOptions {
  /** HMAC key of the tokens, at least 32 bytes. */
  secret: Uint8Array | string;
  /** Access token lifetime in ms (>= 1000). */
  accessTokenTtlMs: number;
  /** Refresh token lifetime in ms (>= the access token lifetime). */
  refreshTokenTtlMs: number;
  /** scrypt cost of new password hashes; default `SCRYPT_DEFAULTS` of passwords.ts. Tests lower it. */
  scrypt?: Partial<ScryptParams>;
  /** Time source; default `Date.now`. */
  clock?: AuthClock;
  /** State to resume from (users and open sessions). */
  state?: AuthState;
  /**
   * Writes the state durably; called after every change, one call at a time, and awaited before
   * the change is acknowledged. Omitted: state lives in memory only.
   */
  save?: (state: AuthState) => Promise<void>;
  /** Most open sessions per user; default 64 (opening one more closes the oldest). */
  maxSessionsPerUser?: number;
  /**
   * State shared by several processes (STORAGE=redis), in place of `state` and `save`: every
   * change is written there (a change that lost a race with another process is done again on the
   * new state), and every request first checks its version, so that a logout or a revocation in
   * any process takes effect in all at once.
   */
  shared?: SharedAuthStore;
}

/** A shared save that lost the race with another process: the change is done again. */
const CONFLICT = Symbol('memkv.authStateConflict');
/** Attempts of one change against shared state before giving up (503). */
const MAX_ATTEMPTS = 20;

/** Largest number of verified tokens remembered; the cache is cleared when it is reached. */
const VERIFIED_CACHE_LIMIT = 10_000;
/** `Bearer <token>`: the scheme is case-insensitive (RFC 7235), the token is RFC 6750's b64token. */
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/** Creates an auth service. See {@link AuthServiceOptions}. */
export function createAuthService(options: AuthServiceOptions): AuthService {
  return new AuthService(options);
}

export class AuthService {
  readonly #tokens: TokenSigner;
  readonly #clock: AuthClock;
  readonly #scrypt: ScryptParams;
  #users: UserDirectory;
  #sessions: SessionTable;
  readonly #maxSessionsPerUser: number;
  readonly #save: ((state: AuthState) => Promise<void>) | undefined;
  readonly #shared: SharedAuthStore | undefined;
  /** Version of the shared state held here; -1 before the first load. */
  #sharedVersion = -1;
  /** Changes of shared state run one at a time in this process. */
  #lock: Promise<void> = Promise.resolve();
  /** Hash of a random password, checked when a login names no user, so both cases take as long. */
  readonly #decoyHash: Promise<string>;
  /** Verified access tokens: signature and claims are checked once per token, not per request. */
  readonly #verified = new Map<string, Identity>();
  /** A save that has not started yet; changes made before it starts are in it. */
  #queuedSave: Promise<void> | undefined;
  #lastSave: Promise<void> = Promise.resolve();

  /** @throws TypeError on a bad secret, lifetime or scrypt parameter. */
  constructor(options: AuthServiceOptions) {
    const { secret, accessTokenTtlMs, refreshTokenTtlMs, clock = { now: Date.now }, state, save, shared } = options;
    if (shared !== undefined && (state !== undefined || save !== undefined)) throw new TypeError('give shared, or state and save, not both');
    if (refreshTokenTtlMs < accessTokenTtlMs) {
      throw new TypeError(`refreshTokenTtlMs (${refreshTokenTtlMs}) must be at least accessTokenTtlMs (${accessTokenTtlMs})`);
    }
    this.#tokens = new TokenSigner({ secret, accessTtlMs: accessTokenTtlMs, refreshTtlMs: refreshTokenTtlMs, clock });
    this.#clock = clock;
    this.#scrypt = checkScryptParams(options.scrypt);
    this.#users = new UserDirectory(state?.users);
    this.#maxSessionsPerUser = options.maxSessionsPerUser ?? DEFAULT_MAX_SESSIONS_PER_USER;
    this.#sessions = new SessionTable(state?.sessions, this.#maxSessionsPerUser);
    this.#save = save;
    this.#shared = shared;
    this.#decoyHash = hashPassword(randomBytes(18).toString('base64url'), this.#scrypt);
  }

  // ---- Authorization: the per-request decision ----

  /**
   * Decides a request: reads the bearer token from the `Authorization` header value, checks it
   * (signature, algorithm, expiry, session still open) and checks that its user may perform
   * `access` on `key`. Leave `key` out when the operation names none or the key is not known yet
   * (then call {@link checkKey} once it is).
   *
   * @returns the identity, or `undefined` for `public` access (the header is not read).
   * @throws AuthError (401) for a missing, malformed, expired, revoked or badly signed token;
   *   MemkvError `forbidden` (403) for a valid token without the right.
   */
  readonly authorize = async (authorization: string | undefined, access: Access, key?: string): Promise<Identity | undefined> => {
    if (access === 'public') return undefined;
    const identity = await this.#identify(authorization);
    this.checkKey(identity, access, key);
    return identity;
  };

  /**
   * Checks that `identity` may perform `access` (on `key`, when given).
   * @throws MemkvError `forbidden`.
   */
  checkKey(identity: Identity, access: Access, key?: string): void {
    const { role } = identity;
    if (access === 'write' && role === 'readonly') {
      throw new MemkvError('forbidden', 'writing needs the readwrite or admin role; this token has the readonly role');
    }
    if (access === 'admin' && role !== 'admin') {
      throw new MemkvError('forbidden', `this operation needs the admin role; this token has the ${role} role`);
    }
    if (key !== undefined && identity.keyMatcher !== null && (access === 'read' || access === 'write') && !identity.keyMatcher(key)) {
      throw new MemkvError('forbidden', `this token does not grant access to key ${quoteKey(key)}`);
    }
  }

  async #identify(authorization: string | undefined): Promise<Identity> {
    if (authorization === undefined || authorization.length === 0) throw new AuthError('token_missing');
    const match = BEARER.exec(authorization);
    if (match === null) throw new AuthError('header_malformed');
    const token = match[1]!;
    // Another process may have closed the session or changed the user: one version read per request.
    if (this.#shared !== undefined) await this.#catchUp();
    let identity = this.#verified.get(token);
    if (identity === undefined) {
      const claims = await this.#tokens.verify(token, 'access');
      const user = this.#users.byId(claims.sub);
      if (user === undefined) throw new AuthError('token_revoked');
      identity = {
        userId: user.id,
        username: user.username,
        role: user.role,
        sessionId: claims.sid,
        tokenId: claims.jti,
        expiresAtMs: claims.exp * 1000,
        keyMatcher: this.#users.matcher(user.id),
      };
      if (this.#verified.size >= VERIFIED_CACHE_LIMIT) this.#verified.clear();
      this.#verified.set(token, identity);
    } else if (identity.expiresAtMs <= this.#clock.now()) {
      this.#verified.delete(token);
      throw new AuthError('token_expired');
    }
    // Logout, a password change and deleting the user all close the session: this revokes the token.
    if (this.#sessions.get(identity.sessionId)?.userId !== identity.userId) {
      this.#verified.delete(token);
      throw new AuthError('token_revoked');
    }
    return identity;
  }

  // ---- Sessions: login, refresh, logout ----

  /**
   * Checks a user name and password and opens a session.
   * @throws AuthError `bad_credentials` for an unknown user or a wrong password, alike and in
   *   about the same time.
   */
  login(username: string, password: string): Promise<TokenPairJson> {
    return this.#transaction(() => this.#login(username, password));
  }

  async #login(username: string, password: string): Promise<TokenPairJson> {
    const user = this.#users.byName(username);
    if (user === undefined) {
      await verifyPassword(password, await this.#decoyHash);
      throw new AuthError('bad_credentials');
    }
    const ok = await verifyPassword(password, user.passwordHash);
    // The account may have been deleted or changed while the hash was computed.
    if (!ok || this.#users.byName(username) !== user) throw new AuthError('bad_credentials');
    const now = this.#clock.now();
    this.#sessions.prune(now);
    const session: Session = { id: randomUUID(), userId: user.id, refreshJti: randomUUID(), expiresAtMs: now, createdAtMs: now };
    const pair = await this.#issue(user, session);
    this.#sessions.open(session);
    await this.#persist();
    return pair;
  }

  /**
   * Trades a refresh token for a new pair. The old refresh token stops working (rotation); using
   * it again closes the session (reuse detection), since only a copy can be behind it.
   * @throws AuthError (401).
   */
  refresh(refreshToken: string): Promise<TokenPairJson> {
    return this.#transaction(() => this.#refresh(refreshToken));
  }

  async #refresh(refreshToken: string): Promise<TokenPairJson> {
    const claims = await this.#tokens.verify(refreshToken, 'refresh');
    const session = this.#sessions.get(claims.sid);
    const user = this.#users.byId(claims.sub);
    if (session === undefined || user === undefined || session.userId !== user.id) throw new AuthError('token_revoked');
    if (session.refreshJti !== claims.jti) {
      this.#sessions.close(session.id);
      await this.#persist();
      throw new AuthError('refresh_token_reused');
    }
    // No await between the check above and this write: a second refresh with the same token fails.
    session.refreshJti = randomUUID();
    const pair = await this.#issue(user, session);
    await this.#persist();
    return pair;
  }

  /**
   * Closes the session of `identity`: its access token and every refresh token of the session stop
   * working. A refresh token given as well is revoked when it is valid and belongs to the same user
   * (it may come from another session); otherwise it is ignored, as it cannot be used anyway.
   */
  logout(identity: Identity, refreshToken?: string): Promise<void> {
    return this.#transaction(() => this.#logout(identity, refreshToken));
  }

  async #logout(identity: Identity, refreshToken?: string): Promise<void> {
    this.#sessions.close(identity.sessionId);
    if (refreshToken !== undefined) {
      try {
        const claims = await this.#tokens.verify(refreshToken, 'refresh');
        const session = this.#sessions.get(claims.sid);
        if (claims.sub === identity.userId && session?.userId === identity.userId) this.#sessions.close(session.id);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
      }
    }
    await this.#persist();
  }

  /** Signs a pair for `session`, whose `refreshJti` names the refresh token to sign. */
  async #issue(user: UserRecord, session: Session): Promise<TokenPairJson> {
    const subject = { userId: user.id, sessionId: session.id, username: user.username, role: user.role };
    const [access, refresh] = await Promise.all([
      this.#tokens.sign(subject, 'access'),
      this.#tokens.sign(subject, 'refresh', session.refreshJti),
    ]);
    session.expiresAtMs = refresh.expiresAtMs;
    return { access_token: access.token, refresh_token: refresh.token, token_type: 'Bearer', expires_in: this.#tokens.accessTtlSeconds };
  }

  // ---- Accounts ----

  /**
   * Makes sure `username` is an admin whose password is `password`: creates the account, or
   * updates its role or password (closing its sessions) when they differ. Called at start with
   * ADMIN_USER and ADMIN_PASSWORD, so configuration stays the way back into a locked-out server.
   */
  ensureAdmin(username: string, password: string): Promise<void> {
    return this.#transaction(() => this.#ensureAdmin(username, password));
  }

  async #ensureAdmin(username: string, password: string): Promise<void> {
    const existing = this.#users.byName(username);
    if (existing === undefined) {
      await this.#register({ username, password, role: 'admin' });
      return;
    }
    const passwordMatches = await verifyPassword(password, existing.passwordHash);
    if (passwordMatches && existing.role === 'admin' && existing.keys.length === 1 && existing.keys[0] === '*') return;
    checkNewUser({ username, password, role: 'admin', keys: ['*'] });
    const passwordHash = passwordMatches ? existing.passwordHash : await hashPassword(password, this.#scrypt);
    this.#users.replace({ ...existing, role: 'admin', keys: ['*'], passwordHash });
    this.#sessions.closeAllOf(existing.id);
    await this.#persist();
  }

  /**
   * Creates an account.
   * @throws MemkvError `invalid_request` for a bad field, `user_exists` when the name is taken.
   */
  register(user: NewUser): Promise<UserRecord> {
    return this.#transaction(() => this.#register(user));
  }

  async #register({ username, password, role, keys = ['*'] }: NewUser): Promise<UserRecord> {
    checkNewUser({ username, password, role, keys });
    if (this.#users.byName(username) !== undefined) throw new MemkvError('user_exists', `user ${JSON.stringify(username)} already exists`);
    const passwordHash = await hashPassword(password, this.#scrypt);
    const record: UserRecord = { id: randomUUID(), username, role, keys: [...new Set(keys)], passwordHash, createdAtMs: this.#clock.now() };
    this.#users.add(record);
    await this.#persist();
    return record;
  }

  /**
   * Sets a user's password and closes their sessions.
   * @throws MemkvError `user_not_found`, or `invalid_request` for a bad password.
   */
  changePassword(username: string, password: string): Promise<void> {
    return this.#transaction(() => this.#changePassword(username, password));
  }

  async #changePassword(username: string, password: string): Promise<void> {
    const problem = describeBadPassword(password);
    if (problem !== undefined) throw new MemkvError('invalid_request', problem);
    const user = this.#requireUser(username);
    const passwordHash = await hashPassword(password, this.#scrypt);
    const current = this.#requireUser(username);
    if (current.id !== user.id) throw new MemkvError('user_not_found');
    this.#users.replace({ ...current, passwordHash });
    this.#sessions.closeAllOf(current.id);
    await this.#persist();
  }

  /**
   * Deletes a user and closes their sessions. An admin cannot delete their own account, so the
   * server always keeps an admin.
   * @throws MemkvError `user_not_found`, or `invalid_request` for the caller's own account.
   */
  deleteUser(username: string, actor: Identity): Promise<void> {
    return this.#transaction(() => this.#deleteUser(username, actor));
  }

  async #deleteUser(username: string, actor: Identity): Promise<void> {
    const user = this.#requireUser(username);
    if (user.id === actor.userId) throw new MemkvError('invalid_request', 'an admin cannot delete their own account');
    this.#users.remove(username);
    this.#sessions.closeAllOf(user.id);
    await this.#persist();
  }

  /** Every account, sorted by name. */
  listUsers(): UserRecord[] {
    return this.#users.list();
  }

  #requireUser(username: string): UserRecord {
    const user = this.#users.byName(username);
    if (user === undefined) throw new MemkvError('user_not_found', `user ${JSON.stringify(username)} does not exist`);
    return user;
  }

  // ---- Durable state ----

  /** The current state (copies), without expired sessions. */
  snapshot(): AuthState {
    this.#sessions.prune(this.#clock.now());
    return { users: this.#users.list(), sessions: this.#sessions.list() };
  }

  /** Resolves once every change made so far is saved. */
  async flush(): Promise<void> {
    await this.#lastSave;
  }

  /** Saves after a change: one save at a time; changes made while one runs share the next. */
  #persist(): Promise<void> {
    if (this.#shared !== undefined) return this.#saveShared();
    const save = this.#save;
    if (save === undefined) return Promise.resolve();
    if (this.#queuedSave !== undefined) return this.#queuedSave;
    const queued = this.#lastSave.then(() => {
      this.#queuedSave = undefined;
      return save(this.snapshot());
    });
    this.#queuedSave = queued;
    this.#lastSave = queued.catch(() => undefined);
    return queued;
  }

  // ---- Shared state (several processes) ----

  /**
   * Runs a change: at once without shared state; with it, one change at a time in this process,
   * on the latest shared state, done again when another process saved first.
   */
  #transaction<T>(change: () => Promise<T>): Promise<T> {
    const shared = this.#shared;
    if (shared === undefined) return change();
    return this.#exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        if ((await shared.version()) !== this.#sharedVersion) await this.#reload();
        try {
          return await change();
        } catch (error) {
          if (error !== CONFLICT) throw error;
          if (attempt >= MAX_ATTEMPTS) {
            await this.#reload();
            throw new MemkvError('backend_unavailable', 'the auth state changed too often in other processes to apply this change; retry');
          }
          await this.#reload();
        }
      }
    });
  }

  /** Reloads the shared state when another process changed it since this one last saw it. */
  async #catchUp(): Promise<void> {
    if ((await this.#shared!.version()) === this.#sharedVersion) return;
    await this.#exclusive(async () => {
      if ((await this.#shared!.version()) !== this.#sharedVersion) await this.#reload();
    });
  }

  async #reload(): Promise<void> {
    const { state, version } = await this.#shared!.load();
    this.#users = new UserDirectory(state?.users);
    this.#sessions = new SessionTable(state?.sessions, this.#maxSessionsPerUser);
    this.#verified.clear();
    this.#sharedVersion = version;
  }

  async #saveShared(): Promise<void> {
    const version = await this.#shared!.save(this.snapshot(), this.#sharedVersion);
    if (version === undefined) throw CONFLICT;
    this.#sharedVersion = version;
  }

  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#lock.then(run);
    this.#lock = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
