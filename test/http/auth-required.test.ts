/** Every data route refuses a request without a valid token with 401, and leaves the data as it was. */
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenSigner } from '../../src/auth/tokens.js';
import { ACCESS_TTL_MS, DATA_ROUTES, SECRET, bearer, createAuthTestApp, decodePart, replacePart, type AuthTestApp } from '../helpers/auth-app.js';


let t: AuthTestApp;
/** name → Authorization header value (or none). */
let badCredentials: [string, string | undefined][];

function seed(): void {
  t.store.set('s', 'original');
  t.store.set('l', ['a', 'b']);
}

beforeAll(async () => {
  t = await createAuthTestApp();
  const admin = await t.login('admin');
  const token = admin.access_token;
  const payload = decodePart(token, 1);
  const key = new TextEncoder().encode(SECRET);

  const expired = (await t.login('admin')).access_token;
  const revoked = await t.login('admin');
  await t.request({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(revoked.access_token) });
  const otherSecret = await new TokenSigner({ secret: 'another-secret-another-secret-another', accessTtlMs: ACCESS_TTL_MS, refreshTtlMs: ACCESS_TTL_MS, clock: t.clock })
    .sign({ userId: String(payload.sub), sessionId: String(payload.sid), username: 'admin', role: 'admin' }, 'access');
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${token.split('.')[1]}.`;
  const hs384 = await new SignJWT(payload).setProtectedHeader({ alg: 'HS384' }).sign(key);
  const reader = await t.login('readonly');
  const escalated = replacePart(reader.access_token, 1, { ...decodePart(reader.access_token, 1), role: 'admin' });

  badCredentials = [
    ['no token', undefined],
    ['an empty header', ''],
    ['another scheme', `Basic ${Buffer.from('admin:admin-password').toString('base64')}`],
    ['a bearer without token', 'Bearer'],
    ['two tokens', `Bearer ${token} ${token}`],
    ['a garbage token', 'Bearer not.a.jwt'],
    ['a tampered token', `Bearer ${escalated}`],
    ['alg none', `Bearer ${none}`],
    ['another algorithm', `Bearer ${hs384}`],
    ['another secret', `Bearer ${otherSecret.token}`],
    ['an expired token', `Bearer ${expired}`],
    ['a revoked token', `Bearer ${revoked.access_token}`],
    ['a refresh token', `Bearer ${admin.refresh_token}`],
  ];
  // Last: expires `expired` (and `admin`, which is not used after this point).
  t.clock.advance(ACCESS_TTL_MS);
});
afterAll(async () => {
  await t.close();
});

describe('with auth on, every data route', () => {
  for (const route of DATA_ROUTES) {
    it(`${route.name}: answers 401 with a Bearer challenge for every bad credential, data unchanged`, async () => {
      for (const [what, authorization] of badCredentials) {
        seed();
        const before = [t.store.get('s'), t.store.get('l')];
        const res = await t.request({ ...route.request, headers: authorization === undefined ? {} : { authorization } });
        expect(res.status, `${route.name} with ${what}`).toBe(401);
        expect(String(res.headers['www-authenticate']), what).toMatch(/^Bearer realm="memkv"/);
        if (route.name !== 'head') {
          expect(res.body.code, what).toBe('unauthorized');
          expect(Object.keys(res.body).sort()).toEqual(['code', 'message']);
        }
        expect([t.store.get('s'), t.store.get('l')], `${route.name} with ${what} changed the data`).toEqual(before);
      }
    });
  }

  it('says invalid_token for a bad token and nothing more for a missing one', async () => {
    const missing = await t.request({ method: 'GET', url: '/api/v1/s' });
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="memkv"');
    const expired = badCredentials.find(([what]) => what === 'an expired token')![1]!;
    const res = await t.request({ method: 'GET', url: '/api/v1/s', headers: { authorization: expired } });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="memkv", error="invalid_token"');
    expect(res.body.message).toMatch(/expired/);
  });

  it('accepts a valid token', async () => {
    seed();
    const { access_token } = await t.login('readwrite');
    const res = await t.request({ method: 'GET', url: '/api/v1/s', headers: bearer(access_token) });
    expect(res.status).toBe(200);
    expect(res.body.value).toBe('original');
    const lower = await t.request({ method: 'GET', url: '/api/v1/s', headers: { authorization: `bearer ${access_token}` } });
    expect(lower.status).toBe(200);
  });

  it('over TCP as well (what a transport in front of Fastify must honour): 401, data unchanged', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const picked = badCredentials.filter(([what]) => ['no token', 'alg none', 'another secret', 'an expired token', 'a revoked token'].includes(what));
    for (const route of DATA_ROUTES) {
      for (const [what, authorization] of picked) {
        seed();
        const before = [t.store.get('s'), t.store.get('l')];
        const { method, url } = route.request;
        const payload = 'payload' in route.request ? route.request.payload : undefined;
        const res = await fetch(base + url, {
          method,
          headers: {
            ...(authorization === undefined ? {} : { authorization }),
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: payload === undefined ? undefined : JSON.stringify(payload),
        });
        expect(res.status, `${route.name} with ${what}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect([t.store.get('s'), t.store.get('l')], `${route.name} with ${what} changed the data`).toEqual(before);
      }
    }
  });

  it('refuses before reading the body: a bad body without a token is still a 401', async () => {
    const res = await t.request({ method: 'POST', url: '/api/v1/set', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    expect(res.status).toBe(401);
  });
});
