import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createClient,
  NotFoundError,
  UnexpectedResponseError,
  ValidationError,
  type Expiry,
  type MemkvClient,
  type Ttl,
} from '@memkv/client';
import { countingFetch, plainRequest, startHttpServer, startMemkv } from '../helpers/servers.js';

let server: Awaited<ReturnType<typeof startMemkv>>;
let client: MemkvClient;

beforeAll(async () => {
  server = await startMemkv();
  client = createClient({ url: server.url, retries: 0 });
});
afterAll(() => server.close());
beforeEach(() => void server.store.flush());

/** The exact text a plain HTTP request to the API answers (no client involved). */
const plain = (method: string, path: string, body?: unknown): Promise<string> => plainRequest(server.url, method, path, body);

describe('getTtl', () => {
  it('answers { key, expiresAt: null } for a key that never expires', async () => {
    await client.set('forever', 'v');
    const expiry: Expiry | null = await client.getTtl('forever');
    expect(expiry).toEqual({ key: 'forever', version: expect.any(Number), expiresAt: null });
  });

  it('answers the expiry as a Date, the one get reads', async () => {
    await client.set('session', ['a'], { ttl: '1h' });
    const expiry = await client.getTtl('session');
    expect(expiry!.expiresAt).toBeInstanceOf(Date);
    expect(expiry!.expiresAt!.getTime()).toBe(server.store.get('session')!.expiresAtMs);
    expect(expiry!.expiresAt).toEqual((await client.get('session'))!.expiresAt);
  });

  it('answers null for a missing or expired key, as get does', async () => {
    expect(await client.getTtl('ghost')).toBeNull();
    await client.set('short-lived', 'v', { ttl: 1 });
    await expect.poll(() => client.getTtl('short-lived'), { timeout: 5_000, interval: 20 }).toBeNull();
  });
});

describe('setTtl', () => {
  it('sets a duration string from now and answers the new expiry; the value stays', async () => {
    await client.set('doc', 'v');
    const before = Date.now();
    const expiry = await client.setTtl('doc', '1h30m');
    const after = Date.now();
    expect(expiry.key).toBe('doc');
    expect(expiry.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 5_400_000);
    expect(expiry.expiresAt!.getTime()).toBeLessThanOrEqual(after + 5_400_000);
    expect(server.store.get('doc')).toMatchObject({ value: 'v', expiresAtMs: expiry.expiresAt!.getTime() });
    expect(await client.getTtl('doc')).toEqual(expiry);
  });

  it('takes milliseconds, and replaces an earlier TTL on a list', async () => {
    await client.set('queue', ['a', 'b'], { ttl: '1h' });
    const before = Date.now();
    const expiry = await client.setTtl('queue', 90_000);
    expect(expiry.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 90_000);
    expect(expiry.expiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + 90_000);
    expect(server.store.get('queue')).toMatchObject({ value: ['a', 'b'], expiresAtMs: expiry.expiresAt!.getTime() });
  });

  it('null removes the expiry: the key then never expires', async () => {
    await client.set('temp', 'v', { ttl: '10m' });
    expect(await client.setTtl('temp', null)).toEqual({ key: 'temp', version: server.store.revision, expiresAt: null });
    expect(server.store.get('temp')?.expiresAtMs).toBeNull();
    expect((await client.get('temp'))!.expiresAt).toBeNull();
    // Setting "never" again gives the same answer: the call is idempotent.
    expect(await client.setTtl('temp', null)).toEqual({ key: 'temp', version: server.store.revision, expiresAt: null });
  });

  it('a short TTL makes the key expire', async () => {
    await client.set('brief', 'v');
    await client.setTtl('brief', 1);
    await expect.poll(() => client.get('brief'), { timeout: 5_000, interval: 20 }).toBeNull();
  });

  it('a missing key is a NotFoundError (404 item_not_found), and nothing is created', async () => {
    for (const ttl of ['1h', null]) {
      const error = await client.setTtl('ghost', ttl).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ status: 404, code: 'item_not_found' });
    }
    expect(server.store.get('ghost')).toBeUndefined();
  });

  it('a duration the server refuses is a ValidationError (400 invalid_request), and the expiry stays', async () => {
    await client.set('doc', 'v', { ttl: '1h' });
    const expiresAtMs = server.store.get('doc')!.expiresAtMs;
    for (const ttl of ['soon', '-5m', '0s', '']) {
      const error = await client.setTtl('doc', ttl).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ status: 400, code: 'invalid_request' });
    }
    expect(server.store.get('doc')!.expiresAtMs).toBe(expiresAtMs);
  });

  it.each([0, -1, 1.5, Number.NaN, undefined as unknown as Ttl])('refuses the TTL %s without sending anything', async (ttl) => {
    const counter = countingFetch();
    const local = createClient({ url: server.url, fetch: counter.fetch });
    const error = await local.setTtl('k', ttl).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'invalid_request', status: undefined });
    expect(counter.calls()).toBe(0);
  });

  it('percent-encodes the key, as the other calls do', async () => {
    const key = 'a/b?ttl=1#x %e ü😀';
    await client.set(key, 'v');
    expect(await client.setTtl(key, '1h')).toMatchObject({ key });
    expect(await client.getTtl(key)).toMatchObject({ key });
    expect(server.store.get(key)?.expiresAtMs).toEqual(expect.any(Number));
  });
});

