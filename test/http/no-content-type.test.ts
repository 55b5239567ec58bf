/**
 * A body sent without Content-Type is read as JSON on every route that takes a body (the Go
 * client of the seed design pushes that way), through every door; an explicit other type stays 415.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/engine/store.js';
import { buildApp } from '../../src/http/app.js';
import { startMemkv } from '../helpers/servers.js';
import { WireConnection, type WireAnswer } from '../helpers/wire.js';

type Server = Awaited<ReturnType<typeof startMemkv>>;

/** A request with a JSON body and the given Content-Type line (none when undefined). */
function wire(method: string, path: string, body: unknown, contentType: string | undefined, token?: string): string {
  const text = JSON.stringify(body);
  return (
    `${method} ${path} HTTP/1.1\r\nHost: x\r\n` +
    (contentType === undefined ? '' : `Content-Type: ${contentType}\r\n`) +
    (token === undefined ? '' : `Authorization: Bearer ${token}\r\n`) +
    `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
  );
}

async function send(port: number, request: string): Promise<WireAnswer> {
  const connection = await WireConnection.open(port);
  await connection.write(Buffer.from(request));
  const [answer] = await connection.waitForAnswers(1, 10_000);
  connection.close();
  expect(answer, `no answer to ${request.split('\r\n', 1)[0]}`).toBeDefined();
  return answer!;
}

const DATA_ROUTES = [
  { name: 'set', method: 'POST', path: '/api/v1/set', body: { key: 'n', value: ['a'] } },
  { name: 'update', method: 'PATCH', path: '/api/v1/n', body: { value: ['b'] } },
  { name: 'push', method: 'PATCH', path: '/api/v1/n/push', body: { value: 'c' } },
  { name: 'set the ttl', method: 'PATCH', path: '/api/v1/n/ttl', body: { ttl: '1h' } },
] as const;

describe.each([
  { door: 'the raw front and fast path', overrides: {} },
  { door: 'Fastify (fast path off)', overrides: { verbose: 'debug' } },
])('over TCP through $door', ({ overrides }) => {
  let server: Server;
  beforeAll(async () => {
    server = await startMemkv(overrides);
  });
  afterAll(() => server.close());

  it('reads set, update and push bodies without Content-Type as JSON', async () => {
    for (const route of DATA_ROUTES) {
      const answer = await send(server.port, wire(route.method, route.path, route.body, undefined));
      expect(answer.status, route.name).toBe(200);
    }
    expect(server.store.get('n')?.value).toEqual(['b', 'c']);
  });

  it('still refuses an explicit non-JSON type with 415', async () => {
    for (const route of DATA_ROUTES) {
      const answer = await send(server.port, wire(route.method, route.path, route.body, 'text/plain'));
      expect(answer.status, route.name).toBe(415);
      expect(JSON.parse(answer.body).code).toBe('unsupported_media_type');
    }
  });

  it('answers a body without Content-Type that is not JSON with 400 invalid_json', async () => {
    const answer = await send(server.port, 'POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).code).toBe('invalid_json');
  });
});

describe('through inject', () => {
  it('reads bodies without Content-Type as JSON', async () => {
    const store = createStore({ cleanupIntervalMs: 0 });
    const app = await buildApp({ store });
    for (const route of DATA_ROUTES) {
      const response = await app.inject({ method: route.method, url: route.path, payload: JSON.stringify(route.body), headers: { 'content-type': undefined } });
      expect(response.statusCode, route.name).toBe(200);
    }
    expect(store.get('n')?.value).toEqual(['b', 'c']);
    await app.close();
    store.close();
  });
});

describe('the auth routes, over TCP with auth on', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startMemkv({ authEnabled: 'true', adminUser: 'admin', adminPassword: 'admin-password', passwordHashCost: '1024' });
  });
  afterAll(() => server.close());

  it('reads login, register, refresh and data bodies without Content-Type as JSON', async () => {
    const login = await send(server.port, wire('POST', '/api/v1/auth/login', { username: 'admin', password: 'admin-password' }, undefined));
    expect(login.status).toBe(200);
    const { access_token: token, refresh_token: refresh } = JSON.parse(login.body) as { access_token: string; refresh_token: string };
    const register = await send(
      server.port,
      wire('POST', '/api/v1/auth/register', { username: 'other', password: 'other-password', role: 'readonly' }, undefined, token),
    );
    expect(register.status).toBeLessThan(300);
    const refreshed = await send(server.port, wire('POST', '/api/v1/auth/refresh', { refresh_token: refresh }, undefined));
    expect(refreshed.status).toBe(200);
    for (const route of DATA_ROUTES) {
      const answer = await send(server.port, wire(route.method, route.path, route.body, undefined, token));
      expect(answer.status, route.name).toBe(200);
    }
  });
});
