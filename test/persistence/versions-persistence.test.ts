/** Versions and the revision across restarts, compaction, transactions and flush, on real files. */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/engine/clock.js';
import { createStore, type Store } from '../../src/engine/store.js';
import { openPersistence, type Persistence } from '../../src/persistence/persistence.js';
import { T0 } from './fixtures.js';
import { tempDir } from './helpers.js';

async function open(dir: string): Promise<{ store: Store; persistence: Persistence }> {
  const store = createStore({ clock: createManualClock(T0), cleanupIntervalMs: 0 });
  const persistence = await openPersistence(store, { dir, fsync: 'always', compactRatio: 0 });
  return { store, persistence };
}

describe('versions on disk', () => {
  it('come back after a restart, the revision included, when the last change removed its key', async () => {
    const dir = tempDir();
    const first = await open(dir);
    first.store.set('a', '1');
    first.store.txn([], [
      { op: 'set', key: 'b', value: '2' },
      { op: 'push', key: 'l', values: ['x'] },
    ]);
    first.store.remove('b');
    await first.persistence.durable();
    await first.persistence.close();

    const second = await open(dir);
    expect(second.store.revision).toBe(3);
    expect(second.store.get('a')?.version).toBe(1);
    expect(second.store.get('l')?.version).toBe(2);
    expect(second.store.set('c', '3')).toBe(4);
    await second.persistence.close();
  });

  it('never go backwards after compaction, which keeps each key\'s version and the revision', async () => {
    const dir = tempDir();
    const first = await open(dir);
    for (let i = 0; i < 50; i++) first.store.set(`k${i % 5}`, `v${i}`);
    first.store.set('last', 'x');
    first.store.remove('last'); // revision 52: no key holds it
    const before = [...first.store.entries()];
    expect(first.persistence.compact()).toBe('started');
    expect((await first.persistence.compacting)?.result).toBe('ok');
    await first.persistence.close();

    const second = await open(dir);
    expect([...second.store.entries()]).toEqual(before);
    expect(second.store.revision).toBe(52);
    expect(second.store.set('next', 'y')).toBe(53);
    await second.persistence.close();
  });

  it('a flush is one change: after a restart the database is empty and the revision goes on', async () => {
    const dir = tempDir();
    const first = await open(dir);
    for (let i = 0; i < 100; i++) first.store.set(`k${i}`, 'v');
    expect(first.store.flush()).toBe(100);
    expect(first.store.revision).toBe(101);
    await first.persistence.close();
    const second = await open(dir);
    expect(second.store.size).toBe(0);
    expect(second.store.revision).toBe(101);
    await second.persistence.close();
  });
});