describe('the requests on the wire', () => {
  it('PATCH /{key}/ttl with {"ttl": text}, milliseconds as "<n>ms", null as null; GET /{key}/ttl without a body', async () => {
    const seen: string[] = [];
    const fake = await startHttpServer((request, body, response) => {
      seen.push(`${request.method} ${request.url} ${body}`);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"key":"k","ttl":null,"version":3}');
    });
    try {
      const other = createClient({ url: fake.url });
      await other.setTtl('k', '2h');
      await other.setTtl('k', 1500);
      await other.setTtl('k', null);
      await other.getTtl('k');
      expect(seen).toEqual([
        'PATCH /api/v1/k/ttl {"ttl":"2h"}',
        'PATCH /api/v1/k/ttl {"ttl":"1500ms"}',
        'PATCH /api/v1/k/ttl {"ttl":null}',
        'GET /api/v1/k/ttl ',
      ]);
    } finally {
      await fake.close();
    }
  });

  it('answers of the wrong shape are UnexpectedResponseErrors', async () => {
    const fake = await startHttpServer((request, _body, response) => {
      const bad = request.method === 'GET' ? { key: 'k' } : { key: 'k', ttl: 'tomorrow' };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(bad));
    });
    try {
      const other = createClient({ url: fake.url });
      await expect(other.getTtl('k')).rejects.toBeInstanceOf(UnexpectedResponseError);
      await expect(other.setTtl('k', '1h')).rejects.toBeInstanceOf(UnexpectedResponseError);
    } finally {
      await fake.close();
    }
  });
});

describe('wire.getTtl and wire.setTtl', () => {
  it('answer {key, ttl} as the API sends it', async () => {
    server.store.set('k', 'v', { ttlMs: 60_000 });
    const got = await client.wire.getTtl('k');
    expect(JSON.stringify(got)).toBe(await plain('GET', '/k/ttl'));
    expect(Object.keys(got)).toEqual(['key', 'ttl', 'version']);
    expect(got.ttl).toBe(new Date(server.store.get('k')!.expiresAtMs!).toISOString());
    const set = await client.wire.setTtl('k', '2h');
    expect(Object.keys(set)).toEqual(['key', 'ttl', 'version']);
    expect(set.ttl).toBe(new Date(server.store.get('k')!.expiresAtMs!).toISOString());
    expect(JSON.stringify(set)).toBe(await plain('GET', '/k/ttl'));
    expect(await client.wire.setTtl('k', null)).toEqual({ key: 'k', ttl: null, version: server.store.revision });
    expect(await plain('GET', '/k/ttl')).toBe(`{"key":"k","ttl":null,"version":${server.store.revision}}`);
  });

  it('a missing key is a NotFoundError, where getTtl answers null', async () => {
    await expect(client.wire.getTtl('ghost')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.wire.setTtl('ghost', '1h')).rejects.toBeInstanceOf(NotFoundError);
  });
});
