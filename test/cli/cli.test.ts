import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusedUrl, startHttpServer, startMemkv } from '../helpers/servers.js';

/** The built executable, as npm links it. `npm test` builds before running the tests. */
const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `memkv ...args` as a child process; MEMKV_* variables come only from `env`. */
function memkv(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MEMKV_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...inherited, ...env }, timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

let server: Awaited<ReturnType<typeof startMemkv>>;
let env: Record<string, string>;

/** The exact text a plain HTTP request to `server` answers, without the client or the CLI. */
async function api(target: { url: string }, method: string, path: string): Promise<string> {
  return (await fetch(`${target.url}/api/v1${path}`, { method })).text();
}

beforeAll(async () => {
  server = await startMemkv();
  env = { MEMKV_URL: server.url };
});
afterAll(() => server.close());

describe('data commands', () => {
  it('set then get a string', async () => {
    expect(await memkv(['set', 'greeting', 'hello world'], env)).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
    expect(await memkv(['get', 'greeting'], env)).toEqual({ code: 0, stdout: 'hello world\n', stderr: '' });
  });

  it('set with several values or --list stores a list, printed as numbered lines', async () => {
    await memkv(['set', 'letters', 'a', 'b', 'c'], env);
    expect((await memkv(['get', 'letters'], env)).stdout).toBe('1) a\n2) b\n3) c\n');
    await memkv(['set', 'one', 'only', '--list'], env);
    expect(server.store.get('one')?.value).toEqual(['only']);
    await memkv(['set', 'none', '--list'], env);
    expect((await memkv(['get', 'none'], env)).stdout).toBe('(empty list)\n');
  });

  it('set --ttl sets the expiry', async () => {
    const before = Date.now();
    expect((await memkv(['set', 'session', 'x', '--ttl', '1h'], env)).code).toBe(0);
    const expiresAtMs = server.store.get('session')!.expiresAtMs!;
    expect(expiresAtMs).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(expiresAtMs).toBeLessThanOrEqual(Date.now() + 3_600_000);
  });

  it('get --json prints exactly what GET /api/v1/{key} answers', async () => {
    await memkv(['set', 'j', 'v', '--ttl', '10m'], env);
    const run = await memkv(['get', 'j', '--json'], env);
    expect(run).toEqual({ code: 0, stdout: `${await api(server, 'GET', '/j')}\n`, stderr: '' });
    const row = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(row)).toEqual(['key', 'kind', 'value', 'version', 'ttl', 'created_at', 'updated_at']);
    expect(new Date(row.ttl as string).getTime()).toBe(server.store.get('j')!.expiresAtMs);
  });

  it('push and pop --json print the API\'s rows: the list as GET then reads it, and popped', async () => {
    const pushed = await memkv(['push', 'jlist', 'a', 'b', '--ttl', '1h', '--json'], env);
    expect(pushed).toEqual({ code: 0, stdout: `${await api(server, 'GET', '/jlist')}\n`, stderr: '' });
    expect(Object.keys(JSON.parse(pushed.stdout) as object)).toEqual(['key', 'kind', 'value', 'version', 'ttl', 'created_at', 'updated_at']);
    const popped = await memkv(['pop', 'jlist', '--json'], env);
    expect(popped.code).toBe(0);
    const { popped: element, ...rest } = JSON.parse(popped.stdout) as Record<string, unknown>;
    expect(element).toBe('b');
    expect(JSON.stringify(rest)).toBe(await api(server, 'GET', '/jlist'));
    expect(popped.stdout).toMatch(/,"popped":"b"\}\n$/);
  });

  it('pop and push --idempotency-key: run again after a lost answer, the same key prints the same element and removes nothing more', async () => {
    expect((await memkv(['push', 'ilist', 'a', 'b', 'c', '--idempotency-key', 'fill-1'], env)).code).toBe(0);
    expect((await memkv(['push', 'ilist', 'a', 'b', 'c', '--idempotency-key', 'fill-1'], env)).code).toBe(0);
    expect(await memkv(['pop', 'ilist', '--idempotency-key', 'job-1'], env)).toEqual({ code: 0, stdout: 'c\n', stderr: '' });
    expect(await memkv(['pop', 'ilist', '--idempotency-key', 'job-1'], env)).toEqual({ code: 0, stdout: 'c\n', stderr: '' });
    expect(JSON.parse(await api(server, 'GET', '/ilist')).value).toEqual(['a', 'b']);
    const reused = await memkv(['pop', 'other', '--idempotency-key', 'job-1'], env);
    expect(reused.code).toBe(2);
    expect(reused.stderr).toContain('Idempotency-Key');
  });

  it('set, update and rm --json print the API\'s {"message":"ok"}', async () => {
    for (const args of [['set', 'm', 'v'], ['update', 'm', 'w'], ['rm', 'm']]) {
      const run = await memkv([...args, '--json'], env);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(run.stdout)).toEqual({ message: 'ok', version: server.store.revision });
    }
  });

  it('update replaces an existing key and exits 1 for a missing one', async () => {
    await memkv(['set', 'doc', 'v1'], env);
    expect(await memkv(['update', 'doc', 'v2', 'v3'], env)).toMatchObject({ code: 0, stdout: 'OK\n' });
    expect(server.store.get('doc')?.value).toEqual(['v2', 'v3']);
    const missing = await memkv(['update', 'ghost', 'v'], env);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe('memkv: key "ghost" does not exist\n');
  });

  it('pop asks for the minimal answer (it prints only the element); pop --json for the whole one', async () => {
    const prefers: (string | undefined)[] = [];
    const times = { version: 7, ttl: null, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' };
    const fake = await startHttpServer((request, _body, response) => {
      const prefer = request.headers.prefer as string | undefined;
      prefers.push(prefer);
      const row =
        prefer === 'return=minimal' ? { key: 'q', kind: 'string_slice', length: 1, ...times } : { key: 'q', kind: 'string_slice', value: ['a'], ...times };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ...row, popped: 'b' }));
    });
    try {
      expect(await memkv(['pop', 'q'], { MEMKV_URL: fake.url })).toEqual({ code: 0, stdout: 'b\n', stderr: '' });
      const json = await memkv(['pop', 'q', '--json'], { MEMKV_URL: fake.url });
      expect(JSON.parse(json.stdout)).toEqual({ key: 'q', kind: 'string_slice', value: ['a'], ...times, popped: 'b' });
      expect(prefers).toEqual(['return=minimal', undefined]);
    } finally {
      await fake.close();
    }
  });

  it('push prints the list, pop prints the element; popping nothing exits 1', async () => {
    expect(await memkv(['push', 'queue', 'a', 'b'], env)).toMatchObject({ code: 0, stdout: '1) a\n2) b\n' });
    expect(await memkv(['pop', 'queue'], env)).toMatchObject({ code: 0, stdout: 'b\n' });
    expect(await memkv(['pop', 'queue'], env)).toMatchObject({ code: 0, stdout: 'a\n' });
    const empty = await memkv(['pop', 'queue'], env);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^memkv: .*empty/);
    expect((await memkv(['pop', 'ghost'], env)).code).toBe(1);
    const pushed = JSON.parse((await memkv(['push', 'queue', 'x', '--json'], env)).stdout) as unknown;
    expect(pushed).toMatchObject({ key: 'queue', kind: 'string_slice', value: ['x'] });
    expect(JSON.parse((await memkv(['pop', 'queue', '--json'], env)).stdout)).toMatchObject({ value: [], popped: 'x' });
  });

  it('rm removes a key and exits 1 when it is missing', async () => {
    await memkv(['set', 'temp', 'v'], env);
    expect(await memkv(['rm', 'temp', '--json'], env)).toEqual({ code: 0, stdout: `{"message":"ok","version":${server.store.revision}}\n`, stderr: '' });
    expect(server.store.get('temp')).toBeUndefined();
    expect((await memkv(['rm', 'temp'], env)).code).toBe(1);
  });

  it('a missing key exits 1 with the message on stderr, as JSON with --json', async () => {
    expect(await memkv(['get', 'nope'], env)).toEqual({ code: 1, stdout: '', stderr: 'memkv: key "nope" does not exist\n' });
    const json = await memkv(['get', 'nope', '--json'], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({ code: 'item_not_found', message: 'key "nope" does not exist' });
    // After `--`, "--json" is a key, not the flag.
    expect(await memkv(['get', '--', '--json'], env)).toEqual({ code: 1, stdout: '', stderr: 'memkv: key "--json" does not exist\n' });
  });

  it('server errors exit 2: a push onto a string, a bad TTL', async () => {
    await memkv(['set', 'text', 'v'], env);
    const wrongType = await memkv(['push', 'text', 'x'], env);
    expect(wrongType.code).toBe(2);
    expect(wrongType.stderr).toMatch(/^memkv: .*string/);
    const badTtl = await memkv(['set', 'k', 'v', '--ttl', 'soon', '--json'], env);
    expect(badTtl.code).toBe(2);
    expect(JSON.parse(badTtl.stderr)).toMatchObject({ code: 'invalid_request' });
  });

  it('passes keys and values through untouched, values starting with "-" after --', async () => {
    const key = 'a/b?c#d %e ü😀';
    expect((await memkv(['set', key, '--', '-1'], env)).code).toBe(0);
    expect(server.store.get(key)?.value).toBe('-1');
    expect(await memkv(['get', key], env)).toMatchObject({ code: 0, stdout: '-1\n' });
  });
});

