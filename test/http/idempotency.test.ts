import { afterEach, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../../src/engine/clock.js';
import { createStore } from '../../src/engine/store.js';
import { buildApp } from '../../src/http/app.js';
import { createMemoryIdempotency } from '../../src/idempotency/memory.js';
import { memoryDatabase } from '../../src/storage/memory.js';
import type { Storage } from '../../src/storage/storage.js';
import { EPOCH, createTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createAuthTestApp } from '../helpers/auth-app.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

const pop = (key: string, idem?: string) => ({
  method: 'PATCH' as const,
  url: `/api/v1/${key}/pop`,
  headers: idem === undefined ? {} : { 'idempotency-key': idem },
});

describe('Idempotency-Key', () => {
  it('answers a retried pop with the kept answer and removes one element', async () => {
    t = await createTestApp();
    t.store.push('l', ['a', 'b', 'c']);
    const first = await t.request(pop('l', 'k1'));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ popped: 'c', value: ['a', 'b'] });
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await t.request(pop('l', 'k1'));
    expect(again.status).toBe(200);
    expect(again.raw).toBe(first.raw);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(t.store.get('l')?.value).toEqual(['a', 'b']);
    // Another key pops again.
    expect((await t.request(pop('l', 'k2'))).body).toMatchObject({ popped: 'b' });
    // No key: no keeping.
    expect((await t.request(pop('l'))).body).toMatchObject({ popped: 'a' });
  });

  it('refuses the same key for another request with 422', async () => {
    t = await createTestApp();
    t.store.push('l', ['a', 'b']);
    t.store.push('m', ['a', 'b']);
    expect((await t.request(pop('l', 'k'))).status).toBe(200);
    const other = await t.request(pop('m', 'k'));
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
    const set = (value: string) => ({ method: 'POST' as const, url: '/api/v1/set', headers: { 'idempotency-key': 's' }, payload: { key: 'x', value } });
    expect((await t.request(set('1'))).status).toBe(200);
    expect((await t.request(set('2'))).body.code).toBe('idempotency_key_reused');
    expect((await t.request({ ...set('1'), method: 'PATCH', url: '/api/v1/x', payload: { value: '1' } })).status).toBe(422);
    expect(t.store.get('x')?.value).toBe('1');
  });

  it('keeps data refusals (404) but not validation failures (400)', async () => {
    t = await createTestApp();
    const missing = await t.request(pop('nope', 'k'));
    expect(missing.status).toBe(404);
    t.store.push('nope', 'x');
    const replayed = await t.request(pop('nope', 'k'));
    expect(replayed.status).toBe(404);
    expect(replayed.headers['idempotent-replayed']).toBe('true');

    const bad = { method: 'POST' as const, url: '/api/v1/set', headers: { 'idempotency-key': 'v' }, payload: { key: 'x', value: 1 } };
    expect((await t.request(bad)).status).toBe(400);
    const good = await t.request({ ...bad, payload: { key: 'x', value: '1' } });
    expect(good.status).toBe(200);
    expect(good.headers['idempotent-replayed']).toBeUndefined();
    // A TTL the command refuses (400 from the command itself) is not kept either.
    const badTtl = { method: 'POST' as const, url: '/api/v1/set', headers: { 'idempotency-key': 'w' }, payload: { key: 'y', value: '1', ttl: '0s' } };
    const refused = await t.request(badTtl);
    expect(refused.status).toBe(400);
    expect((await t.request({ ...badTtl, payload: { key: 'y', value: '1' } })).status).toBe(200);
  });

  it('refuses keys that are empty, too long or not visible ASCII', async () => {
    t = await createTestApp();
    t.store.push('l', ['a']);
    for (const key of ['', 'a b', 'x'.repeat(256), 'é']) {
      const answer = await t.request(pop('l', key));
      expect(answer.status, JSON.stringify(key)).toBe(400);
      expect(answer.body.code).toBe('invalid_request');
    }
    expect(t.store.get('l')?.value).toEqual(['a']);
    expect((await t.request(pop('l', 'x'.repeat(255)))).status).toBe(200);
  });

  it('keeps Preference-Applied with the answer', async () => {
    t = await createTestApp();
    const push = { method: 'PATCH' as const, url: '/api/v1/l/push', headers: { 'idempotency-key': 'p', prefer: 'return=minimal' }, payload: { value: 'a' } };
    const first = await t.request(push);
    expect(first.headers['preference-applied']).toBe('return=minimal');
    const again = await t.request(push);
    expect(again.headers['preference-applied']).toBe('return=minimal');
    expect(again.raw).toBe(first.raw);
    expect(t.store.get('l')?.value).toEqual(['a']);
  });

  it('drops kept answers after IDEMPOTENCY_TTL, and counts them toward MAX_MEMORY', async () => {
    const clock = createManualClock(EPOCH);
    const store = createStore({ clock, cleanupIntervalMs: 0, maxMemoryBytes: 10_000 });
    const idempotency = createMemoryIdempotency({ clock, ttlMs: 60_000, holdBytes: (bytes, force) => store.holdBytes(bytes, force), sweepIntervalMs: 0 });
    const app = await buildApp({ store, idempotency });
    try {
      store.push('l', ['a', 'b']);
      const send = async (key: string) => (await app.inject(pop('l', key))).json();
      expect((await send('k')).popped).toBe('b');
      expect(store.heldBytes).toBeGreaterThan(200);
      expect(idempotency.stats()).toEqual({ kept: 1, bytes: store.heldBytes });
      clock.advance(59_999);
      expect((await send('k')).popped).toBe('b');
      clock.advance(1);
      // Expired: the key is new again (lazily), and a sweep drops what nobody asked for.
      expect((await send('k')).popped).toBe('a');
      expect(idempotency.stats().kept).toBe(1);
      clock.advance(60_000);
      expect(idempotency.sweep()).toBe(1);
      expect(idempotency.stats()).toEqual({ kept: 0, bytes: 0 });
      expect(store.heldBytes).toBe(0);
    } finally {
      await app.close();
      idempotency.close();
    }
  });

  it('makes room for kept answers by evicting keys, and refuses a claim with 507 when it cannot', async () => {
    const clock = createManualClock(EPOCH);
    const store = createStore({ clock, cleanupIntervalMs: 0, maxMemoryBytes: 6_000, evictionPolicy: 'allkeys-lru' });
    const app = await buildApp({ store });
    try {
      for (let i = 0; i < 20; i++) store.set(`k${i}`, 'x'.repeat(200));
      const full = store.dataBytes;
      for (let i = 0; i < 10; i++) {
        const answer = await app.inject({ method: 'POST', url: '/api/v1/set', headers: { 'idempotency-key': `i${i}` }, payload: { key: `n${i}`, value: 'y' } });
        expect(answer.statusCode).toBe(200);
      }
      expect(store.evictedCount).toBeGreaterThan(0);
      expect(store.dataBytes + store.heldBytes).toBeLessThanOrEqual(6_000);
      expect(store.dataBytes).toBeLessThan(full);
    } finally {
      await app.close();
    }
    const tight = createStore({ clock, cleanupIntervalMs: 0, maxMemoryBytes: 300 });
    const refusing = await buildApp({ store: tight });
    try {
      tight.set('a', 'x'.repeat(150));
      const answer = await refusing.inject({ method: 'DELETE', url: '/api/v1/a', headers: { 'idempotency-key': 'x'.repeat(200) } });
      expect(answer.statusCode).toBe(507);
      expect(answer.json().code).toBe('out_of_memory');
      expect(tight.get('a')).toBeDefined();
      expect(tight.heldBytes).toBe(0);
    } finally {
      await refusing.close();
    }
  });

  it('answers a retry while the first request runs 409 idempotency_in_flight with Retry-After, then the kept answer', async () => {
    const store = createStore({ cleanupIntervalMs: 0 });
    store.push('l', ['a', 'b']);
    // A backend that answers later (as Redis does): the first pop is held until released.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let popping = false;
    const slowPop = async (key: string) => {
      popping = true;
      await held;
      return store.pop(key);
    };
    const storage = new Proxy(store, {
      get: (target, name) => {
        if (name === 'pop') return slowPop;
        const value = Reflect.get(target, name) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as unknown as Storage;
    const app = await buildApp({ storage, database: memoryDatabase(store) });
    try {
      // (An injection starts once awaited: the first must have reached the backend before the retry is sent.)
      const first = Promise.resolve(app.inject(pop('l', 'slow')));
      await vi.waitFor(() => expect(popping).toBe(true));
      const retry = await app.inject(pop('l', 'slow'));
      expect(retry.statusCode).toBe(409);
      expect(retry.json().code).toBe('idempotency_in_flight');
      expect(retry.headers['retry-after']).toBe('1');
      // Another request with the same key is still a reuse.
      expect((await app.inject(pop('m', 'slow'))).statusCode).toBe(422);
      release();
      const answered = await first;
      expect(answered.json().popped).toBe('b');
      const replayed = await app.inject(pop('l', 'slow'));
      expect(replayed.body).toBe(answered.body);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      expect(store.get('l')?.value).toEqual(['a']);
    } finally {
      release();
      await app.close();
      store.close();
    }
  });

  it('scopes keys per user with auth on', async () => {
    const t2 = await createAuthTestApp();
    try {
      t2.store.push('l', ['a', 'b', 'c']);
      const writer = await t2.login('readwrite');
      const admin = await t2.login('admin');
      const reader = await t2.login('readonly');
      const asUser = (token: string) => ({ ...pop('l', 'shared'), headers: { ...bearer(token), 'idempotency-key': 'shared' } });
      expect((await t2.request(asUser(writer.access_token))).body.popped).toBe('c');
      expect((await t2.request(asUser(writer.access_token))).body.popped).toBe('c');
      // The same key from another user is another key.
      expect((await t2.request(asUser(admin.access_token))).body.popped).toBe('b');
      // Refused (403) and unauthenticated (401) requests claim nothing.
      expect((await t2.request(asUser(reader.access_token))).status).toBe(403);
      expect((await t2.request({ ...pop('l', 'shared') })).status).toBe(401);
      expect(t2.store.get('l')?.value).toEqual(['a']);
    } finally {
      await t2.close();
    }
  });

  it('documents the header, the replay header and the 409 and 422 answers on every writing route', async () => {
    t = await createTestApp();
    const document = (await t.request({ method: 'GET', url: '/api/v1/docs/swagger.json' })).body;
    const operations = [
      document.paths['/api/v1/set'].post,
      document.paths['/api/v1/{key}'].patch,
      document.paths['/api/v1/{key}'].delete,
      document.paths['/api/v1/{key}/push'].patch,
      document.paths['/api/v1/{key}/pop'].patch,
      document.paths['/api/v1/{key}/ttl'].patch,
      document.paths['/api/v1/db/txn'].post,
    ];
    for (const operation of operations) {
      expect(operation.parameters.some((p: any) => p.in === 'header' && p.name === 'idempotency-key')).toBe(true);
      expect(operation.responses['200'].headers['Idempotent-Replayed']).toBeDefined();
      expect(operation.responses['422']).toBeDefined();
      expect(operation.responses['409']).toBeDefined();
    }
    for (const operation of [document.paths['/api/v1/{key}'].get, document.paths['/api/v1/{key}/range'].get]) {
      expect((operation.parameters ?? []).some((p: any) => p.name === 'idempotency-key')).toBe(false);
    }
    // Prefer stays documented beside it.
    expect(document.paths['/api/v1/{key}/pop'].patch.parameters.some((p: any) => p.name === 'prefer')).toBe(true);
  });

  it('keeps the ETag of the first answer, and makes a transaction idempotent too', async () => {
    t = await createTestApp();
    const set = { method: 'POST' as const, url: '/api/v1/set', headers: { 'idempotency-key': 'e' }, payload: { key: 'x', value: '1' } };
    const first = await t.request(set);
    expect(first.headers.etag).toBeDefined();
    await t.request({ method: 'POST', url: '/api/v1/set', payload: { key: 'x', value: '2' } });
    const again = await t.request(set);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.raw).toBe(first.raw);
    expect(t.store.get('x')?.value).toBe('2');

    t.store.push('q', ['a', 'b']);
    const txn = {
      method: 'POST' as const,
      url: '/api/v1/db/txn',
      headers: { 'idempotency-key': 't' },
      payload: { checks: [], ops: [{ op: 'pop', key: 'q' }, { op: 'push', key: 'done', value: 'b' }] },
    };
    const applied = await t.request(txn);
    expect(applied.status, applied.raw).toBe(200);
    const replayed = await t.request(txn);
    expect(replayed.raw).toBe(applied.raw);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.headers.etag).toBe(applied.headers.etag);
    expect(t.store.get('q')?.value).toEqual(['a']);
    expect(t.store.get('done')?.value).toEqual(['b']);
    // A conflict is kept too: the retry gets the same 409, not a second attempt.
    const conflicting = { ...txn, headers: { 'idempotency-key': 'c' }, payload: { checks: [{ key: 'q', version: 1 }], ops: [{ op: 'pop', key: 'q' }] } };
    expect((await t.request(conflicting)).status).toBe(409);
    const repeated = await t.request(conflicting);
    expect(repeated.status).toBe(409);
    expect(repeated.headers['idempotent-replayed']).toBe('true');
  });
});
