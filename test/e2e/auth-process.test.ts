/** The real server process with auth: refuses to start without an admin, and guards the API once started. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, PORT: '0', HEALTH_PORT: '0', PASSWORD_HASH_COST: '1024', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

async function poll<T>(read: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('memkv process with AUTH_ENABLED', () => {
  it('refuses to start without ADMIN_USER and ADMIN_PASSWORD, with a clear message', async () => {
    const server = run({ AUTH_ENABLED: 'true' });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toMatch(/invalid configuration: ADMIN_USER: AUTH_ENABLED=true needs ADMIN_USER and ADMIN_PASSWORD/);
  });

  it('serves health without a token and data only with one, and warns about the in-memory secret', async () => {
    const server = run({ AUTH_ENABLED: 'true', ADMIN_USER: 'root', ADMIN_PASSWORD: 'root-password' });
    try {
      const listening = await poll(() =>
        server.stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((entry) => typeof entry.healthPort === 'number'),
      );
      expect(server.stdout()).toMatch(/JWT_SECRET is not set/);
      expect(server.stdout()).not.toContain('root-password');
      const api = `http://127.0.0.1:${listening.port}/api/v1`;
      expect((await fetch(`http://127.0.0.1:${listening.healthPort}/health`)).status).toBe(200);
      const denied = await fetch(`${api}/k`);
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="memkv"');
      const login = await fetch(`${api}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'root', password: 'root-password' }),
      });
      const { access_token } = (await login.json()) as { access_token: string };
      const set = await fetch(`${api}/set`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
        body: JSON.stringify({ key: 'k', value: 'v' }),
      });
      expect(set.status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  });
});
