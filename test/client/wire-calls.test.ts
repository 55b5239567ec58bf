import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, NotFoundError, UnexpectedResponseError, type MemkvClient } from '@memkv/client';
import { plainRequest, startHttpServer, startMemkv } from '../helpers/servers.js';

let server: Awaited<ReturnType<typeof startMemkv>>;
let client: MemkvClient;

beforeAll(async () => {
  server = await startMemkv();
  client = createClient({ url: server.url });
});
afterAll(() => server.close());
beforeEach(() => void server.store.flush());

/** The exact text a plain HTTP request to the API answers (no client involved). */
const plain = (method: string, path: string, body?: unknown): Promise<string> => plainRequest(server.url, method, path, body);

describe('client.wire answers the API\'s JSON as it came', () => {
  it('get: the same text as a plain GET, snake_case times included', async () => {
    server.store.set('k', ['a', 'b'], { ttlMs: 60_000 });
    const row = await client.wire.get('k');
    expect(JSON.stringify(row)).toBe(await plain('GET', '/k'));
    expect(Object.keys(row)).toEqual(['key', 'kind', 'value', 'version', 'ttl', 'created_at', 'updated_at']);
  });

  it('push and pop: the row the key then reads as, with popped last', async () => {
    const pushed = await client.wire.push('list', ['a', 'b'], { ttl: '1h' });
    expect(JSON.stringify(pushed)).toBe(await plain('GET', '/list'));
    const popped = await client.wire.pop('list');
    const { popped: element, ...rest } = popped;
    expect(element).toBe('b');
    expect(JSON.stringify(rest)).toBe(await plain('GET', '/list'));
    expect(Object.keys(popped).at(-1)).toBe('popped');
  });

  it('push and pop with minimal: the minimal rows, as a plain request with Prefer gets them', async () => {
    server.store.set('list', ['a']);
    const pushed = await client.wire.push('list', 'b', { minimal: true });
    expect(Object.keys(pushed)).toEqual(['key', 'kind', 'length', 'version', 'ttl', 'created_at', 'updated_at']);
    const popped = await client.wire.pop('list', { minimal: true });
    expect(Object.keys(popped)).toEqual(['key', 'kind', 'length', 'version', 'ttl', 'created_at', 'updated_at', 'popped']);
    expect(popped).toMatchObject({ length: 1, popped: 'b' });
  });

  it('set, update, remove: {"message":"ok"}; a missing key is a NotFoundError', async () => {
    const set = await client.wire.set('s', 'v');
    expect(set).toEqual({ message: 'ok', version: expect.any(Number) });
    expect(await client.wire.update('s', 'w')).toEqual({ message: 'ok', version: set.version! + 1 });
    expect(await client.wire.remove('s')).toEqual({ message: 'ok', version: set.version! + 2 });
    await expect(client.wire.remove('s')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.wire.get('s')).rejects.toMatchObject({ status: 404, code: 'item_not_found', message: 'key "s" does not exist' });
  });

  it('listKeys, size, flush, stats: the same text as plain requests', async () => {
    for (let i = 0; i < 3; i++) server.store.set(`user:${i}`, 'v');
    expect(JSON.stringify(await client.wire.listKeys({ prefix: 'user:', limit: 2 }))).toBe(await plain('GET', '/db/keys?prefix=user%3A&limit=2'));
    expect(JSON.stringify(await client.wire.size())).toBe(await plain('GET', '/db/size'));
    const stats = await client.wire.stats();
    expect(Object.keys(stats)).toEqual(Object.keys(JSON.parse(await plain('GET', '/db/stats')) as object));
    expect(await client.wire.flush()).toEqual({ removed: 3 });
  });

  it('listKeys with delimiter and deletePrefix: the same text as plain requests; the client answers the count', async () => {
    for (let i = 0; i < 4; i++) server.store.set(`user:${i % 2}:${i}`, 'v');
    server.store.set('other', 'v');
    const grouped = await client.wire.listKeys({ delimiter: ':' });
    expect(JSON.stringify(grouped)).toBe(await plain('GET', '/db/keys?delimiter=%3A'));
    expect(grouped.prefixes).toEqual([{ prefix: 'user:', keys: 4 }]);
    expect((await client.listKeys({ prefix: 'user:', delimiter: ':' })).prefixes).toEqual([
      { prefix: 'user:0:', keys: 2 },
      { prefix: 'user:1:', keys: 2 },
    ]);
    expect(await client.wire.deletePrefix('user:0:', { dryRun: true })).toEqual({ matched: 2 });
    expect(await client.deletePrefix('user:0:')).toBe(2);
    expect(await client.deletePrefix('user:', { dryRun: true })).toBe(2);
    expect(server.store.size).toBe(3);
    await expect(client.deletePrefix('')).rejects.toMatchObject({ code: 'invalid_request', status: undefined });
  });

  it('passes on fields it does not know, and still refuses a wrong shape', async () => {
    const fake = await startHttpServer((request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(request.url!.endsWith('/size') ? '{"keys":3,"extra":true}' : '{"key":"k"}');
    });
    try {
      const other = createClient({ url: fake.url, retries: 0 });
      expect(await other.wire.size()).toEqual({ keys: 3, extra: true });
      await expect(other.wire.get('k')).rejects.toBeInstanceOf(UnexpectedResponseError);
    } finally {
      await fake.close();
    }
  });
});
