import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemkvError } from '../../src/errors.js';
import { createTestApp, EPOCH, seg, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const iso = (ms: number) => new Date(ms).toISOString();

describe('POST /api/v1/set', () => {
  it('stores a string and answers ok', async () => {
    const res = await t.request({ method: 'POST', url: '/api/v1/set', payload: { key: 'test', value: 'Test1' } });
    expect(res).toMatchObject({ status: 200, body: { message: 'ok' } });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(t.store.get('test')?.value).toBe('Test1');
  });

  it('stores a list with a TTL', async () => {
    const res = await t.request({ method: 'POST', url: '/api/v1/set', payload: { key: 'l', value: ['a', 'b'], ttl: '1h30m' } });
    expect(res.status).toBe(200);
    expect(t.store.get('l')).toMatchObject({ value: ['a', 'b'], expiresAtMs: EPOCH + 90 * 60_000 });
  });

  it.each(['1h', '90s', '500ms', '2h45m10s', '1.5h', '250us'])('accepts the duration %s', async (ttl) => {
    const res = await t.request({ method: 'POST', url: '/api/v1/set', payload: { key: 'k', value: 'v', ttl } });
    expect(res.status).toBe(200);
    expect(t.store.ttl('k')).toBeGreaterThan(0);
  });
});

describe('GET /api/v1/:key', () => {
  it('answers the row of a string, with RFC 3339 times and null ttl', async () => {
    t.store.set('test', 'Test1');
    const res = await t.request({ method: 'GET', url: '/api/v1/test' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      key: 'test',
      kind: 'string',
      value: 'Test1',
      version: 1,
      ttl: null,
      created_at: iso(EPOCH),
      updated_at: iso(EPOCH),
    });
  });

  it('answers the row of a list with its expiry time', async () => {
    t.store.set('list', ['Test1', 'test2'], { ttlMs: 3_600_000 });
    const res = await t.request({ method: 'GET', url: '/api/v1/list' });
    expect(res.body).toMatchObject({ kind: 'string_slice', value: ['Test1', 'test2'], ttl: iso(EPOCH + 3_600_000) });
  });

  it('answers 404 item_not_found for a missing key', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/missing' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ code: 'item_not_found', message: 'key "missing" does not exist' });
  });

  it('answers 404 for a key whose TTL has passed', async () => {
    t.store.set('k', 'v', { ttlMs: 1000 });
    t.clock.advance(1000);
    const res = await t.request({ method: 'GET', url: '/api/v1/k' });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('item_not_found');
  });
});

