/**
 * Test helpers: an app over a store with a manual clock, and small request shortcuts.
 *
 * Requests go through `app.inject()`, or, with MEMKV_TEST_TRANSPORT=tcp (the `http-over-tcp`
 * test project), over a real TCP connection to the listening app, where the HTTP fast path
 * answers the hot requests: the same HTTP tests then check both paths.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  '/api/v1/{key}/range',
  '/api/v1/{key}/ttl',
  '/api/v1/db/keys',
  '/api/v1/db/size',
  '/api/v1/db/flush',
  '/api/v1/db/delete-prefix',
  '/api/v1/db/stats',
  '/api/v1/db/compact',
  '/api/v1/db/txn',
  '/api/v1/db/watch',
] as const;

export const EPOCH = Date.UTC(2025, 5, 20, 16, 43, 47, 150);

export async function createTestApp(
  options: { store?: StoreOptions; app?: Partial<AppOptions> } = {},
): Promise<TestApp> {
  const clock = createManualClock(EPOCH);
  const store = createStore({ clock, cleanupIntervalMs: 0, ...options.store });
  const app = await buildApp({ store, ...options.app });
  const overTcp = process.env.MEMKV_TEST_TRANSPORT === 'tcp';
  if (overTcp) await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    store,
    clock,
    async request(injectOptions) {
      const response = overTcp ? await sendOverTcp(app, injectOptions) : await app.inject(injectOptions);
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

interface TcpResponse {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  json(): unknown;
}

/** Sends what `app.inject(options)` would, over TCP to the listening app (an object payload as JSON). */
function sendOverTcp(app: FastifyInstance, options: InjectOptions): Promise<TcpResponse> {
  const { port } = app.server.address() as AddressInfo;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = String(value);
  let payload: Buffer | undefined;
  if (options.payload !== undefined) {
    const isObject = typeof options.payload === 'object' && !Buffer.isBuffer(options.payload);
    payload = Buffer.from(isObject ? JSON.stringify(options.payload) : (options.payload as string | Buffer));
    if (isObject) headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.url as string, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ statusCode: response.statusCode!, headers: response.headers, body, json: () => JSON.parse(body) });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
