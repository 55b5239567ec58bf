import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

describe('memkv serve', () => {
  it('starts the server with flags over the environment, serves the CLI, and stops cleanly on SIGTERM', async () => {
    // PORT in the environment would collide; the flags must win over it.
    const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--health-port', '0', '--api-version', 'v2'], {
      env: { ...process.env, PORT: '1', HEALTH_PORT: '2', VERBOSE: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let started: { port: number; healthPort: number; apiBase: string } | undefined;
      for await (const line of createInterface({ input: child.stdout })) {
        const log = JSON.parse(line) as { port?: number; healthPort?: number; apiBase?: string };
        if (log.port !== undefined) {
          started = log as typeof started;
          break;
        }
      }
      expect(started).toMatchObject({ apiBase: '/api/v2' });
      const health = await fetch(`http://127.0.0.1:${started!.healthPort}/health`);
      expect(health.status).toBe(200);

      const url = `http://127.0.0.1:${started!.port}`;
      const set = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [BIN, 'set', 'k', 'v', '--url', `${url}/`, '--api-version', 'v2'], (error, stdout) => (error ? reject(error) : resolve(stdout))),
      );
      expect(set).toBe('OK\n');
      const row = (await (await fetch(`${url}/api/v2/k`)).json()) as { value: string };
      expect(row.value).toBe('v');

      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code, signal] = (await exited) as [number | null, string | null];
      expect({ code, signal }).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('exits 2 naming the setting when a flag is not valid', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(process.execPath, [BIN, 'serve', '--port', 'eighty'], (error, _stdout, stderr) =>
        resolve({ code: error === null ? 0 : (error.code as number), stderr }),
      ),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid configuration: PORT: accepts a port number/);
  });
});
