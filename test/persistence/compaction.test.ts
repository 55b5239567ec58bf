import fs from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/engine/clock.js';
import { createStore, type Store } from '../../src/engine/store.js';
import { openAofWriter } from '../../src/persistence/aof-writer.js';
import { Compactor, REWRITE_SUFFIX } from '../../src/persistence/compaction.js';
import { AOF_FILE, openPersistence } from '../../src/persistence/persistence.js';
import { T0, logBytes } from './fixtures.js';
import { captureLogger, tempDir } from './helpers.js';

async function reopen(dir: string, clock: ManualClock): Promise<Store> {
  const store = createStore({ clock, cleanupIntervalMs: 0 });
  const persistence = await openPersistence(store, { dir, fsync: 'no', compactRatio: 0 });
  await persistence.close();
  return store;
}

/** A mix of every kind of write over `keys` keys, driven by `i`. */
function writeSome(store: Store, clock: ManualClock, i: number, keys: number): void {
  clock.advance(1);
  const key = `k${i % keys}`;
  switch (i % 7) {
    case 0:
      store.set(key, `value ${i} `.repeat(5), i % 3 === 0 ? { ttlMs: 3_600_000 } : undefined);
      break;
    case 1:
      store.push(`list${i % 50}`, [`a${i}`, `b${i}`]);
      break;
    case 2:
      try {
        store.pop(`list${i % 50}`);
      } catch {
        // an empty or missing list: nothing written
      }
      break;
    case 3:
      store.remove(key);
      break;
    case 4:
      if (store.has(key)) store.update(key, [`u${i}`]);
      break;
    case 5:
      store.expire(key, 60_000 + i);
      break;
    default:
      store.set(`new${i}`, 'fresh');
  }
}

