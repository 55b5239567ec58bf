import fs from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { PersistenceError } from '../../src/errors.js';
import { RecordEncoder } from '../../src/persistence/aof-format.js';
import { AOF_FILE } from '../../src/persistence/persistence.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { captureLogger, refuseWrites, tempDir } from './helpers.js';

const json = { 'content-type': 'application/json' };
const running: RunningServer[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const server of running.splice(0)) await server.close();
});

async function start(dir: string, env: Record<string, string> = {}) {
  const { logger, records } = captureLogger();
  const config = loadConfig({
    env: { PORT: '0', HEALTH_PORT: '0', PERSISTENCE_ENABLED: 'true', DB_PATH: dir, DEFAULT_CLEANUP_INTERVAL: '1h', ...env },
  });
  const server = await startServer(config, logger);
  running.push(server);
  const base = `http://127.0.0.1:${server.port}/api/v1`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, { method, headers: body === undefined ? {} : json, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  };
  const health = async () => {
    const response = await fetch(`http://127.0.0.1:${server.healthPort}/ready`);
    return { status: response.status, body: (await response.json()) as any };
  };
  return { server, call, health, records };
}

async function stop(server: RunningServer): Promise<void> {
  running.splice(running.indexOf(server), 1);
  await server.close();
}

describe('a server with persistence', () => {
  it('keeps every kind of write, TTLs and times included, across a restart, and logs what it loaded', async () => {
    const dir = tempDir();
    const first = await start(dir);
    expect((await first.call('POST', '/set', { key: 'str', value: 'hello', ttl: '1h' })).status).toBe(200);
    await first.call('POST', '/set', { key: 'list', value: ['a', 'b', 'c'] });
    await first.call('PATCH', '/str', { value: 'hello again' });
    await first.call('PATCH', '/list/push', { value: ['d', 'e'], ttl: '2h' });
    await first.call('PATCH', '/list/pop');
    await first.call('PATCH', '/fresh/push', { value: 'only' });
    await first.call('POST', '/set', { key: 'doomed', value: 'x' });
    await first.call('DELETE', '/doomed');
    await first.call('PATCH', '/replaced', { value: 'never created' }); // 404: nothing logged
    await first.call('POST', '/set', { key: 'kind', value: ['was a list'] });
    await first.call('PATCH', '/kind', { value: 'now a string' });
    const keys = ['str', 'list', 'fresh', 'kind'];
    const before = await Promise.all(keys.map((key) => first.call('GET', `/${encodeURIComponent(key)}`)));
    await stop(first.server);

    const second = await start(dir);
    const after = await Promise.all(keys.map((key) => second.call('GET', `/${encodeURIComponent(key)}`)));
    expect(after).toEqual(before);
    expect(after[1]!.body.value).toEqual(['a', 'b', 'c', 'd']);
    expect(typeof after[1]!.body.ttl).toBe('string');
    expect((await second.call('GET', '/doomed')).status).toBe(404);
    expect((await second.call('GET', '/replaced')).status).toBe(404);
    const loaded = second.records.find((r) => /^persistence: loaded/.test(r.msg));
    expect(loaded).toMatchObject({ keys: 4, msg: expect.stringMatching(/loaded 4 keys from \d+ bytes in \d+ ms/) });
    expect(loaded!.bytes).toBe(fs.statSync(join(dir, AOF_FILE)).size);
  });

  it('refuses a second server on the same DB_PATH while the first keeps serving', async () => {
    const dir = tempDir();
    const first = await start(dir);
    await first.call('POST', '/set', { key: 'a', value: '1' });
    const failure = await start(dir).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PersistenceError);
    expect((failure as Error).message).toMatch(/is in use by another memkv server/);
    expect((await first.call('GET', '/a')).body.value).toBe('1');
  });

  it('with always, answers a write only after its fsync, and shares one fsync among concurrent writes', async () => {
    const dir = tempDir();
    const { call } = await start(dir, { PERSISTENCE_FSYNC: 'always' });
    const held: Array<() => void> = [];
    const real = fs.fdatasync;
    const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      held.push(() => real(fd, callback));
    }) as typeof fs.fdatasync);
    let answered = 0;
    const writes = Array.from({ length: 40 }, (_, i) =>
      call('POST', '/set', { key: `k${i}`, value: `v${i}` }).then((response) => {
        answered++;
        return response;
      }),
    );
    const releaseAll = async () => {
      while (answered < writes.length) {
        held.splice(0).forEach((release) => release());
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    try {
      for (let waited = 0; held.length === 0 && waited < 2000; waited++) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      expect(held.length).toBeGreaterThanOrEqual(1);
      expect(held.length).toBeLessThanOrEqual(2); // at most two fsyncs overlap
      expect(answered).toBe(0); // nothing answered while the fsyncs are held
    } finally {
      await releaseAll();
    }
    const responses = await Promise.all(writes);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(spy.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(spy.mock.calls.length).toBeLessThan(writes.length / 2);
  });

  it('answers 500 persistence_failed when the disk refuses a write, keeps memory as on disk, reports it, and recovers', async () => {
    const dir = tempDir();
    const first = await start(dir);
    await first.call('POST', '/set', { key: 'a', value: 'before' });
    const logPath = join(dir, AOF_FILE);
    const sizeBefore = fs.statSync(logPath).size;
    let failing = true;
    refuseWrites(logPath, () => failing);

    const refused = await first.call('POST', '/set', { key: 'a', value: 'after' });
    expect(refused).toEqual({ status: 500, body: { code: 'persistence_failed', message: expect.stringMatching(/ENOSPC.*not applied/) } });
    expect((await first.call('PATCH', '/b/push', { value: 'x' })).status).toBe(500);
    expect((await first.call('GET', '/a')).body.value).toBe('before');
    expect((await first.call('GET', '/b')).status).toBe(404);
    expect(fs.statSync(logPath).size).toBe(sizeBefore); // the partial record was cut off
    expect(await first.health()).toEqual({ status: 503, body: { code: 'service_unavailable', message: expect.stringMatching(/^persistence_failed: .*ENOSPC/) } });
    expect(first.server.persistence!.status()).toMatchObject({ failing: true, lastError: { message: expect.stringMatching(/ENOSPC/) } });
    expect(first.records.filter((r) => r.level === 50 && /persistence: write/.test(r.msg))).toHaveLength(1);

    failing = false;
    expect((await first.call('POST', '/set', { key: 'a', value: 'later' })).status).toBe(200);
    expect((await first.health()).status).toBe(200);
    await stop(first.server);
    const second = await start(dir);
    expect((await second.call('GET', '/a')).body.value).toBe('later');
    expect((await second.call('GET', '/b')).status).toBe(404);
    expect(second.records.some((r) => r.level >= 40)).toBe(false);
  });

  it('with always, answers 500 persistence_failed when the fsync fails, and reports it until one succeeds', async () => {
    const dir = tempDir();
    const { call, health } = await start(dir, { PERSISTENCE_FSYNC: 'always' });
    const real = fs.fdatasync;
    let failing = true;
    vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      if (failing) setImmediate(() => callback(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
      else real(fd, callback);
    }) as typeof fs.fdatasync);
    expect(await call('POST', '/set', { key: 'a', value: '1' })).toEqual({
      status: 500,
      body: { code: 'persistence_failed', message: expect.stringMatching(/fsync failed \(EIO\)/) },
    });
    expect((await health()).body).toMatchObject({ code: 'service_unavailable', message: expect.stringMatching(/^persistence_failed: /) });
    failing = false;
    expect((await call('POST', '/set', { key: 'a', value: '2' })).status).toBe(200);
    expect((await health()).status).toBe(200);
  });

  it('compacts on POST /api/v1/db/compact and keeps the data', async () => {
    const dir = tempDir();
    const first = await start(dir);
    for (let i = 0; i < 50; i++) await first.call('POST', '/set', { key: 'same', value: `v${i}` });
    const before = first.server.persistence!.status().sizeBytes;
    expect(await first.call('POST', '/db/compact')).toEqual({ status: 202, body: { message: 'compaction started' } });
    await first.server.persistence!.compacting;
    expect(first.server.persistence!.status()).toMatchObject({ lastCompaction: { result: 'ok', beforeBytes: before } });
    expect(first.server.persistence!.status().sizeBytes).toBeLessThan(before / 10);
    const stats = (await first.call('GET', '/db/stats')).body.persistence;
    expect(stats).toEqual({
      enabled: true,
      writable: true,
      last_write_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      last_fsync_at: expect.toSatisfy((v: unknown) => v === null || typeof v === 'string'),
      log_bytes: first.server.persistence!.status().sizeBytes,
      last_compaction_at: new Date(first.server.persistence!.status().lastCompaction!.finishedAtMs!).toISOString(),
    });
    await stop(first.server);
    expect((await (await start(dir)).call('GET', '/same')).body.value).toBe('v49');
  });

  it('answers 409 persistence_disabled to a compaction when persistence is off', async () => {
    const { call } = await start(tempDir(), { PERSISTENCE_ENABLED: 'false' });
    expect(await call('POST', '/db/compact')).toEqual({ status: 409, body: { code: 'persistence_disabled', message: expect.any(String) } });
    expect((await call('GET', '/db/stats')).body.persistence).toEqual({ enabled: false });
  });

  it('answers 503 on /ready until the replay has finished', async () => {
    const dir = tempDir();
    const encoder = new RecordEncoder();
    encoder.header();
    for (let i = 0; i < 150_000; i++) encoder.mutation({ type: 'set', revision: 0, key: `key:${i}`, value: `value ${i}`, expiresAtMs: 0, atMs: Date.now() });
    fs.writeFileSync(join(dir, AOF_FILE), encoder.bytes);
    const healthPort = await freePort();
    const starting = start(dir, { HEALTH_PORT: String(healthPort) });
    let done = false;
    void starting.then(() => (done = true), () => (done = true));
    const seen: number[] = [];
    while (!done) {
      try {
        const response = await fetch(`http://127.0.0.1:${healthPort}/ready`);
        if (!done) seen.push(response.status);
      } catch {
        // not listening yet
      }
    }
    const { health, call } = await starting;
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([503]));
    expect((await health()).status).toBe(200);
    expect((await call('GET', '/key:149999')).body.value).toBe('value 149999');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
