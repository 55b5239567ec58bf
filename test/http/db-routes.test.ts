import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeysPageJson, StatsJson } from '@memkv/client/protocol';
import { KEY_OVERHEAD_BYTES } from '../../src/engine/accounting.js';
import type { Mutation } from '../../src/engine/mutation.js';
import { createStore, type Store, type StoreOptions } from '../../src/engine/store.js';
import { buildApp, type AppOptions, type PersistenceStats } from '../../src/http/app.js';
import { VERSION } from '../../src/version.js';

const apps: FastifyInstance[] = [];
const stores: Store[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const store of stores.splice(0)) store.close();
});

async function setup(storeOptions: StoreOptions = {}, appOptions: Partial<AppOptions> = {}) {
  const store = createStore({ cleanupIntervalMs: 0, ...storeOptions });
  stores.push(store);
  const app = await buildApp({ store, ...appOptions });
  apps.push(app);
  return { store, app };
}

async function listAll(app: FastifyInstance, query: Record<string, string>, between?: () => Promise<void>) {
  const keys: string[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams(query);
    if (cursor !== null) params.set('cursor', cursor);
    const res = await app.inject({ method: 'GET', url: `/api/v1/db/keys?${params}` });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json<KeysPageJson>();
    keys.push(...page.keys);
    cursor = page.cursor;
    await between?.();
  } while (cursor !== null);
  return keys;
}

describe('routes under /db do not shadow keys', () => {
  it('still reads, pushes onto and removes the key named "db"', async () => {
    const { app } = await setup();
    expect((await app.inject({ method: 'GET', url: '/api/v1/db' })).statusCode).toBe(404);
    await app.inject({ method: 'POST', url: '/api/v1/set', payload: { key: 'db', value: ['x'] } });
    const read = await app.inject({ method: 'GET', url: '/api/v1/db' });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ key: 'db', value: ['x'] });
    const push = await app.inject({ method: 'PATCH', url: '/api/v1/db/push', payload: { value: 'y' } });
    expect(push.json()).toMatchObject({ key: 'db', value: ['x', 'y'] });
    expect((await app.inject({ method: 'PATCH', url: '/api/v1/db/pop' })).json()).toMatchObject({ popped: 'y' });
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/db' })).statusCode).toBe(200);
    // and a key named "keys" is a key like any other
    await app.inject({ method: 'POST', url: '/api/v1/set', payload: { key: 'keys', value: 'v' } });
    expect((await app.inject({ method: 'GET', url: '/api/v1/keys' })).json()).toMatchObject({ key: 'keys', value: 'v' });
  });
});

