import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/engine/clock.js';
import { createStore, type Store } from '../../src/engine/store.js';
import type { KeyState } from '../../src/engine/mutation.js';
import { seededRandom } from '../helpers/random.js';

function collect(store: Store, limit: number, prefix?: string, between?: () => void): string[] {
  const keys: string[] = [];
  let cursor: number | null = 0;
  let pages = 0;
  while (cursor !== null) {
    const page = store.scan(cursor, { limit, prefix });
    expect(page.keys.length).toBeLessThanOrEqual(limit);
    keys.push(...page.keys);
    cursor = page.nextSlot;
    between?.();
    if (++pages > 100_000) throw new Error('the scan does not end');
  }
  return keys;
}

describe('scan', () => {
  it('returns every key exactly once across pages', () => {
    const s = createStore({ cleanupIntervalMs: 0 });
    const all = Array.from({ length: 2500 }, (_, i) => `key:${i}`);
    for (const key of all) s.set(key, 'v');
    for (const limit of [1, 7, 100, 1000]) {
      const keys = collect(s, limit);
      expect(keys.length).toBe(all.length);
      expect(new Set(keys)).toEqual(new Set(all));
    }
  });

  it('returns each key present for the whole iteration exactly once while keys come and go', () => {
    const random = seededRandom(7);
    const s = createStore({ cleanupIntervalMs: 0 });
    const stable = Array.from({ length: 1000 }, (_, i) => `stable:${i}`);
    const churn = Array.from({ length: 1000 }, (_, i) => `churn:${i}`);
    // Interleave so that churned slots sit between stable ones and get reused.
    for (let i = 0; i < 1000; i++) {
      s.set(stable[i]!, 'v');
      s.set(churn[i]!, 'v');
    }
    let next = 1000;
    const seen = collect(s, 50, undefined, () => {
      // Between pages: remove a few churn keys, add a few new ones (which reuse freed slots).
      for (let i = 0; i < 20; i++) {
        const victim = Math.floor(random() * churn.length);
        s.remove(churn[victim]!);
        churn.splice(victim, 1);
        const key = `churn:${next++}`;
        s.set(key, 'v');
        churn.push(key);
      }
    });
    const counts = new Map<string, number>();
    for (const key of seen) counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const key of stable) expect(counts.get(key), key).toBe(1);
    for (const [key, count] of counts) {
      expect(count, key).toBe(1);
      expect(key.startsWith('stable:') || key.startsWith('churn:')).toBe(true);
    }
  });

  it('filters by prefix and skips expired keys', () => {
    const clock = createManualClock();
    const s = createStore({ clock, cleanupIntervalMs: 0 });
    for (let i = 0; i < 50; i++) s.set(`user:${i}`, 'v');
    for (let i = 0; i < 50; i++) s.set(`order:${i}`, 'v');
    s.set('user:ttl', 'v', { ttlMs: 10 });
    clock.advance(10);
    const users = collect(s, 8, 'user:');
    expect(users.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `user:${i}`).sort());
    expect(collect(s, 8, 'nothing')).toEqual([]);
    expect(s.size).toBe(101); // a listing never expires keys itself
  });

  it('bounds the slots one page visits', () => {
    const s = createStore({ cleanupIntervalMs: 0 });
    for (let i = 0; i < 5000; i++) s.set(`k${i}`, 'v');
    s.set('wanted', 'v');
    const first = s.scan(0, { limit: 10, prefix: 'wanted' });
    expect(first).toEqual({ keys: [], nextSlot: 1000 });
    expect(collect(s, 10, 'wanted')).toEqual(['wanted']);
  });

  it('rejects a bad start or limit', () => {
    const s = createStore({ cleanupIntervalMs: 0 });
    expect(() => s.scan(-1, { limit: 1 })).toThrow(TypeError);
    expect(() => s.scan(0, { limit: 0 })).toThrow(TypeError);
    expect(s.scan(1e9, { limit: 5 })).toEqual({ keys: [], nextSlot: null });
  });
});

describe('flush', () => {
  it('removes every key through the journal (one flush, with every key\'s prior state) and leaves a working store', () => {
    const removed: string[] = [];
    const s = createStore({
      cleanupIntervalMs: 0,
      journal: (m, previous) => {
        if (m.type === 'flush' && Array.isArray(previous)) for (const state of previous as KeyState[]) removed.push(state.key);
      },
    });
    for (let i = 0; i < 2000; i++) s.set(`k${i}`, 'v', i % 2 === 0 ? { ttlMs: 60_000 } : undefined);
    expect(s.flush()).toBe(2000);
    expect(removed.length).toBe(2000);
    expect(s.size).toBe(0);
    expect(s.volatileSize).toBe(0);
    expect(s.dataBytes).toBe(0);
    expect(s.get('k1')).toBeUndefined();
    s.set('after', 'v', { ttlMs: 1000 });
    expect(s.get('after')?.value).toBe('v');
    expect(s.scan(0, { limit: 10 })).toEqual({ keys: ['after'], nextSlot: null });
  });
});

describe('stats', () => {
  it('counts hits, misses, expirations and calls per operation', () => {
    const clock = createManualClock();
    const s = createStore({ clock, cleanupIntervalMs: 0, maxMemoryBytes: 1 << 20, evictionPolicy: 'allkeys-lru' });
    s.set('a', 'v');
    s.set('t', 'v', { ttlMs: 5 });
    s.get('a');
    s.get('a');
    s.get('missing');
    s.push('l', 'x');
    s.pop('l');
    clock.advance(5);
    s.get('t');
    const stats = s.stats();
    expect(stats).toMatchObject({
      keys: 2,
      volatileKeys: 0,
      maxMemoryBytes: 1 << 20,
      evictionPolicy: 'allkeys-lru',
      hits: 2,
      misses: 2,
      expired: 1,
      evicted: 0,
    });
    expect(stats.dataBytes).toBe(s.dataBytes);
    expect(stats.commands).toMatchObject({ get: 4, set: 2, push: 1, pop: 1, remove: 0, flush: 0 });
    expect(createStore({ cleanupIntervalMs: 0 }).stats().maxMemoryBytes).toBe(0);
  });
});
