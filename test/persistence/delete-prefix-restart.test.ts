/** Keys removed by `POST /db/delete-prefix` stay removed after a restart: each removal reached the log. */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { tempDir } from './helpers.js';

const running: RunningServer[] = [];

afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

async function start(dir: string): Promise<RunningServer> {
  const config = loadConfig({ env: { PORT: '0', HEALTH_PORT: '0', PERSISTENCE_ENABLED: 'true', DB_PATH: dir, PERSISTENCE_FSYNC: 'always' } });
  const server = await startServer(config, pino({ level: 'silent' }));
  running.push(server);
  return server;
}

describe('delete-prefix with persistence', () => {
  it('removes keys in batches for good: the removals survive a restart, the other keys too', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const base = `http://127.0.0.1:${first.port}/api/v1`;
    for (let i = 0; i < 2500; i++) first.store!.set(`old:${i}`, 'v');
    for (let i = 0; i < 10; i++) first.store!.set(`keep:${i}`, 'v');
    const res = await fetch(`${base}/db/delete-prefix`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prefix: 'old:' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 2500 });
    await first.close();
    running.splice(running.indexOf(first), 1);

    const second = await start(dir);
    expect(second.store!.size).toBe(10);
    expect(second.store!.get('old:1')).toBeUndefined();
    expect(second.store!.get('keep:1')?.value).toBe('v');
  });
});
