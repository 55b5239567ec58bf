/** The client against a real memkv with auth on, over TCP: login, logout, automatic refresh. */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, ForbiddenError, UnauthorizedError, type TokenPairJson } from '@memkv/client';
import type { AuthService } from '../../src/auth/auth-service.js';
import { ACCESS_TTL_MS, createAuthTestApp, type AuthTestApp } from '../helpers/auth-app.js';

let t: AuthTestApp;
let url: string;
let refreshes: number;

beforeAll(async () => {
  t = await createAuthTestApp();
  // Count the exchanges the server sees.
  const auth = t.auth as AuthService & { refresh: AuthService['refresh'] };
  const refresh = auth.refresh.bind(auth);
  auth.refresh = (token: string) => {
    refreshes++;
    return refresh(token);
  };
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(() => t.close());
beforeEach(() => {
  refreshes = 0;
});

const refreshWith = (refresh_token: string) =>
  fetch(`${url}/api/v1/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token }) });

describe('client authentication', () => {
  it('logs in, then sends the access token with every call', async () => {
    const seen: TokenPairJson[] = [];
    const client = createClient({ url, onTokens: (pair) => seen.push(pair) });
    await expect(client.get('k')).rejects.toBeInstanceOf(UnauthorizedError);
    const pair = await client.login('writer', 'writer-password');
    expect(pair).toMatchObject({ token_type: 'Bearer', expires_in: ACCESS_TTL_MS / 1000 });
    expect(seen).toEqual([pair]);
    await client.set('k', 'v');
    expect((await client.get('k'))?.value).toBe('v');
  });

  it('refuses a wrong password with UnauthorizedError, without trying a refresh', async () => {
    const client = createClient({ url });
    const error = await client.login('writer', 'wrong-password').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as UnauthorizedError).message).toBe('invalid username or password');
    expect(refreshes).toBe(0);
  });

  it('answers ForbiddenError when the role does not allow the call', async () => {
    const client = createClient({ url });
    await client.login('reader', 'reader-password');
    const error = await client.set('k', 'v').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).status).toBe(403);
  });

  it('refreshes an expired access token once for many concurrent calls, then repeats each call once', async () => {
    const seen: TokenPairJson[] = [];
    const client = createClient({ url, onTokens: (pair) => seen.push(pair) });
    const first = await client.login('writer', 'writer-password');
    await client.set('counter', 'x');
    t.clock.advance(ACCESS_TTL_MS); // the access token is now expired

    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? client.get('counter') : client.set(`c${i}`, 'v'))));
    expect(results.filter((r) => typeof r === 'object').map((row) => (row as { value: unknown }).value)).toEqual(Array(6).fill('x'));
    expect(refreshes).toBe(1);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.refresh_token).not.toBe(first.refresh_token);
    // The used refresh token is spent; the calls went on with the new access token.
    expect((await refreshWith(first.refresh_token)).status).toBe(401);
    expect(t.store.get('c1')?.value).toBe('v');
  });

  it('rejects the calls when the refresh fails too, and stops refreshing', async () => {
    const client = createClient({ url });
    await client.login('cacher', 'cacher-password');
    await t.auth.changePassword('cacher', 'cacher-password'); // ends every session of the user
    t.clock.advance(ACCESS_TTL_MS);
    const errors = await Promise.all(Array.from({ length: 5 }, () => client.get('cache:1').catch((e: unknown) => e)));
    for (const error of errors) expect(error).toBeInstanceOf(UnauthorizedError);
    expect(refreshes).toBe(1);
    await expect(client.get('cache:1')).rejects.toBeInstanceOf(UnauthorizedError);
    expect(refreshes).toBe(1);
  });

  it('resumes a login from saved tokens', async () => {
    const pair = await createClient({ url }).login('writer', 'writer-password');
    t.clock.advance(ACCESS_TTL_MS);
    const client = createClient({ url, token: pair.access_token, refreshToken: pair.refresh_token });
    await client.set('resumed', 'yes');
    expect(refreshes).toBe(1);
    expect(t.store.get('resumed')?.value).toBe('yes');
  });

  it('logs out: the server ends the session and the client forgets the tokens', async () => {
    const client = createClient({ url });
    const pair = await client.login('writer', 'writer-password');
    await client.logout();
    await expect(client.get('k')).rejects.toBeInstanceOf(UnauthorizedError);
    expect(refreshes).toBe(0);
    expect((await refreshWith(pair.refresh_token)).status).toBe(401);
    const reuse = await fetch(`${url}/api/v1/k`, { headers: { authorization: `Bearer ${pair.access_token}` } });
    expect(reuse.status).toBe(401);
  });
});
