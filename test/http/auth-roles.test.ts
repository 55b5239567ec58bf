/** Roles and key patterns over HTTP: what each role may do on every route, 403 otherwise. */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_ROUTES, bearer, createAuthTestApp, type AuthTestApp, type Persona } from '../helpers/auth-app.js';

let t: AuthTestApp;
const tokens = {} as Record<Persona, string>;

beforeAll(async () => {
  t = await createAuthTestApp();
  for (const persona of ['admin', 'readwrite', 'readonly', 'cache'] as const) tokens[persona] = (await t.login(persona)).access_token;
});
afterAll(async () => {
  await t.close();
});

function seed(): void {
  t.store.set('s', 'original');
  t.store.set('l', ['a', 'b']);
}

const READS = new Set(['get', 'head']);

describe('roles on the data routes', () => {
  for (const persona of ['admin', 'readwrite', 'readonly'] as const) {
    for (const route of DATA_ROUTES) {
      const allowed = persona !== 'readonly' || READS.has(route.name);
      it(`${persona} ${route.name}: ${allowed ? 'allowed' : '403, data unchanged'}`, async () => {
        seed();
        const before = [t.store.get('s'), t.store.get('l')];
        const res = await t.request({ ...route.request, headers: bearer(tokens[persona]) });
        if (allowed) {
          expect(res.status, JSON.stringify(res.body)).toBe(200);
        } else {
          expect(res.status).toBe(403);
          expect(res.body).toEqual({ code: 'forbidden', message: expect.stringMatching(/readonly/) });
          expect(res.headers['www-authenticate']).toBeUndefined();
          expect([t.store.get('s'), t.store.get('l')]).toEqual(before);
        }
      });
    }
  }
});

describe('roles over TCP', () => {
  it('readonly and key-limited tokens get 403 on writes and foreign keys, data unchanged', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const cases = [
      ['readonly', ...DATA_ROUTES.filter((route) => !READS.has(route.name))],
      ['cache', ...DATA_ROUTES],
    ] as const;
    for (const [persona, ...routes] of cases) {
      for (const route of routes) {
        seed();
        const before = [t.store.get('s'), t.store.get('l')];
        const payload = 'payload' in route.request ? route.request.payload : undefined;
        const res = await fetch(base + route.request.url, {
          method: route.request.method,
          headers: { ...bearer(tokens[persona]), ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
          body: payload === undefined ? undefined : JSON.stringify(payload),
        });
        expect(res.status, `${persona} ${route.name}`).toBe(403);
        expect([t.store.get('s'), t.store.get('l')]).toEqual(before);
      }
    }
  });
});

describe('key patterns', () => {
  it('allow the keys that match, on every data route', async () => {
    t.store.set('cache:s', 'x');
    t.store.set('cache:l', ['a', 'b']);
    const headers = bearer(tokens.cache);
    const allowed = [
      { method: 'POST', url: '/api/v1/set', payload: { key: 'cache:new', value: 'v' } },
      { method: 'GET', url: '/api/v1/cache:s' },
      { method: 'PATCH', url: '/api/v1/cache:s', payload: { value: 'y' } },
      { method: 'PATCH', url: '/api/v1/cache:l/push', payload: { value: 'c' } },
      { method: 'PATCH', url: '/api/v1/cache:l/pop' },
      { method: 'DELETE', url: '/api/v1/cache:s' },
    ] as const;
    for (const request of allowed) {
      const res = await t.request({ ...request, headers });
      expect(res.status, `${request.method} ${request.url}: ${JSON.stringify(res.body)}`).toBe(200);
    }
  });

  it('refuse the others with 403 and change nothing, the key of set included', async () => {
    const headers = bearer(tokens.cache);
    for (const route of DATA_ROUTES) {
      seed();
      const before = [t.store.get('s'), t.store.get('l')];
      const res = await t.request({ ...route.request, headers });
      expect(res.status, route.name).toBe(403);
      if (route.name !== 'head') expect(res.body.message).toContain(`"${route.key}"`);
      expect([t.store.get('s'), t.store.get('l')]).toEqual(before);
    }
  });
});

