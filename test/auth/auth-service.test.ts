import { describe, expect, it } from 'vitest';
import { AuthError } from '../../src/auth/auth-error.js';
import { createAuthService, type AuthServiceOptions } from '../../src/auth/auth-service.js';
import { parseAuthState, serializeAuthState, type AuthState } from '../../src/auth/auth-state.js';
import { MemkvError } from '../../src/errors.js';
import { createManualClock } from '../../src/engine/clock.js';
import { ACCESS_TTL_MS, EPOCH, FAST_SCRYPT, REFRESH_TTL_MS, SECRET } from '../helpers/auth-app.js';

function service(options: Partial<AuthServiceOptions> = {}) {
  const clock = createManualClock(EPOCH);
  const auth = createAuthService({ secret: SECRET, accessTokenTtlMs: ACCESS_TTL_MS, refreshTokenTtlMs: REFRESH_TTL_MS, scrypt: FAST_SCRYPT, clock, ...options });
  return { auth, clock };
}

async function failure(promise: Promise<unknown>): Promise<MemkvError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MemkvError);
    return error as MemkvError;
  }
  throw new Error('expected a failure');
}

const header = (token: string) => `Bearer ${token}`;

describe('the auth service', () => {
  it('logs in, authorizes by role and key, and answers a token pair', async () => {
    const { auth } = service();
    await auth.register({ username: 'ann', password: 'ann-password', role: 'readonly', keys: ['cache:*'] });
    const pair = await auth.login('ann', 'ann-password');
    expect(pair).toMatchObject({ token_type: 'Bearer', expires_in: ACCESS_TTL_MS / 1000 });
    const identity = await auth.authorize(header(pair.access_token), 'read', 'cache:1');
    expect(identity).toMatchObject({ username: 'ann', role: 'readonly' });
    expect((await failure(auth.authorize(header(pair.access_token), 'read', 'other'))).code).toBe('forbidden');
    expect((await failure(auth.authorize(header(pair.access_token), 'write', 'cache:1'))).code).toBe('forbidden');
    expect((await failure(auth.authorize(header(pair.access_token), 'admin'))).code).toBe('forbidden');
    expect(await auth.authorize(undefined, 'public')).toBeUndefined();
    await expect(auth.authorize(header(pair.access_token), 'authenticated')).resolves.toBeTruthy();
  });

  it('answers the same for an unknown user and a wrong password', async () => {
    const { auth } = service();
    await auth.register({ username: 'ann', password: 'ann-password', role: 'readonly' });
    const unknown = await failure(auth.login('nobody', 'ann-password'));
    const wrong = await failure(auth.login('ann', 'not-the-password'));
    expect(unknown).toBeInstanceOf(AuthError);
    expect([unknown.code, unknown.message]).toEqual([wrong.code, wrong.message]);
  });

  it('rotates refresh tokens and closes the session when an old one is used again', async () => {
    const { auth } = service();
    await auth.register({ username: 'ann', password: 'ann-password', role: 'readwrite' });
    const first = await auth.login('ann', 'ann-password');
    const second = await auth.refresh(first.refresh_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    await expect(auth.authorize(header(second.access_token), 'write', 'k')).resolves.toBeTruthy();
    expect(((await failure(auth.refresh(first.refresh_token))) as AuthError).reason).toBe('refresh_token_reused');
    // Reuse ended the session: the tokens derived from it stop working too.
    expect(((await failure(auth.authorize(header(second.access_token), 'read'))) as AuthError).reason).toBe('token_revoked');
    expect(((await failure(auth.refresh(second.refresh_token))) as AuthError).reason).toBe('token_revoked');
  });

  it('lets only one of two concurrent refreshes with the same token win', async () => {
    const { auth } = service();
    await auth.register({ username: 'ann', password: 'ann-password', role: 'readwrite' });
    const pair = await auth.login('ann', 'ann-password');
    const results = await Promise.allSettled([auth.refresh(pair.refresh_token), auth.refresh(pair.refresh_token)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('logs out one session and leaves the others', async () => {
    const { auth } = service();
    await auth.register({ username: 'ann', password: 'ann-password', role: 'readwrite' });
    const a = await auth.login('ann', 'ann-password');
    const b = await auth.login('ann', 'ann-password');
    const identity = (await auth.authorize(header(a.access_token), 'authenticated'))!;
    await auth.logout(identity, a.refresh_token);
    expect(((await failure(auth.authorize(header(a.access_token), 'read'))) as AuthError).reason).toBe('token_revoked');
    expect(((await failure(auth.refresh(a.refresh_token))) as AuthError).reason).toBe('token_revoked');
    await expect(auth.authorize(header(b.access_token), 'read')).resolves.toBeTruthy();
  });

  it('ends every session of a user whose password changes or who is deleted', async () => {
    const { auth } = service();
    await auth.ensureAdmin('root', 'root-password');
    const admin = (await auth.authorize(header((await auth.login('root', 'root-password')).access_token), 'admin'))!;
    await auth.register({ username: 'ann', password: 'ann-password', role: 'readwrite' });
    const before = await auth.login('ann', 'ann-password');
    await auth.changePassword('ann', 'new-ann-password');
    expect((await failure(auth.authorize(header(before.access_token), 'read'))).code).toBe('unauthorized');
    expect((await failure(auth.login('ann', 'ann-password'))).code).toBe('unauthorized');
    const after = await auth.login('ann', 'new-ann-password');
    await auth.deleteUser('ann', admin);
    expect((await failure(auth.authorize(header(after.access_token), 'read'))).code).toBe('unauthorized');
    // A new account with the same name does not inherit the old tokens.
    await auth.register({ username: 'ann', password: 'ann-password', role: 'admin' });
    expect((await failure(auth.authorize(header(after.access_token), 'read'))).code).toBe('unauthorized');
    expect((await failure(auth.deleteUser('root', admin))).message).toMatch(/own account/);
    expect((await failure(auth.deleteUser('ghost', admin))).code).toBe('user_not_found');
  });

  it('validates new accounts', async () => {
    const { auth } = service();
    expect((await failure(auth.register({ username: 'bad name', password: 'password1', role: 'readonly' }))).code).toBe('invalid_request');
    expect((await failure(auth.register({ username: 'ann', password: 'short', role: 'readonly' }))).message).toMatch(/8 to 1024/);
    expect((await failure(auth.register({ username: 'ann', password: 'password1', role: 'root' as never }))).message).toMatch(/role/);
    expect((await failure(auth.register({ username: 'ann', password: 'password1', role: 'readonly', keys: [] }))).message).toMatch(/patterns/);
    await auth.register({ username: 'ann', password: 'password1', role: 'readonly' });
    expect((await failure(auth.register({ username: 'ann', password: 'password1', role: 'readonly' }))).code).toBe('user_exists');
  });

  it('makes sure of the admin account: creates it, then resets its password from configuration', async () => {
    const { auth } = service();
    await auth.ensureAdmin('root', 'first-password');
    await auth.ensureAdmin('root', 'second-password');
    expect((await failure(auth.login('root', 'first-password'))).code).toBe('unauthorized');
    await expect(auth.login('root', 'second-password')).resolves.toBeTruthy();
    expect(auth.listUsers().map((u) => [u.username, u.role])).toEqual([['root', 'admin']]);
  });

  it('saves after each change, one save at a time, and resumes from the saved state', async () => {
    const saved: AuthState[] = [];
    let running = 0;
    const save = async (state: AuthState) => {
      expect(++running).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      saved.push(structuredClone(state));
      running--;
    };
    const { auth, clock } = service({ save });
    await auth.register({ username: 'ann', password: 'ann-password', role: 'readwrite' });
    const [a, b] = await Promise.all([auth.login('ann', 'ann-password'), auth.login('ann', 'ann-password')]);
    const identity = (await auth.authorize(header(a.access_token), 'read'))!;
    await auth.logout(identity);
    await auth.flush();
    const last = saved.at(-1)!;
    expect(last.users.map((u) => u.username)).toEqual(['ann']);
    expect(last.sessions).toHaveLength(1);

    // Through the file format and back, as a restart does.
    const restored = parseAuthState(serializeAuthState(last));
    const again = createAuthService({ secret: SECRET, accessTokenTtlMs: ACCESS_TTL_MS, refreshTokenTtlMs: REFRESH_TTL_MS, scrypt: FAST_SCRYPT, clock, state: restored });
    expect((await failure(again.authorize(header(a.access_token), 'read'))).code).toBe('unauthorized');
    await expect(again.authorize(header(b.access_token), 'read')).resolves.toMatchObject({ username: 'ann' });
    await expect(again.refresh(b.refresh_token)).resolves.toBeTruthy();
  });

  it('drops expired sessions from the saved state', async () => {
    const { auth, clock } = service();
    await auth.register({ username: 'ann', password: 'ann-password', role: 'readwrite' });
    await auth.login('ann', 'ann-password');
    expect(auth.snapshot().sessions).toHaveLength(1);
    clock.advance(REFRESH_TTL_MS);
    expect(auth.snapshot().sessions).toHaveLength(0);
  });

  it('bounds the sessions of one user, closing the oldest', async () => {
    const { auth } = service({ maxSessionsPerUser: 2 });
    await auth.register({ username: 'ann', password: 'ann-password', role: 'readwrite' });
    const first = await auth.login('ann', 'ann-password');
    await auth.login('ann', 'ann-password');
    await auth.login('ann', 'ann-password');
    expect(auth.snapshot().sessions).toHaveLength(2);
    expect((await failure(auth.authorize(header(first.access_token), 'read'))).code).toBe('unauthorized');
  });

  it('refuses a damaged state document with a reason', () => {
    expect(() => parseAuthState('{')).toThrow(/not valid JSON/);
    expect(() => parseAuthState('{"version":2,"users":[],"sessions":[]}')).toThrow(/version 2/);
    expect(() => parseAuthState('{"version":1,"users":[{"id":"x","username":"a","role":"admin","keys":["*"],"passwordHash":"nope","createdAtMs":1}],"sessions":[]}')).toThrow(/passwordHash/);
  });

  it('refuses refresh lifetimes shorter than access lifetimes', () => {
    expect(() => service({ refreshTokenTtlMs: ACCESS_TTL_MS - 1000 })).toThrow(/refreshTokenTtlMs/);
  });
});
