import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runToExit, startServerProcess, type ServerProcess } from '../helpers/process.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

describe('memkv serve', () => {
  it('starts the server with flags over the environment, serves the CLI, and stops cleanly on SIGTERM', async () => {
    // PORT and HEALTH_PORT in the environment are taken; the flags must win over them.
    server = await startServerProcess({ PORT: '1', HEALTH_PORT: '2' }, [
      process.execPath, BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--health-port', '0', '--api-version', 'v2',
    ]);
    expect(server.logs.find((entry) => entry.healthPort !== undefined)).toMatchObject({ apiBase: '/api/v2' });
    expect((await fetch(`http://127.0.0.1:${server.healthPort}/health`)).status).toBe(200);

    const set = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [BIN, 'set', 'k', 'v', '--url', `${server!.url}/`, '--api-version', 'v2'], (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      ),
    );
    expect(set).toBe('OK\n');
    const row = (await (await fetch(`${server.url}/api/v2/k`)).json()) as { value: string };
    expect(row.value).toBe('v');

    expect(await server.stop('SIGTERM')).toBe(0);
  });

  it('exits 2 naming the setting when a flag is not valid', async () => {
    const result = await runToExit({}, [process.execPath, BIN, 'serve', '--port', 'eighty']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid configuration: PORT: accepts a port number/);
  });
});
