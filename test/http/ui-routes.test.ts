/**
 * Serving the dashboard: the built files under /ui/ (public, also with auth on), a clear 503 when
 * they were not built, nothing at all without `uiDir`, and the UI_ENABLED setting.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createAuthTestApp, type AuthTestApp } from '../helpers/auth-app.js';

const apps: (TestApp | AuthTestApp)[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A directory that looks like a built dashboard (or, with `built` false, an empty one). */
function assets(built = true): string {
  const dir = fs.mkdtempSync(join(tmpdir(), 'memkv-ui-'));
  dirs.push(dir);
  if (built) {
    fs.writeFileSync(join(dir, 'index.html'), '<!doctype html><title>memkv dashboard</title>');
    fs.writeFileSync(join(dir, 'app.js'), 'console.log("memkv");');
  }
  return dir;
}

describe('GET /ui/', () => {
  it('serves the built files, redirects /ui to /ui/, and answers 404 for a file that is not there', async () => {
    const app = await createTestApp({ app: { uiDir: assets() } });
    apps.push(app);
    const redirect = await app.request({ method: 'GET', url: '/ui' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('/ui/');
    const index = await app.request({ method: 'GET', url: '/ui/' });
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.raw).toContain('memkv dashboard');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['content-security-policy']).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    const script = await app.request({ method: 'GET', url: '/ui/app.js' });
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    const missing = await app.request({ method: 'GET', url: '/ui/missing.js' });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('route_not_found');
    const escape = await app.request({ method: 'GET', url: '/ui/..%2F..%2Fpackage.json' });
    expect(escape.status).toBe(404);
  });

  it('answers 503 saying to build when the dashboard was not built, and the API still works', async () => {
    const app = await createTestApp({ app: { uiDir: assets(false) } });
    apps.push(app);
    const res = await app.request({ method: 'GET', url: '/ui/' });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('service_unavailable');
    expect(res.body.message).toMatch(/npm run build/);
    expect((await app.request({ method: 'GET', url: '/api/v1/db/size' })).body).toEqual({ keys: 0 });
  });

  it('is not there at all without uiDir', async () => {
    const app = await createTestApp();
    apps.push(app);
    for (const url of ['/ui', '/ui/', '/ui/app.js']) {
      const res = await app.request({ method: 'GET', url });
      expect(res.status, url).toBe(404);
      expect(res.body.code).toBe('route_not_found');
    }
  });

  it('is public with auth on, while the API it calls needs a token', async () => {
    const app = await createAuthTestApp({ app: { uiDir: assets() } });
    apps.push(app);
    expect((await app.request({ method: 'GET', url: '/ui/' })).status).toBe(200);
    expect((await app.request({ method: 'GET', url: '/api/v1/db/size' })).status).toBe(401);
  });
});

describe('UI_ENABLED', () => {
  it('defaults to true, takes a boolean, and names itself when the value is bad', () => {
    expect(DEFAULTS.uiEnabled).toBe(true);
    expect(loadConfig({ env: {} }).uiEnabled).toBe(true);
    expect(loadConfig({ env: { UI_ENABLED: 'false' } }).uiEnabled).toBe(false);
    expect(() => loadConfig({ env: { UI_ENABLED: 'maybe' } })).toThrow(ConfigError);
    try {
      loadConfig({ env: { UI_ENABLED: 'maybe' } });
    } catch (error) {
      expect((error as ConfigError).option).toBe('UI_ENABLED');
      expect((error as Error).message).toMatch(/true or false/);
    }
  });
});
