/**
 * openAuth(): the auth service from the configuration. Users and sessions are kept in their own
 * file in DB_PATH when persistence is on (apart from the keyspace and its log), and so is a
 * generated token secret; the admin account of ADMIN_USER / ADMIN_PASSWORD is made sure of.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createAuthService, type AuthService } from './auth/auth-service.js';
import { parseAuthState, serializeAuthState, type AuthState, type AuthStateDocument, type SharedAuthStore } from './auth/auth-state.js';
import type { Config } from './config/defaults.js';
import { MemkvError } from './errors.js';
import { readFileIfExists, writeFileAtomic } from './persistence/atomic-file.js';
import type { RedisStorage } from './storage/redis.js';

/** Name of the auth state file inside DB_PATH. */
export const AUTH_FILE = 'auth.json';

/** Thrown when the auth state file exists but cannot be used; the message tells the operator what to do. */
export class AuthStateError extends Error {
  override readonly name = 'AuthStateError';
}

/**
 * Opens the auth service for `config` (which must have auth enabled, hence an admin).
 * @throws AuthStateError when the auth file of DB_PATH is damaged.
 */
export async function openAuth(config: Config, logger: Logger, redis?: RedisStorage): Promise<AuthService> {
  if (config.adminUser === undefined || config.adminPassword === undefined) {
    throw new TypeError('openAuth needs adminUser and adminPassword');
  }
  if (redis !== undefined) return openSharedAuth(config, logger, redis);
  const path = join(config.dbPath, AUTH_FILE);
  let document: AuthStateDocument | undefined;
  if (config.persistenceEnabled) {
    const text = await readFileIfExists(path);
    if (text !== undefined) {
      try {
        document = parseAuthState(text);
      } catch (error) {
        throw new AuthStateError(
          `${path} is damaged: ${(error as Error).message}. Restore it from a backup, or remove it to start over ` +
            'with only the ADMIN_USER account (every other user and login is lost).',
        );
      }
    }
  }

  let secret: Uint8Array | string;
  let generatedSecret: string | undefined;
  if (config.jwtSecret !== undefined) {
    secret = config.jwtSecret;
  } else if (config.persistenceEnabled) {
    generatedSecret = document?.secret ?? randomBytes(32).toString('base64url');
    secret = Buffer.from(generatedSecret, 'base64url');
  } else {
    secret = randomBytes(32);
    logger.warn('JWT_SECRET is not set and persistence is off: tokens are signed with a random secret and stop working at restart');
  }

  const save = config.persistenceEnabled
    ? (state: AuthState) => writeFileAtomic(path, serializeAuthState({ ...state, secret: generatedSecret }))
    : undefined;
  const auth = createAuthService({
    secret,
    accessTokenTtlMs: config.accessTokenTtlMs,
    refreshTokenTtlMs: config.refreshTokenTtlMs,
    scrypt: { cost: config.passwordHashCost },
    ...(document === undefined ? {} : { state: document }),
    ...(save === undefined ? {} : { save }),
  });
  await auth.ensureAdmin(config.adminUser, config.adminPassword);
  // Written once at start as well: a new file, a new generated secret, expired sessions dropped.
  if (save !== undefined) await save(auth.snapshot());
  return auth;
}

/** Name of the shared document that holds users and sessions with STORAGE=redis (`P` + `doc:auth`). */
export const AUTH_DOCUMENT = 'auth';

/** Longest pause between two attempts to make sure of the admin account while Redis is unreachable, in ms. */
const ENSURE_ADMIN_RETRY_MS = 1_000;

/**
 * The auth service of STORAGE=redis: users and sessions in a Redis document that every front
 * shares (so a token from one front works on all, and a logout anywhere applies everywhere), and
 * JWT_SECRET, which the configuration requires in this mode. Redis may be unreachable at start:
 * the admin account is then made sure of in the background, once it is reachable.
 */
async function openSharedAuth(config: Config, logger: Logger, redis: RedisStorage): Promise<AuthService> {
  if (config.jwtSecret === undefined) throw new TypeError('STORAGE=redis with auth needs JWT_SECRET');
  const shared: SharedAuthStore = {
    version: () => redis.documentVersion(AUTH_DOCUMENT),
    async load() {
      const { text, version } = await redis.readDocument(AUTH_DOCUMENT);
      return { state: text === null ? undefined : parseAuthState(text), version };
    },
    save: (state, expectedVersion) => redis.writeDocument(AUTH_DOCUMENT, serializeAuthState(state), expectedVersion),
  };
  const auth = createAuthService({
    secret: config.jwtSecret,
    accessTokenTtlMs: config.accessTokenTtlMs,
    refreshTokenTtlMs: config.refreshTokenTtlMs,
    scrypt: { cost: config.passwordHashCost },
    shared,
  });
  const { adminUser, adminPassword } = config as { adminUser: string; adminPassword: string };
  const ensure = async (): Promise<void> => {
    try {
      await auth.ensureAdmin(adminUser, adminPassword);
    } catch (error) {
      if (!(error instanceof MemkvError && error.code === 'backend_unavailable')) throw error;
      logger.warn(`cannot make sure of the admin account ${JSON.stringify(adminUser)} yet: ${error.message}; retrying`);
      setTimeout(() => void ensure().catch((failure: unknown) => logger.error({ err: failure }, 'cannot make sure of the admin account')), ENSURE_ADMIN_RETRY_MS).unref();
    }
  };
  await ensure();
  return auth;
}