describe('range', () => {
  it('prints the slice as numbered lines, as get prints a list; negative indexes need no --', async () => {
    await memkv(['set', 'abc', 'a', 'b', 'c', 'd', 'e'], env);
    expect(await memkv(['range', 'abc', '0', '-1'], env)).toEqual({ code: 0, stdout: '1) a\n2) b\n3) c\n4) d\n5) e\n', stderr: '' });
    expect(await memkv(['range', 'abc', '1', '2'], env)).toEqual({ code: 0, stdout: '1) b\n2) c\n', stderr: '' });
    expect(await memkv(['range', 'abc', '-2', '-1'], env)).toEqual({ code: 0, stdout: '1) d\n2) e\n', stderr: '' });
    expect(await memkv(['range', 'abc', '-100', '0'], env)).toEqual({ code: 0, stdout: '1) a\n', stderr: '' });
    expect(await memkv(['range', 'abc', '3', '1'], env)).toEqual({ code: 0, stdout: '(empty list)\n', stderr: '' });
    // Flags may come before or after the indexes; after --, the indexes are arguments anyway.
    expect(await memkv(['range', '--url', server.url, 'abc', '-3', '-3'], {})).toMatchObject({ code: 0, stdout: '1) c\n' });
    expect(await memkv(['range', 'abc', '--', '-1', '-1'], env)).toMatchObject({ code: 0, stdout: '1) e\n' });
  });

  it('--json prints exactly what GET /api/v1/{key}/range answers', async () => {
    await memkv(['set', 'jrange', 'a', 'b', 'c', '--ttl', '1h'], env);
    const run = await memkv(['range', 'jrange', '-2', '-1', '--json'], env);
    expect(run).toEqual({ code: 0, stdout: `${await api(server, 'GET', '/jrange/range?start=-2&stop=-1')}\n`, stderr: '' });
    const row = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(row)).toEqual(['key', 'kind', 'value', 'length', 'version', 'ttl', 'created_at', 'updated_at']);
    expect(row).toMatchObject({ key: 'jrange', value: ['b', 'c'], length: 3 });
  });

  it('a missing key exits 1; a string exits 2; indexes that are not whole numbers are usage errors', async () => {
    expect(await memkv(['range', 'ghost', '0', '-1'], env)).toEqual({ code: 1, stdout: '', stderr: 'memkv: key "ghost" does not exist\n' });
    const json = await memkv(['range', 'ghost', '0', '-1', '--json'], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toMatchObject({ code: 'item_not_found' });
    await memkv(['set', 'rtext', 'v'], env);
    const wrongType = await memkv(['range', 'rtext', '0', '-1', '--json'], env);
    expect(wrongType.code).toBe(2);
    expect(JSON.parse(wrongType.stderr)).toMatchObject({ code: 'wrong_type' });
    for (const [start, stop] of [['a', '1'], ['0', '1.5'], ['0', '--1'], ['0', '99999999999999999999']]) {
      const bad = await memkv(['range', 'abc', start!, stop!], env);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toMatch(/^memkv: /);
    }
    expect((await memkv(['range', 'abc', 'x', '1'], env)).stderr).toMatch(/START takes a whole number/);
  });
});

