/** The real server process with auth: refuses to start without an admin, and guards the API once started. */
import { afterEach, describe, expect, it } from 'vitest';
import { runToExit, startServerProcess, type ServerProcess } from '../helpers/process.js';

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

describe('memkv process with AUTH_ENABLED', () => {
  it('refuses to start without ADMIN_USER and ADMIN_PASSWORD, with a clear message', async () => {
    const result = await runToExit({ AUTH_ENABLED: 'true' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid configuration: ADMIN_USER: AUTH_ENABLED=true needs ADMIN_USER and ADMIN_PASSWORD/);
  });

  it('serves health without a token and data only with one, and warns about the in-memory secret', async () => {
    server = await startServerProcess({ AUTH_ENABLED: 'true', ADMIN_USER: 'root', ADMIN_PASSWORD: 'root-password', PASSWORD_HASH_COST: '1024' });
    const logs = JSON.stringify(server.logs);
    expect(logs).toMatch(/JWT_SECRET is not set/);
    expect(logs).not.toContain('root-password');
    const api = `${server.url}/api/v1`;
    expect((await fetch(`http://127.0.0.1:${server.healthPort}/health`)).status).toBe(200);
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
    expect(await server.stop('SIGTERM')).toBe(0);
  });
});
