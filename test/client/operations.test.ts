import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, MemkvClientError, NotFoundError, UnexpectedResponseError, ValidationError, type MemkvClient, type Row } from '@memkv/client';
import { countingFetch, startHttpServer, startMemkv } from '../helpers/servers.js';

let server: Awaited<ReturnType<typeof startMemkv>>;
let client: MemkvClient;

beforeAll(async () => {
  server = await startMemkv();
  client = createClient({ url: server.url });
});
afterAll(() => server.close());

/** Narrows a row to a string, failing the test otherwise. */
function stringOf(row: Row | null): string {
  if (row === null || row.kind !== 'string') throw new Error(`expected a string row, got ${JSON.stringify(row)}`);
  return row.value; // typed string
}

describe('get and set', () => {
  it('stores a string and reads it back with Date times and no expiry', async () => {
    const before = Date.now();
    await client.set('greeting', 'hello');
    const row = await client.get('greeting');
    expect(row).toMatchObject({ key: 'greeting', kind: 'string', value: 'hello', expiresAt: null });
    expect(stringOf(row)).toBe('hello');
    expect(row!.createdAt).toBeInstanceOf(Date);
    expect(row!.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(row!.updatedAt.getTime()).toBe(row!.createdAt.getTime());
  });

  it('stores a list and narrows value to string[]', async () => {
    await client.set('letters', ['a', 'b']);
    const row = await client.get('letters');
    if (row?.kind !== 'string_slice') throw new Error('expected a list');
    const items: string[] = row.value;
    expect(items).toEqual(['a', 'b']);
  });

  it('answers null for a missing key', async () => {
    expect(await client.get('no-such-key')).toBeNull();
  });

  it('takes a TTL as a duration string', async () => {
    const before = Date.now();
    await client.set('ttl-text', 'v', { ttl: '1h' });
    const expiresAt = (await client.get('ttl-text'))!.expiresAt!;
    expect(expiresAt).toBeInstanceOf(Date);
    expect(expiresAt.getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000);
  });

  it('takes a TTL in milliseconds', async () => {
    const before = Date.now();
    await client.set('ttl-ms', 'v', { ttl: 90_000 });
    const expiresAtMs = (await client.get('ttl-ms'))!.expiresAt!.getTime();
    expect(expiresAtMs).toBeGreaterThanOrEqual(before + 90_000);
    expect(expiresAtMs).toBeLessThanOrEqual(Date.now() + 90_000);
  });

  it('lets a key expire', async () => {
    await client.set('short-lived', 'v', { ttl: 1 });
    await expect.poll(() => client.get('short-lived'), { timeout: 5_000, interval: 20 }).toBeNull();
  });
});

describe('update and remove', () => {
  it('replaces the value and kind, keeping the expiry unless a TTL is given', async () => {
    await client.set('doc', 'v1', { ttl: '1h' });
    const expiresAt = (await client.get('doc'))!.expiresAt;
    await client.update('doc', ['v2']);
    const updated = await client.get('doc');
    expect(updated).toMatchObject({ kind: 'string_slice', value: ['v2'], expiresAt });
    await client.update('doc', 'v3', { ttl: '2h' });
    expect((await client.get('doc'))!.expiresAt!.getTime()).toBeGreaterThan(expiresAt!.getTime());
  });

  it('removes a key and reports whether it existed', async () => {
    await client.set('gone', 'v');
    expect(await client.remove('gone')).toBe(true);
    expect(await client.get('gone')).toBeNull();
    expect(await client.remove('gone')).toBe(false);
  });
});

describe('push and pop', () => {
  it('creates a list, appends in order and returns the list', async () => {
    const first = await client.push('queue', 'a');
    expect(first).toMatchObject({ key: 'queue', kind: 'string_slice', value: ['a'] });
    const second = await client.push('queue', ['b', 'c'], { ttl: '10m' });
    expect(second.value).toEqual(['a', 'b', 'c']);
    expect(second.expiresAt).toBeInstanceOf(Date);
  });

  it('pops the last element and returns it with the rest', async () => {
    await client.set('stack', ['x', 'y']);
    const popped = await client.pop('stack');
    expect(popped).toMatchObject({ kind: 'string_slice', value: ['x'], popped: 'y' });
    expect((await client.pop('stack')).popped).toBe('x');
    expect((await client.get('stack'))!.value).toEqual([]);
  });
});

describe('key encoding', () => {
  const keys = ['a/b', 'a/../b', 'what?x=1', 'hash#tag', '100%', '%2F', 'with space', 'plus+sign', 'ünïcødé', '日本語', '😀', '...', "!*'()~", 'back\\slash'];

  it.each(keys)('round-trips %j through every call', async (key) => {
    await client.set(key, 'v');
    expect(server.store.get(key)?.value).toBe('v'); // the server stored this exact key
    expect(await client.get(key)).toMatchObject({ key, value: 'v' });
    await client.update(key, ['l']);
    expect((await client.push(key, 'm')).key).toBe(key);
    expect(await client.pop(key)).toMatchObject({ key, popped: 'm' });
    expect(server.store.get(key)?.value).toEqual(['l']);
    expect(await client.remove(key)).toBe(true);
    expect(server.store.get(key)).toBeUndefined();
  });

  it.each(['.', '..'])('refuses the key %j, which no URL path can carry, without sending anything', async (key) => {
    const counter = countingFetch();
    const local = createClient({ url: server.url, fetch: counter.fetch });
    const error = await local.get(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'invalid_request', status: undefined });
    expect(counter.calls()).toBe(0);
  });
});

