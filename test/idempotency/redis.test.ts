/**
 * Idempotency keys with STORAGE=redis, on a real redis-server: the kept answers live in Redis,
 * so two memkv fronts on the same Redis answer each other's retries; the claim and the answer
 * expire in Redis (CLAIM_TTL_MS, IDEMPOTENCY_TTL).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM_TTL_MS } from '../../src/idempotency/idempotency-store.js';
import { createRedisIdempotency } from '../../src/idempotency/redis.js';
import { useRedisServer } from '../helpers/redis.js';
import { startAnyMemkv } from '../helpers/servers.js';

type Server = Awaited<ReturnType<typeof startAnyMemkv>>;

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within 10 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const pop = (server: Server, key: string, idempotencyKey: string) =>
  fetch(`${server.url}/api/v1/${key}/pop`, { method: 'PATCH', headers: { 'idempotency-key': idempotencyKey } });

describe('idempotency keys in Redis', () => {
  const redis = useRedisServer();
  let direct: Redis;
  let a: Server;
  let b: Server;

  beforeAll(async () => {
    direct = new Redis(redis.current.url);
    a = await startAnyMemkv({ storage: 'redis', redisUrl: redis.current.url, idempotencyTtlMs: '1h' });
    b = await startAnyMemkv({ storage: 'redis', redisUrl: redis.current.url, idempotencyTtlMs: '1h' });
    await waitFor(() => a.redis?.ready === true && b.redis?.ready === true, 'both fronts connect to Redis');
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    direct?.disconnect();
  });

  it('a pop retried on another front gets the first answer and pops nothing more', async () => {
    const push = await fetch(`${a.url}/api/v1/jobs/push`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"value":["j1","j2","j3"]}' });
    expect(push.status).toBe(200);
    const first = await pop(a, 'jobs', 'job-pop-1');
    const body = await first.text();
    expect(JSON.parse(body).popped).toBe('j3');
    const retried = await pop(b, 'jobs', 'job-pop-1');
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(await retried.text()).toBe(body);
    expect(((await (await fetch(`${b.url}/api/v1/jobs`)).json()) as { value: string[] }).value).toEqual(['j1', 'j2']);
    expect((await pop(b, 'other', 'job-pop-1')).status).toBe(422);
    // Kept under the prefix, for IDEMPOTENCY_TTL.
    const keys = await direct.keys('memkv:idem:*');
    expect(keys).toEqual(['memkv:idem:0::job-pop-1']);
    const ttl = await direct.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('does not keep validation failures, and scopes nothing without auth', async () => {
    const bad = await fetch(`${a.url}/api/v1/set`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'v-1' }, body: '{"key":"x","value":5}' });
    expect(bad.status).toBe(400);
    expect(await direct.exists('memkv:idem:0::v-1')).toBe(0);
  });

  it('claims a key in one command: a second claim is in flight until the answer is kept', async () => {
    const store = createRedisIdempotency({ client: direct, keyPrefix: 'test:idem:', ttlMs: 60_000 });
    expect(await store.begin('alice', 'k', 'PATCH /x 1')).toEqual({ outcome: 'new' });
    expect(await store.begin('alice', 'k', 'PATCH /x 1')).toEqual({ outcome: 'in_flight' });
    expect(await store.begin('alice', 'k', 'PATCH /y 1')).toEqual({ outcome: 'mismatch' });
    expect(await store.begin('bob', 'k', 'PATCH /y 1')).toEqual({ outcome: 'new' });
    const claimTtl = await direct.pttl('test:idem:5:alice:k');
    expect(claimTtl).toBeGreaterThan(CLAIM_TTL_MS - 5_000);
    expect(claimTtl).toBeLessThanOrEqual(CLAIM_TTL_MS);
    const answer = { status: 200, body: '{"ok":true}', headers: { etag: '"3"' } };
    await store.finish('alice', 'k', answer);
    expect(await store.begin('alice', 'k', 'PATCH /x 1')).toEqual({ outcome: 'replay', answer });
    expect(await direct.pttl('test:idem:5:alice:k')).toBeGreaterThan(55_000);
    await store.abandon('bob', 'k');
    expect(await store.begin('bob', 'k', 'PATCH /z 1')).toEqual({ outcome: 'new' });
  });
});
