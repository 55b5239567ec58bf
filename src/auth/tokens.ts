/**
 * Token signing and verification with jose: HS256 only, always checked explicitly, so `alg: none`
 * and every other algorithm are refused. Access and refresh tokens carry `sub` (user id), `sid`
 * (session), `jti`, `iat`, `exp`, the user's name and role, and `use` to tell the two kinds apart.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Role } from '@memkv/client/protocol';
import { AuthError, type AuthFailure } from './auth-error.js';
import { isRole } from './users.js';

/** Source of wall-clock time in epoch ms (the engine's Clock has the same shape). */
export interface AuthClock {
  now(): number;
}

/** The two kinds of token. An access token opens routes; a refresh token only buys a new pair. */
export type TokenUse = 'access' | 'refresh';

/** The claims of a verified token. Times are epoch seconds, as in JWT. */
export interface TokenClaims {
  /** User id (stable across renames, new for a user deleted and created again). */
  sub: string;
  /** Session id: one per login, shared by the tokens that refreshes derive from it. */
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  name: string;
  role: Role;
  use: TokenUse;
}

/** What a token is issued for. */
export interface TokenSubject {
  userId: string;
  sessionId: string;
  username: string;
  role: Role;
}

/** A freshly signed token. */
export interface SignedToken {
  token: string;
  jti: string;
  /** Expiry in epoch ms (a whole second). */
  expiresAtMs: number;
}

export interface TokenSignerOptions {
  /** HMAC key: at least 32 bytes (a string is taken as UTF-8). */
  secret: Uint8Array | string;
  /** Lifetime of access tokens in ms (whole seconds are used; at least 1 s). */
  accessTtlMs: number;
  /** Lifetime of refresh tokens in ms (at least 1 s). */
  refreshTtlMs: number;
  /** Time source; default `Date.now`. Tests pass a manual clock to expire tokens. */
  clock?: AuthClock;
}

/** The one algorithm memkv signs and accepts. */
export const TOKEN_ALGORITHM = 'HS256';
/** `iss` of every memkv token. */
export const TOKEN_ISSUER = 'memkv';
/** Shortest secret accepted, in bytes (the HS256 output size). */
export const MIN_SECRET_BYTES = 32;
/** Longest token verified, in characters; anything longer is malformed without parsing it. */
const MAX_TOKEN_LENGTH = 4096;

/** jose's error codes, mapped to memkv's reasons. */
const JOSE_REASONS: Readonly<Record<string, AuthFailure>> = {
  ERR_JWT_EXPIRED: 'token_expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'bad_signature',
  ERR_JOSE_ALG_NOT_ALLOWED: 'algorithm_not_allowed',
  ERR_JOSE_NOT_SUPPORTED: 'algorithm_not_allowed',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'claims_invalid',
  ERR_JWS_INVALID: 'token_malformed',
  ERR_JWT_INVALID: 'token_malformed',
};

/** Signs and verifies memkv's tokens. */
export class TokenSigner {
  readonly #key: Uint8Array;
  readonly #accessTtlS: number;
  readonly #refreshTtlS: number;
  readonly #clock: AuthClock;

  /** @throws TypeError when the secret is shorter than 32 bytes or a lifetime is under 1 s. */
  constructor({ secret, accessTtlMs, refreshTtlMs, clock = { now: Date.now } }: TokenSignerOptions) {
    const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : Uint8Array.from(secret);
    if (key.length < MIN_SECRET_BYTES) throw new TypeError(`the token secret must be at least ${MIN_SECRET_BYTES} bytes; got ${key.length}`);
    for (const [name, ttlMs] of [['accessTtlMs', accessTtlMs], ['refreshTtlMs', refreshTtlMs]] as const) {
      if (!Number.isFinite(ttlMs) || ttlMs < 1000) throw new TypeError(`${name} must be at least 1000 ms; got ${ttlMs}`);
    }
    this.#key = key;
    this.#accessTtlS = Math.floor(accessTtlMs / 1000);
    this.#refreshTtlS = Math.floor(refreshTtlMs / 1000);
    this.#clock = clock;
  }

  /** Lifetime of access tokens, in seconds (the `expires_in` of a token answer). */
  get accessTtlSeconds(): number {
    return this.#accessTtlS;
  }

  /**
   * Signs a token of kind `use` for `subject`, valid from now for that kind's lifetime.
   * @param jti the token id; default a random UUID.
   */
  async sign(subject: TokenSubject, use: TokenUse, jti: string = randomUUID()): Promise<SignedToken> {
    const iat = Math.floor(this.#clock.now() / 1000);
    const exp = iat + (use === 'access' ? this.#accessTtlS : this.#refreshTtlS);
    const token = await new SignJWT({ sid: subject.sessionId, name: subject.username, role: subject.role, use })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setSubject(subject.userId)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.#key);
    return { token, jti, expiresAtMs: exp * 1000 };
  }

  /**
   * Verifies signature, algorithm, issuer, expiry and claims of a token of kind `use`.
   * Does not know about sessions or users: the caller checks those.
   * @throws AuthError with the precise reason.
   */
  async verify(token: string, use: TokenUse): Promise<TokenClaims> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new AuthError('token_malformed');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: TOKEN_ISSUER,
        currentDate: new Date(this.#clock.now()),
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new AuthError((typeof code === 'string' && JOSE_REASONS[code]) || 'token_malformed', { cause: error });
    }
    const { sub, sid, jti, iat, exp, name, role, use: tokenUse } = payload;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      typeof name !== 'string' ||
      !isRole(role)
    ) {
      throw new AuthError('claims_invalid');
    }
    if (tokenUse !== use) throw new AuthError('wrong_token_type');
    return { sub, sid, jti, iat, exp, name, role, use };
  }
}
