import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runToExit, startServerProcess, type ServerProcess } from '../helpers/process.js';

const started: ServerProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const server of started.splice(0)) await server.stop('SIGKILL');
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the server process with persistence', () => {
  it('refuses a second server on the same DB_PATH, and restarts at once after a SIGKILL', async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'memkv-test-'));
    dirs.push(dir);
    const env = { PERSISTENCE_ENABLED: 'true', DB_PATH: dir };
    const first = await startServerProcess(env);
    started.push(first);
    const set = await fetch(`${first.url}/api/v1/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"key":"a","value":"1"}' });
    expect(set.status).toBe(200);

    const second = await runToExit(env);
    expect(second.code).toBe(1);
    expect(second.stdout).toContain(`is in use by another memkv server (pid ${first.child.pid}`);

    await first.stop('SIGKILL');
    const restarted = await startServerProcess(env);
    started.push(restarted);
    expect(restarted.logs.some((entry) => /took over the lock left by process/.test(entry?.msg))).toBe(true);
    expect(await (await fetch(`${restarted.url}/api/v1/a`)).json()).toMatchObject({ value: '1' });
  });
});