describe('base URL', () => {
  it('keeps a path prefix, drops trailing slashes and uses the API version', () => {
    expect(createClient({ url: 'http://db.local:8080/' }).baseUrl).toBe('http://db.local:8080/api/v1');
    expect(createClient({ url: new URL('https://x.example/memkv/'), apiVersion: 'v2' }).baseUrl).toBe('https://x.example/memkv/api/v2');
  });

  it('reports a wrong API version as a route error, not as a missing key', async () => {
    const wrong = createClient({ url: server.url, apiVersion: 'v9' });
    const error = await wrong.get('greeting').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemkvClientError);
    expect(error).not.toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'route_not_found' });
  });
});

describe('key listing', () => {
  beforeEach(() => void server.store.flush());

  it('pages through every key with listKeys, and keys() iterates them all', async () => {
    for (let i = 0; i < 25; i++) server.store.set(`user:${i}`, 'v');
    server.store.set('other', 'v');
    const first = await client.listKeys({ prefix: 'user:', limit: 10 });
    expect(first.keys.length).toBe(10);
    expect(typeof first.cursor).toBe('string');
    const second = await client.listKeys({ prefix: 'user:', limit: 10, cursor: first.cursor! });
    expect(second.keys.every((key) => !first.keys.includes(key))).toBe(true);

    const all: string[] = [];
    for await (const key of client.keys({ prefix: 'user:', limit: 7 })) all.push(key);
    expect(all.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `user:${i}`).sort());
    const everything: string[] = [];
    for await (const key of client.keys()) everything.push(key);
    expect(everything.length).toBe(26);
  });

  it('refuses a bad limit before sending, and reports a refused cursor', async () => {
    await expect(client.listKeys({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(client.listKeys({ limit: 1001 })).rejects.toBeInstanceOf(ValidationError);
    const refused = await client.listKeys({ cursor: 'not-a-cursor' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ status: 400, code: 'invalid_request' });
  });
});

describe('size, flush and stats', () => {
  beforeEach(() => void server.store.flush());

  it('count, flush and report the keys', async () => {
    await client.set('a', '1');
    await client.set('b', '2', { ttl: '1h' });
    await client.get('a');
    expect(await client.size()).toBe(2);
    const stats = await client.stats();
    expect(stats.keyspace).toEqual({ keys: 2, keys_with_ttl: 1 });
    expect(stats.memory.eviction_policy).toBe('noeviction');
    expect(stats.persistence).toEqual({ enabled: false });
    expect(stats.stats.hits).toBeGreaterThanOrEqual(1);
    expect(await client.flush()).toBe(2);
    expect(await client.size()).toBe(0);
  });

  it('reject an answer of the wrong shape', async () => {
    const fake = await startHttpServer((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"count": 3}');
    });
    try {
      const other = createClient({ url: fake.url, retries: 0 });
      await expect(other.size()).rejects.toBeInstanceOf(UnexpectedResponseError);
      await expect(other.flush()).rejects.toBeInstanceOf(UnexpectedResponseError);
      await expect(other.stats()).rejects.toBeInstanceOf(UnexpectedResponseError);
      await expect(other.listKeys()).rejects.toBeInstanceOf(UnexpectedResponseError);
    } finally {
      await fake.close();
    }
  });
});
