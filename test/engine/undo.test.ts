import { describe, expect, it } from 'vitest';
import { KEY_OVERHEAD_BYTES as K, LIST_ITEM_OVERHEAD_BYTES as L } from '../../src/engine/accounting.js';
import { createManualClock } from '../../src/engine/clock.js';
import type { KeyState } from '../../src/engine/mutation.js';
import { createStore, type Store } from '../../src/engine/store.js';
import { seededRandom } from '../helpers/random.js';

const T0 = Date.UTC(2026, 0, 1);

/** Every key the random writes use. */
const KEYS = [...Array(40).keys()].map((i) => `k${i}`).concat(['l0', 'l1', 'l2', 'l3']);

/** Everything observable about the keyspace, expired keys included. */
function snapshot(store: Store) {
  return {
    entries: KEYS.map((key) => store.peek(key) ?? null),
    size: store.size,
    volatile: store.volatileSize,
    dataBytes: store.dataBytes,
  };
}

/** One random write, as a client would make it; errors (wrong type, missing key…) change nothing. */
function randomWrite(store: Store, random: () => number, clock: ReturnType<typeof createManualClock>): void {
  const key = random() < 0.7 ? `k${Math.floor(random() * 40)}` : `l${Math.floor(random() * 4)}`;
  const ttl = random() < 0.3 ? { ttlMs: 1 + Math.floor(random() * 5000) } : undefined;
  clock.advance(Math.floor(random() * 300)); // some keys expire between writes
  try {
    switch (Math.floor(random() * 9)) {
      case 0:
        store.set(key, `v${random()}`, ttl);
        break;
      case 1:
        store.set(key, ['a', 'b', `c${random()}`], ttl);
        break;
      case 2:
        store.update(key, `u${random()}`, ttl);
        break;
      case 3:
        store.push(key, random() < 0.5 ? `p${random()}` : ['x', 'y'], ttl);
        break;
      case 4:
      case 5:
        store.pop(key);
        break;
      case 6:
        store.remove(key);
        break;
      case 7:
        if (random() < 0.5) store.expire(key, 1 + Math.floor(random() * 5000));
        else store.persist(key);
        break;
      default:
        store.get(key); // may expire the key lazily: journaled too
    }
  } catch {
    // a refused write: nothing journaled, nothing applied
  }
}

describe('previous states / restoreKeys (undo of writes the log refused)', () => {
  it('puts the keyspace back exactly after any batch of writes, expiries and evictions', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const clock = createManualClock(T0);
      const limited = seed % 2 === 0;
      const store = createStore({
        clock,
        cleanupIntervalMs: 0,
        ...(limited ? { maxMemoryBytes: 40 * 200, evictionPolicy: seed % 4 === 0 ? 'allkeys-lru' : 'volatile-ttl' } : {}),
      });
      for (let i = 0; i < 60; i++) randomWrite(store, random, clock);

      const states: KeyState[] = [];
      store.setJournal((_mutation, previous) => states.push(...(Array.isArray(previous) ? previous : [previous as KeyState])));
      const before = snapshot(store);
      const batch = 1 + Math.floor(random() * 30);
      for (let i = 0; i < batch; i++) randomWrite(store, random, clock);
      if (seed % 10 === 0) store.flush();
      store.setJournal(undefined);

      store.restoreKeys(states);
      expect(snapshot(store), `seed ${seed}`).toEqual(before);
      // And the store still works on the restored keys (index, expiry heap, free slots).
      for (let i = 0; i < 20; i++) randomWrite(store, random, clock);
      expect(store.size).toBe([...store.entries()].length + countExpired(store, clock.now()));
    }
  });

  it('gives a list back the elements popped and drops the ones pushed, in place', () => {
    const store = createStore({ clock: createManualClock(T0), cleanupIntervalMs: 0 });
    store.push('list', ['a', 'b', 'c']);
    const states: KeyState[] = [];
    store.setJournal((_mutation, previous) => states.push(...(Array.isArray(previous) ? previous : [previous as KeyState])));
    store.pop('list');
    store.pop('list');
    store.push('list', ['x', 'y']);
    store.pop('list');
    store.remove('list');
    store.push('list', 'fresh');
    store.setJournal(undefined);
    store.restoreKeys(states);
    expect(store.get('list')?.value).toEqual(['a', 'b', 'c']);
  });

  it('hands the journal the state of the key just before each mutation', () => {
    const clock = createManualClock(T0);
    const store = createStore({ clock, cleanupIntervalMs: 0 });
    const seen: Array<[string, KeyState]> = [];
    store.setJournal((mutation, previous) => seen.push([mutation.type, { ...(previous as KeyState) }]));
    store.set('s', 'one');
    clock.advance(10);
    store.update('s', 'two', { ttlMs: 50 });
    store.push('l', ['a', 'b']);
    store.pop('l');
    clock.advance(100);
    store.get('s'); // expired lazily
    const missing = { value: undefined, length: 0, last: undefined, createdAtMs: 0, updatedAtMs: 0, expiresAtMs: 0, bytes: 0, version: 0 };
    expect(seen).toEqual([
      ['set', { key: 's', ...missing }],
      ['update', { key: 's', value: 'one', length: 0, last: undefined, createdAtMs: T0, updatedAtMs: T0, expiresAtMs: 0, bytes: K + 1 + 3, version: 1 }],
      ['push', { key: 'l', ...missing }],
      // The list itself is shared with the store (popped since): its length and last element are what count.
      ['pop', { key: 'l', value: ['a'], length: 2, last: 'b', createdAtMs: T0 + 10, updatedAtMs: T0 + 10, expiresAtMs: 0, bytes: K + 1 + 2 * (1 + L), version: 3 }],
      ['expired', { key: 's', value: 'two', length: 0, last: undefined, createdAtMs: T0, updatedAtMs: T0 + 10, expiresAtMs: T0 + 60, bytes: K + 1 + 3, version: 2 }],
    ]);
  });
});

/** Keys held whose TTL has passed (entries() skips them; size counts them, as Redis's DBSIZE). */
function countExpired(store: Store, now: number): number {
  let expired = 0;
  for (const key of KEYS) {
    const entry = store.peek(key);
    if (entry?.expiresAtMs != null && entry.expiresAtMs <= now) expired++;
  }
  return expired;
}
