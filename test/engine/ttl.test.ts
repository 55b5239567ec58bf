import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/engine/clock.js';
import { createStore, type StoreOptions } from '../../src/engine/store.js';
import { MemkvError } from '../../src/errors.js';

function store(options: StoreOptions = {}) {
  const clock = createManualClock(0);
  return { clock, store: createStore({ clock, cleanupIntervalMs: 0, ...options }) };
}

describe('TTL', () => {
  it('a key is alive until the last millisecond before its expiry, and gone at it', () => {
    const { store: s, clock } = store();
    s.set('k', 'v', { ttlMs: 1000 });
    clock.set(999);
    expect(s.get('k')?.value).toBe('v');
    expect(s.ttl('k')).toBe(1);
    clock.set(1000);
    expect(s.get('k')).toBeUndefined();
    expect(s.ttl('k')).toBeUndefined();
  });

  it('an expired key is invisible to every operation, even before any sweep', () => {
    const { store: s, clock } = store();
    const setup = () => {
      s.set('str', 'v', { ttlMs: 10 });
      s.set('list', ['a'], { ttlMs: 10 });
      clock.advance(10);
    };
    setup();
    expect(s.get('str')).toBeUndefined();
    expect(s.has('list')).toBe(false);
    setup();
    expect(() => s.update('str', 'x')).toThrow(MemkvError);
    expect(s.remove('str')).toBe(0);
    expect(() => s.pop('list')).toThrow(expect.objectContaining({ code: 'item_not_found' }));
    setup();
    // Pushing onto an expired list starts a new list (with a new TTL, here the default: none).
    expect(s.push('list', 'b')).toMatchObject({ value: ['b'], expiresAtMs: null });
    // Setting over an expired string works; so does expire/persist reporting a missing key.
    expect(s.expire('str', 100)).toBe(false);
    expect(s.persist('str')).toBe(false);
    expect([...s.entries()].map((e) => e.key)).toEqual(['list']);
  });

  it('DEFAULT_TTL applies to set and to a push that creates a list, not otherwise', () => {
    const { store: s } = store({ defaultTtlMs: 300_000 });
    s.set('a', 'v');
    s.push('l', 'x');
    s.set('explicit', 'v', { ttlMs: 5 });
    expect(s.get('a')?.expiresAtMs).toBe(300_000);
    expect(s.get('l')?.expiresAtMs).toBe(300_000);
    expect(s.get('explicit')?.expiresAtMs).toBe(5);
  });

  it('set without a TTL clears a previous one when there is no default', () => {
    const { store: s } = store();
    s.set('k', 'v', { ttlMs: 10 });
    s.set('k', 'v');
    expect(s.ttl('k')).toBeNull();
  });

  it('expire and persist change the TTL of a live key', () => {
    const { store: s, clock } = store();
    s.set('k', 'v');
    expect(s.expire('k', 50)).toBe(true);
    expect(s.ttl('k')).toBe(50);
    expect(s.persist('k')).toBe(true);
    clock.advance(100);
    expect(s.get('k')?.value).toBe('v');
    expect(s.volatileSize).toBe(0);
  });

  it.each([0, -1, Number.NaN, Infinity, 1e20])('refuses a TTL of %s', (ttlMs) => {
    const { store: s } = store();
    expect(() => s.set('k', 'v', { ttlMs })).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    expect(s.get('k')).toBeUndefined();
  });

  it('rounds a sub-millisecond TTL up to 1 ms', () => {
    const { store: s } = store();
    s.set('k', 'v', { ttlMs: 0.001 });
    expect(s.get('k')?.expiresAtMs).toBe(1);
  });

  it('refuses bad options at construction', () => {
    expect(() => createStore({ defaultTtlMs: -1 })).toThrow(/defaultTtlMs/);
    expect(() => createStore({ maxKeyBytes: 0 })).toThrow(/maxKeyBytes/);
    expect(() => createStore({ cleanupIntervalMs: Number.NaN })).toThrow(/cleanupIntervalMs/);
  });
});

describe('active expiry', () => {
  it('reclaims due keys soonest first and leaves the rest', () => {
    const { store: s, clock } = store();
    for (let i = 0; i < 100; i++) s.set(`k${i}`, 'v', { ttlMs: 100 + i });
    s.set('forever', 'v');
    clock.set(150);
    // Expiry at 100 + i: keys k0..k50 are due at 150.
    expect(s.expireDue()).toBe(51);
    expect(s.size).toBe(50);
    expect(s.volatileSize).toBe(49);
    expect(s.has('k50')).toBe(false);
    expect(s.has('k51')).toBe(true);
    expect(s.expiredCount).toBe(51);
    expect(s.hasDue).toBe(false);
  });

  it('stops a slice when its time budget is spent and finishes in later slices', () => {
    const { store: s, clock } = store();
    const n = 200_000;
    for (let i = 0; i < n; i++) s.set(`k${i}`, 'v', { ttlMs: 1000 });
    clock.set(1000);
    const first = s.expireDue(0.5);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(n);
    let total = first;
    while (s.hasDue) total += s.expireDue(0.5);
    expect(total).toBe(n);
    expect(s.size).toBe(0);
  });

  it('runs on its own timer with the real clock', async () => {
    const s = createStore({ cleanupIntervalMs: 5 });
    try {
      s.set('k', 'v', { ttlMs: 10 });
      s.set('keep', 'v');
      await new Promise((resolve) => setTimeout(resolve, 60));
      // Reclaimed by the timer: size drops without any read of the key.
      expect(s.size).toBe(1);
      expect(s.expiredCount).toBe(1);
    } finally {
      s.close();
    }
  });

  it('reuses the slots of removed keys', () => {
    const { store: s, clock } = store();
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1000; i++) s.set(`r${round}-${i}`, 'v', { ttlMs: 1 });
      clock.advance(1);
      s.expireDue();
    }
    s.set('last', ['x']);
    expect(s.size).toBe(1);
    expect(s.get('last')?.value).toEqual(['x']);
  });
});
