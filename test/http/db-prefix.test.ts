/**
 * The key browser's routes: `GET /db/keys?delimiter=` (a page's keys grouped by the next
 * delimiter, with per-page counts) and `POST /db/delete-prefix` (dry run, batches, auth, bad input).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyPrefixJson, KeysPageJson } from '@memkv/client/protocol';
import type { Mutation } from '../../src/engine/mutation.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createAuthTestApp, type AuthTestApp } from '../helpers/auth-app.js';

const apps: (TestApp | AuthTestApp)[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function setup(journal?: (mutation: Mutation) => void): Promise<TestApp> {
  const app = await createTestApp({ store: { journal } });
  apps.push(app);
  return app;
}

/** Walks a delimited listing to its end, adding up each page's counts as the dashboard does. */
async function listTree(app: TestApp, query: Record<string, string>) {
  const keys: string[] = [];
  const counts = new Map<string, number>();
  let cursor: string | null = null;
  let pages = 0;
  do {
    const params = new URLSearchParams(query);
    if (cursor !== null) params.set('cursor', cursor);
    const res = await app.request({ method: 'GET', url: `/api/v1/db/keys?${params}` });
    expect(res.status, res.raw).toBe(200);
    const page = res.body as KeysPageJson;
    expect(Array.isArray(page.prefixes)).toBe(true);
    keys.push(...page.keys);
    for (const { prefix, keys: count } of page.prefixes as KeyPrefixJson[]) counts.set(prefix, (counts.get(prefix) ?? 0) + count);
    cursor = page.cursor;
    pages++;
  } while (cursor !== null);
  return { keys, counts, pages };
}

describe('GET /api/v1/db/keys?delimiter=', () => {
  it('groups keys by the next delimiter after the prefix, counts complete once the cursor is null', async () => {
    const { store, request, ...rest } = await setup();
    for (let i = 0; i < 30; i++) store.set(`user:${i % 3}:field${i}`, 'v');
    for (let i = 0; i < 5; i++) store.set(`order:${i}`, 'v');
    store.set('plain', 'v');
    store.set('user:', 'v'); // the prefix itself is a key under it, with nothing after
    const app = { store, request, ...rest };

    const top = await listTree(app, { delimiter: ':', limit: '4' });
    expect(top.pages).toBeGreaterThan(1);
    expect(top.keys).toEqual(['plain']);
    expect(Object.fromEntries(top.counts)).toEqual({ 'user:': 31, 'order:': 5 });

    const users = await listTree(app, { prefix: 'user:', delimiter: ':', limit: '7' });
    expect(users.keys).toEqual(['user:']);
    expect(Object.fromEntries(users.counts)).toEqual({ 'user:0:': 10, 'user:1:': 10, 'user:2:': 10 });

    const leaves = await listTree(app, { prefix: 'user:1:', delimiter: ':' });
    expect(leaves.counts.size).toBe(0);
    expect(leaves.keys.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `user:1:field${i * 3 + 1}`).sort());
  });

  it('takes a delimiter of several characters and answers no prefixes without it', async () => {
    const app = await setup();
    app.store.set('a--b--c', 'v');
    app.store.set('a--d', 'v');
    app.store.set('a-e', 'v');
    const tree = await listTree(app, { prefix: 'a--', delimiter: '--' });
    expect(Object.fromEntries(tree.counts)).toEqual({ 'a--b--': 1 });
    expect(tree.keys).toEqual(['a--d']);
    const plain = await app.request({ method: 'GET', url: '/api/v1/db/keys' });
    expect(plain.body).toEqual({ keys: ['a--b--c', 'a--d', 'a-e'], cursor: null });
  });

  it('refuses an empty or overlong delimiter with 400 invalid_request', async () => {
    const app = await setup();
    for (const delimiter of ['', 'x'.repeat(17)]) {
      const res = await app.request({ method: 'GET', url: `/api/v1/db/keys?delimiter=${delimiter}` });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_request');
      expect(res.body.message).toMatch(/delimiter/);
    }
  });

  it('counts only the keys a user limited to key patterns may read', async () => {
    const app = await createAuthTestApp();
    apps.push(app);
    app.store.set('cache:a:1', 'v');
    app.store.set('cache:b:1', 'v');
    app.store.set('secret:x:1', 'v');
    const { access_token } = await app.login('cache');
    const res = await app.request({ method: 'GET', url: '/api/v1/db/keys?delimiter=:', headers: bearer(access_token) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ keys: [], prefixes: [{ prefix: 'cache:', keys: 2 }], cursor: null });
  });
});

