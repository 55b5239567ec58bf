/**
 * TRUST_PROXY and the login rate limit, over TCP: behind a trusted proxy each forwarded client
 * address has its own counter; without trust, X-Forwarded-For changes nothing, so a client cannot
 * dodge the limit by sending it.
 *
 * Each attempt uses its own user name, so that only the per-address counter can refuse it (the
 * per-user counter, which also exists, would otherwise be the one to trip).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createStore } from '../../src/engine/store.js';
import { buildApp } from '../../src/http/app.js';
import { startMemkv } from '../helpers/servers.js';

type Memkv = Awaited<ReturnType<typeof startMemkv>>;
let server: Memkv | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const LIMIT = 2;
const AUTH = {
  authEnabled: 'true',
  adminUser: 'admin',
  adminPassword: 'admin-password',
  passwordHashCost: '1024',
  loginRateLimit: String(LIMIT),
} as const;

let attempt = 0;
/** A failed login (unknown user) from `forwardedFor`, as a proxy would pass it on; resolves with the status. */
async function login(url: string, forwardedFor: string | undefined): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
  const answer = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ username: `user-${++attempt}`, password: 'wrong-password' }),
  });
  await answer.arrayBuffer();
  return answer.status;
}

const addresses = Array.from({ length: 10 }, (_, i) => `203.0.113.${i + 1}`);

describe('TRUST_PROXY', () => {
  it('on: ten logins from ten forwarded addresses are each counted for their own address', async () => {
    server = await startMemkv({ ...AUTH, trustProxy: 'true' });
    const statuses: number[] = [];
    for (const address of addresses) statuses.push(await login(server.url, address));
    expect(statuses).toEqual(Array(10).fill(401));
    // One forwarded address past the limit is refused, and only that one.
    const same = [];
    for (let i = 0; i < LIMIT + 1; i++) same.push(await login(server.url, '198.51.100.7'));
    expect(same).toEqual([...Array(LIMIT).fill(401), 429]);
    expect(await login(server.url, '198.51.100.8')).toBe(401);
  });

  it('on: the client is the address the trusted proxy appended last, not one the client wrote before it', async () => {
    server = await startMemkv({ ...AUTH, trustProxy: '127.0.0.1' });
    // A client that sends its own X-Forwarded-For through the proxy: the proxy appends the real address.
    const statuses = [];
    for (const forged of addresses) statuses.push(await login(server.url, `${forged}, 198.51.100.9`));
    expect(statuses).toEqual([401, 401, ...Array(8).fill(429)]);
  });

  it('a list that does not name the peer: the header is ignored', async () => {
    server = await startMemkv({ ...AUTH, trustProxy: '10.0.0.1,192.168.0.0/16' });
    const statuses: number[] = [];
    for (const address of addresses) statuses.push(await login(server.url, address));
    expect(statuses).toEqual([401, 401, ...Array(8).fill(429)]);
  });

  it('off (the default): X-Forwarded-For changes nothing, every login counts for the connection\'s address', async () => {
    server = await startMemkv(AUTH);
    const statuses: number[] = [];
    for (const address of addresses) statuses.push(await login(server.url, address));
    expect(statuses).toEqual([401, 401, ...Array(8).fill(429)]);
  });

  it('a hop count trusts that many proxies', async () => {
    server = await startMemkv({ ...AUTH, trustProxy: '1' });
    const statuses: number[] = [];
    for (const address of addresses) statuses.push(await login(server.url, address));
    expect(statuses).toEqual(Array(10).fill(401));
  });
});

describe('the request log', () => {
  /** The `ip` of the debug request log line of one request with X-Forwarded-For, from 127.0.0.1. */
  async function loggedIp(trustProxy: boolean): Promise<string> {
    const lines: any[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')));
        done();
      },
    });
    const store = createStore();
    const app = await buildApp({ store, trustProxy, logger: pino({ level: 'debug' }, destination) });
    try {
      await app.inject({ method: 'GET', url: '/api/v1/db/size', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5' } });
    } finally {
      await app.close();
      store.close();
    }
    return lines.find((line) => line.msg === 'request')?.ip;
  }

  it('names the forwarded client with TRUST_PROXY on, the connection\'s address with it off', async () => {
    expect(await loggedIp(true)).toBe('203.0.113.5');
    expect(await loggedIp(false)).toBe('127.0.0.1');
  });
});

describe('TRUST_PROXY values', () => {
  const load = (value: string) => loadConfig({ env: { TRUST_PROXY: value } }).trustProxy;

  it('takes true, false, a hop count, and lists of addresses, ranges and range names', () => {
    expect(load('true')).toBe(true);
    expect(load('false')).toBe(false);
    expect(load('2')).toBe(2);
    expect(load('10.0.0.1, 10.1.0.0/16, ::1, fd00::/8, loopback')).toEqual(['10.0.0.1', '10.1.0.0/16', '::1', 'fd00::/8', 'loopback']);
  });

  it.each(['yes please', '10.0.0.0/33', '10.0.0.1/8/1', 'proxy.example.com', '0', ',', '::1/129'])('refuses %j naming the variable', (value) => {
    expect(() => load(value)).toThrow(/^TRUST_PROXY: accepts/);
  });
});
