/**
 * Auth state on disk, through a real server over TCP: users, sessions and the generated secret
 * survive a restart with persistence on, and a logout stays a logout.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { AUTH_FILE, AuthStateError } from '../../src/open-auth.js';
import { startServer, type RunningServer } from '../../src/server.js';

let root: string;
let dbPath: string;
const running: RunningServer[] = [];
const silent = pino({ level: 'silent' });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'memkv-auth-'));
  dbPath = join(root, 'nested', 'db'); // does not exist yet
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
  await rm(root, { recursive: true, force: true });
});

function config(env: Record<string, string> = {}) {
  return loadConfig({
    env: {
      PORT: '0',
      HEALTH_PORT: '0',
      AUTH_ENABLED: 'true',
      ADMIN_USER: 'root',
      ADMIN_PASSWORD: 'root-password',
      PERSISTENCE_ENABLED: 'true',
      DB_PATH: dbPath,
      PASSWORD_HASH_COST: '1024',
      ...env,
    },
  });
}

async function start(env: Record<string, string> = {}): Promise<{ server: RunningServer; call: typeof call }> {
  const server = await startServer(config(env), silent);
  running.push(server);
  const base = `http://127.0.0.1:${server.port}/api/v1`;
  async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    return { status: res.status, body: (await res.json()) as any, headers: res.headers, healthPort: server.healthPort };
  }
  return { server, call };
}

async function stop(server: RunningServer): Promise<void> {
  running.splice(running.indexOf(server), 1);
  await server.close();
}

describe('auth with persistence on', () => {
  it('keeps users, sessions, revocations and the generated secret across a restart', async () => {
    const first = await start();
    const loggedOut = (await first.call('POST', '/auth/login', { body: { username: 'root', password: 'root-password' } })).body;
    const kept = (await first.call('POST', '/auth/login', { body: { username: 'root', password: 'root-password' } })).body;
    const rotated = (await first.call('POST', '/auth/login', { body: { username: 'root', password: 'root-password' } })).body;
    expect((await first.call('POST', '/auth/register', { token: kept.access_token, body: { username: 'bob', password: 'bob-password', role: 'readonly' } })).status).toBe(201);
    expect((await first.call('POST', '/auth/logout', { token: loggedOut.access_token, body: { refresh_token: loggedOut.refresh_token } })).status).toBe(200);
    const next = (await first.call('POST', '/auth/refresh', { body: { refresh_token: rotated.refresh_token } })).body;
    expect(next.access_token).toBeDefined();
    // The health server never asks for a token.
    expect((await fetch(`http://127.0.0.1:${first.server.healthPort}/health`)).status).toBe(200);
    await stop(first.server);

    const file = join(dbPath, AUTH_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('root-password');
    expect(text).not.toContain('bob-password');
    expect((await readdir(dbPath)).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const second = await start();
    // Revoked before the restart: still revoked.
    expect((await second.call('GET', '/k', { token: loggedOut.access_token })).status).toBe(401);
    expect((await second.call('POST', '/auth/refresh', { body: { refresh_token: loggedOut.refresh_token } })).status).toBe(401);
    // Valid before the restart: still valid, so the secret was kept.
    expect((await second.call('GET', '/k', { token: kept.access_token })).status).toBe(404);
    expect((await second.call('POST', '/auth/refresh', { body: { refresh_token: next.refresh_token } })).status).toBe(200);
    // Rotated before the restart: the old refresh token stays used up.
    expect((await second.call('POST', '/auth/refresh', { body: { refresh_token: rotated.refresh_token } })).status).toBe(401);
    expect((await second.call('POST', '/auth/login', { body: { username: 'bob', password: 'bob-password' } })).status).toBe(200);
    const users = await second.call('GET', '/auth/users', { token: kept.access_token });
    expect(users.body.users.map((u: { username: string }) => u.username)).toEqual(['bob', 'root']);
  });

  it('takes ADMIN_PASSWORD from configuration at each start', async () => {
    const first = await start();
    await stop(first.server);
    const second = await start({ ADMIN_PASSWORD: 'new-root-password' });
    expect((await second.call('POST', '/auth/login', { body: { username: 'root', password: 'root-password' } })).status).toBe(401);
    expect((await second.call('POST', '/auth/login', { body: { username: 'root', password: 'new-root-password' } })).status).toBe(200);
  });

  it('with JWT_SECRET set, signs with it and does not write a secret', async () => {
    const { server, call } = await start({ JWT_SECRET: 'configured-secret-configured-secret-configured' });
    expect((await call('POST', '/auth/login', { body: { username: 'root', password: 'root-password' } })).status).toBe(200);
    await stop(server);
    expect(JSON.parse(await readFile(join(dbPath, AUTH_FILE), 'utf8')).secret).toBeUndefined();
  });

  it('refuses to start on a damaged auth file, saying how to recover', async () => {
    const first = await start();
    await stop(first.server);
    await writeFile(join(dbPath, AUTH_FILE), '{"version":1,"users":[');
    const error = await startServer(config(), silent).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthStateError);
    expect((error as Error).message).toMatch(/damaged.*remove it/);
  });
});

describe('auth without persistence', () => {
  it('keeps nothing on disk and forgets tokens at restart', async () => {
    const first = await start({ PERSISTENCE_ENABLED: 'false' });
    const pair = (await first.call('POST', '/auth/login', { body: { username: 'root', password: 'root-password' } })).body;
    expect((await first.call('GET', '/k', { token: pair.access_token })).status).toBe(404);
    await stop(first.server);
    await expect(stat(dbPath)).rejects.toThrow();
    const second = await start({ PERSISTENCE_ENABLED: 'false' });
    expect((await second.call('GET', '/k', { token: pair.access_token })).status).toBe(401);
  });
});
