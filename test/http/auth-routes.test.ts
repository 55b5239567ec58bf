/** The auth routes over HTTP: login, refresh rotation, logout, users, and what stays open. */
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/engine/store.js';
import { buildApp } from '../../src/http/app.js';
import { ACCESS_TTL_MS, USERS, bearer, createAuthTestApp, decodePart, type AuthTestApp } from '../helpers/auth-app.js';

let t: AuthTestApp;

beforeAll(async () => {
  t = await createAuthTestApp();
});
afterAll(async () => {
  await t.close();
});

const login = (username: string, password: string, remoteAddress?: string) =>
  t.request({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, ...(remoteAddress ? { remoteAddress } : {}) });

describe('POST /auth/login', () => {
  it('answers a token pair whose claims name the user and role', async () => {
    const res = await login('writer', 'writer-password');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: ACCESS_TTL_MS / 1000 });
    const claims = decodePart(res.body.access_token, 1);
    expect(claims).toMatchObject({ name: 'writer', role: 'readwrite', use: 'access', iss: 'memkv' });
    for (const claim of ['sub', 'sid', 'jti', 'iat', 'exp']) expect(claims).toHaveProperty(claim);
    expect(JSON.stringify(res.body)).not.toContain('writer-password');
  });

  it('answers the same 401 for an unknown user and a wrong password', async () => {
    const unknown = await login('nobody', 'writer-password', '10.0.0.1');
    const wrong = await login('writer', 'wrong-password', '10.0.0.2');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.body).toEqual({ code: 'unauthorized', message: 'invalid username or password' });
    expect(unknown.headers['www-authenticate']).toBe('Bearer realm="memkv"');
  });

  it('refuses a malformed body with 400', async () => {
    expect((await t.request({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'writer' } })).status).toBe(400);
    expect((await t.request({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 1, password: 'x' } })).body.code).toBe('invalid_request');
    const big = await t.request({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'x', password: 'y'.repeat(20_000) } });
    expect(big.status).toBe(413);
  });
});

describe('POST /auth/refresh', () => {
  it('rotates: the new pair works, the used refresh token does not', async () => {
    const first = await t.login('readwrite');
    const res = await t.request({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: first.refresh_token } });
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).not.toBe(first.refresh_token);
    expect((await t.request({ method: 'GET', url: '/api/v1/missing', headers: bearer(res.body.access_token) })).status).toBe(404);
    const again = await t.request({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: first.refresh_token } });
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('unauthorized');
  });

  it('refuses an access token and garbage', async () => {
    const pair = await t.login('readwrite');
    for (const refresh_token of [pair.access_token, 'garbage']) {
      const res = await t.request({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token } });
      expect(res.status).toBe(401);
    }
  });

  it('works after the access token expired, until the refresh token does', async () => {
    const pair = await t.login('readwrite');
    t.clock.advance(ACCESS_TTL_MS);
    expect((await t.request({ method: 'GET', url: '/api/v1/x', headers: bearer(pair.access_token) })).status).toBe(401);
    const res = await t.request({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: pair.refresh_token } });
    expect(res.status).toBe(200);
    expect((await t.request({ method: 'GET', url: '/api/v1/x', headers: bearer(res.body.access_token) })).status).toBe(404);
  });
});

describe('POST /auth/logout', () => {
  it('revokes the access token and the refresh token', async () => {
    const pair = await t.login('readonly');
    const res = await t.request({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(pair.access_token), payload: { refresh_token: pair.refresh_token } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'ok' });
    expect((await t.request({ method: 'GET', url: '/api/v1/x', headers: bearer(pair.access_token) })).status).toBe(401);
    expect((await t.request({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: pair.refresh_token } })).status).toBe(401);
  });

  it('needs a valid token', async () => {
    expect((await t.request({ method: 'POST', url: '/api/v1/auth/logout' })).status).toBe(401);
  });
});

