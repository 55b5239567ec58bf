/**
 * Versions, preconditions and transactions through two real memkv processes (dist/main.js) on
 * one Redis: two clients racing read-modify-write with If-Match, one on each front, count every
 * increment exactly once; transactions sent to both fronts at once are all or nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, useTwoFronts } from '../helpers/fronts.js';
import type { ServerProcess } from '../helpers/process.js';
import { useRedisServer } from '../helpers/redis.js';

describe('versions over two fronts on one Redis', () => {
  const redis = useRedisServer();

  const fronts = useTwoFronts(() => ({ STORAGE: 'redis', REDIS_URL: redis.current.url }));

  it('a write answers its version and ETag; the other front reads the same version; If-Match on a stale one is 412 with the current', async () => {
    const [a, b] = fronts as [ServerProcess, ServerProcess];
    const written = await api(a, '/set', 'POST', { key: 'v', value: 'one' });
    expect(written.status).toBe(200);
    const { version } = (await written.json()) as { version: number };
    expect(written.headers.get('etag')).toBe(`"${version}"`);
    const read = await api(b, '/v');
    expect(read.headers.get('etag')).toBe(`"${version}"`);
    expect(((await read.json()) as { version: number }).version).toBe(version);
    const next = await api(b, '/set', 'POST', { key: 'v', value: 'two' }, { 'if-match': `"${version}"` });
    expect(next.status).toBe(200);
    const stale = await api(a, '/set', 'POST', { key: 'v', value: 'three' }, { 'if-match': `"${version}"` });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toEqual({ code: 'precondition_failed', message: expect.any(String), version: ((await next.json()) as { version: number }).version });
    const created = await api(a, '/set', 'POST', { key: 'v', value: 'x' }, { 'if-none-match': '*' });
    expect(created.status).toBe(412);
  });

  it('two clients racing read-modify-write with If-Match on one key, one per front, 300 rounds each: every increment counted once', async () => {
    expect((await api(fronts[0]!, '/set', 'POST', { key: 'count', value: '0' })).status).toBe(200);
    let lost = 0;
    const client = async (front: ServerProcess, rounds: number): Promise<void> => {
      for (let done = 0; done < rounds; ) {
        const read = await api(front, '/count');
        const etag = read.headers.get('etag')!;
        const row = (await read.json()) as { value: string };
        const write = await api(front, '/set', 'POST', { key: 'count', value: String(Number(row.value) + 1) }, { 'if-match': etag });
        if (write.status === 200) done++;
        else {
          expect(write.status).toBe(412);
          lost++;
        }
        await write.arrayBuffer();
      }
    };
    await Promise.all([client(fronts[0]!, 300), client(fronts[1]!, 300)]);
    const final = (await (await api(fronts[1]!, '/count')).json()) as { value: string };
    expect(final.value).toBe('600');
    expect(lost).toBeGreaterThan(0);
  }, 60_000);

  it('transactions from both fronts at once are all or nothing: transfers keep the sum; a failing op applies nothing', async () => {
    await api(fronts[0]!, '/set', 'POST', { key: 'acct:a', value: '500' });
    await api(fronts[0]!, '/set', 'POST', { key: 'acct:b', value: '0' });
    let conflicts = 0;
    const transfer = async (front: ServerProcess, times: number): Promise<void> => {
      for (let done = 0; done < times; ) {
        const [a, b] = (await Promise.all([api(front, '/acct:a'), api(front, '/acct:b')].map(async (r) => (await r).json()))) as {
          value: string;
          version: number;
        }[];
        const answer = await api(front, '/db/txn', 'POST', {
          checks: [
            { key: 'acct:a', version: a!.version },
            { key: 'acct:b', version: b!.version },
          ],
          ops: [
            { op: 'set', key: 'acct:a', value: String(Number(a!.value) - 1) },
            { op: 'set', key: 'acct:b', value: String(Number(b!.value) + 1) },
            { op: 'push', key: 'acct:log', value: `${a!.value}->${Number(a!.value) - 1}` },
          ],
        });
        const body = (await answer.json()) as { ok?: boolean; version?: number; code?: string; conflicts?: unknown[] };
        if (answer.status === 200) {
          expect(body.ok).toBe(true);
          expect(answer.headers.get('etag')).toBe(`"${body.version}"`);
          done++;
        } else {
          expect(answer.status).toBe(409);
          expect(body.code).toBe('txn_conflict');
          expect(body.conflicts!.length).toBeGreaterThan(0);
          conflicts++;
        }
      }
    };
    await Promise.all([transfer(fronts[0]!, 100), transfer(fronts[1]!, 100)]);
    const [a, b, log] = (await Promise.all(['/acct:a', '/acct:b', '/acct:log'].map(async (path) => (await api(fronts[1]!, path)).json()))) as {
      value: string | string[];
      version: number;
    }[];
    expect([a!.value, b!.value]).toEqual(['300', '200']);
    expect(a!.version).toBe(b!.version);
    expect(log!.version).toBe(a!.version);
    // One log line per transfer, each from a distinct balance: none applied twice or half.
    expect(new Set(log!.value).size).toBe(200);
    expect(conflicts).toBeGreaterThan(0);

    // A failing op applies nothing, not even the ops before it.
    const failed = await api(fronts[0]!, '/db/txn', 'POST', { checks: [], ops: [{ op: 'set', key: 'acct:a', value: '0' }, { op: 'pop', key: 'acct:b' }] });
    expect(failed.status).toBe(409);
    expect(((await failed.json()) as { code: string }).code).toBe('wrong_type');
    expect(((await (await api(fronts[1]!, '/acct:a')).json()) as { value: string }).value).toBe('300');
  }, 60_000);
});
