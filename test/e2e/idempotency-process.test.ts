/**
 * Idempotent retries against the real server process: a pop retried after a SIGKILL and a
 * restart gets its first answer back and pops nothing, under PERSISTENCE_FSYNC=always.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';

const started: ServerProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const server of started.splice(0)) await server.stop('SIGKILL');
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const pop = (url: string, key: string, idempotencyKey: string) =>
  fetch(`${url}/api/v1/${key}/pop`, { method: 'PATCH', headers: { 'idempotency-key': idempotencyKey } });

describe('idempotency keys in the server process', () => {
  it('answers a pop retried after a SIGKILL and a restart with the kept answer, and pops nothing more', async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'memkv-test-'));
    dirs.push(dir);
    const env = { PERSISTENCE_ENABLED: 'true', DB_PATH: dir, PERSISTENCE_FSYNC: 'always' };
    const first = await startServerProcess(env);
    started.push(first);
    const push = await fetch(`${first.url}/api/v1/jobs/push`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: ['j1', 'j2', 'j3'] }),
    });
    expect(push.status).toBe(200);
    const answered = await pop(first.url, 'jobs', 'worker-7:attempt-1');
    const body = await answered.text();
    expect(answered.status).toBe(200);
    expect(JSON.parse(body).popped).toBe('j3');
    await first.stop('SIGKILL');

    const restarted = await startServerProcess(env);
    started.push(restarted);
    const retried = await pop(restarted.url, 'jobs', 'worker-7:attempt-1');
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.headers.get('etag')).toBe(answered.headers.get('etag'));
    expect(await retried.text()).toBe(body);
    const row = (await (await fetch(`${restarted.url}/api/v1/jobs`)).json()) as { value: string[] };
    expect(row.value).toEqual(['j1', 'j2']);
    // The same key on another request is refused, after the restart too.
    expect((await pop(restarted.url, 'other', 'worker-7:attempt-1')).status).toBe(422);
  });
});
