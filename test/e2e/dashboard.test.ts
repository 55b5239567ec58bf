/**
 * The dashboard at /ui in a real Chromium, against real servers over TCP: login, the key tree,
 * a string and a list, every write control, bulk delete after its dry run, the live server page,
 * a read-only user, the phone-width layout and the dark theme; and UI_ENABLED=false. Takes the
 * README's screenshots: into a temporary directory on every run (checked to be PNGs), and over
 * docs/screenshots/ with MEMKV_UPDATE_SCREENSHOTS=1, so that `npm test` leaves the tree clean.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS =
  process.env.MEMKV_UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : join(mkdtempSync(join(tmpdir(), 'memkv-screenshots-')), '/');
const ADMIN = { username: 'admin', password: 'admin-password' };
const VIEWER = { username: 'viewer', password: 'viewer-password' };
/** Browser steps are slow on a busy 2-core machine: each test gets a minute. */
const BROWSER_TEST_MS = 60_000;
/** How long a polled expectation waits (vitest's default is one second). */
const POLL = { timeout: 15_000 } as const;
const AUTH_ENV = {
  PORT: '0',
  HEALTH_PORT: '0',
  AUTH_ENABLED: 'true',
  ADMIN_USER: ADMIN.username,
  ADMIN_PASSWORD: ADMIN.password,
  PASSWORD_HASH_COST: '1024',
  LOGIN_RATE_LIMIT: '1000',
};

let server: RunningServer;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  if (!existsSync(fileURLToPath(new URL('../../dist/ui/index.html', import.meta.url)))) {
    throw new Error('the dashboard is not built (no dist/ui/index.html): run npm run build');
  }
  server = await startServer(loadConfig({ env: AUTH_ENV }), pino({ level: 'silent' }));
  base = `http://127.0.0.1:${server.port}`;
  await server.auth!.register({ ...VIEWER, role: 'readonly' });
  seed();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, BROWSER_TEST_MS);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

function seed(): void {
  const store = server.store!;
  store.set('user:1:name', 'Alice');
  store.set('user:1:email', 'alice@example.com');
  store.set('user:2:name', 'Bob');
  store.set('session:abc', 'token', { ttlMs: 3_600_000 });
  store.set('config', JSON.stringify({ debug: true, level: 3, tags: ['a', 'b'] }));
  store.set('queue', Array.from({ length: 120 }, (_, i) => `job-${i}`));
  for (let i = 0; i < 300; i++) store.set(`tmp:${i}`, 'x');
}

async function newPage(viewport = { width: 1280, height: 800 }): Promise<{ page: Page; failures: string[] }> {
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  const page = await context.newPage();
  const failures: string[] = [];
  page.on('pageerror', (error) => failures.push(error.message));
  // A blocked load or script would break the page silently: a violation of the page's policy fails the test.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) failures.push(message.text());
  });
  return { page, failures };
}

