/** Test helpers: an app over a store with a manual clock, and small request shortcuts. */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createManualClock, type ManualClock } from '../../src/engine/clock.js';
import { createStore, type Store, type StoreOptions } from '../../src/engine/store.js';
import { buildApp, type AppOptions } from '../../src/http/app.js';

export interface TestApp {
  app: FastifyInstance;
  store: Store;
  clock: ManualClock;
  request(options: InjectOptions): Promise<{ status: number; body: any; headers: Record<string, unknown>; raw: string }>;
  close(): Promise<void>;
}

/** Every path the OpenAPI document lists. */
export const DOCUMENTED_PATHS = [
  '/api/v1/set',
  '/api/v1/{key}',
  '/api/v1/{key}/push',
  '/api/v1/{key}/pop',
  '/api/v1/db/keys',
  '/api/v1/db/size',
  '/api/v1/db/flush',
  '/api/v1/db/stats',
  '/api/v1/db/compact',
] as const;

export const EPOCH = Date.UTC(2025, 5, 20, 16, 43, 47, 150);

export async function createTestApp(
  options: { store?: StoreOptions; app?: Partial<AppOptions> } = {},
): Promise<TestApp> {
  const clock = createManualClock(EPOCH);
  const store = createStore({ clock, cleanupIntervalMs: 0, ...options.store });
  const app = await buildApp({ store, ...options.app });
  return {
    app,
    store,
    clock,
    async request(injectOptions) {
      const response = await app.inject(injectOptions);
      let body: unknown;
      try {
        body = response.json();
      } catch {
        body = undefined;
      }
      return { status: response.statusCode, body, headers: response.headers, raw: response.body };
    },
    async close() {
      await app.close();
      store.close();
    },
  };
}

/** Percent-encodes a key as one path segment (dots too, so "." and ".." are not dot-segments). */
export const seg = (key: string): string => encodeURIComponent(key).replaceAll('.', '%2E');
