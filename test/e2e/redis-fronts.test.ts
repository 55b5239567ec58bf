/**
 * Several front processes on one Redis: two real memkv processes (dist/main.js) with
 * STORAGE=redis, and one with WORKERS=2. A write through one front is read through the other,
 * concurrent pushes and pops spread over both lose and duplicate nothing, and with auth on, a
 * token from one front works on the other and a logout on one is refused on the other at once.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, useTwoFronts, whenReady } from '../helpers/fronts.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { useRedisServer } from '../helpers/redis.js';

/** A login sent from `localAddress` (a loopback address other than 127.0.0.1): its status, and its body when asked. */
function loginFrom(localAddress: string, front: ServerProcess, username: string, password: string): Promise<number>;
function loginFrom(localAddress: string, front: ServerProcess, username: string, password: string, withBody: true): Promise<{ status: number; body: string }>;
function loginFrom(localAddress: string, front: ServerProcess, username: string, password: string, withBody = false): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ username, password });
    const sent = request(
      { host: '127.0.0.1', port: front.port, path: '/api/v1/auth/login', method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve(withBody ? { status: response.statusCode!, body: text } : response.statusCode!));
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

describe('two front processes on one Redis', () => {
  const redis = useRedisServer();

  const fronts = useTwoFronts(() => ({ STORAGE: 'redis', REDIS_URL: redis.current.url }));

  it('a write through one front is read through the other, with the same row', async () => {
    const [a, b] = fronts as [ServerProcess, ServerProcess];
    expect((await api(a, '/set', 'POST', { key: 'shared', value: ['x'], ttl: '1h' })).status).toBe(200);
    const fromB = await api(b, '/shared');
    expect(fromB.status).toBe(200);
    const row = (await fromB.json()) as { value: string[]; ttl: string; version: number };
    expect(row.value).toEqual(['x']);
    expect((await api(b, '/shared/push', 'PATCH', { value: 'y' })).status).toBe(200);
    expect(await (await api(a, '/shared')).json()).toEqual({ ...row, value: ['x', 'y'], updated_at: expect.any(String), version: row.version + 1 });
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

    // Both workers serve: under 1,200 reads on fresh connections, each one's CPU time grows by far
    // more than an idle process's (the primary hands the connections out in turn).
    const workers = childPids(front.child.pid!);
    expect(workers).toHaveLength(2);
    const before = workers.map(cpuTicks);
    for (let round = 0; round < 60; round++) {
      const reads = await Promise.all(Array.from({ length: 20 }, (_, i) => api(front, `/w${i}`, 'GET', undefined, { connection: 'close' })));
      expect(reads.map((r) => r.status)).toEqual(reads.map(() => 200));
    }
    const used = workers.map((pid, i) => cpuTicks(pid) - before[i]!);
    for (const ticks of used) expect(ticks, `CPU ticks of each worker: ${used.join(', ')}`).toBeGreaterThanOrEqual(5);
    expect(await front.stop('SIGTERM')).toBe(0);
  }, 30_000);
});

describe('auth shared through Redis by two fronts', () => {
  const redis = useRedisServer();
  const AUTH = {
    STORAGE: 'redis',
    AUTH_ENABLED: 'true',
    ADMIN_USER: 'admin',
    ADMIN_PASSWORD: 'correct horse battery',
    JWT_SECRET: 'a-shared-secret-of-at-least-32-bytes!!',
    PASSWORD_HASH_COST: '1024',
    LOGIN_RATE_LIMIT: '12',
  };
  const login = async (front: ServerProcess, username: string, password: string): Promise<Response> =>
    api(front, '/auth/login', 'POST', { username, password });
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  const fronts = useTwoFronts(() => ({ ...AUTH, REDIS_URL: redis.current.url }));

  it('a token from one front works on the other; a logout on one is refused on the other at once', async () => {
    const [a, b] = fronts as [ServerProcess, ServerProcess];
    const loggedIn = await login(a, 'admin', AUTH.ADMIN_PASSWORD);
    expect(loggedIn.status).toBe(200);
    const { access_token: token, refresh_token: refresh } = (await loggedIn.json()) as { access_token: string; refresh_token: string };
    expect((await api(b, '/set', 'POST', { key: 'auth-k', value: 'v' }, bearer(token))).status).toBe(200);
    expect((await api(a, '/auth-k', 'GET', undefined, bearer(token))).status).toBe(200);

    // A user created on one front logs in on the other.
    expect((await api(b, '/auth/register', 'POST', { username: 'reader', password: 'reader-password', role: 'readonly' }, bearer(token))).status).toBe(201);
    expect((await login(a, 'reader', 'reader-password')).status).toBe(200);

    // Log out on A: the very next request on B is refused.
    expect((await api(a, '/auth/logout', 'POST', { refresh_token: refresh }, bearer(token))).status).toBeLessThan(300);
    const after = await api(b, '/auth-k', 'GET', undefined, bearer(token));
    expect(after.status).toBe(401);
    expect((await api(b, '/auth/refresh', 'POST', { refresh_token: refresh })).status).toBe(401);
  });

  it('concurrent logins on both fronts all open sessions: no login undoes another', async () => {
    const [a, b] = fronts as [ServerProcess, ServerProcess];
    // Each from an address of its own: the login rate limit per address must not refuse these.
    const tokens = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const answer = await loginFrom(`127.0.1.${i + 1}`, i % 2 === 0 ? a : b, 'admin', AUTH.ADMIN_PASSWORD, true);
        expect(answer.status).toBe(200);
        return (JSON.parse(answer.body) as { access_token: string }).access_token;
      }),
    );
    for (const token of tokens) {
      for (const front of fronts) expect((await api(front, '/db/size', 'GET', undefined, bearer(token))).status).toBe(200);
    }
  });

  it('counts login attempts across fronts: the limit is shared', async () => {
    const [a, b] = fronts as [ServerProcess, ServerProcess];
    const statuses: number[] = [];
    // From another loopback address, so that the other case's logins do not count here.
    for (let i = 0; i < 13; i++) statuses.push(await loginFrom('127.0.0.2', i % 2 === 0 ? a : b, 'nobody', 'wrong-password'));
    // LOGIN_RATE_LIMIT=12: the 13th attempt is refused, though each front took only 6 or 7.
    expect(statuses).toEqual([...Array.from({ length: 12 }, () => 401), 429]);
  });
});

/** The pids of the processes whose parent is `parent` (Linux /proc). */
function childPids(parent: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name: state, ppid, …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === parent) children.push(Number(name));
  }
  return children;
}

/** User plus system CPU time of `pid`, in clock ticks (utime and stime of /proc/<pid>/stat). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
