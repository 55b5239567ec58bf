import { describe, expect, it } from 'vitest';
import { KEY_OVERHEAD_BYTES as K, LIST_ITEM_OVERHEAD_BYTES as L } from '../../src/engine/accounting.js';
import { createManualClock } from '../../src/engine/clock.js';
import type { Mutation } from '../../src/engine/mutation.js';
import { createStore } from '../../src/engine/store.js';

function store() {
  const clock = createManualClock(1_000_000);
  const journal: Mutation[] = [];
  const s = createStore({ clock, cleanupIntervalMs: 0, journal: (m) => void journal.push(structuredClone(m)) });
  return { clock, store: s, journal };
}

describe('data byte accounting', () => {
  it('counts key, value and the per-key overhead for strings', () => {
    const { store: s } = store();
    expect(s.dataBytes).toBe(0);
    s.set('abc', 'hello');
    expect(s.dataBytes).toBe(K + 3 + 5);
    s.set('abc', 'hi');
    expect(s.dataBytes).toBe(K + 3 + 2);
    s.update('abc', 'longer value');
    expect(s.dataBytes).toBe(K + 3 + 12);
    s.set('k', '');
    expect(s.dataBytes).toBe(2 * K + 3 + 12 + 1);
    s.remove('abc');
    expect(s.dataBytes).toBe(K + 1);
  });

  it('counts each list element with its overhead through set, push and pop', () => {
    const { store: s } = store();
    s.set('l', ['ab', 'c']);
    expect(s.dataBytes).toBe(K + 1 + (2 + L) + (1 + L));
    s.push('l', ['defg']);
    expect(s.dataBytes).toBe(K + 1 + (2 + L) + (1 + L) + (4 + L));
    s.pop('l');
    s.pop('l');
    expect(s.dataBytes).toBe(K + 1 + (2 + L));
    s.push('new', 'x');
    expect(s.dataBytes).toBe(K + 1 + (2 + L) + K + 3 + (1 + L));
  });

  it('releases the bytes of expired keys and of a flush', () => {
    const { store: s, clock } = store();
    s.set('t', 'v', { ttlMs: 10 });
    s.set('p', 'v');
    clock.advance(10);
    expect(s.expireDue()).toBe(1);
    expect(s.dataBytes).toBe(K + 2);
    s.flush();
    expect(s.dataBytes).toBe(0);
  });

  it('gives the same figure when the journal is replayed into a new store', () => {
    const { store: s, journal, clock } = store();
    s.set('a', 'one');
    s.push('l', ['x', 'yy']);
    s.update('a', 'three');
    s.pop('l');
    s.set('t', 'gone', { ttlMs: 5 });
    clock.advance(5);
    s.expireDue();
    s.set('b', ['q']);
    s.remove('b');
    const replica = createStore({ clock, cleanupIntervalMs: 0 });
    for (const mutation of journal) replica.apply(mutation);
    expect(replica.dataBytes).toBe(s.dataBytes);
    expect(replica.dataBytes).toBe(K + 1 + 5 + K + 1 + (1 + L));
  });
});
