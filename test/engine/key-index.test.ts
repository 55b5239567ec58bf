import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../src/engine/key-index.js';

describe('KeyIndex', () => {
  it('maps keys to slots like a Map, through growth and shrinkage', () => {
    const index = new KeyIndex();
    const reference = new Map<string, number>();
    const keys = ['', 'a', 'é', '😀', 'user:1:profile', 'x'.repeat(2000)];
    for (let i = 0; i < 20_000; i++) keys.push(`k${i}`, `user:${i}:profile`);
    keys.forEach((key, slot) => {
      index.set(key, slot);
      reference.set(key, slot);
    });
    index.set('a', 99); // overwrite keeps the size
    reference.set('a', 99);
    expect(index.size).toBe(reference.size);
    for (const key of keys) expect(index.get(key)).toBe(reference.get(key));
    expect(index.get('missing')).toBeUndefined();

    for (let i = 0; i < keys.length; i += 3) {
      expect(index.delete(keys[i]!)).toBe(true);
      reference.delete(keys[i]!);
    }
    expect(index.delete(keys[0]!)).toBe(false);
    expect(index.size).toBe(reference.size);
    expect([...index.values()].sort((a, b) => a - b)).toEqual([...reference.values()].sort((a, b) => a - b));
    for (const key of keys) expect(index.get(key)).toBe(reference.get(key));
  });
});
