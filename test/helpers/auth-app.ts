/** Test helpers for auth: an app with auth on, a manual clock, fast scrypt and one user per role. */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { expect } from 'vitest';
import { createAuthService, type AuthService, type AuthServiceOptions } from '../../src/auth/auth-service.js';
import { createManualClock, type ManualClock } from '../../src/engine/clock.js';
import { createStore, type Store } from '../../src/engine/store.js';
import { buildApp, type AppOptions } from '../../src/http/app.js';

export const EPOCH = Date.UTC(2025, 5, 20, 16, 43, 47, 150);
export const SECRET = 'test-secret-test-secret-test-secret!';
/** Cheap scrypt so that tests stay fast (the server default costs about 100 ms per hash). */
export const FAST_SCRYPT = { cost: 1024, blockSize: 8, parallelization: 1 } as const;
export const ACCESS_TTL_MS = 15 * 60_000;
export const REFRESH_TTL_MS = 24 * 3_600_000;

/** One account per role, plus a readwrite user limited to keys `cache:*`. */
export const USERS = {
  admin: { username: 'admin', password: 'admin-password', role: 'admin' },
  readwrite: { username: 'writer', password: 'writer-password', role: 'readwrite' },
  readonly: { username: 'reader', password: 'reader-password', role: 'readonly' },
  cache: { username: 'cacher', password: 'cacher-password', role: 'readwrite', keys: ['cache:*'] },
} as const;

export type Persona = keyof typeof USERS;

/** Each data route, with the key it touches. */
export const DATA_ROUTES = [
  { name: 'set', key: 's', request: { method: 'POST', url: '/api/v1/set', payload: { key: 's', value: 'changed' } } },
  { name: 'get', key: 's', request: { method: 'GET', url: '/api/v1/s' } },
  { name: 'head', key: 's', request: { method: 'HEAD', url: '/api/v1/s' } },
  { name: 'update', key: 's', request: { method: 'PATCH', url: '/api/v1/s', payload: { value: 'changed' } } },
  { name: 'delete', key: 's', request: { method: 'DELETE', url: '/api/v1/s' } },
  { name: 'push', key: 'l', request: { method: 'PATCH', url: '/api/v1/l/push', payload: { value: 'c' } } },
  { name: 'pop', key: 'l', request: { method: 'PATCH', url: '/api/v1/l/pop' } },
] as const;


export interface Answer {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

export interface AuthTestApp {
  app: FastifyInstance;
  store: Store;
  auth: AuthService;
  clock: ManualClock;
  request(options: InjectOptions): Promise<Answer>;
  /** Logs in and returns the token pair (asserting success). */
  login(persona: Persona): Promise<{ access_token: string; refresh_token: string; expires_in: number }>;
  close(): Promise<void>;
}

export async function createAuthTestApp(
  options: { auth?: Partial<AuthServiceOptions>; app?: Partial<AppOptions> } = {},
): Promise<AuthTestApp> {
  const clock = createManualClock(EPOCH);
  const store = createStore({ clock, cleanupIntervalMs: 0 });
  const auth = createAuthService({
    secret: SECRET,
    accessTokenTtlMs: ACCESS_TTL_MS,
    refreshTokenTtlMs: REFRESH_TTL_MS,
    scrypt: FAST_SCRYPT,
    clock,
    ...options.auth,
  });
  await auth.ensureAdmin(USERS.admin.username, USERS.admin.password);
  for (const persona of ['readwrite', 'readonly', 'cache'] as const) await auth.register({ ...USERS[persona] });
  // Tests log in often from one address: a high limit, unless a test sets its own.
  const app = await buildApp({ store, auth, loginRateLimit: { max: 1000, windowMs: 60_000 }, ...options.app });
  const request = async (injectOptions: InjectOptions): Promise<Answer> => {
    const response = await app.inject(injectOptions);
    let body: unknown;
    try {
      body = response.json();
    } catch {
      body = response.body;
    }
    return { status: response.statusCode, body, headers: response.headers };
  };
  return {
    app,
    store,
    auth,
    clock,
    request,
    async login(persona) {
      const { username, password } = USERS[persona];
      const res = await request({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    },
    async close() {
      await app.close();
      store.close();
    },
  };
}

/** `{ authorization: 'Bearer <token>' }`. */
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** Decodes the header or payload part of a JWT. */
export function decodePart(token: string, part: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[part]!, 'base64url').toString('utf8'));
}

/** Re-encodes a JWT part, keeping the other parts as they are. */
export function replacePart(token: string, part: 0 | 1, value: Record<string, unknown>): string {
  const parts = token.split('.');
  parts[part] = Buffer.from(JSON.stringify(value)).toString('base64url');
  return parts.join('.');
}
