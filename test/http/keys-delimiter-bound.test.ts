/**
 * A listing with `delimiter=` over a million keys does the same bounded work per call as the
 * listing without it (test/engine/scan.test.ts bounds the slots one scan visits): one scan of the
 * same page per request, then O(page) grouping; never a walk over the keyspace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeysPageJson } from '@memkv/client/protocol';
import type { ScanOptions, ScanPage } from '../../src/engine/store.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const KEYS = 1_000_000;
/** The store's bound on the slots one page visits (store.ts: SCAN_MIN_SLOTS, SCAN_SLOTS_PER_KEY). */
const slotBound = (limit: number) => Math.max(1000, limit * 10);

let app: TestApp;
const scans: { fromSlot: number; options: ScanOptions; page: ScanPage }[] = [];

beforeAll(async () => {
  app = await createTestApp();
  // 1,000 top-level groups of 1,000 keys, interleaved so that every page spans many groups.
  for (let i = 0; i < KEYS; i++) app.store.set(`t${i % 1000}:k${i}`, '');
  const scan = app.store.scan.bind(app.store);
  app.store.scan = (fromSlot, options) => {
    const page = scan(fromSlot, options);
    scans.push({ fromSlot, options, page });
    return page;
  };
}, 120_000);

afterAll(async () => {
  await app?.close();
});

async function keysPage(query: Record<string, string>): Promise<KeysPageJson> {
  const res = await app.request({ method: 'GET', url: `/api/v1/db/keys?${new URLSearchParams(query)}` });
  expect(res.status, res.raw).toBe(200);
  return res.body as KeysPageJson;
}

describe('GET /db/keys?delimiter= over a million keys', () => {
  it('scans one page per call, as the listing without delimiter does, and answers the same cursor', async () => {
    expect(app.store.size).toBe(KEYS);
    let cursor: string | null | undefined;
    for (let call = 0; call < 20; call++) {
      const query: Record<string, string> = { limit: '1000', delimiter: ':' };
      if (cursor) query.cursor = cursor;
      scans.length = 0;
      const grouped = await keysPage(query);
      expect(scans.length).toBe(1);
      const { fromSlot, options, page } = scans[0]!;
      expect(options).toEqual({ prefix: '', limit: 1000 });
      expect(page.nextSlot! - fromSlot).toBeLessThanOrEqual(slotBound(1000));
      // Grouping keeps every key of the scanned page, and nothing else.
      const counted = grouped.prefixes!.reduce((sum, { keys }) => sum + keys, 0);
      expect(counted + grouped.keys.length).toBe(page.keys.length);
      expect(grouped.prefixes!.length).toBeLessThanOrEqual(1000);

      // The same request without delimiter: the same scan, the same cursor.
      delete query.delimiter;
      scans.length = 0;
      const plain = await keysPage(query);
      expect(scans.length).toBe(1);
      expect(scans[0]!.fromSlot).toBe(fromSlot);
      expect(plain.cursor).toBe(grouped.cursor);
      expect(plain.keys.length).toBe(page.keys.length);
      cursor = grouped.cursor;
      expect(cursor).not.toBeNull();
    }
  });

  it('visits a bounded number of slots for a prefix that matches few keys', async () => {
    scans.length = 0;
    const first = await keysPage({ prefix: 't7:', delimiter: ':', limit: '10' });
    expect(scans.length).toBe(1);
    expect(scans[0]!.page.nextSlot).toBeLessThanOrEqual(slotBound(10));
    expect(first.cursor).not.toBeNull();
    expect(first.keys.length).toBeLessThanOrEqual(10);
  });
});
