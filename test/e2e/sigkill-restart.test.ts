import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/process.js';

const ROUNDS = 20;
const WRITES_PER_ROUND = 3;

const running: ServerProcess[] = [];
const dirs: string[] = [];

beforeAll(() => {
  // `npm start` builds first when the sources changed; do it once here, not inside a timed round.
  const build = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: ROOT, stdio: 'inherit' });
  expect(build.status).toBe(0);
}, 180_000);

afterEach(async () => {
  for (const server of running.splice(0)) await server.stop('SIGKILL');
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm start killed with SIGKILL', () => {
  it(`restarts at once, ${ROUNDS} times in a row, and keeps every acknowledged write`, async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'memkv-test-'));
    dirs.push(dir);
    const env = { PERSISTENCE_ENABLED: 'true', DB_PATH: dir, PERSISTENCE_FSYNC: 'always' };
    const acknowledged = new Map<string, string>();
    /** Starts `npm start`; every start after the first takes over the lock of the killed server, and says why. */
    const start = async (round: number) => {
      const server = await startServerProcess(env, ['npm', 'start'], { detached: true });
      running.push(server);
      const takeOver = server.logs.find((entry) => /took over the lock left by process \d+: /.test(entry?.msg));
      if (round > 0) expect(takeOver?.reason, `start ${round}: no take-over warning`).toMatch(/not yet reaped|no process with that pid runs/);
      return server;
    };

    for (let round = 0; round < ROUNDS; round++) {
      const server = await start(round);
      for (let i = 0; i < WRITES_PER_ROUND; i++) {
        const [key, value] = [`round-${round}-key-${i}`, `value-${round}-${i}`];
        const response = await fetch(`${server.url}/api/v1/set`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key, value }),
        });
        expect(response.status).toBe(200);
        acknowledged.set(key, value);
      }
      // npm, its shell and node together (`kill -9 -<pgid>`, or a supervisor killing the group); the
      // next round starts without waiting: node is typically still a zombie then.
      process.kill(-server.child.pid!, 'SIGKILL');
      running.splice(running.indexOf(server), 1);
    }

    const last = await start(ROUNDS);
    for (const [key, value] of acknowledged) {
      const response = await fetch(`${last.url}/api/v1/${key}`);
      expect(response.status, key).toBe(200);
      expect(await response.json()).toMatchObject({ value });
    }
    expect(acknowledged.size).toBe(ROUNDS * WRITES_PER_ROUND);
  }, 120_000);
});