describe('keys as path segments', () => {
  const keys = ['set', 'docs', 'push', 'pop', 'a/b', 'with space', 'q?x=1', 'hash#tag', '100%', 'ключ', '🔑', '...', '.hidden', '__proto__'];
  it.each(keys)('round-trips the key %j through set, get, push, pop, update and remove', async (key) => {
    expect((await t.request({ method: 'POST', url: '/api/v1/set', payload: { key, value: ['x'] } })).status).toBe(200);
    const got = await t.request({ method: 'GET', url: `/api/v1/${seg(key)}` });
    expect(got.status).toBe(200);
    expect(got.body.key).toBe(key);
    const pushed = await t.request({ method: 'PATCH', url: `/api/v1/${seg(key)}/push`, payload: { value: 'y' } });
    expect(pushed.body).toMatchObject({ key, value: ['x', 'y'] });
    const popped = await t.request({ method: 'PATCH', url: `/api/v1/${seg(key)}/pop` });
    expect(popped.body).toMatchObject({ key, value: ['x'], popped: 'y' });
    expect((await t.request({ method: 'PATCH', url: `/api/v1/${seg(key)}`, payload: { value: 'z' } })).status).toBe(200);
    expect(t.store.get(key)?.value).toBe('z');
    expect((await t.request({ method: 'DELETE', url: `/api/v1/${seg(key)}` })).status).toBe(200);
    expect(t.store.get(key)).toBeUndefined();
  });

  it('GET /api/v1/set reads the key named "set"', async () => {
    t.store.set('set', 'the set key');
    const res = await t.request({ method: 'GET', url: '/api/v1/set' });
    expect(res.body).toMatchObject({ key: 'set', value: 'the set key' });
  });

  it('refuses a key over the size limit with 400', async () => {
    const small = await createTestApp({ store: { maxKeyBytes: 16 }, app: { maxKeyBytes: 16 } });
    try {
      const long = 'k'.repeat(17);
      const bySet = await small.request({ method: 'POST', url: '/api/v1/set', payload: { key: long, value: 'v' } });
      expect(bySet.status).toBe(400);
      expect(bySet.body).toEqual({ code: 'invalid_request', message: 'key is longer than 16 bytes' });
      const byPush = await small.request({ method: 'PATCH', url: `/api/v1/${long}/push`, payload: { value: 'v' } });
      expect(byPush.status).toBe(400);
      expect(small.store.size).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('answers 400 for a malformed percent-encoding', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/%E0%A4%A' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
  });
});

describe('DELETE /api/v1/:key', () => {
  it('removes a key and answers ok, then 404', async () => {
    t.store.set('k', 'v');
    expect((await t.request({ method: 'DELETE', url: '/api/v1/k' })).body).toEqual({ message: 'ok', version: 2 });
    const again = await t.request({ method: 'DELETE', url: '/api/v1/k' });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('item_not_found');
  });
});

describe('PATCH /api/v1/:key (update)', () => {
  it('replaces the value, keeps the TTL, moves updated_at', async () => {
    t.store.set('k', 'v', { ttlMs: 60_000 });
    t.clock.advance(10);
    const res = await t.request({ method: 'PATCH', url: '/api/v1/k', payload: { value: ['Test1'] } });
    expect(res).toMatchObject({ status: 200, body: { message: 'ok' } });
    const row = (await t.request({ method: 'GET', url: '/api/v1/k' })).body;
    expect(row).toMatchObject({ kind: 'string_slice', value: ['Test1'], ttl: iso(EPOCH + 60_000), updated_at: iso(EPOCH + 10) });
  });

  it('sets a new TTL when given', async () => {
    t.store.set('k', 'v');
    await t.request({ method: 'PATCH', url: '/api/v1/k', payload: { value: 'w', ttl: '30m' } });
    expect(t.store.get('k')?.expiresAtMs).toBe(EPOCH + 30 * 60_000);
  });

  it('answers 404 for a missing key and creates nothing', async () => {
    const res = await t.request({ method: 'PATCH', url: '/api/v1/nope', payload: { value: 'v' } });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('item_not_found');
    expect(t.store.size).toBe(0);
  });
});

describe('PATCH /api/v1/:key/push and /pop', () => {
  it('push creates a list and answers the row after the push', async () => {
    const res = await t.request({ method: 'PATCH', url: '/api/v1/l/push', payload: { value: 'test2', ttl: '24h' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      key: 'l',
      kind: 'string_slice',
      value: ['test2'],
      version: 1,
      ttl: iso(EPOCH + 24 * 3_600_000),
      created_at: iso(EPOCH),
      updated_at: iso(EPOCH),
    });
  });

  it('push of an array appends every element in order', async () => {
    t.store.set('l', ['a']);
    const res = await t.request({ method: 'PATCH', url: '/api/v1/l/push', payload: { value: ['b', 'c'] } });
    expect(res.body.value).toEqual(['a', 'b', 'c']);
  });

  it('pop answers the row after the pop plus the popped element', async () => {
    t.store.set('l', ['Test1', 'test2']);
    const res = await t.request({ method: 'PATCH', url: '/api/v1/l/pop' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ key: 'l', kind: 'string_slice', value: ['Test1'], popped: 'test2' });
  });

  it('pop ignores a JSON body', async () => {
    t.store.set('l', ['a']);
    const res = await t.request({ method: 'PATCH', url: '/api/v1/l/pop', payload: { anything: true } });
    expect(res.body).toMatchObject({ popped: 'a', value: [] });
  });

  it('a list popped empty stays as [] and the next pop is 409 list_empty', async () => {
    t.store.set('l', ['a']);
    await t.request({ method: 'PATCH', url: '/api/v1/l/pop' });
    expect((await t.request({ method: 'GET', url: '/api/v1/l' })).body.value).toEqual([]);
    const res = await t.request({ method: 'PATCH', url: '/api/v1/l/pop' });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ code: 'list_empty', message: 'the list at key "l" is empty' });
  });

  it('push and pop on a string are 409 wrong_type and change nothing', async () => {
    t.store.set('s', 'v');
    const push = await t.request({ method: 'PATCH', url: '/api/v1/s/push', payload: { value: 'x' } });
    const pop = await t.request({ method: 'PATCH', url: '/api/v1/s/pop' });
    expect([push.status, pop.status]).toEqual([409, 409]);
    expect(push.body.code).toBe('wrong_type');
    expect(pop.body.code).toBe('wrong_type');
    expect(t.store.get('s')?.value).toBe('v');
  });

  it('pop on a missing key is 404', async () => {
    const res = await t.request({ method: 'PATCH', url: '/api/v1/none/pop' });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('item_not_found');
  });
});

describe('PATCH /api/v1/:key/push and /pop with Prefer: return=minimal (RFC 7240)', () => {
  const minimal = { prefer: 'return=minimal' };

  it('push answers the row with length in place of value, in the row\'s field order, and Preference-Applied', async () => {
    t.store.set('l', ['a'], { ttlMs: 60_000 });
    t.clock.advance(1_000);
    const res = await t.request({ method: 'PATCH', url: '/api/v1/l/push', headers: minimal, payload: { value: ['b', 'c'] } });
    expect(res.status).toBe(200);
    expect(res.headers['preference-applied']).toBe('return=minimal');
    expect(res.raw).toBe(
      JSON.stringify({
        key: 'l',
        kind: 'string_slice',
        length: 3,
        version: 2,
        ttl: iso(EPOCH + 60_000),
        created_at: iso(EPOCH),
        updated_at: iso(EPOCH + 1_000),
      }),
    );
    expect(t.store.get('l')?.value).toEqual(['a', 'b', 'c']);
  });

  it('push creating a list answers its length 1 and applies the TTL', async () => {
    const res = await t.request({ method: 'PATCH', url: '/api/v1/new/push', headers: minimal, payload: { value: 'x', ttl: '1h' } });
    expect(res.body).toEqual({ key: 'new', kind: 'string_slice', length: 1, version: 1, ttl: iso(EPOCH + 3_600_000), created_at: iso(EPOCH), updated_at: iso(EPOCH) });
  });

  it('pop answers the length after the pop and the popped element, without the list', async () => {
    t.store.set('l', ['a', 'b']);
    const res = await t.request({ method: 'PATCH', url: '/api/v1/l/pop', headers: minimal });
    expect(res.status).toBe(200);
    expect(res.headers['preference-applied']).toBe('return=minimal');
    expect(res.raw).toBe(
      JSON.stringify({ key: 'l', kind: 'string_slice', length: 1, version: 2, ttl: null, created_at: iso(EPOCH), updated_at: iso(EPOCH), popped: 'b' }),
    );
    const last = await t.request({ method: 'PATCH', url: '/api/v1/l/pop', headers: minimal });
    expect(last.body).toMatchObject({ length: 0, popped: 'a' });
  });

  it.each([
    'RETURN=MINIMAL',
    'return = minimal',
    '  return=minimal  ',
    'return="minimal"',
    'respond-async, return=minimal',
    'wait=10, return=minimal; foo=bar, handling=lenient',
    'foo="a,return=representation", return=minimal',
    'return=minimal, return=representation',
  ])('honours the preference in %j', async (prefer) => {
    t.store.set('l', ['a']);
    const res = await t.request({ method: 'PATCH', url: '/api/v1/l/push', headers: { prefer }, payload: { value: 'b' } });
    expect(res.headers['preference-applied']).toBe('return=minimal');
    expect(res.body).toMatchObject({ length: 2 });
    expect(res.body).not.toHaveProperty('value');
  });

  it.each(['return=representation', 'respond-async', 'return', 'return=minimalist', 'minimal', 'return=representation, return=minimal', ''])(
    'answers the whole list without Preference-Applied for %j',
    async (prefer) => {
      t.store.set('l', ['a']);
      const push = await t.request({ method: 'PATCH', url: '/api/v1/l/push', headers: { prefer }, payload: { value: 'b' } });
      expect(push.status).toBe(200);
      expect(push.headers['preference-applied']).toBeUndefined();
      expect(push.body).toMatchObject({ value: ['a', 'b'] });
      expect(push.body).not.toHaveProperty('length');
      const pop = await t.request({ method: 'PATCH', url: '/api/v1/l/pop', headers: { prefer } });
      expect(pop.headers['preference-applied']).toBeUndefined();
      expect(pop.body).toMatchObject({ value: ['a'], popped: 'b' });
    },
  );

  it('while writes wait for the log: Preference-Applied once it has them, never on a refused write', async () => {
    let refuse = false;
    const durable = () =>
      refuse ? Promise.reject(new MemkvError('persistence_failed', 'the disk refused the write')) : new Promise<void>((resolve) => setImmediate(resolve));
    const logged = await createTestApp({ app: { durable } });
    try {
      logged.store.set('l', ['a']);
      const push = await logged.request({ method: 'PATCH', url: '/api/v1/l/push', headers: minimal, payload: { value: 'b' } });
      expect(push).toMatchObject({ status: 200, body: { length: 2 } });
      expect(push.headers['preference-applied']).toBe('return=minimal');
      refuse = true;
      const pop = await logged.request({ method: 'PATCH', url: '/api/v1/l/pop', headers: minimal });
      expect(pop).toMatchObject({ status: 500, body: { code: 'persistence_failed' } });
      expect(pop.headers['preference-applied']).toBeUndefined();
    } finally {
      await logged.close();
    }
  });

  it('errors are the usual ones, without Preference-Applied', async () => {
    t.store.set('s', 'v');
    const push = await t.request({ method: 'PATCH', url: '/api/v1/s/push', headers: minimal, payload: { value: 'x' } });
    expect(push).toMatchObject({ status: 409, body: { code: 'wrong_type' } });
    expect(push.headers['preference-applied']).toBeUndefined();
    const pop = await t.request({ method: 'PATCH', url: '/api/v1/none/pop', headers: minimal });
    expect(pop).toMatchObject({ status: 404, body: { code: 'item_not_found' } });
    expect(pop.headers['preference-applied']).toBeUndefined();
  });
});

describe('unknown routes', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/api/v2/k'],
    ['GET', '/api/v1/a/b/c'],
    ['PUT', '/api/v1/k'],
    ['POST', '/api/v1/k'],
    ['GET', '/api/v1/k/push'],
  ])('%s %s answers 404 route_not_found as JSON', async (method, url) => {
    const res = await t.request({ method: method as 'GET', url });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('route_not_found');
  });
});

describe('API_VERSION', () => {
  it('moves the base path', async () => {
    const v2 = await createTestApp({ app: { apiVersion: 'v2' } });
    try {
      await v2.request({ method: 'POST', url: '/api/v2/set', payload: { key: 'k', value: 'v' } });
      expect((await v2.request({ method: 'GET', url: '/api/v2/k' })).body.value).toBe('v');
      expect((await v2.request({ method: 'GET', url: '/api/v1/k' })).status).toBe(404);
      expect((await v2.request({ method: 'GET', url: '/api/v2/docs/swagger.json' })).status).toBe(200);
    } finally {
      await v2.close();
    }
  });
});

describe('overlong keys in the path', () => {
  it('answers 400 for a path segment far over the key limit', async () => {
    const res = await t.request({ method: 'GET', url: `/api/v1/${'k'.repeat(5000)}` });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'invalid_request', message: 'key is longer than 1024 bytes' });
  });
});
