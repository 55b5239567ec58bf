import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { DOCUMENTED_PATHS } from '../helpers/app.js';
import pino from 'pino';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer(loadConfig({ env: { PORT: '0', HEALTH_PORT: '0' } }), pino({ level: 'silent' }));
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('Swagger UI in a real browser', () => {
  it('renders every operation from the served document and runs a request', async () => {
    server.store!.set('greeting', 'hello from memkv');
    const page = await browser.newPage();
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(error.message));
    await page.goto(`http://127.0.0.1:${server.port}/api/v1/docs/swagger/index.html`);
    await page.waitForSelector('.opblock', { timeout: 15_000 });
    const operations = await page.$$eval('.opblock-summary-path', (nodes) =>
      nodes.map((node) => node.getAttribute('data-path') ?? node.textContent?.trim()),
    );
    expect(new Set(operations)).toEqual(new Set(DOCUMENTED_PATHS));
    // One block per operation of the served document (a path may have several methods).
    const doc = (await (await fetch(`http://127.0.0.1:${server.port}/api/v1/docs/swagger.json`)).json()) as { paths: Record<string, object> };
    const documented = Object.values(doc.paths).reduce((count, methods) => count + Object.keys(methods).length, 0);
    expect(documented).toBeGreaterThanOrEqual(14);
    expect(await page.locator('.opblock').count()).toBe(documented);

    // Try GET /api/v1/{key} from the page itself.
    const get = page.locator('.opblock-get').first();
    await get.locator('.opblock-summary').click();
    await get.getByRole('button', { name: 'Try it out' }).click();
    await get.locator('input[placeholder="key"]').fill('greeting');
    await get.getByRole('button', { name: 'Execute' }).click();
    const body = get.locator('.responses-wrapper .live-responses-table .response-col_description pre').first();
    await expect.poll(async () => (await body.textContent()) ?? '', { timeout: 10_000 }).toContain('hello from memkv');
    expect(failures).toEqual([]);
    await page.close();
  });
});