describe('user management', () => {
  it('registers, lists without secrets, changes a password and deletes', async () => {
    const admin = bearer((await t.login('admin')).access_token);
    const created = await t.request({
      method: 'POST', url: '/api/v1/auth/register', headers: admin,
      payload: { username: 'dana', password: 'dana-password', role: 'readwrite', keys: ['dana:*'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ username: 'dana', role: 'readwrite', keys: ['dana:*'], created_at: expect.any(String) });
    const dup = await t.request({ method: 'POST', url: '/api/v1/auth/register', headers: admin, payload: { username: 'dana', password: 'dana-password', role: 'readonly' } });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('user_exists');

    const list = await t.request({ method: 'GET', url: '/api/v1/auth/users', headers: admin });
    expect(list.status).toBe(200);
    expect(list.body.users.map((u: { username: string }) => u.username)).toEqual(['admin', 'cacher', 'dana', 'reader', 'writer']);
    expect(JSON.stringify(list.body)).not.toMatch(/scrypt|password/i);

    const dana = await login('dana', 'dana-password');
    const changed = await t.request({ method: 'POST', url: '/api/v1/auth/users/dana/password', headers: admin, payload: { password: 'dana-password-2' } });
    expect(changed.status).toBe(200);
    expect((await t.request({ method: 'GET', url: '/api/v1/dana:1', headers: bearer(dana.body.access_token) })).status).toBe(401);
    expect((await login('dana', 'dana-password-2')).status).toBe(200);

    expect((await t.request({ method: 'DELETE', url: '/api/v1/auth/users/dana', headers: admin })).status).toBe(200);
    expect((await login('dana', 'dana-password-2')).status).toBe(401);
    const gone = await t.request({ method: 'DELETE', url: '/api/v1/auth/users/dana', headers: admin });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('user_not_found');
    const self = await t.request({ method: 'DELETE', url: '/api/v1/auth/users/admin', headers: admin });
    expect(self.status).toBe(400);
  });

  it('validates the fields of a new user with clear messages', async () => {
    const admin = bearer((await t.login('admin')).access_token);
    const cases = [
      [{ username: 'has space', password: 'password1', role: 'readonly' }, /username/],
      [{ username: 'ok', password: 'short', role: 'readonly' }, /password must be 8 to 1024/],
      [{ username: 'ok', password: 'password1', role: 'root' }, /role must be one of/],
      [{ username: 'ok', password: 'password1', role: 'readonly', keys: [] }, /keys/],
      [{ username: 'ok', password: 'password1', role: 'readonly', extra: 1 }, /unknown field/],
    ] as const;
    for (const [payload, message] of cases) {
      const res = await t.request({ method: 'POST', url: '/api/v1/auth/register', headers: admin, payload });
      expect(res.status, JSON.stringify(payload)).toBe(400);
      expect(res.body.message).toMatch(message);
    }
  });
});

describe('keys and routes', () => {
  it('a key named auth stays readable at GET /api/v1/auth, and auth/users as one encoded segment', async () => {
    const headers = bearer((await t.login('readwrite')).access_token);
    for (const key of ['auth', 'auth/users', 'auth/login']) {
      expect((await t.request({ method: 'POST', url: '/api/v1/set', headers, payload: { key, value: `value of ${key}` } })).status).toBe(200);
      const res = await t.request({ method: 'GET', url: `/api/v1/${encodeURIComponent(key)}`, headers });
      expect(res.status).toBe(200);
      expect(res.body.value).toBe(`value of ${key}`);
    }
    expect((await t.request({ method: 'PATCH', url: '/api/v1/auth/push', headers, payload: { value: 'x' } })).body.code).toBe('wrong_type');
  });

  it('the users never appear in the keyspace', async () => {
    expect(t.store.get('admin')).toBeUndefined();
    for (const { username } of Object.values(USERS)) expect(t.store.get(username)).toBeUndefined();
  });
});

describe('the OpenAPI document with auth on', () => {
  it('documents the auth routes and the bearer scheme on protected routes, and stays valid', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/docs/swagger.json' });
    expect(res.status).toBe(200);
    const doc = res.body;
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const path of ['/api/v1/auth/login', '/api/v1/auth/refresh', '/api/v1/auth/logout', '/api/v1/auth/register', '/api/v1/auth/users', '/api/v1/auth/users/{username}', '/api/v1/auth/users/{username}/password']) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(doc.paths['/api/v1/auth/login'].post.security).toBeUndefined();
    expect(doc.paths['/api/v1/auth/login'].post.responses).toHaveProperty('429');
    for (const [path, method] of [
      ['/api/v1/{key}', 'get'],
      ['/api/v1/set', 'post'],
      ['/api/v1/db/flush', 'post'],
      ['/api/v1/db/stats', 'get'],
      ['/api/v1/auth/logout', 'post'],
      ['/api/v1/auth/users', 'get'],
    ] as const) {
      const operation = doc.paths[path][method];
      expect(operation.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403']));
    }
  });

  it('is open by default, and needs a token with protectDocs', async () => {
    const guarded = await createAuthTestApp({ app: { protectDocs: true } });
    try {
      for (const url of ['/api/v1/docs/swagger.json', '/api/v1/docs/swagger.yaml', '/api/v1/docs/swagger/']) {
        expect((await guarded.request({ method: 'GET', url })).status, url).toBe(401);
      }
      const reader = bearer((await guarded.login('readonly')).access_token);
      expect((await guarded.request({ method: 'GET', url: '/api/v1/docs/swagger.json', headers: reader })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('with auth off', () => {
  it('data routes need no token and the auth routes do not exist', async () => {
    const store = createStore({ cleanupIntervalMs: 0 });
    const app = await buildApp({ store });
    try {
      expect((await app.inject({ method: 'POST', url: '/api/v1/set', payload: { key: 'k', value: 'v' } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/v1/k' })).statusCode).toBe(200);
      const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'a', password: 'b' } });
      expect(login.statusCode).toBe(404);
      const doc = (await app.inject({ method: 'GET', url: '/api/v1/docs/swagger.json' })).json();
      expect(doc.components?.securitySchemes).toBeUndefined();
      expect(doc.paths['/api/v1/{key}'].get.security).toBeUndefined();
    } finally {
      await app.close();
      store.close();
    }
  });
});
