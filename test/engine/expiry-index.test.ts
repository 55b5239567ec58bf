import { describe, expect, it } from 'vitest';
import { ExpiryIndex } from '../../src/engine/expiry.js';

/** Deterministic pseudo-random numbers (mulberry32) so that failures reproduce. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ExpiryIndex', () => {
  it('is empty at first', () => {
    const index = new ExpiryIndex();
    expect(index.size).toBe(0);
    expect(index.nextAt).toBe(Infinity);
    expect(index.nextSlot).toBe(-1);
  });

  it('matches a reference model under random sets, moves and deletes', () => {
    const next = random(42);
    const index = new ExpiryIndex();
    const model = new Map<number, number>();
    for (let step = 0; step < 20_000; step++) {
      const slot = Math.floor(next() * 3000);
      const roll = next();
      if (roll < 0.6) {
        const at = Math.floor(next() * 1e6);
        index.set(slot, at);
        model.set(slot, at);
      } else if (roll < 0.85) {
        index.delete(slot);
        model.delete(slot);
      } else if (index.size > 0) {
        const slotOut = index.nextSlot;
        const min = Math.min(...model.values());
        expect(index.nextAt).toBe(min);
        expect(model.get(slotOut)).toBe(min);
        index.delete(slotOut);
        model.delete(slotOut);
      }
      expect(index.size).toBe(model.size);
      expect(index.has(slot)).toBe(model.has(slot));
    }
    // Draining yields every remaining entry in time order.
    const drained: number[] = [];
    while (index.size > 0) {
      drained.push(index.nextAt);
      index.delete(index.nextSlot);
    }
    expect(drained).toEqual([...model.values()].sort((a, b) => a - b));
  });

  it('clear empties it', () => {
    const index = new ExpiryIndex();
    index.set(3, 10);
    index.set(70, 5);
    index.clear();
    expect(index.size).toBe(0);
    expect(index.has(70)).toBe(false);
  });
});