describe('compaction', () => {
  it('shrinks the log and keeps exactly the live data while writes go on during it', async () => {
    const dir = tempDir();
    const clock = createManualClock(T0);
    const store = createStore({ clock, cleanupIntervalMs: 0 });
    const persistence = await openPersistence(store, { dir, fsync: 'everysec', compactRatio: 0 });
    const keys = 20_000;
    for (let round = 0; round < 6; round++) for (let k = 0; k < keys; k++) store.set(`k${k}`, `round ${round}`);
    for (let i = 0; i < 5 * keys; i++) writeSome(store, clock, i, keys);
    await nextTurn(); // the writes of a turn reach the file at its end
    const before = persistence.status().sizeBytes;

    expect(persistence.compact()).toBe('started');
    expect(persistence.compact()).toBe('running');
    let during = 0;
    let i = 5 * keys;
    while (persistence.status().compacting) {
      for (let n = 0; n < 400; n++, i++, during++) writeSome(store, clock, i, keys);
      await nextTurn();
    }
    const last = persistence.status().lastCompaction!;
    expect(last).toMatchObject({ result: 'ok', beforeBytes: before });
    expect(during).toBeGreaterThan(0);
    expect(last.afterBytes).toBeLessThan(before / 2);
    for (let n = 0; n < 1000; n++, i++) writeSome(store, clock, i, keys); // and after the switch
    expect(fs.existsSync(join(dir, AOF_FILE + REWRITE_SUFFIX))).toBe(false);
    await persistence.close();

    const replayed = await reopen(dir, clock);
    const sorted = (s: Store) => [...s.entries()].sort((a, b) => (a.key < b.key ? -1 : 1));
    expect(replayed.size).toBe(store.size);
    expect(sorted(replayed)).toEqual(sorted(store));
  });

  it('starts by itself when the log has grown past the ratio and the minimum size', async () => {
    const dir = tempDir();
    fs.writeFileSync(join(dir, AOF_FILE), logBytes([]));
    const store = createStore({ cleanupIntervalMs: 0 });
    const writer = openAofWriter({ path: join(dir, AOF_FILE), fsync: 'no' });
    store.setJournal(writer.append);
    const compactor = new Compactor({ store, writer, ratio: 2, minBytes: 4096, checkIntervalMs: 5 });
    for (let i = 0; i < 300; i++) store.set('same', `value ${i}`);
    await nextTurn();
    expect(writer.sizeBytes).toBeGreaterThan(4096);
    for (let waited = 0; compactor.last === null && waited < 2000; waited++) await new Promise((r) => setTimeout(r, 5));
    expect(compactor.last).toMatchObject({ result: 'ok', keys: 1 });
    expect(writer.sizeBytes).toBeLessThan(100);
    await compactor.close();
    await writer.close();
  });

  it('compacts soon after start a log that is mostly overwritten records', async () => {
    const dir = tempDir();
    const overwrites = Array.from({ length: 3000 }, (_, i) => ({ type: 'set' as const, revision: i + 1, key: 'same', value: `v${i}`, expiresAtMs: 0, atMs: T0 + i }));
    fs.writeFileSync(join(dir, AOF_FILE), logBytes(overwrites));
    const store = createStore({ clock: createManualClock(T0), cleanupIntervalMs: 0 });
    const persistence = await openPersistence(store, { dir, fsync: 'no', compactRatio: 2, compactMinBytes: 1024 });
    for (let waited = 0; persistence.status().lastCompaction === null && waited < 400; waited++) await new Promise((r) => setTimeout(r, 25));
    expect(persistence.status().lastCompaction).toMatchObject({ result: 'ok', keys: 1 });
    expect(persistence.status().sizeBytes).toBeLessThan(100);
    await persistence.close();
    expect((await reopen(dir, createManualClock(T0))).get('same')?.value).toBe('v2999');
  });

  it('stops a compaction in progress when persistence closes, and leaves the log whole', async () => {
    const dir = tempDir();
    const store = createStore({ clock: createManualClock(T0), cleanupIntervalMs: 0 });
    const persistence = await openPersistence(store, { dir, fsync: 'no', compactRatio: 0 });
    for (let i = 0; i < 60_000; i++) store.set(`key:${i}`, `value ${i} `.repeat(3)); // several chunks
    await nextTurn();
    const before = fs.statSync(join(dir, AOF_FILE)).size;
    persistence.compact();
    const compacting = persistence.compacting!;
    await persistence.close();
    expect(await compacting).toMatchObject({ result: 'failed', error: expect.stringMatching(/cancelled/) });
    expect(fs.existsSync(join(dir, AOF_FILE + REWRITE_SUFFIX))).toBe(false);
    expect(fs.statSync(join(dir, AOF_FILE)).size).toBe(before);
    expect((await reopen(dir, createManualClock(T0))).size).toBe(60_000);
  });

  it('reports a failed compaction and keeps logging to the old file', async () => {
    const dir = tempDir();
    const { logger, records } = captureLogger();
    const store = createStore({ cleanupIntervalMs: 0 });
    const persistence = await openPersistence(store, { dir, fsync: 'no', compactRatio: 0, logger });
    store.set('a', '1');
    fs.mkdirSync(join(dir, AOF_FILE + REWRITE_SUFFIX)); // the temp file cannot be created
    persistence.compact();
    await persistence.compacting;
    expect(persistence.status().lastCompaction).toMatchObject({ result: 'failed' });
    expect(persistence.status().lastError?.message).toMatch(/compaction failed/);
    expect(records.some((r) => r.level === 50 && /compaction failed/.test(r.msg))).toBe(true);
    store.set('b', '2');
    await persistence.close();
    fs.rmdirSync(join(dir, AOF_FILE + REWRITE_SUFFIX));
    const replayed = await reopen(dir, createManualClock());
    expect(replayed.get('b')?.value).toBe('2');
  });

  it('ignores and removes the temp file of a compaction cut short by a crash', async () => {
    const dir = tempDir();
    fs.writeFileSync(join(dir, AOF_FILE), logBytes([{ type: 'set', revision: 0, key: 'a', value: '1', expiresAtMs: 0, atMs: T0 }]));
    fs.writeFileSync(join(dir, AOF_FILE + REWRITE_SUFFIX), logBytes([]).subarray(0, 5));
    const store = await reopen(dir, createManualClock(T0));
    expect(store.get('a')?.value).toBe('1');
    expect(fs.existsSync(join(dir, AOF_FILE + REWRITE_SUFFIX))).toBe(false);
  });
});
