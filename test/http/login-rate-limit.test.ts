/** Login attempts are limited per client address and per user name: 429 with Retry-After, then recovery. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthTestApp, type AuthTestApp } from '../helpers/auth-app.js';

const WINDOW_MS = 60_000;
let t: AuthTestApp;

beforeEach(async () => {
  // Only Date is faked: the limiter's window moves with it, timers and I/O run as usual.
  vi.useFakeTimers({ toFake: ['Date'] });
  t = await createAuthTestApp({ app: { loginRateLimit: { max: 3, windowMs: WINDOW_MS } } });
});
afterEach(async () => {
  await t.close();
  vi.useRealTimers();
});

const attempt = (username: string, password: string, remoteAddress: string) =>
  t.request({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress });

describe('login rate limiting', () => {
  it('per client address: 429 with Retry-After past the limit, even with the right password, then recovers', async () => {
    for (let i = 0; i < 3; i++) expect((await attempt('writer', 'wrong-password', '10.1.1.1')).status).toBe(401);
    const limited = await attempt('writer', 'writer-password', '10.1.1.1');
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ code: 'too_many_requests', message: expect.stringMatching(/retry in \d+ s/) });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    // Another address is not limited by this one (and another user name, for its own counter).
    expect((await attempt('reader', 'reader-password', '10.1.1.2')).status).toBe(200);

    vi.setSystemTime(Date.now() + retryAfter * 1000);
    expect((await attempt('writer', 'writer-password', '10.1.1.1')).status).toBe(200);
  });

  it('per user name: attempts from many addresses are limited too', async () => {
    for (let i = 0; i < 3; i++) expect((await attempt('writer', 'guess', `10.2.0.${i}`)).status).toBe(401);
    const limited = await attempt('writer', 'writer-password', '10.2.0.99');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    // Other users can still log in from a fresh address.
    expect((await attempt('reader', 'reader-password', '10.2.0.100')).status).toBe(200);
    vi.setSystemTime(Date.now() + WINDOW_MS);
    expect((await attempt('writer', 'writer-password', '10.2.0.99')).status).toBe(200);
  });

  it('counts unknown user names like known ones', async () => {
    for (let i = 0; i < 3; i++) expect((await attempt('ghost', 'guess', `10.3.0.${i}`)).status).toBe(401);
    expect((await attempt('ghost', 'guess', '10.3.0.99')).status).toBe(429);
  });

  it('leaves the other routes alone', async () => {
    for (let i = 0; i < 3; i++) await attempt('writer', 'wrong-password', '10.4.0.1');
    const res = await t.request({ method: 'GET', url: '/api/v1/k', remoteAddress: '10.4.0.1' });
    expect(res.status).toBe(401);
  });
});