/** Logs in with the keyboard only: type, Tab, type, Enter. */
async function logIn(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${base}/ui/`);
  await page.getByRole('heading', { name: 'Log in to memkv' }).waitFor();
  await page.getByLabel('User name').focus();
  await page.keyboard.type(user.username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(user.password);
  await page.keyboard.press('Enter');
  await page.getByRole('link', { name: 'Keys' }).waitFor();
}

const folder = (page: Page, name: string) => page.locator('.entry.folder', { has: page.locator('.name', { hasText: new RegExp(`^${name}$`) }) });
const leaf = (page: Page, name: string) => page.locator('.entry:not(.folder)', { has: page.locator('.name', { hasText: new RegExp(`^${name}$`) }) });

describe('the dashboard in a real browser', () => {
  it('shows the login page with auth on and no token, and refuses a wrong password readably', async () => {
    const { page, failures } = await newPage();
    await page.goto(`${base}/ui`);
    await expect.poll(() => page.url(), POLL).toBe(`${base}/ui/`);
    await page.getByRole('heading', { name: 'Log in to memkv' }).waitFor();
    expect(await page.getByRole('link', { name: 'Keys' }).count()).toBe(0);
    await page.getByLabel('User name').fill(ADMIN.username);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), POLL).toMatch(/401/);
    expect(failures).toEqual([]);
    await page.context().close();
  }, BROWSER_TEST_MS);

  it('browses the tree, edits a string and a list, changes the TTL, creates, deletes and bulk-deletes', async () => {
    const { page, failures } = await newPage();
    await logIn(page, ADMIN);

    // The tree: top-level prefixes with counts that become complete as pages load.
    await folder(page, 'user:').waitFor();
    await expect.poll(() => page.locator('.entry').count(), POLL).toBeGreaterThan(0);
    while ((await page.getByRole('button', { name: 'Load more' }).count()) > 0) {
      await page.getByRole('button', { name: 'Load more' }).click();
      await page.getByText('Loading…').waitFor({ state: 'detached' });
    }
    await page.getByText('All pages loaded: counts are complete.').waitFor();
    expect(await folder(page, 'tmp:').locator('.count').textContent()).toBe('300');
    expect(await folder(page, 'user:').locator('.count').textContent()).toBe('3');
    expect(await leaf(page, 'config').count()).toBe(1);
    await folder(page, 'user:').click();
    await folder(page, '1:').waitFor();
    expect(await folder(page, '2:').locator('.count').textContent()).toBe('1');
    await folder(page, '1:').click();
    await leaf(page, 'name').waitFor();
    expect(await page.locator('.crumbs').textContent()).toContain('user:');

    // A string: shown, edited, saved.
    await leaf(page, 'name').click();
    const value = page.getByLabel('Value', { exact: true });
    await expect.poll(() => value.inputValue(), POLL).toBe('Alice');
    await value.fill('Alice B.');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    expect(server.store!.get('user:1:name')?.value).toBe('Alice B.');

    // JSON is shown formatted.
    await page.locator('.crumbs').getByRole('button', { name: 'all keys' }).click();
    await leaf(page, 'config').click();
    await expect.poll(() => page.getByLabel('Formatted JSON').textContent(), POLL).toContain('"debug": true');
    await folder(page, 'tmp:').waitFor();
    await page.screenshot({ path: screenshot('key-browser.png') });
    expectScreenshot('key-browser.png');

    // A list, a page at a time; push and pop.
    await leaf(page, 'queue').click();
    await page.getByText('120 elements').waitFor();
    expect(await page.locator('.items li').count()).toBe(50);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => page.locator('.items li .item').first().textContent(), POLL).toBe('job-50');
    await page.getByLabel('Element to push').fill('job-new');
    await page.getByRole('button', { name: 'Push' }).click();
    await page.getByText('Pushed; the list has 121 elements.').waitFor();
    expect(server.store!.get('queue')?.value.at(-1)).toBe('job-new');
    await page.getByRole('button', { name: 'Pop' }).click();
    await page.getByText('Popped "job-new".').waitFor();
    expect((server.store!.get('queue')?.value as string[]).length).toBe(120);
    // An API error reads as a message: a TTL the server refuses.
    await page.getByLabel('New TTL').fill('soon');
    await page.getByRole('button', { name: 'Set TTL' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), POLL).toMatch(/invalid_request, 400/);

    // The TTL: set with a countdown, then removed.
    await page.getByLabel('New TTL').fill('1h');
    await page.getByRole('button', { name: 'Set TTL' }).click();
    await page.getByText('TTL set.').waitFor();
    await expect.poll(() => page.getByTestId('ttl').textContent(), POLL).toMatch(/^expires in (59m \d\ds|1h 00m 00s)$/);
    const first = await page.getByTestId('ttl').textContent();
    await expect.poll(() => page.getByTestId('ttl').textContent(), POLL).not.toBe(first);
    expect(server.store!.expiry('queue')?.expiresAtMs).toBeGreaterThan(Date.now());
    await page.getByRole('button', { name: 'Remove TTL' }).click();
    await expect.poll(() => page.getByTestId('ttl').textContent(), POLL).toBe('never expires');
    expect(server.store!.expiry('queue')?.expiresAtMs ?? null).toBeNull();

    // Create a key, then delete it.
    await page.getByRole('button', { name: 'New key' }).click();
    await page.getByLabel('Key', { exact: true }).fill('created:one');
    await page.getByLabel('Value', { exact: true }).fill('hello');
    await page.getByLabel('TTL (optional)').fill('10m');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'created:one' }).waitFor();
    expect(server.store!.get('created:one')?.value).toBe('hello');
    await page.getByRole('button', { name: 'Delete key' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect.poll(() => server.store!.get('created:one'), POLL).toBeUndefined();

    // Bulk delete: the dry run first, then the confirmed removal.
    await page.getByRole('button', { name: 'Delete by prefix…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Prefix').fill('tmp:');
    await dialog.getByRole('button', { name: 'Count keys' }).click();
    await dialog.getByText('300 keys start with').waitFor();
    expect(server.store!.get('tmp:7')?.value).toBe('x');
    await dialog.getByRole('button', { name: 'Delete 300 keys' }).click();
    await dialog.getByText('Deleted 300 keys').waitFor();
    expect(server.store!.get('tmp:7')).toBeUndefined();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => folder(page, 'tmp:').count(), POLL).toBe(0);

    expect(failures).toEqual([]);
    await page.context().close();
  }, 2 * BROWSER_TEST_MS);

  it('shows the stats move on the server page', async () => {
    const { page, failures } = await newPage();
    await logIn(page, ADMIN);
    await page.getByRole('link', { name: 'Server' }).click();
    const keys = page.getByTestId('stat-keys').locator('.value');
    await expect.poll(() => keys.textContent(), POLL).toBe(server.store!.size.toLocaleString('en-US'));
    const before = server.store!.size;
    // Traffic through the API while the page watches: writes and reads.
    const token = await tokenOf(ADMIN);
    for (let i = 0; i < 200; i++) {
      await fetch(`${base}/api/v1/set`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ key: `live:${i}`, value: 'v' }) });
    }
    await expect.poll(() => keys.textContent(), POLL).toBe((before + 200).toLocaleString('en-US'));
    // The live tail shows the changes as they happen, newest first.
    await fetch(`${base}/api/v1/db/txn`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ops: [{ op: 'push', key: 'tail:list', value: ['a', 'b'] }, { op: 'remove', key: 'live:0' }] }),
    });
    const tail = page.getByTestId('tail').locator('li');
    await expect.poll(async () => (await tail.first().textContent()) ?? '', POLL).toMatch(/remove live:0/);
    expect(await tail.nth(1).textContent()).toMatch(/push tail:list \+2 · length 2/);
    expect(await tail.nth(2).textContent()).toMatch(/set live:199 string/);
    // Six more seconds of reads and writes while the page samples once a second: operations per
    // second above zero, and the charts show a minute's beginning.
    const traffic = (async () => {
      const until = Date.now() + 6000;
      for (let i = 0; Date.now() < until; i++) {
        const key = `live:${i % 400}`;
        await fetch(`${base}/api/v1/${i % 3 === 0 ? 'set' : encodeURIComponent(key)}`, {
          method: i % 3 === 0 ? 'POST' : 'GET',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: i % 3 === 0 ? JSON.stringify({ key, value: 'v' }) : undefined,
        });
      }
    })();
    const opsPerSecond = async () => Number((await page.getByTestId('stat-ops').locator('.value').textContent())?.replace(/,/g, ''));
    await expect.poll(opsPerSecond, POLL).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.uplot').count(), POLL).toBe(3);
    await traffic;
    await page.screenshot({ path: screenshot('server.png') });
    expectScreenshot('server.png');
    expect(failures).toEqual([]);
    await page.context().close();
  }, BROWSER_TEST_MS);

  it('shows a read-only user no write controls, and the server refuses their writes', async () => {
    const { page, failures } = await newPage();
    await logIn(page, VIEWER);
    expect(await page.getByText('readonly').count()).toBe(1);
    await page.goto(`${base}/ui/#/key/${encodeURIComponent('user:2:name')}`);
    await page.getByLabel('Value', { exact: true }).waitFor();
    expect(await page.getByLabel('Value', { exact: true }).textContent()).toBe('Bob');
    for (const name of ['Save', 'New key', 'Delete by prefix…', 'Delete key', 'Set TTL', 'Remove TTL']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }
    expect(await page.locator('textarea, input[name="ttl"]').count()).toBe(0);
    const token = await tokenOf(VIEWER);
    const write = await fetch(`${base}/api/v1/set`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'user:2:name', value: 'Mallory' }),
    });
    expect(write.status).toBe(403);
    expect(((await write.json()) as { code: string }).code).toBe('forbidden');
    const bulk = await fetch(`${base}/api/v1/db/delete-prefix`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prefix: 'user:' }),
    });
    expect(bulk.status).toBe(403);
    expect(server.store!.get('user:2:name')?.value).toBe('Bob');
    expect(failures).toEqual([]);
    await page.context().close();
  }, BROWSER_TEST_MS);

  it('fits a phone-width screen and follows a dark system theme', async () => {
    // Expressions as text: the tests' type check has no DOM types.
    const { page, failures } = await newPage({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await logIn(page, ADMIN);
    await folder(page, 'user:').waitFor();
    await page.goto(`${base}/ui/#/key/config`);
    await page.getByLabel('Formatted JSON').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    const dark = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    expect(dark).toBe('rgb(15, 18, 22)');
    expect(light).toBe('rgb(246, 247, 249)');
    expect(failures).toEqual([]);
    await page.context().close();
  }, BROWSER_TEST_MS);
});

