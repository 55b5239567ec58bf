/** A transaction needs the write right on every key it writes and the read right on every key it checks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createAuthTestApp, type AuthTestApp } from '../helpers/auth-app.js';

describe('POST /api/v1/db/txn with auth on', () => {
  let t: AuthTestApp;
  beforeAll(async () => {
    t = await createAuthTestApp();
    t.store.set('cache:a', '1');
    t.store.set('other', '1');
  });
  afterAll(() => t.close());

  const txn = async (persona: 'admin' | 'readwrite' | 'readonly' | 'cache', payload: Record<string, unknown>) => {
    const { access_token } = await t.login(persona);
    return t.request({ method: 'POST', url: '/api/v1/db/txn', headers: bearer(access_token), payload });
  };

  it('refuses without a token (401) and for a read-only role (403)', async () => {
    expect((await t.request({ method: 'POST', url: '/api/v1/db/txn', payload: { ops: [{ op: 'set', key: 'cache:b', value: 'x' }] } })).status).toBe(401);
    expect((await txn('readonly', { ops: [{ op: 'set', key: 'cache:b', value: 'x' }] })).body).toMatchObject({ code: 'forbidden' });
    expect(t.store.get('cache:b')).toBeUndefined();
  });

  it('refuses a user limited to cache:* when one op or one check is outside, and applies nothing', async () => {
    const outsideOp = await txn('cache', { ops: [{ op: 'set', key: 'cache:b', value: 'x' }, { op: 'remove', key: 'other' }] });
    expect(outsideOp).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    const outsideCheck = await txn('cache', { checks: [{ key: 'other', version: 2 }], ops: [{ op: 'set', key: 'cache:b', value: 'x' }] });
    expect(outsideCheck).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(t.store.get('cache:b')).toBeUndefined();
    expect(t.store.get('other')?.value).toBe('1');
  });

  it('applies a transaction whose keys are all allowed', async () => {
    const version = t.store.get('cache:a')!.version;
    const res = await txn('cache', { checks: [{ key: 'cache:a', version }], ops: [{ op: 'set', key: 'cache:b', value: 'x' }, { op: 'remove', key: 'cache:a' }] });
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe(`"${res.body.version}"`);
    expect(t.store.get('cache:b')).toMatchObject({ value: 'x', version: res.body.version });
    expect((await txn('readwrite', { ops: [{ op: 'set', key: 'other', value: '2' }] })).status).toBe(200);
  });
});
