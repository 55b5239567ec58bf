import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../src/engine/key-index.js';
import { seededRandom } from '../helpers/random.js';

/** Drives an index as the store does (free slots reused), against a Map as the reference. */
class Model {
  readonly index: KeyIndex;
  readonly reference = new Map<string, number>();
  readonly #free: number[] = [];
  #next = 0;

  constructor(seed?: number) {
    this.index = new KeyIndex(seed);
  }

  add(key: string): void {
    if (this.index.get(key) >= 0) return;
    const slot = this.#free.pop() ?? this.#next++;
    this.index.add(key, slot);
    this.reference.set(key, slot);
  }

  remove(key: string): void {
    const slot = this.index.get(key);
    expect(slot).toBe(this.reference.get(key) ?? -1);
    if (slot < 0) return;
    this.index.delete(slot);
    this.reference.delete(key);
    this.#free.push(slot);
  }

  check(probes: Iterable<string>): void {
    expect(this.index.size).toBe(this.reference.size);
    for (const [key, slot] of this.reference) {
      expect(this.index.get(key)).toBe(slot);
      expect(this.index.keyOf(slot)).toBe(key);
    }
    for (const key of probes) expect(this.index.get(key)).toBe(this.reference.get(key) ?? -1);
  }
}

describe('KeyIndex', () => {
  it('maps keys to slots, and slots to keys, through growth and shrinkage', () => {
    const model = new Model();
    const keys = ['', 'a', 'é', '😀', '\ud800', 'user:1:profile', 'x'.repeat(2000)];
    for (let i = 0; i < 20_000; i++) keys.push(`k${i}`, `user:${i}:profile`);
    for (const key of keys) model.add(key);
    model.check(['missing', 'k20000', 'x'.repeat(1999)]);

    for (let i = 0; i < keys.length; i += 3) model.remove(keys[i]!);
    model.remove(keys[0]!); // already gone
    model.check(keys);

    // Down to a handful: the shards shrink, and what is left is still found.
    for (const key of keys) if (!key.startsWith('user:1')) model.remove(key);
    model.check(keys);
    for (const key of keys) model.remove(key);
    expect(model.index.size).toBe(0);
    for (const key of keys.slice(0, 100)) model.add(key);
    model.check(keys);
  });

  it('stays exact under random adds and removes over a small key space, whatever the seed', () => {
    // A small key space makes long probe runs and many deletions inside them (backward shifts).
    for (const seed of [0, 1, -1, 0x7fffffff, 123456789]) {
      const random = seededRandom(seed);
      const model = new Model(seed);
      const space = Array.from({ length: 3000 }, (_, i) => `key:${i}`);
      for (let step = 0; step < 40_000; step++) {
        const key = space[Math.floor(random() * space.length)]!;
        // Phases that fill and drain the index, so that tables both grow and shrink.
        const addBias = Math.floor(step / 5000) % 2 === 0 ? 0.7 : 0.3;
        if (random() < addBias) model.add(key);
        else model.remove(key);
      }
      model.check(space);
    }
  });

  it('finds keys that share a hash position, and removing one keeps the others reachable', () => {
    // Every shard at up to 3/4 full has long runs; removing every other key shifts entries back.
    const model = new Model(42);
    const count = 200_000;
    for (let i = 0; i < count; i++) model.add(`k${i}`);
    for (let i = 0; i < count; i += 2) model.remove(`k${i}`);
    const probes: string[] = [];
    for (let i = 0; i < count; i += 97) probes.push(`k${i}`, `k${i + 1}`);
    expect(model.index.size).toBe(count / 2);
    for (const key of probes) expect(model.index.get(key)).toBe(model.reference.get(key) ?? -1);
  });

  it('add() right after a missing get() of another key does not reuse that probe', () => {
    const index = new KeyIndex(7);
    expect(index.get('a')).toBe(-1);
    index.add('b', 0); // not the key that missed: probed on its own
    index.add('a', 1);
    expect(index.get('a')).toBe(1);
    expect(index.get('b')).toBe(0);
    // A removal between the miss and the add invalidates the remembered probe.
    expect(index.get('c')).toBe(-1);
    index.delete(0);
    index.add('c', 0);
    expect([index.get('a'), index.get('b'), index.get('c')]).toEqual([1, -1, 0]);
  });

  it('clear() empties the index', () => {
    const index = new KeyIndex();
    for (let i = 0; i < 1000; i++) index.add(`k${i}`, i);
    index.clear();
    expect(index.size).toBe(0);
    expect(index.get('k1')).toBe(-1);
    expect(index.keyOf(1)).toBeUndefined();
    index.add('k1', 0);
    expect(index.get('k1')).toBe(0);
  });
});
