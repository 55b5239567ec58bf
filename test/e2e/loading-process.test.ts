/**
 * Listen first, then load: the real process on a log that takes over a second to replay. From
 * the first `GET /health` that answers 200, the API port answers too (`503 loading` until the
 * dataset is loaded), never a refused connection.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '@memkv/client';
import { RecordEncoder } from '../../src/persistence/aof-format.js';
import { AOF_FILE } from '../../src/persistence/persistence.js';
import { tempDir } from '../persistence/helpers.js';
import { MAIN, ROOT, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { countingFetch } from '../helpers/servers.js';

/** Keys in the log: about 1.2 s of replay on a quiet 2-core machine, more under load. */
const KEYS = 1_500_000;
const RECORDS_PER_WRITE = 100_000;

let starting: Promise<ServerProcess> | undefined;
afterEach(async () => {
  const server = await starting?.catch(() => undefined);
  await server?.stop('SIGKILL');
  starting = undefined;
});

/** Writes a log of `keys` sets (`key:<i>` = `value <i>`) with the persistence module's encoder; returns its size. */
function writeLog(dir: string, keys: number): number {
  const path = join(dir, AOF_FILE);
  const fd = fs.openSync(path, 'w');
  try {
    const encoder = new RecordEncoder(8 * 1024 * 1024);
    encoder.header();
    const atMs = Date.now();
    for (let i = 0; i < keys; i++) {
      encoder.mutation({ type: 'set', revision: 0, key: `key:${i}`, value: `value ${i}`, expiresAtMs: 0, atMs });
      if ((i + 1) % RECORDS_PER_WRITE === 0 || i === keys - 1) {
        fs.writeSync(fd, encoder.bytes);
        encoder.reset();
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return fs.statSync(path).size;
}

/** Two ports of 127.0.0.1 that the OS reports free now (held together, so they differ). */
async function freePorts(): Promise<[number, number]> {
  const servers: Server[] = [createServer(), createServer()];
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  const ports = servers.map((s) => (s.address() as { port: number }).port) as [number, number];
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: any;
}

/** One GET on a new connection; rejects with the socket error (ECONNREFUSED) when there is no answer. */
function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const retryAfter = response.headers['retry-after'];
        resolve({ status: response.statusCode!, retryAfter, body: text === '' ? undefined : JSON.parse(text) });
      });
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const PROGRESS = /^memkv is loading the dataset: (\d+)% \(([\d,]+) of ([\d,]+) bytes of the log\)$/;

describe('a restart with a large log', () => {
  it('answers on the API port from the first healthy /health, 503 loading with progress until loaded, then every key', async () => {
    const dir = tempDir();
    const logBytes = writeLog(dir, KEYS);
    const [port, healthPort] = await freePorts();

    const startedAtMs = Date.now();
    starting = startServerProcess({ PERSISTENCE_ENABLED: 'true', DB_PATH: dir, PORT: String(port), HEALTH_PORT: String(healthPort) });
    let ready = false;
    let failed = false;
    starting.then(
      () => (ready = true),
      () => (failed = true),
    );

    // Poll /health as fast as possible from the process start; at its first 200, ask the API.
    let firstApiAnswer: Answer | undefined;
    while (firstApiAnswer === undefined && !failed && Date.now() - startedAtMs < 30_000) {
      const health = await get(healthPort, '/health').catch(() => undefined);
      if (health?.status !== 200) continue;
      firstApiAnswer = await get(port, '/api/v1/key:0').catch((error: NodeJS.ErrnoException) => {
        throw new Error(`/health answered 200 but the API port did not answer: ${error.code ?? error.message}`);
      });
    }
    if (failed) await starting; // its error says why
    expect(firstApiAnswer).toBeDefined();
    expect([200, 503]).toContain(firstApiAnswer!.status);
    expect(ready).toBe(false); // the load must take long enough for this test to mean something

    // While loading: a client call with retries rides it out (its value arrives once loaded).
    const counter = countingFetch();
    const client = createClient({ url: `http://127.0.0.1:${port}`, retries: 60, fetch: counter.fetch });
    const clientGet = client.get('key:123456');

    // While loading: /ready 503, and every data request 503 loading with Retry-After and progress.
    // /ready turns 200 only once the API serves, so a loading answer after a /ready means it was 503.
    const percents: number[] = [];
    let loadingAnswers = 0;
    for (;;) {
      const readiness = await get(healthPort, '/ready');
      const answer = await get(port, '/api/v1/key:0');
      if (answer.status !== 503) {
        expect(answer.status).toBe(200);
        break;
      }
      loadingAnswers++;
      expect(readiness.status).toBe(503);
      // /ready says how far the load is too.
      expect(readiness.body.message).toMatch(/^memkv is loading the dataset(: \d+% \([\d,]+ of [\d,]+ bytes of the log\))?$/);
      expect(answer.retryAfter).toBe('1');
      expect(answer.body.code).toBe('loading');
      const progress = PROGRESS.exec(answer.body.message);
      if (progress === null) {
        expect(answer.body.message).toBe('memkv is loading the dataset'); // before the replay has read anything
        continue;
      }
      expect(Number(progress[3]!.replaceAll(',', ''))).toBe(logBytes);
      percents.push(Number(progress[1]));
    }
    expect(loadingAnswers).toBeGreaterThan(0);
    expect(percents.length).toBeGreaterThan(0);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));

    const server = await starting;
    expect((await get(healthPort, '/ready')).status).toBe(200);
    // Logged in order: the API port listens (loading), then the health port, then ready.
    const lines = server.logs.filter((entry) => typeof entry?.port === 'number');
    expect(lines.map((entry) => [entry.loading === true, entry.healthPort ?? null])).toEqual([
      [true, null],
      [true, healthPort],
      [false, healthPort],
    ]);
    expect(lines[0]).toMatchObject({ port });

    expect(await clientGet).toMatchObject({ key: 'key:123456', value: 'value 123456' });
    expect(counter.calls()).toBeGreaterThan(1);

    // Every key is there: the count, and a sample spread over the whole log.
    expect((await get(port, '/api/v1/db/size')).body).toEqual({ keys: KEYS });
    for (let i = 0; i < KEYS; i += 49_999) {
      const answer = await get(port, `/api/v1/key:${i}`);
      expect(answer.body).toMatchObject({ key: `key:${i}`, value: `value ${i}` });
    }
    expect((await get(port, `/api/v1/key:${KEYS - 1}`)).body).toMatchObject({ value: `value ${KEYS - 1}` });

    expect(await server.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('stops the load on SIGTERM: exits 0 at once, releases the lock, and the next start loads every key', async () => {
    const dir = tempDir();
    writeLog(dir, KEYS);
    const [port, healthPort] = await freePorts();
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PERSISTENCE_ENABLED: 'true', DB_PATH: dir, PORT: String(port), HEALTH_PORT: String(healthPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    try {
      // Wait until the replay has read part of the log, as /ready reports it.
      let readiness: Answer | undefined;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        readiness = await get(healthPort, '/ready').catch(() => undefined);
        if (readiness !== undefined && PROGRESS.test(readiness.body?.message ?? '')) break;
        if (child.exitCode !== null) break;
      }
      expect(readiness?.status).toBe(503);
      expect(readiness?.body.message).toMatch(PROGRESS);

      const signalledAt = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      // The replay stops at its next chunk: far sooner than the rest of the load would take.
      expect(Date.now() - signalledAt).toBeLessThan(2_000);
      expect(stdout).toContain('memkv stopped before it was ready');
      expect(stdout).not.toContain('"loading":true,"msg":"memkv stopped"'); // sanity: one clean path
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }

    // The lock is free, and the log untouched: the next start takes it over without a stale-lock
    // warning and loads every key.
    starting = startServerProcess({ PERSISTENCE_ENABLED: 'true', DB_PATH: dir });
    const server = await starting;
    expect(server.logs.some((entry) => typeof entry?.msg === 'string' && entry.msg.includes('took over'))).toBe(false);
    expect((await get(server.port, '/api/v1/db/size')).body).toEqual({ keys: KEYS });
  }, 60_000);
});