describe('ttl', () => {
  it('prints the expiry (RFC 3339) or never; with a duration, sets it and prints the new one', async () => {
    await memkv(['set', 'tkey', 'v'], env);
    expect(await memkv(['ttl', 'tkey'], env)).toEqual({ code: 0, stdout: 'never\n', stderr: '' });
    const before = Date.now();
    const set = await memkv(['ttl', 'tkey', '2h'], env);
    expect(set.code).toBe(0);
    const expiresAtMs = server.store.get('tkey')!.expiresAtMs!;
    expect(expiresAtMs).toBeGreaterThanOrEqual(before + 7_200_000);
    expect(expiresAtMs).toBeLessThanOrEqual(Date.now() + 7_200_000);
    expect(set.stdout).toBe(`${new Date(expiresAtMs).toISOString()}\n`);
    expect(await memkv(['ttl', 'tkey'], env)).toEqual({ code: 0, stdout: set.stdout, stderr: '' });
    expect(server.store.get('tkey')?.value).toBe('v');
    expect(await memkv(['ttl', 'tkey', 'never'], env)).toEqual({ code: 0, stdout: 'never\n', stderr: '' });
    expect(server.store.get('tkey')?.expiresAtMs).toBeNull();
    expect(await memkv(['ttl', 'tkey'], env)).toEqual({ code: 0, stdout: 'never\n', stderr: '' });
  });

  it('--json prints the API\'s {key, ttl} for reading and for setting', async () => {
    await memkv(['set', 'jttl', 'a', 'b', '--ttl', '1h'], env);
    expect(await memkv(['ttl', 'jttl', '--json'], env)).toEqual({ code: 0, stdout: `${await api(server, 'GET', '/jttl/ttl')}\n`, stderr: '' });
    const set = await memkv(['ttl', 'jttl', '30m', '--json'], env);
    expect(set).toEqual({ code: 0, stdout: `${await api(server, 'GET', '/jttl/ttl')}\n`, stderr: '' });
    expect(JSON.parse(set.stdout)).toEqual({ key: 'jttl', ttl: new Date(server.store.get('jttl')!.expiresAtMs!).toISOString(), version: server.store.revision });
    expect(await memkv(['ttl', 'jttl', 'never', '--json'], env)).toEqual({ code: 0, stdout: `{"key":"jttl","ttl":null,"version":${server.store.revision}}\n`, stderr: '' });
  });

  it('a missing key exits 1, reading or setting; a bad duration exits 2', async () => {
    expect(await memkv(['ttl', 'ghost'], env)).toEqual({ code: 1, stdout: '', stderr: 'memkv: key "ghost" does not exist\n' });
    expect(await memkv(['ttl', 'ghost', '1h'], env)).toMatchObject({ code: 1, stdout: '' });
    expect(await memkv(['ttl', 'ghost', 'never'], env)).toMatchObject({ code: 1, stdout: '' });
    expect(server.store.get('ghost')).toBeUndefined();
    await memkv(['set', 'tbad', 'v', '--ttl', '1h'], env);
    const expiresAtMs = server.store.get('tbad')!.expiresAtMs;
    const bad = await memkv(['ttl', 'tbad', 'soon', '--json'], env);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(JSON.parse(bad.stderr)).toMatchObject({ code: 'invalid_request' });
    expect(server.store.get('tbad')!.expiresAtMs).toBe(expiresAtMs);
  });
});