describe('the dashboard session', () => {
  it('survives a reload, and refreshes an expired access token as the client does', async () => {
    const short = await startServer(loadConfig({ env: { ...AUTH_ENV, ACCESS_TOKEN_TTL: '1s', REFRESH_TOKEN_TTL: '1h' } }), pino({ level: 'silent' }));
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      short.store!.set('greeting', 'hello');
      const page = await context.newPage();
      const failures: string[] = [];
      page.on('pageerror', (error) => failures.push(error.message));
      const shortBase = `http://127.0.0.1:${short.port}`;
      await page.goto(`${shortBase}/ui/`);
      await page.getByLabel('User name').fill(ADMIN.username);
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await leaf(page, 'greeting').waitFor();
      const stored = async () => JSON.parse((await page.evaluate<string | null>("sessionStorage.getItem('memkv.dashboard.tokens')")) ?? 'null') as { access_token: string } | null;
      const first = await stored();
      expect(first?.access_token).toEqual(expect.any(String));

      await page.reload();
      await leaf(page, 'greeting').waitFor();
      expect(await page.getByRole('heading', { name: 'Log in to memkv' }).count()).toBe(0);

      // Past the access token's lifetime: the next call meets 401, refreshes, and is repeated.
      await page.waitForTimeout(2100);
      await leaf(page, 'greeting').click();
      await expect.poll(() => page.getByLabel('Value', { exact: true }).inputValue(), POLL).toBe('hello');
      expect((await stored())?.access_token).not.toBe(first?.access_token);
      expect(await page.getByRole('heading', { name: 'Log in to memkv' }).count()).toBe(0);

      // Logging out ends the session: the login page again, and nothing kept.
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('heading', { name: 'Log in to memkv' }).waitFor();
      expect(await stored()).toBeNull();
      expect(failures).toEqual([]);
    } finally {
      await context.close();
      await short.close();
    }
  }, BROWSER_TEST_MS);
});

describe('UI_ENABLED=false', () => {
  it('answers 404 at /ui', async () => {
    const off = await startServer(loadConfig({ env: { PORT: '0', HEALTH_PORT: '0', UI_ENABLED: 'false' } }), pino({ level: 'silent' }));
    try {
      for (const path of ['/ui', '/ui/', '/ui/app.js']) {
        const res = await fetch(`http://127.0.0.1:${off.port}${path}`, { redirect: 'manual' });
        expect(res.status, path).toBe(404);
        expect(((await res.json()) as { code: string }).code).toBe('route_not_found');
      }
    } finally {
      await off.close();
    }
  });
});

async function tokenOf(user: { username: string; password: string }): Promise<string> {
  const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

function screenshot(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return `${SCREENSHOTS}${name}`;
}

/** The screenshot was written and is a PNG of some size (a blank page compresses to far less). */
function expectScreenshot(name: string): void {
  const bytes = readFileSync(screenshot(name));
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(bytes.length).toBeGreaterThan(20_000);
}
