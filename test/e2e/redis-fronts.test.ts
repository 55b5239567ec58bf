/**
 * Several front processes on one Redis: two real memkv processes (dist/main.js) with
 * STORAGE=redis, and one with WORKERS=2. A write through one front is read through the other,
 * and concurrent pushes and pops spread over both lose and duplicate nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { useRedisServer } from '../helpers/redis.js';

const api = (front: ServerProcess, path: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${front.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** Waits until the front's /ready answers 200 (connected to Redis). */
async function whenReady(front: ServerProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await fetch(`http://127.0.0.1:${front.healthPort}/ready`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`front on port ${front.port} not ready: ${front.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('two front processes on one Redis', () => {
  const redis = useRedisServer();
  const fronts: ServerProcess[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) fronts.push(await startServerProcess({ STORAGE: 'redis', REDIS_URL: redis.current.url }));
    await Promise.all(fronts.map(whenReady));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(fronts.map((front) => front.stop()));
  });

  it('a write through one front is read through the other, with the same row', async () => {
    const [a, b] = fronts as [ServerProcess, ServerProcess];
    expect((await api(a, '/set', 'POST', { key: 'shared', value: ['x'], ttl: '1h' })).status).toBe(200);
    const fromB = await api(b, '/shared');
    expect(fromB.status).toBe(200);
    const row = (await fromB.json()) as { value: string[]; ttl: string };
    expect(row.value).toEqual(['x']);
    expect((await api(b, '/shared/push', 'PATCH', { value: 'y' })).status).toBe(200);
    expect(await (await api(a, '/shared')).json()).toEqual({ ...row, value: ['x', 'y'], updated_at: expect.any(String) });
  });

  it('400 concurrent pushes, then 400 concurrent pops, spread over both fronts: nothing lost, nothing twice', async () => {
    const values = Array.from({ length: 400 }, (_, i) => `v${i}`);
    const pushes = await Promise.all(
      values.map((value, i) => api(fronts[i % 2]!, '/race/push', 'PATCH', { value }, { prefer: 'return=minimal' })),
    );
    expect(pushes.map((r) => r.status)).toEqual(values.map(() => 200));
    const lengths = await Promise.all(pushes.map(async (r) => ((await r.json()) as { length: number }).length));
    // Each push saw its own length: 1 to 400, each once.
    expect(lengths.sort((x, y) => x - y)).toEqual(values.map((_, i) => i + 1));
    const row = (await (await api(fronts[0]!, '/race')).json()) as { value: string[] };
    expect([...row.value].sort()).toEqual([...values].sort());

    const pops = await Promise.all(values.map((_, i) => api(fronts[i % 2]!, '/race/pop', 'PATCH', undefined, { prefer: 'return=minimal' })));
    expect(pops.map((r) => r.status)).toEqual(values.map(() => 200));
    const popped = await Promise.all(pops.map(async (r) => ((await r.json()) as { popped: string }).popped));
    expect(new Set(popped).size).toBe(values.length);
    expect([...popped].sort()).toEqual([...values].sort());
    const empty = await api(fronts[1]!, '/race/pop', 'PATCH');
    expect(empty.status).toBe(409);
    expect(((await empty.json()) as { code: string }).code).toBe('list_empty');
  }, 30_000);

  it('a key listing begun on one front continues on the other (the cursor key is shared through Redis)', async () => {
    const [a, b] = fronts as [ServerProcess, ServerProcess];
    for (const k of ['list:1', 'list:2', 'list:3']) await api(a, '/set', 'POST', { key: k, value: 'v' });
    const first = (await (await api(a, '/db/keys?prefix=list:&limit=1')).json()) as { keys: string[]; cursor: string };
    const keys = [...first.keys];
    let cursor: string | null = first.cursor;
    for (let i = 0; cursor !== null && i < 100; i++) {
      const page = await api(i % 2 === 0 ? b : a, `/db/keys?prefix=list:&limit=1&cursor=${encodeURIComponent(cursor)}`);
      expect(page.status).toBe(200);
      const body = (await page.json()) as { keys: string[]; cursor: string | null };
      keys.push(...body.keys);
      cursor = body.cursor;
    }
    expect(keys.sort()).toEqual(['list:1', 'list:2', 'list:3']);
  });
});

describe('WORKERS=2', () => {
  const redis = useRedisServer();
  let front: ServerProcess;

  afterAll(async () => {
    await front?.stop();
  });

  it('runs two workers on one port, which serve the API, and stops them all on SIGTERM', async () => {
    front = await startServerProcess({ STORAGE: 'redis', REDIS_URL: redis.current.url, WORKERS: '2' });
    const readyLines = (): unknown[] => front.logs.filter((entry) => typeof entry === 'object' && entry?.healthPort !== undefined && entry.loading !== true);
    const deadline = Date.now() + 15_000;
    while (readyLines().length < 2) {
      if (Date.now() > deadline) throw new Error(`two workers did not start: ${JSON.stringify(front.logs)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(front.logs.some((entry) => entry?.workers === 2)).toBe(true);
    await whenReady(front);
    // Fresh connections are spread over the workers; every one of them is served.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api(front, '/set', 'POST', { key: `w${i}`, value: 'v' }, { connection: 'close' })),
    );
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    expect(((await (await api(front, '/db/size')).json()) as { keys: number }).keys).toBe(40);
    expect(await front.stop('SIGTERM')).toBe(0);
  }, 30_000);
});
