/** `memkv login` and `memkv logout`, and the token option, against a real server with auth on. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMemkv } from '../helpers/servers.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `memkv ...args` with `input` on stdin; MEMKV_* variables come only from `env`. */
function memkv(args: string[], env: Record<string, string>, input = ''): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MEMKV_')));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...inherited, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

let server: Awaited<ReturnType<typeof startMemkv>>;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startMemkv({ authEnabled: 'true', adminUser: 'root', adminPassword: 'root-password', passwordHashCost: '1024' });
  env = { MEMKV_URL: server.url };
});
afterAll(() => server.close());

describe('memkv login', () => {
  it('prints an access token that --token and MEMKV_TOKEN then send', async () => {
    const login = await memkv(['login', 'root'], { ...env, MEMKV_PASSWORD: 'root-password' });
    expect(login).toMatchObject({ code: 0, stderr: '' });
    const token = login.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await memkv(['set', 'k', 'v', '--token', token], env)).toMatchObject({ code: 0, stdout: 'OK\n' });
    expect(await memkv(['get', 'k'], { ...env, MEMKV_TOKEN: token })).toMatchObject({ code: 0, stdout: 'v\n' });
  });

  it('reads the password from the first line of stdin with --password-stdin, and prints the pair with --json', async () => {
    const run = await memkv(['login', 'root', '--password-stdin', '--json'], env, 'root-password\nignored\n');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });
    // The API's answer as it came: the fields and their order of a plain POST /auth/login.
    const response = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'root', password: 'root-password' }),
    });
    expect(Object.keys(JSON.parse(run.stdout) as object)).toEqual(Object.keys((await response.json()) as object));
  });

  it('fails with exit code 2 for a wrong password, and asks for a password when none is given', async () => {
    const wrong = await memkv(['login', 'root'], { ...env, MEMKV_PASSWORD: 'wrong-password' });
    expect(wrong).toEqual({ code: 2, stdout: '', stderr: 'memkv: invalid username or password\n' });
    const none = await memkv(['login', 'root'], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--password-stdin, or in MEMKV_PASSWORD/);
  });

  it('without a token, data commands fail with the server\'s message', async () => {
    const run = await memkv(['get', 'k', '--json'], env);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toMatchObject({ code: 'unauthorized' });
  });
});

describe('memkv logout', () => {
  it('ends the session of the token', async () => {
    const token = (await memkv(['login', 'root'], { ...env, MEMKV_PASSWORD: 'root-password' })).stdout.trim();
    expect(await memkv(['logout', '--token', token], env)).toMatchObject({ code: 0, stdout: 'OK\n' });
    const other = (await memkv(['login', 'root'], { ...env, MEMKV_PASSWORD: 'root-password' })).stdout.trim();
    expect(await memkv(['logout', '--token', other, '--json'], env)).toEqual({ code: 0, stdout: '{"message":"ok"}\n', stderr: '' });
    const after = await memkv(['get', 'k', '--token', token], env);
    expect(after.code).toBe(2);
    expect(after.stderr).toMatch(/not valid/);
  });
});

describe('memkv serve and secrets', () => {
  it('takes ADMIN_PASSWORD and JWT_SECRET from the environment only, never as flags', async () => {
    const help = await memkv(['serve', '--help'], {});
    expect(help.stdout).toContain('--auth-enabled');
    expect(help.stdout).toContain('--admin-user');
    expect(help.stdout).not.toContain('--admin-password');
    expect(help.stdout).not.toContain('--jwt-secret');
    const flag = await memkv(['serve', '--admin-password', 'visible-to-everyone'], {});
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--admin-password/);
  });
});