describe('database commands', () => {
  // A server of their own: flush must not disturb the other tests' keys.
  let db: Awaited<ReturnType<typeof startMemkv>>;
  let dbEnv: Record<string, string>;
  beforeAll(async () => {
    db = await startMemkv();
    dbEnv = { MEMKV_URL: db.url };
  });
  afterAll(() => db.close());

  it('keys prints every key, one per line, across pages; PREFIX filters; --json prints each page the API answers', async () => {
    for (let i = 0; i < 12; i++) db.store.set(`user:${i}`, 'v');
    db.store.set('order:1', 'v');
    const all = await memkv(['keys', '--limit', '5'], dbEnv);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n').sort()).toEqual([...Array.from({ length: 12 }, (_, i) => `user:${i}`), 'order:1'].sort());
    const users = await memkv(['keys', 'user:', '--limit', '5', '--json'], dbEnv);
    expect(users.code).toBe(0);
    const lines = users.stdout.trimEnd().split('\n');
    // Each line is the API's answer to the request for that page, cursor included.
    let cursor: string | null = null;
    for (const line of lines) {
      expect(line).toBe(await api(db, 'GET', `/db/keys?prefix=user%3A&limit=5${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`));
      cursor = (JSON.parse(line) as { cursor: string | null }).cursor;
    }
    expect(cursor).toBeNull();
    const keys = lines.flatMap((line) => (JSON.parse(line) as { keys: string[] }).keys);
    expect(keys.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `user:${i}`).sort());
    expect(await memkv(['keys', 'nobody:'], dbEnv)).toEqual({ code: 0, stdout: '', stderr: '' });
    const bad = await memkv(['keys', '--limit', '5000'], dbEnv);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--limit takes a whole number from 1 to 1000/);
  });

  it('size, stats and flush', async () => {
    expect(await memkv(['size'], dbEnv)).toEqual({ code: 0, stdout: '13\n', stderr: '' });
    expect(await memkv(['size', '--json'], dbEnv)).toMatchObject({ code: 0, stdout: `${await api(db, 'GET', '/db/size')}\n` });
    expect((await memkv(['size', '--json'], dbEnv)).stdout).toBe('{"keys":13}\n');
    const stats = await memkv(['stats'], dbEnv);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^# server\nversion:\S+\n/);
    expect(stats.stdout).toMatch(/\n# keyspace\nkeys:13\nkeys_with_ttl:0\n/);
    expect(stats.stdout).toMatch(/\ncommands\.set:\d+\n/);
    const statsJson = JSON.parse((await memkv(['stats', '--json'], dbEnv)).stdout) as Record<string, Record<string, unknown>>;
    expect(statsJson).toMatchObject({ keyspace: { keys: 13 } });
    // The API's fields and names, section by section (the counters move between the two requests).
    const apiStats = JSON.parse(await api(db, 'GET', '/db/stats')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(statsJson)).toEqual(Object.keys(apiStats));
    for (const section of Object.keys(apiStats)) expect(Object.keys(statsJson[section]!)).toEqual(Object.keys(apiStats[section]!));
    expect(await memkv(['flush'], dbEnv)).toEqual({ code: 0, stdout: 'OK (13 keys removed)\n', stderr: '' });
    expect(db.store.size).toBe(0);
    db.store.set('again', 'v');
    expect(await memkv(['flush', '--json'], dbEnv)).toEqual({ code: 0, stdout: '{"removed":1}\n', stderr: '' });
    expect((await memkv(['size', 'extra'], dbEnv)).code).toBe(2);
  });
});

