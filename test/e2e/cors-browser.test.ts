/**
 * CORS in a real browser: a page served from another origin (another port of 127.0.0.1) writes
 * and reads a key of memkv with fetch in Chromium. It succeeds only when CORS_ORIGINS names the
 * page's origin; otherwise the browser blocks it at the preflight and nothing is written.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMemkv } from '../helpers/servers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let browser: Browser;
let page: Server;
let pageOrigin: string;
let memkv: Awaited<ReturnType<typeof startMemkv>> | undefined;

/** The page: a script that sets and reads a key of the memkv at `?api=` and shows the outcome in `window.outcome`. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>another origin</title><script>
window.outcome = (async () => {
  const api = new URL(location.href).searchParams.get('api');
  try {
    const set = await fetch(api + '/set', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'from-page', value: 'hello' }) });
    const get = await fetch(api + '/from-page');
    return { ok: true, set: set.status, value: (await get.json()).value };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
})();
</script>`;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  page = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(PAGE);
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterEach(async () => {
  await memkv?.close();
  memkv = undefined;
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (page === undefined ? resolve() : page.close(() => resolve())));
});

/** Opens the page against memkv and resolves with its outcome. */
async function runPage(): Promise<{ ok: boolean; set?: number; value?: string; error?: string }> {
  const tab = await browser.newPage();
  try {
    await tab.goto(`${pageOrigin}/?api=${encodeURIComponent(`${memkv!.url}/api/v1`)}`);
    return (await tab.evaluate('window.outcome')) as { ok: boolean; set?: number; value?: string; error?: string };
  } finally {
    await tab.close();
  }
}

describe('a page from another origin in Chromium', () => {
  it('calls memkv when CORS_ORIGINS names its origin', async () => {
    memkv = await startMemkv({ corsOrigins: pageOrigin });
    expect(await runPage()).toEqual({ ok: true, set: 200, value: 'hello' });
    expect(memkv.store.get('from-page')?.value).toBe('hello');
  });

  it('is blocked when CORS_ORIGINS names another origin, and nothing is written', async () => {
    memkv = await startMemkv({ corsOrigins: 'https://app.example.com' });
    const outcome = await runPage();
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatch(/TypeError: Failed to fetch/);
    expect(memkv.store.get('from-page')).toBeUndefined();
  });

  it('is blocked without CORS_ORIGINS', async () => {
    memkv = await startMemkv();
    expect((await runPage()).ok).toBe(false);
    expect(memkv.store.get('from-page')).toBeUndefined();
  });
});