describe('GET /api/v1/db/keys', () => {
  it('returns every key exactly once across pages, 100 per page by default', async () => {
    const { store, app } = await setup();
    const all = Array.from({ length: 250 }, (_, i) => `k${i}`);
    for (const key of all) store.set(key, 'v');
    const first = (await app.inject({ method: 'GET', url: '/api/v1/db/keys' })).json<KeysPageJson>();
    expect(first.keys.length).toBe(100);
    expect(typeof first.cursor).toBe('string');
    const keys = await listAll(app, { limit: '7' });
    expect(keys.length).toBe(250);
    expect(new Set(keys)).toEqual(new Set(all));
  });

  it('returns keys present for the whole listing exactly once while others are added and removed', async () => {
    const { store, app } = await setup();
    const stable = Array.from({ length: 300 }, (_, i) => `stable:${i}`);
    const churn: string[] = [];
    for (let i = 0; i < 300; i++) {
      store.set(stable[i]!, 'v');
      store.set(`churn:${i}`, 'v');
      churn.push(`churn:${i}`);
    }
    let next = 300;
    const keys = await listAll(app, { limit: '25' }, async () => {
      for (let i = 0; i < 10; i++) {
        const gone = churn.splice((i * 7919 + next) % churn.length, 1)[0]!;
        expect((await app.inject({ method: 'DELETE', url: `/api/v1/${gone}` })).statusCode).toBe(200);
        const added = `churn:${next++}`;
        await app.inject({ method: 'POST', url: '/api/v1/set', payload: { key: added, value: 'v' } });
        churn.push(added);
      }
    });
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const key of stable) expect(counts.get(key), key).toBe(1);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
  });

  it('filters by prefix', async () => {
    const { store, app } = await setup();
    for (let i = 0; i < 30; i++) store.set(`user:${i}`, 'v');
    for (let i = 0; i < 30; i++) store.set(`order:${i}`, 'v');
    store.set('user', 'not under the prefix');
    const keys = await listAll(app, { prefix: 'user:', limit: '4' });
    expect(keys.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `user:${i}`).sort());
    expect(await listAll(app, { prefix: 'nobody' })).toEqual([]);
  });

  it.each([['0'], ['1001'], ['abc'], ['1.5'], ['-1'], [''], ['99999999999']])('answers 400 for limit=%j', async (limit) => {
    const { app } = await setup();
    const res = await app.inject({ method: 'GET', url: `/api/v1/db/keys?limit=${encodeURIComponent(limit)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_request' });
    expect(res.json().message).toMatch(/limit/);
  });

  it('accepts limit=1000', async () => {
    const { store, app } = await setup();
    for (let i = 0; i < 1200; i++) store.set(`k${i}`, 'v');
    const page = (await app.inject({ method: 'GET', url: '/api/v1/db/keys?limit=1000' })).json<KeysPageJson>();
    expect(page.keys.length).toBe(1000);
  });

  it('refuses cursors it did not issue: forged, edited, from another process, or for another prefix', async () => {
    const { store, app } = await setup();
    for (let i = 0; i < 20; i++) store.set(`k${i}`, 'v');
    const page = (await app.inject({ method: 'GET', url: '/api/v1/db/keys?limit=5&prefix=k' })).json<KeysPageJson>();
    const cursor = page.cursor!;
    const ok = await app.inject({ method: 'GET', url: `/api/v1/db/keys?limit=5&prefix=k&cursor=${encodeURIComponent(cursor)}` });
    expect(ok.statusCode).toBe(200);
    const edited = `${(parseInt(cursor.split('.')[0]!, 36) + 1).toString(36)}.${cursor.split('.')[1]}`;
    const { app: other } = await setup({}, {});
    const cases = [
      { app, url: `/api/v1/db/keys?prefix=k&cursor=${encodeURIComponent(edited)}` },
      { app, url: '/api/v1/db/keys?cursor=5' },
      { app, url: `/api/v1/db/keys?prefix=x&cursor=${encodeURIComponent(cursor)}` },
      { app, url: `/api/v1/db/keys?cursor=${encodeURIComponent(cursor)}` },
      { app: other, url: `/api/v1/db/keys?prefix=k&cursor=${encodeURIComponent(cursor)}` },
      { app, url: `/api/v1/db/keys?cursor=${'a'.repeat(65)}` },
    ];
    for (const { app: target, url } of cases) {
      const res = await target.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('invalid_request');
    }
  });

  it('answers 400 for an unknown query parameter', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'GET', url: '/api/v1/db/keys?pattern=*' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_request' });
  });
});

describe('GET /api/v1/db/size and POST /api/v1/db/flush', () => {
  it('counts keys and flushes them all through the journal', async () => {
    const journal: Mutation[] = [];
    const { app } = await setup({ journal: (m) => void journal.push(m) });
    expect((await app.inject({ method: 'GET', url: '/api/v1/db/size' })).json()).toEqual({ keys: 0 });
    for (let i = 0; i < 12; i++) {
      await app.inject({ method: 'POST', url: '/api/v1/set', payload: { key: `k${i}`, value: 'v' } });
    }
    expect((await app.inject({ method: 'GET', url: '/api/v1/db/size' })).json()).toEqual({ keys: 12 });
    const flush = await app.inject({ method: 'POST', url: '/api/v1/db/flush' });
    expect(flush.statusCode).toBe(200);
    expect(flush.json()).toEqual({ removed: 12 });
    expect(journal.filter((m) => m.type === 'flush').length).toBe(1);
    expect((await app.inject({ method: 'GET', url: '/api/v1/db/size' })).json()).toEqual({ keys: 0 });
    expect((await app.inject({ method: 'GET', url: '/api/v1/k1' })).statusCode).toBe(404);
  });
});

describe('memory limit over HTTP', () => {
  it('answers 507 out_of_memory under noeviction and keeps serving reads and removes', async () => {
    const { app } = await setup({ maxMemoryBytes: 2 * (KEY_OVERHEAD_BYTES + 1 + 100) }); // room for exactly two keys
    const set = (key: string) => app.inject({ method: 'POST', url: '/api/v1/set', payload: { key, value: 'x'.repeat(100) } });
    expect((await set('a')).statusCode).toBe(200);
    expect((await set('b')).statusCode).toBe(200);
    const refused = await set('c');
    expect(refused.statusCode).toBe(507);
    expect(refused.json()).toMatchObject({ code: 'out_of_memory' });
    expect(refused.json().message).toMatch(/MAX_MEMORY/);
    expect((await app.inject({ method: 'GET', url: '/api/v1/a' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/db/keys' })).json().keys.sort()).toEqual(['a', 'b']);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/a' })).statusCode).toBe(200);
    expect((await set('c')).statusCode).toBe(200);
  });
});

describe('GET /api/v1/db/stats', () => {
  it('reports the keyspace, memory and counters, and moves as operations happen', async () => {
    const { app } = await setup({ maxMemoryBytes: 1 << 20, evictionPolicy: 'allkeys-lru' });
    const stats = async () => (await app.inject({ method: 'GET', url: '/api/v1/db/stats' })).json<StatsJson>();
    const before = await stats();
    expect(before).toMatchObject({
      server: { version: VERSION },
      keyspace: { keys: 0, keys_with_ttl: 0 },
      memory: { data_bytes: 0, max_memory_bytes: 1 << 20, eviction_policy: 'allkeys-lru' },
      stats: { hits: 0, misses: 0, expired: 0, evicted: 0 },
      persistence: { enabled: false },
    });
    expect(before.memory.rss_bytes).toBeGreaterThan(0);
    expect(Date.parse(before.server.started_at)).not.toBeNaN();
    await app.inject({ method: 'POST', url: '/api/v1/set', payload: { key: 'a', value: 'hello' } });
    await app.inject({ method: 'POST', url: '/api/v1/set', payload: { key: 't', value: 'v', ttl: '1h' } });
    await app.inject({ method: 'GET', url: '/api/v1/a' });
    await app.inject({ method: 'GET', url: '/api/v1/missing' });
    const after = await stats();
    expect(after.keyspace).toEqual({ keys: 2, keys_with_ttl: 1 });
    expect(after.memory.data_bytes).toBeGreaterThan(0);
    expect(after.stats).toMatchObject({ hits: 1, misses: 1 });
    expect(after.stats.commands).toMatchObject({ set: 2, get: 2, pop: 0 });
  });

  it('reports unlimited memory as null', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'GET', url: '/api/v1/db/stats' });
    expect(res.json().memory).toMatchObject({ max_memory_bytes: null, eviction_policy: 'noeviction' });
  });

  it('reports the persistence status its provider gives', async () => {
    let status: PersistenceStats | null = { writable: true, lastWriteAtMs: Date.UTC(2025, 0, 1), lastFsyncAtMs: null, logBytes: 1234, lastCompactionAtMs: null };
    const { app } = await setup({}, { persistenceStatus: () => status });
    expect((await app.inject({ method: 'GET', url: '/api/v1/db/stats' })).json().persistence).toEqual({
      enabled: true,
      writable: true,
      last_write_at: '2025-01-01T00:00:00.000Z',
      last_fsync_at: null,
      log_bytes: 1234,
      last_compaction_at: null,
    });
    status = null;
    expect((await app.inject({ method: 'GET', url: '/api/v1/db/stats' })).json().persistence).toEqual({ enabled: false });
  });
});