describe('where the server is', () => {
  it('--url wins over MEMKV_URL', async () => {
    await memkv(['set', 'where', 'here'], env);
    const run = await memkv(['get', 'where', '--url', server.url], { MEMKV_URL: await refusedUrl() });
    expect(run).toMatchObject({ code: 0, stdout: 'here\n' });
  });

  it('exits 2 when the server cannot be reached', async () => {
    const run = await memkv(['get', 'k'], { MEMKV_URL: await refusedUrl() });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^memkv: cannot reach memkv at http:\/\/127\.0\.0\.1:\d+\/api\/v1: connection refused/);
  });

  it('sends MEMKV_TOKEN, or --token over it, as a bearer token', async () => {
    const seen: (string | undefined)[] = [];
    const fake = await startHttpServer((request, _body, response) => {
      seen.push(request.headers.authorization);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"message":"ok"}');
    });
    try {
      expect((await memkv(['rm', 'k'], { MEMKV_URL: fake.url, MEMKV_TOKEN: 'from-env' })).code).toBe(0);
      expect((await memkv(['rm', 'k', '--token', 'from-flag'], { MEMKV_URL: fake.url, MEMKV_TOKEN: 'from-env' })).code).toBe(0);
      expect(seen).toEqual(['Bearer from-env', 'Bearer from-flag']);
    } finally {
      await fake.close();
    }
  });

  it('exits 2 for a bad URL or timeout', async () => {
    const badUrl = await memkv(['get', 'k', '--url', 'localhost:8080']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/url must/);
    const badTimeout = await memkv(['get', 'k'], { ...env, MEMKV_TIMEOUT: 'forever' });
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toMatch(/MEMKV_TIMEOUT: accepts a duration/);
  });
});

