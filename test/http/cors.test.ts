/**
 * CORS (CORS_ORIGINS): preflights and actual requests from an allowed origin, a disallowed one and
 * none, over TCP through the raw front and fast path (which must decline requests with an
 * `Origin` header), with auth off and on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { CORS_MAX_AGE_S } from '../../src/http/app.js';
import { startMemkv } from '../helpers/servers.js';
import { WireConnection } from '../helpers/wire.js';

const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example.net';

type Memkv = Awaited<ReturnType<typeof startMemkv>>;
let server: Memkv | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const AUTH = { authEnabled: 'true', adminUser: 'admin', adminPassword: 'admin-password', passwordHashCost: '1024' } as const;

function preflight(url: string, path: string, origin: string, method = 'POST', headers = 'content-type'): Promise<Response> {
  return fetch(`${url}/api/v1${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });
}

const listOf = (value: string | null): string[] => (value ?? '').split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== '');

describe('CORS with auth off', () => {
  it('answers a preflight from an allowed origin with the methods, headers, max age and Vary: Origin', async () => {
    server = await startMemkv({ corsOrigins: `${ALLOWED}, http://localhost:3000` });
    const answer = await preflight(server.url, '/set', ALLOWED, 'POST', 'content-type,prefer');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(listOf(answer.headers.get('access-control-allow-methods'))).toEqual(expect.arrayContaining(['get', 'post', 'patch', 'delete']));
    expect(listOf(answer.headers.get('access-control-allow-headers'))).toEqual(['authorization', 'content-type', 'prefer', 'if-match', 'if-none-match', 'last-event-id', 'idempotency-key']);
    expect(answer.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_S));
    expect(listOf(answer.headers.get('vary'))).toContain('origin');
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('adds the headers to the actual requests of an allowed origin, which the fast path leaves to Fastify', async () => {
    server = await startMemkv({ corsOrigins: ALLOWED });
    const set = await fetch(`${server.url}/api/v1/set`, {
      method: 'POST',
      headers: { origin: ALLOWED, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'k', value: 'v' }),
    });
    expect(set.status).toBe(200);
    expect(set.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const get = await fetch(`${server.url}/api/v1/k`, { headers: { origin: ALLOWED } });
    expect(get.status).toBe(200);
    expect(await get.json()).toMatchObject({ key: 'k', value: 'v' });
    expect(get.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(listOf(get.headers.get('vary'))).toContain('origin');
    expect(listOf(get.headers.get('access-control-expose-headers'))).toEqual(['retry-after', 'www-authenticate', 'preference-applied', 'etag', 'idempotent-replayed']);
    // An error answer carries them too, so that the page can read it.
    const missing = await fetch(`${server.url}/api/v1/nope`, { headers: { origin: ALLOWED } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('on a connection handed over to node:http, the fast path listener leaves Origin requests to Fastify too', async () => {
    server = await startMemkv({ corsOrigins: ALLOWED });
    server.store.set('k', 'v');
    const connection = await WireConnection.open(server.port);
    const host = `Host: 127.0.0.1:${server.port}\r\n`;
    // A query string: the raw front hands the connection over; then a GET the listener could answer.
    await connection.write(
      Buffer.from(`GET /api/v1/db/keys?limit=1 HTTP/1.1\r\n${host}\r\nGET /api/v1/k HTTP/1.1\r\n${host}Origin: ${ALLOWED}\r\n\r\nGET /api/v1/k HTTP/1.1\r\n${host}\r\n`),
    );
    const answers = await connection.waitForAnswers(3, 5000);
    connection.close();
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers[1]!.head).toMatch(new RegExp(`^access-control-allow-origin: ${ALLOWED}$`, 'im'));
    expect(answers[2]!.head).not.toMatch(/^access-control-allow-origin:/im);
  });

  it('gives a disallowed origin no CORS headers, on the preflight or the request', async () => {
    server = await startMemkv({ corsOrigins: ALLOWED });
    const answer = await preflight(server.url, '/set', OTHER);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(answer.headers.get('access-control-allow-methods')).toBeNull();
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ code: 'route_not_found' });
    const get = await fetch(`${server.url}/api/v1/k`, { headers: { origin: OTHER } });
    expect(get.status).toBe(404);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('without CORS_ORIGINS no origin gets CORS headers, and a preflight is an unknown route', async () => {
    server = await startMemkv();
    const answer = await preflight(server.url, '/set', ALLOWED);
    expect(answer.status).toBe(404);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${server.url}/api/v1/k`, { headers: { origin: ALLOWED } });
    expect(get.status).toBe(404);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('CORS_ORIGINS=* allows any origin', async () => {
    server = await startMemkv({ corsOrigins: '*' });
    const answer = await preflight(server.url, '/k/push', OTHER, 'PATCH');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    const get = await fetch(`${server.url}/api/v1/db/size`, { headers: { origin: OTHER } });
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('CORS with auth on', () => {
  it('answers the preflight without a token, and the 401 and the authorized answer with the headers', async () => {
    server = await startMemkv({ ...AUTH, corsOrigins: ALLOWED });
    const answer = await preflight(server.url, '/k', ALLOWED, 'GET', 'authorization');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ALLOWED);

    const refused = await fetch(`${server.url}/api/v1/k`, { headers: { origin: ALLOWED } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { origin: ALLOWED, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'admin-password' }),
    });
    expect(login.status).toBe(200);
    expect(login.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const size = await fetch(`${server.url}/api/v1/db/size`, { headers: { origin: ALLOWED, authorization: `Bearer ${token}` } });
    expect(size.status).toBe(200);
    expect(size.headers.get('access-control-allow-origin')).toBe(ALLOWED);

    const other = await fetch(`${server.url}/api/v1/db/size`, { headers: { origin: OTHER, authorization: `Bearer ${token}` } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses CORS_ORIGINS=* with AUTH_ENABLED=true at start', () => {
    expect(() =>
      loadConfig({ env: { AUTH_ENABLED: 'true', ADMIN_USER: 'admin', ADMIN_PASSWORD: 'admin-password', CORS_ORIGINS: '*' } }),
    ).toThrow(/^CORS_ORIGINS: accepts \* only with AUTH_ENABLED=false/);
  });
});
