import { describe, expect, it } from 'vitest';
import { KEY_OVERHEAD_BYTES as K, LIST_ITEM_OVERHEAD_BYTES as L } from '../../src/engine/accounting.js';
import { createManualClock } from '../../src/engine/clock.js';
import type { Mutation } from '../../src/engine/mutation.js';
import { createStore, type StoreOptions } from '../../src/engine/store.js';
import { MemkvError } from '../../src/errors.js';
import { codeOf } from '../helpers/errors.js';
import { seededRandom } from '../helpers/random.js';

/** Every key below is 2 characters and every value 8, so each entry accounts exactly this much. */
const ENTRY = K + 2 + 8;
const VALUE = 'v'.repeat(8);

function store(options: StoreOptions & { capacity: number }) {
  const clock = createManualClock(1_000_000);
  const journal: Mutation[] = [];
  const evicted: string[] = [];
  const s = createStore({
    clock,
    cleanupIntervalMs: 0,
    maxMemoryBytes: options.capacity * ENTRY,
    journal: (m) => void journal.push(m),
    onEvict: (key) => void evicted.push(key),
    random: seededRandom(42),
    ...options,
  });
  return { clock, store: s, journal, evicted };
}

function key(i: number): string {
  return String(i).padStart(2, '0');
}

describe('noeviction', () => {
  it('refuses writes that add data once full, and keeps serving reads, removes, pops and shrinking writes', () => {
    const list = K + 2 + (2 + L) + (1 + L);
    const { store: s, journal } = store({ capacity: 0, maxMemoryBytes: 2 * ENTRY + list });
    s.set('aa', VALUE);
    s.set('bb', VALUE);
    s.set('ll', ['12', '3']);
    expect(s.dataBytes).toBe(2 * ENTRY + list);
    const writesBefore = journal.length;
    expect(codeOf(() => s.set('cc', VALUE))).toBe('out_of_memory');
    expect(codeOf(() => s.push('ll', 'more'))).toBe('out_of_memory');
    expect(codeOf(() => s.update('aa', VALUE + 'x'))).toBe('out_of_memory');
    expect(journal.length).toBe(writesBefore);
    expect(s.size).toBe(3);
    expect(s.get('aa')?.value).toBe(VALUE);
    expect(s.pop('ll').popped).toBe('3');
    s.update('bb', 'short');
    s.set('aa', VALUE);
    expect(s.remove('aa')).toBeGreaterThan(0);
    s.set('cc', VALUE);
    expect(s.get('cc')?.value).toBe(VALUE);
    expect(s.evictedCount).toBe(0);
  });

  it('says what happened and what to do', () => {
    const { store: s } = store({ capacity: 1 });
    s.set('aa', VALUE);
    try {
      s.set('bb', VALUE);
      expect.unreachable();
    } catch (error) {
      expect((error as MemkvError).status).toBe(507);
      expect((error as MemkvError).message).toMatch(/limit of \d+ bytes.*noeviction.*MAX_MEMORY/);
    }
  });
});

describe('allkeys-lru', () => {
  it('evicts the least recently used key when every key is sampled', () => {
    const { store: s, journal, evicted } = store({ capacity: 10, evictionPolicy: 'allkeys-lru', evictionSamples: 64 });
    for (let i = 0; i < 10; i++) s.set(key(i), VALUE);
    for (const i of [0, 1, 2, 3, 4, 6, 7, 8, 9]) s.get(key(i)); // 05 is now the least recently used
    s.set('zz', VALUE);
    expect(evicted).toEqual(['05']);
    expect(s.has('05')).toBe(false);
    expect(s.has('zz')).toBe(true);
    // The eviction reaches the journal as a remove, before the write that needed the room.
    expect(journal.slice(-2)).toMatchObject([{ type: 'remove', key: '05' }, { type: 'set', key: 'zz' }]);
    expect(s.evictedCount).toBe(1);
    expect(s.dataBytes).toBe(10 * ENTRY);
  });

  it('counts writes and updates as uses', () => {
    const { store: s, evicted } = store({ capacity: 3, evictionPolicy: 'allkeys-lru', evictionSamples: 64 });
    s.set('aa', VALUE);
    s.set('bb', VALUE);
    s.set('cc', VALUE);
    s.update('aa', VALUE);
    s.set('dd', VALUE);
    expect(evicted).toEqual(['bb']);
  });

  it('with the default five samples, evicts almost only keys that were not used recently', () => {
    const n = 1000;
    const name = (prefix: string, i: number) => prefix + String(i).padStart(4, '0');
    const { store: s, evicted } = store({ capacity: 0, maxMemoryBytes: n * (K + 5 + 8), evictionPolicy: 'allkeys-lru' });
    for (let i = 0; i < n; i++) s.set(name('k', i), VALUE);
    for (let i = n / 2; i < n; i++) s.get(name('k', i)); // the second half is hot
    for (let i = 0; i < 100; i++) s.set(name('n', i), VALUE);
    expect(evicted.length).toBe(100);
    const cold = evicted.filter((k) => Number(k.slice(1)) < n / 2).length;
    expect(cold / evicted.length).toBeGreaterThanOrEqual(0.95);
  });

  it('never evicts the key being written, and fails when nothing else is left', () => {
    const { store: s, evicted } = store({ capacity: 2, evictionPolicy: 'allkeys-lru' });
    s.set('aa', VALUE);
    s.set('bb', VALUE);
    const both = 'x'.repeat(2 * ENTRY - K - 2); // aa grows to take both entries' room
    s.update('aa', both);
    expect(evicted).toEqual(['bb']);
    expect(s.dataBytes).toBe(2 * ENTRY);
    expect(codeOf(() => s.update('aa', both + 'x'))).toBe('out_of_memory');
    expect(s.get('aa')?.value).toBe(both);
  });

  it('refuses an entry larger than the whole limit without evicting anything', () => {
    const { store: s, evicted } = store({ capacity: 2, evictionPolicy: 'allkeys-lru' });
    s.set('aa', VALUE);
    expect(codeOf(() => s.set('bb', 'x'.repeat(3 * ENTRY)))).toBe('out_of_memory');
    expect(evicted).toEqual([]);
    expect(s.has('aa')).toBe(true);
  });
});