describe('roles on the database routes', () => {
  const reads = [
    { method: 'GET', url: '/api/v1/db/keys' },
    { method: 'GET', url: '/api/v1/db/size' },
    { method: 'GET', url: '/api/v1/db/stats' },
  ] as const;

  it('any role reads keys, size and stats; no token gets 401', async () => {
    for (const request of reads) {
      for (const persona of ['admin', 'readwrite', 'readonly', 'cache'] as const) {
        expect((await t.request({ ...request, headers: bearer(tokens[persona]) })).status, `${persona} ${request.url}`).toBe(200);
      }
      expect((await t.request(request)).status).toBe(401);
    }
  });

  it('a user limited to key patterns lists only the keys they match', async () => {
    t.store.set('cache:listed', 'x');
    t.store.set('private', 'x');
    const limited = await t.request({ method: 'GET', url: '/api/v1/db/keys?limit=1000', headers: bearer(tokens.cache) });
    expect(limited.body.keys).toContain('cache:listed');
    expect(limited.body.keys.every((key: string) => key.startsWith('cache:'))).toBe(true);
    const all = await t.request({ method: 'GET', url: '/api/v1/db/keys?limit=1000', headers: bearer(tokens.readonly) });
    expect(all.body.keys).toEqual(expect.arrayContaining(['cache:listed', 'private']));
  });

  it('compact needs the admin role', async () => {
    expect((await t.request({ method: 'POST', url: '/api/v1/db/compact' })).status).toBe(401);
    for (const persona of ['readwrite', 'readonly', 'cache'] as const) {
      expect((await t.request({ method: 'POST', url: '/api/v1/db/compact', headers: bearer(tokens[persona]) })).status, persona).toBe(403);
    }
    // Past the auth check: this app has no persistence to compact.
    const res = await t.request({ method: 'POST', url: '/api/v1/db/compact', headers: bearer(tokens.admin) });
    expect(res.body.code).toBe('persistence_disabled');
  });

  it('flush needs the admin role', async () => {
    seed();
    for (const persona of ['readwrite', 'readonly', 'cache'] as const) {
      const res = await t.request({ method: 'POST', url: '/api/v1/db/flush', headers: bearer(tokens[persona]) });
      expect(res.status, persona).toBe(403);
      expect(t.store.get('s')).toBeDefined();
    }
    expect((await t.request({ method: 'POST', url: '/api/v1/db/flush' })).status).toBe(401);
    expect(t.store.get('s')).toBeDefined();
    const res = await t.request({ method: 'POST', url: '/api/v1/db/flush', headers: bearer(tokens.admin) });
    expect(res.status).toBe(200);
    expect(t.store.get('s')).toBeUndefined();
  });
});

describe('roles on the user routes', () => {
  const adminOnly = [
    { method: 'POST', url: '/api/v1/auth/register', payload: { username: 'newbie', password: 'newbie-password', role: 'readonly' } },
    { method: 'GET', url: '/api/v1/auth/users' },
    { method: 'POST', url: '/api/v1/auth/users/reader/password', payload: { password: 'reader-password' } },
    { method: 'DELETE', url: '/api/v1/auth/users/newbie' },
  ] as const;

  for (const persona of ['readwrite', 'readonly', 'cache'] as const) {
    it(`${persona}: 403 on every admin route, nothing changes`, async () => {
      for (const request of adminOnly) {
        const res = await t.request({ ...request, headers: bearer(tokens[persona]) });
        expect(res.status, `${request.method} ${request.url}`).toBe(403);
        expect(res.body.code).toBe('forbidden');
      }
      expect(t.auth.listUsers().map((u) => u.username)).not.toContain('newbie');
    });
  }

  it('admin: allowed on every admin route', async () => {
    const statuses = [];
    for (const request of adminOnly) statuses.push((await t.request({ ...request, headers: bearer(tokens.admin) })).status);
    expect(statuses).toEqual([201, 200, 200, 200]);
  });

  it('logout is open to every role', async () => {
    for (const persona of ['readwrite', 'readonly', 'cache'] as const) {
      const { access_token } = await t.login(persona);
      const res = await t.request({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(access_token) });
      expect(res.status).toBe(200);
    }
  });
});
