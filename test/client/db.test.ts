import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, UnexpectedResponseError, ValidationError, type MemkvClient } from '@memkv/client';
import { startHttpServer, startMemkv } from '../helpers/servers.js';

let server: Awaited<ReturnType<typeof startMemkv>>;
let client: MemkvClient;

beforeAll(async () => {
  server = await startMemkv();
  client = createClient({ url: server.url });
});
afterAll(() => server.close());
beforeEach(() => void server.store.flush());

describe('key listing', () => {
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