describe.concurrent('usage', () => {
  it.each([
    [[]],
    [['frobnicate']],
    [['get']],
    [['get', 'a', 'b']],
    [['set', 'k']],
    [['push', 'k']],
    [['get', 'k', '--bogus']],
    [['rm', 'k', '--ttl', '1h']],
    [['range', 'k', '0']],
    [['range', 'k', '0', '1', '2']],
    [['range', 'k', '0', '1', '--ttl', '1h']],
    [['ttl']],
    [['ttl', 'k', '1h', 'extra']],
    [['ttl', 'k', '--ttl', '1h']],
  ])('memkv %j exits 2 with a message on stderr', async (args) => {
    const run = await memkv(args, env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^(memkv: |Usage: memkv)/);
  });

  it('--help and --version exit 0', async () => {
    const help = await memkv(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['serve', 'get', 'set', 'update', 'push', 'pop', 'range', 'ttl', 'rm']) expect(help.stdout).toContain(`  ${command} `);
    expect(help.stdout).toContain('range KEY START STOP');
    expect(help.stdout).toContain('ttl KEY [DURATION|never]');
    expect((await memkv(['range', '--help'])).stdout).toMatch(/^Usage: memkv range KEY START STOP\n/);
    expect((await memkv(['serve', '--help'])).stdout).toContain('--health-port VALUE');
    expect((await memkv(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('versions and transactions', () => {
  it('--if-version writes only at that version (none: only a missing key); a stale one exits 2 with the server\'s message', async () => {
    expect(await memkv(['set', 'cas', 'one', '--if-version', 'none'], env)).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
    const version = server.store.get('cas')!.version;
    const stale = await memkv(['set', 'cas', 'two', '--if-version', String(version + 5)], env);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toBe(`memkv: the write needs key "cas" at version ${version + 5}, but its version is ${version}\n`);
    expect(server.store.get('cas')!.value).toBe('one');
    expect(await memkv(['update', 'cas', 'two', '--if-version', String(version)], env)).toMatchObject({ code: 0, stdout: 'OK\n' });
    expect((await memkv(['rm', 'cas', '--if-version', String(version)], env)).code).toBe(2);
    expect((await memkv(['rm', 'cas', '--if-version', 'x1'], env)).stderr).toMatch(/--if-version takes a version/);
    expect(await memkv(['rm', 'cas', '--if-version', String(version + 1)], env)).toMatchObject({ code: 0, stdout: 'OK\n' });
  });

  it('txn applies the ops of a file, or of stdin, and prints the version; a failed check exits 2 and applies nothing', async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'memkv-cli-txn-'));
    const file = join(dir, 'txn.json');
    fs.writeFileSync(file, JSON.stringify({ ops: [{ op: 'set', key: 't1', value: 'a' }, { op: 'push', key: 't2', value: ['x', 'y'] }] }));
    const run = await memkv(['txn', file], env);
    const version = server.store.get('t1')!.version;
    expect(run).toEqual({ code: 0, stdout: `OK (version ${version})\n`, stderr: '' });
    expect(server.store.get('t2')).toMatchObject({ value: ['x', 'y'], version });
    fs.writeFileSync(file, JSON.stringify({ checks: [{ key: 't1', version: version - 1 }], ops: [{ op: 'remove', key: 't1' }] }));
    const refused = await memkv(['txn', file, '--json'], env);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr)).toMatchObject({ code: 'txn_conflict' });
    expect(server.store.get('t1')?.value).toBe('a');
    fs.rmSync(dir, { recursive: true });
  });
});
