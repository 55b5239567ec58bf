/**
 * The Redis backend against a real redis-server: the key layout (one hash slot per memkv key,
 * whatever it holds), memkv's keys only, Redis's OOM as 507, a slow backend (SIGSTOP) answered
 * 503 within REDIS_COMMAND_TIMEOUT with an unknown outcome for writes, reconnection after
 * Redis restarts, and Redis killed in the middle of a write load without losing an acknowledged
 * write. The API contract itself runs in test/contract/redis.contract.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeKey, decodeKey } from '../../src/storage/redis.js';
import { startRedis, useRedisServer } from '../helpers/redis.js';
import { startAnyMemkv } from '../helpers/servers.js';

type Server = Awaited<ReturnType<typeof startAnyMemkv>>;

const api = (server: Server, path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${server.url}/api/v1${path}`, { ...init, headers: init.body === undefined ? {} : { 'content-type': 'application/json' } });
const set = (server: Server, key: string, value: unknown, ttl?: string): Promise<Response> =>
  api(server, '/set', { method: 'POST', body: JSON.stringify({ key, value, ttl }) });
const ready = (server: Server): Promise<Response> => fetch(`http://127.0.0.1:${server.healthPort}/ready`);

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('key layout', () => {
  const keys = ['plain', '{tag}', '}x{', '{}', 'a{b}c', '}', '{', '%7B', '100%', 'ключ {}', 'a'.repeat(300)];

  it.each(keys)('the metadata and list keys of %j share one hash slot, and the key decodes back', (key) => {
    const encoded = encodeKey(key);
    expect(encoded).not.toMatch(/[{}]/);
    expect(decodeKey(encoded)).toBe(key);
    const meta = `memkv:{${encoded}}`;
    expect(calculateSlot(meta)).toBe(calculateSlot(`${meta}:l`));
    // The hash tag is the whole encoded key: keys that differ land by their own hash.
    expect(calculateSlot(meta)).toBe(calculateSlot(encoded));
  });
});

describe('STORAGE=redis on a real redis-server', () => {
  const redis = useRedisServer();
  let server: Server;
  let direct: Redis;

  beforeAll(async () => {
    server = await startAnyMemkv({ storage: 'redis', redisUrl: redis.current.url, redisCommandTimeoutMs: '500ms' });
    await waitFor(() => server.redis?.ready === true, 'memkv connects to Redis');
    direct = new Redis(redis.current.url);
  });
  afterAll(async () => {
    await server?.close();
    direct?.disconnect();
  });

  it('stores a key as documented: a hash P{K} and its list P{K}:l, both expiring with the key', async () => {
    expect((await set(server, 'doc{1}', ['a', 'b'], '1h')).status).toBe(200);
    const meta = 'memkv:{doc%7B1%7D}';
    const hash = await direct.hgetall(meta);
    expect(hash).toEqual({ kind: 'string_slice', created_ms: expect.any(String), updated_ms: hash.created_ms, expires_ms: expect.any(String), version: expect.stringMatching(/^[1-9]\d*$/) });
    expect(await direct.lrange(`${meta}:l`, 0, -1)).toEqual(['a', 'b']);
    const expiresAtMs = Number(hash.expires_ms);
    expect(await direct.pexpiretime(meta)).toBe(expiresAtMs);
    expect(await direct.pexpiretime(`${meta}:l`)).toBe(expiresAtMs);
  });

  it("counts, lists and flushes memkv's keys only: other applications' keys stay", async () => {
    await direct.set('other-app:x', '1');
    await direct.hset('memkv:not-ours', 'a', '1');
    await direct.set('memkv:{almost', '1');
    await set(server, 'mine1', 'v');
    await set(server, 'mine2', ['x']);
    const size = (await (await api(server, '/db/size')).json()) as { keys: number };
    const listed = (await (await api(server, '/db/keys?limit=1000')).json()) as { keys: string[] };
    expect(listed.keys.sort()).toEqual(['doc{1}', 'mine1', 'mine2']);
    expect(size.keys).toBe(3);
    expect(await (await api(server, '/db/flush', { method: 'POST' })).json()).toEqual({ removed: 3 });
    expect(await direct.get('other-app:x')).toBe('1');
    expect(await direct.hget('memkv:not-ours', 'a')).toBe('1');
    expect(await direct.get('memkv:{almost')).toBe('1');
    expect(await direct.exists('memkv:{mine2}:l')).toBe(0);
  });

  it('reports the backend in the stats: version, memory and keys per node', async () => {
    await set(server, 's1', 'v', '1h');
    await set(server, 's2', 'v');
    const stats = (await (await api(server, '/db/stats')).json()) as any;
    expect(stats.backend).toEqual({
      kind: 'redis',
      mode: 'standalone',
      nodes: [
        {
          address: `127.0.0.1:${redis.current.port}`,
          version: expect.stringMatching(/^\d+\.\d+/),
          used_memory_bytes: expect.any(Number),
          max_memory_bytes: null,
          eviction_policy: 'noeviction',
          keys: 2,
        },
      ],
    });
    expect(stats.keyspace).toEqual({ keys: 2, keys_with_ttl: 1 });
    expect(stats.memory.data_bytes).toBeGreaterThan(0);
  });

  it('counts the keyspace for the stats at most once per 20 times its cost, so that polling cannot keep Redis busy', async () => {
    const scans = async (): Promise<number> => Number(/cmdstat_scan:calls=(\d+)/.exec(await direct.info('commandstats'))?.[1] ?? 0);
    const pipeline = direct.pipeline();
    for (let i = 0; i < 5_000; i++) pipeline.hset(`memkv:{poll${i}}`, 'kind', 'string', 'value', 'v', 'created_ms', '1', 'updated_ms', '1', 'expires_ms', '0');
    await pipeline.exec();
    const stats = async (): Promise<{ keys: number }> => ((await (await api(server, '/db/stats')).json()) as { keyspace: { keys: number } }).keyspace;
    // A first count, which takes some milliseconds for 5,000 keys (at least one SCAN per 1,000).
    const before = await scans();
    const first = await stats();
    const oneCount = (await scans()) - before;
    expect(oneCount).toBeGreaterThanOrEqual(5);
    // Ten pollers at once, right after it: they share the count just made, or one new count.
    const polled = await Promise.all(Array.from({ length: 10 }, () => stats()));
    expect((await scans()) - before - oneCount).toBeLessThanOrEqual(oneCount);
    expect(polled.every((answer) => answer.keys === first.keys)).toBe(true);
    // Later, a new key is counted: the reuse is bounded in time.
    await set(server, 'poll-late', 'v');
    await waitFor(async () => (await stats()).keys === first.keys + 1, 'a later count sees the new key', 15_000);
    const removal = direct.pipeline();
    for (let i = 0; i < 5_000; i++) removal.del(`memkv:{poll${i}}`);
    await removal.exec();
    await direct.del('memkv:{poll-late}');
  });

  it('delete-prefix removes every key under the prefix, though each page it lists is removed before the next', async () => {
    const pipeline = direct.pipeline();
    for (let i = 0; i < 12_000; i++) pipeline.hset(`memkv:{gone:${i}}`, 'kind', 'string', 'value', 'v', 'created_ms', '1', 'updated_ms', '1', 'expires_ms', '0');
    pipeline.hset('memkv:{gonex}', 'kind', 'string', 'value', 'v', 'created_ms', '1', 'updated_ms', '1', 'expires_ms', '0');
    await pipeline.exec();
    const answer = await api(server, '/db/delete-prefix', { method: 'POST', body: JSON.stringify({ prefix: 'gone:' }) });
    expect(await answer.json()).toEqual({ deleted: 12_000 });
    expect(await direct.keys('memkv:{gone:*')).toEqual([]);
    expect(await direct.exists('memkv:{gonex}')).toBe(1);
    await direct.del('memkv:{gonex}');
  });

  it('a listing five keys at a time returns each key once, SCAN batches larger than a page asked for again bucket by bucket', async () => {
    const pipeline = direct.pipeline();
    for (let i = 0; i < 500; i++) pipeline.hset(`memkv:{one:${i}}`, 'kind', 'string', 'value', 'v', 'created_ms', '1', 'updated_ms', '1', 'expires_ms', '0');
    await pipeline.exec();
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5_000; page++) {
      const query = new URLSearchParams({ prefix: 'one:', limit: '5', ...(cursor === null ? {} : { cursor }) });
      const body = (await (await api(server, `/db/keys?${query}`)).json()) as { keys: string[]; cursor: string | null };
      expect(body.keys.length).toBeLessThanOrEqual(5);
      seen.push(...body.keys);
      cursor = body.cursor;
      if (cursor === null) break;
    }
    expect(cursor).toBeNull();
    // Every key, each at most twice (SCAN's guarantee: a rehash meanwhile may return a key again).
    expect([...new Set(seen)].sort()).toEqual(Array.from({ length: 500 }, (_, i) => `one:${i}`).sort());
    expect(seen.length).toBeLessThan(1000);
    const removal = direct.pipeline();
    for (let i = 0; i < 500; i++) removal.del(`memkv:{one:${i}}`);
    await removal.exec();
  }, 60_000);

  it("exports the keyspace and Redis's figures at /metrics, as the stats report them", async () => {
    await set(server, 'metric-a', 'v', '1h');
    await set(server, 'metric-b', 'v');
    const text = await (await fetch(`http://127.0.0.1:${server.healthPort}/metrics`)).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const stats = (await (await api(server, '/db/stats')).json()) as any;
    expect(value('memkv_keys')).toBe(stats.keyspace.keys);
    expect(value('memkv_keys')).toBeGreaterThanOrEqual(2);
    expect(value('memkv_keys_with_ttl')).toBe(stats.keyspace.keys_with_ttl);
    expect(value('memkv_data_bytes')).toBeGreaterThan(0);
    expect(value('memkv_keyspace_hits_total')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^memkv_http_requests_total\{/m);
    await direct.del('memkv:{metric-a}', 'memkv:{metric-b}');
  });

  it("answers Redis's OOM refusal as 507 out_of_memory, and the write is not applied", async () => {
    await set(server, 'oom', 'before');
    await direct.config('SET', 'maxmemory', '1');
    try {
      const refused = await set(server, 'oom', 'after');
      expect(refused.status).toBe(507);
      expect(await refused.json()).toEqual({ code: 'out_of_memory', message: expect.stringContaining('maxmemory') });
      // Reads still work under OOM (the read scripts are declared no-writes).
      const read = await api(server, '/oom');
      expect(read.status).toBe(200);
      expect(((await read.json()) as { value: string }).value).toBe('before');
    } finally {
      await direct.config('SET', 'maxmemory', '0');
    }
  });

  it('a slow backend: 503 within REDIS_COMMAND_TIMEOUT, a write says its outcome is unknown; then it recovers', async () => {
    await set(server, 'slow', 'v');
    redis.current.pause();
    try {
      const started = performance.now();
      const [write, read] = await Promise.all([set(server, 'slow', 'w'), api(server, '/slow')]);
      const elapsedMs = performance.now() - started;
      expect(write.status).toBe(503);
      expect(write.headers.get('retry-after')).toBe('1');
      const body = (await write.json()) as { code: string; message: string };
      expect(body).toEqual({ code: 'backend_unavailable', message: expect.stringContaining('outcome of this write is unknown') });
      expect(read.status).toBe(503);
      expect(((await read.json()) as { code: string }).code).toBe('backend_unavailable');
      // 500 ms of timeout, with room for a busy machine: never the default 2 s, never a hang.
      expect(elapsedMs).toBeLessThan(1_500);
    } finally {
      redis.current.resume();
    }
    await waitFor(async () => (await api(server, '/slow')).status === 200, 'reads succeed again after SIGCONT');
  });
});

describe('Redis unreachable at start, then started, then restarted', () => {
  let redisPort: number;
  let server: Server;

  beforeAll(async () => {
    const probe = await startRedis();
    redisPort = probe.port;
    await probe.stop();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('starts anyway: /health 200, /ready 503, data routes 503 backend_unavailable at once; then serves once Redis is up', async () => {
    server = await startAnyMemkv({ storage: 'redis', redisUrl: `redis://127.0.0.1:${redisPort}`, redisCommandTimeoutMs: '1s' });
    expect((await fetch(`http://127.0.0.1:${server.healthPort}/health`)).status).toBe(200);
    const notReady = await ready(server);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { message: string }).message).toContain('backend_unavailable');
    const started = performance.now();
    const answer = await api(server, '/some-key');
    expect(performance.now() - started).toBeLessThan(500);
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(await answer.json()).toEqual({ code: 'backend_unavailable', message: expect.stringContaining('not reachable') });
    const write = await set(server, 'k', 'v');
    expect(write.status).toBe(503);
    // Not sent, so not unknown: the message says it was not reachable.
    expect(((await write.json()) as { message: string }).message).toContain('not reachable');

    const redis = await startRedis({ port: redisPort });
    try {
      await waitFor(async () => (await ready(server)).status === 200, '/ready turns 200 once Redis is up');
      expect((await set(server, 'k', 'v')).status).toBe(200);

      // Redis restarts (its data is gone: no persistence here): memkv reconnects by itself.
      await redis.stop();
      await waitFor(async () => (await api(server, '/k')).status === 503, 'requests fail while Redis is down');
      expect((await ready(server)).status).toBe(503);
      const again = await startRedis({ port: redisPort });
      try {
        await waitFor(async () => (await set(server, 'k2', 'v')).status === 200, 'writes succeed after the restart');
        expect((await ready(server)).status).toBe(200);
      } finally {
        await again.stop();
      }
    } finally {
      await redis.stop();
    }
  }, 30_000);
});

describe('Redis killed in the middle of a write load', () => {
  it('every request is answered in time; no write answered 200 is lost, none refused unsent is applied', async () => {
    // Redis with every write on disk before it answers, so that a restart keeps what it acknowledged.
    const dir = mkdtempSync(join(tmpdir(), 'memkv-redis-aof-'));
    const durable = { dir, args: ['--appendonly', 'yes', '--appendfsync', 'always'] };
    let redis = await startRedis(durable);
    const server = await startAnyMemkv({ storage: 'redis', redisUrl: redis.url, redisCommandTimeoutMs: '500ms' });
    try {
      await waitFor(() => server.redis?.ready === true, 'memkv connects to Redis');
      const outcomes: { value: string; status: number; message: string; ms: number }[] = [];
      const stopAtMs = Date.now() + 1_500;
      const writer = async (id: number): Promise<void> => {
        for (let i = 0; Date.now() < stopAtMs; i++) {
          const value = `w${id}-${i}`;
          const started = performance.now();
          const answer = await api(server, '/mid/push', { method: 'PATCH', body: JSON.stringify({ value }) });
          const body = (await answer.json()) as { message?: string };
          outcomes.push({ value, status: answer.status, message: body.message ?? '', ms: performance.now() - started });
          if (answer.status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const load = Promise.all([0, 1, 2, 3].map(writer));
      await new Promise((resolve) => setTimeout(resolve, 400));
      await redis.stop(true);
      await load;
      redis = await startRedis({ ...durable, port: redis.port });
      await waitFor(async () => (await api(server, '/mid')).status === 200, 'memkv reads again after the restart');

      const stored = new Set(((await (await api(server, '/mid')).json()) as { value: string[] }).value);
      const acknowledged = outcomes.filter((o) => o.status === 200);
      const unsent = outcomes.filter((o) => o.status === 503 && o.message.includes('not reachable'));
      expect(acknowledged.length).toBeGreaterThan(0);
      expect(outcomes.some((o) => o.status === 503)).toBe(true);
      expect(outcomes.every((o) => o.status === 200 || o.status === 503)).toBe(true);
      expect(acknowledged.filter((o) => !stored.has(o.value))).toEqual([]);
      expect(unsent.filter((o) => stored.has(o.value))).toEqual([]);
      // A request never waits much past REDIS_COMMAND_TIMEOUT (500 ms), however busy the machine.
      expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(2_000);
    } finally {
      await server.close();
      await redis.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