describe('POST /api/v1/db/delete-prefix', () => {
  it('counts first with dry_run, then removes exactly the keys under the prefix, each journaled as a remove', async () => {
    const removed: string[] = [];
    const app = await setup((mutation) => {
      if (mutation.type === 'remove') removed.push(mutation.key);
    });
    for (let i = 0; i < 2500; i++) app.store.set(`tmp:${i}`, 'v');
    app.store.set('tmpx', 'v');
    app.store.set('keep:1', 'v');
    const dry = await app.request({ method: 'POST', url: '/api/v1/db/delete-prefix', payload: { prefix: 'tmp:', dry_run: true } });
    expect(dry.status, dry.raw).toBe(200);
    expect(dry.body).toEqual({ matched: 2500 });
    expect(app.store.size).toBe(2502);
    expect(removed).toEqual([]);

    const removesBefore = app.store.stats().commands.remove;
    const res = await app.request({ method: 'POST', url: '/api/v1/db/delete-prefix', payload: { prefix: 'tmp:' } });
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toEqual({ deleted: 2500 });
    expect(app.store.size).toBe(2);
    expect(removed.length).toBe(2500);
    expect(new Set(removed).size).toBe(2500);
    expect(app.store.stats().commands.remove - removesBefore).toBe(2500);
    expect(app.store.get('tmpx')?.value).toBe('v');
    const again = await app.request({ method: 'POST', url: '/api/v1/db/delete-prefix', payload: { prefix: 'tmp:' } });
    expect(again.body).toEqual({ deleted: 0 });
  });

  it('serves other requests between its batches', async () => {
    const app = await setup();
    for (let i = 0; i < 20_000; i++) app.store.set(`bulk:${i}`, 'v');
    app.store.set('other', 'still here');
    let readDuring: number | undefined;
    const deleting = app.request({ method: 'POST', url: '/api/v1/db/delete-prefix', payload: { prefix: 'bulk:' } });
    // Started after the deletion began: answered while it still runs, between two batches.
    const reading = app.request({ method: 'GET', url: '/api/v1/other' }).then((res) => {
      readDuring = app.store.size;
      return res;
    });
    const [deleted, read] = await Promise.all([deleting, reading]);
    expect(read.body.value).toBe('still here');
    expect(deleted.body).toEqual({ deleted: 20_000 });
    expect(readDuring).toBeGreaterThan(1);
    expect(app.store.size).toBe(1);
  });

  it('refuses bad input with 400 invalid_request and removes nothing', async () => {
    const app = await setup();
    app.store.set('a', 'v');
    const bodies: unknown[] = [{ prefix: '' }, {}, { prefix: 5 }, { prefix: 'a', dry_run: 'yes' }, { prefix: 'a', extra: 1 }];
    for (const payload of bodies) {
      const res = await app.request({ method: 'POST', url: '/api/v1/db/delete-prefix', payload: payload as object });
      expect(res.status, JSON.stringify(payload)).toBe(400);
      expect(res.body.code).toBe('invalid_request');
      expect(typeof res.body.message).toBe('string');
    }
    const broken = await app.request({
      method: 'POST',
      url: '/api/v1/db/delete-prefix',
      payload: '{"prefix":',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('invalid_json');
    expect(app.store.size).toBe(1);
  });

  it('is for administrators only when auth is on', async () => {
    const app = await createAuthTestApp();
    apps.push(app);
    app.store.set('job:1', 'v');
    const call = (headers: Record<string, string>, dryRun = false) =>
      app.request({ method: 'POST', url: '/api/v1/db/delete-prefix', payload: { prefix: 'job:', dry_run: dryRun }, headers });
    expect((await call({})).status).toBe(401);
    for (const persona of ['readonly', 'readwrite'] as const) {
      const { access_token } = await app.login(persona);
      const res = await call(bearer(access_token), persona === 'readonly');
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    expect(app.store.size).toBe(1);
    const { access_token } = await app.login('admin');
    expect((await call(bearer(access_token))).body).toEqual({ deleted: 1 });
    expect(app.store.size).toBe(0);
  });

  it('counts and removes only the keys an administrator limited to key patterns may touch', async () => {
    const app = await createAuthTestApp();
    apps.push(app);
    await app.auth.register({ username: 'ops', password: 'ops-password', role: 'admin', keys: ['job:a*'] });
    for (const k of ['job:a1', 'job:a2', 'job:b1']) app.store.set(k, 'v');
    const login = await app.request({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'ops', password: 'ops-password' } });
    const headers = bearer(login.body.access_token);
    const call = (dryRun: boolean) =>
      app.request({ method: 'POST', url: '/api/v1/db/delete-prefix', payload: { prefix: 'job:', dry_run: dryRun }, headers });
    expect((await call(true)).body).toEqual({ matched: 2 });
    expect((await call(false)).body).toEqual({ deleted: 2 });
    expect(app.store.get('job:b1')?.value).toBe('v');
    expect(app.store.size).toBe(1);
  });
});