describe('volatile-lru', () => {
  it('evicts only keys with a TTL, least recently used first', () => {
    const { store: s, evicted } = store({ capacity: 4, evictionPolicy: 'volatile-lru', evictionSamples: 64 });
    s.set('p1', VALUE); // oldest, but without TTL
    s.set('t1', VALUE, { ttlMs: 60_000 });
    s.set('t2', VALUE, { ttlMs: 60_000 });
    s.set('p2', VALUE);
    s.get('t1');
    s.set('zz', VALUE);
    expect(evicted).toEqual(['t2']);
    s.set('yy', VALUE);
    expect(evicted).toEqual(['t2', 't1']);
    expect(codeOf(() => s.set('xx', VALUE))).toBe('out_of_memory');
    expect([...s.entries()].map((e) => e.key).sort()).toEqual(['p1', 'p2', 'yy', 'zz']);
  });
});

describe('allkeys-random', () => {
  it('evicts random keys, with or without a TTL, until the write fits', () => {
    const { store: s, evicted } = store({ capacity: 20, evictionPolicy: 'allkeys-random' });
    for (let i = 0; i < 20; i++) s.set(key(i), VALUE);
    for (let i = 20; i < 40; i++) s.set(key(i), VALUE);
    expect(s.size).toBe(20);
    expect(evicted.length).toBe(20);
    expect(new Set(evicted).size).toBe(20);
    expect(s.dataBytes).toBe(20 * ENTRY);
    // Random, not oldest first: some early keys survive while later ones were evicted.
    const survivors = [...s.entries()].map((e) => Number(e.key));
    expect(survivors.some((i) => i < 20)).toBe(true);
    expect(evicted.some((k) => Number(k) >= 20)).toBe(true);
  });
});

describe('volatile-ttl', () => {
  it('evicts the key that expires soonest and never one without a TTL', () => {
    const { store: s, evicted } = store({ capacity: 4, evictionPolicy: 'volatile-ttl' });
    s.set('p1', VALUE);
    s.set('t3', VALUE, { ttlMs: 30_000 });
    s.set('t1', VALUE, { ttlMs: 10_000 });
    s.set('t2', VALUE, { ttlMs: 20_000 });
    s.set('zz', VALUE);
    expect(evicted).toEqual(['t1']);
    // The key being written is the soonest: the next one goes instead.
    s.set('t2', VALUE + 'x'.repeat(ENTRY), { ttlMs: 1 });
    expect(evicted).toEqual(['t1', 't3']);
    expect(s.has('t2')).toBe(true);
    s.set('yy', VALUE); // t2 is the only key with a TTL left, and it is not the one written now
    expect(evicted).toEqual(['t1', 't3', 't2']);
    s.set('xx', VALUE); // fits in the room t2 left
    expect(codeOf(() => s.set('ww', VALUE))).toBe('out_of_memory');
    expect([...s.entries()].map((e) => e.key).sort()).toEqual(['p1', 'xx', 'yy', 'zz']);
  });
});

describe('configuration', () => {
  it('rejects a bad limit, policy or sample count', () => {
    expect(() => createStore({ maxMemoryBytes: -1 })).toThrow(/maxMemoryBytes/);
    expect(() => createStore({ evictionPolicy: 'lru' as never })).toThrow(/evictionPolicy must be one of noeviction/);
    expect(() => createStore({ evictionSamples: 0 })).toThrow(/evictionSamples/);
  });
});

describe('sampling', () => {
  it('still finds a victim when the random source keeps landing on the key being written', () => {
    for (const evictionPolicy of ['volatile-lru', 'allkeys-lru', 'allkeys-random'] as const) {
      const { store: s, evicted } = store({ capacity: 2, evictionPolicy, random: () => 0 });
      s.set('aa', VALUE, { ttlMs: 60_000 }); // slot 0 and heap position 0: what random() = 0 picks
      s.set('bb', VALUE, { ttlMs: 60_000 });
      s.update('aa', VALUE + 'x'.repeat(ENTRY - 8));
      expect(evicted, evictionPolicy).toEqual(['bb']);
    }
  });
});
