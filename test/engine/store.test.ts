import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/engine/clock.js';
import { createStore, type StoreOptions } from '../../src/engine/store.js';
import type { Mutation } from '../../src/engine/mutation.js';
import { codeOf } from '../helpers/errors.js';

function store(options: StoreOptions = {}) {
  const clock = createManualClock(1_000_000);
  return { clock, store: createStore({ clock, cleanupIntervalMs: 0, ...options }) };
}

describe('set and get', () => {
  it('stores a string and reads it back with its times', () => {
    const { store: s } = store();
    s.set('greeting', 'hello');
    expect(s.get('greeting')).toEqual({
      key: 'greeting',
      version: 1,
      kind: 'string',
      value: 'hello',
      expiresAtMs: null,
      createdAtMs: 1_000_000,
      updatedAtMs: 1_000_000,
    });
  });

  it('stores a list', () => {
    const { store: s } = store();
    s.set('l', ['a', 'b']);
    expect(s.get('l')).toMatchObject({ kind: 'string_slice', value: ['a', 'b'] });
  });

  it('replaces an existing key of another kind, with new times', () => {
    const { store: s, clock } = store();
    s.set('k', ['a']);
    clock.advance(5);
    s.set('k', 'v');
    expect(s.get('k')).toMatchObject({ kind: 'string', value: 'v', createdAtMs: 1_000_005, updatedAtMs: 1_000_005 });
    expect(s.size).toBe(1);
  });

  it('returns undefined for a missing key', () => {
    expect(store().store.get('nope')).toBeUndefined();
  });

  it('accepts empty strings and empty lists as values, and any non-empty key', () => {
    const { store: s } = store();
    for (const key of ['set', 'a/b', 'sp ace', 'ключ', '🔑', '__proto__', 'constructor']) s.set(key, '');
    s.set('empty', []);
    expect(s.get('__proto__')).toMatchObject({ value: '' });
    expect(s.get('🔑')).toMatchObject({ key: '🔑' });
    expect(s.get('empty')).toMatchObject({ kind: 'string_slice', value: [] });
  });

  it.each([
    ['a number', 5],
    ['null', null],
    ['an object', { a: 1 }],
    ['a nested array', [['a']]],
    ['an array with a number', ['a', 1]],
    ['undefined', undefined],
  ])('rejects %s as a value with invalid_request', (_name, value) => {
    const { store: s } = store();
    expect(codeOf(() => s.set('k', value as never))).toBe('invalid_request');
    expect(s.get('k')).toBeUndefined();
  });

  it('rejects an empty key and a key over the byte limit', () => {
    const { store: s } = store({ maxKeyBytes: 8 });
    expect(codeOf(() => s.set('', 'v'))).toBe('invalid_request');
    expect(codeOf(() => s.set('123456789', 'v'))).toBe('invalid_request');
    // 4 two-byte characters = 8 bytes: at the limit; 5 = 10 bytes: over.
    expect(codeOf(() => s.set('éééé', 'v'))).toBeUndefined();
    expect(codeOf(() => s.set('ééééé', 'v'))).toBe('invalid_request');
    expect(codeOf(() => s.set('🔑🔑', 'v'))).toBeUndefined();
    expect(codeOf(() => s.set('🔑🔑é', 'v'))).toBe('invalid_request');
  });
});

describe('copy semantics', () => {
  it('copies arrays on the way in', () => {
    const { store: s } = store();
    const input = ['a', 'b'];
    s.set('k', input);
    input.push('c');
    input[0] = 'z';
    expect(s.get('k')?.value).toEqual(['a', 'b']);
    const pushed = ['x'];
    s.push('k', pushed);
    pushed.push('y');
    expect(s.get('k')?.value).toEqual(['a', 'b', 'x']);
  });

  it('copies arrays on the way out', () => {
    const { store: s } = store();
    s.set('k', ['a']);
    const out = s.get('k')!.value as string[];
    out.push('mutated');
    const afterPush = s.push('k', 'b').value as string[];
    afterPush.length = 0;
    const afterPop = s.pop('k');
    afterPop.value.push('again');
    expect(s.get('k')?.value).toEqual(['a']);
  });
});

describe('update', () => {
  it('replaces the value, keeps created_at and the TTL', () => {
    const { store: s, clock } = store();
    s.set('k', 'v', { ttlMs: 10_000 });
    clock.advance(100);
    s.update('k', ['now', 'a', 'list']);
    expect(s.get('k')).toMatchObject({
      kind: 'string_slice',
      value: ['now', 'a', 'list'],
      createdAtMs: 1_000_000,
      updatedAtMs: 1_000_100,
      expiresAtMs: 1_010_000,
    });
  });

  it('sets a new TTL when one is given', () => {
    const { store: s, clock } = store();
    s.set('k', 'v');
    clock.advance(1);
    s.update('k', 'w', { ttlMs: 500 });
    expect(s.get('k')?.expiresAtMs).toBe(1_000_501);
  });

  it('does not apply DEFAULT_TTL to an update', () => {
    const { store: s } = store({ defaultTtlMs: 1000 });
    s.set('k', 'v');
    s.persist('k');
    s.update('k', 'w');
    expect(s.get('k')?.expiresAtMs).toBeNull();
  });

  it('fails with item_not_found on a missing key and creates nothing', () => {
    const { store: s } = store();
    expect(codeOf(() => s.update('missing', 'v'))).toBe('item_not_found');
    expect(s.size).toBe(0);
  });
});

describe('remove', () => {
  it('deletes and reports whether the key existed', () => {
    const { store: s } = store();
    s.set('k', 'v');
    expect(s.remove('k')).toBe(2);
    expect(s.get('k')).toBeUndefined();
    expect(s.remove('k')).toBe(0);
    expect(s.size).toBe(0);
  });
});

describe('push and pop', () => {
  it('creates a list on push and appends in order', () => {
    const { store: s, clock } = store();
    expect(s.push('l', 'a')).toMatchObject({ kind: 'string_slice', value: ['a'], createdAtMs: 1_000_000 });
    clock.advance(1);
    expect(s.push('l', ['b', 'c']).value).toEqual(['a', 'b', 'c']);
    expect(s.get('l')).toMatchObject({ createdAtMs: 1_000_000, updatedAtMs: 1_000_001 });
  });

  it('pops the last element and returns the list after the pop', () => {
    const { store: s } = store();
    s.set('l', ['a', 'b']);
    const result = s.pop('l');
    expect(result.popped).toBe('b');
    expect(result.value).toEqual(['a']);
    expect(s.pop('l').popped).toBe('a');
    // A list popped empty stays as a key holding [].
    expect(s.get('l')?.value).toEqual([]);
    expect(codeOf(() => s.pop('l'))).toBe('list_empty');
  });

  it('refuses push and pop on a string with wrong_type and leaves it alone', () => {
    const { store: s } = store();
    s.set('str', 'v');
    expect(codeOf(() => s.push('str', 'x'))).toBe('wrong_type');
    expect(codeOf(() => s.pop('str'))).toBe('wrong_type');
    expect(s.get('str')?.value).toBe('v');
  });

  it('pop on a missing key is item_not_found', () => {
    expect(codeOf(() => store().store.pop('missing'))).toBe('item_not_found');
  });

  it('refuses an empty push and non-string elements without changing the list', () => {
    const { store: s } = store();
    s.set('l', ['a']);
    expect(codeOf(() => s.push('l', []))).toBe('invalid_request');
    expect(codeOf(() => s.push('l', ['b', 3 as never]))).toBe('invalid_request');
    expect(s.get('l')?.value).toEqual(['a']);
  });

  it('keeps the TTL of an existing list unless a new one is given', () => {
    const { store: s, clock } = store({ defaultTtlMs: 60_000 });
    s.push('l', 'a');
    expect(s.get('l')?.expiresAtMs).toBe(1_060_000);
    clock.advance(1000);
    s.push('l', 'b');
    expect(s.get('l')?.expiresAtMs).toBe(1_060_000);
    s.push('l', 'c', { ttlMs: 5000 });
    expect(s.get('l')?.expiresAtMs).toBe(1_006_000);
  });
});

describe('pushSummary and popSummary', () => {
  it('answer the entry with the list length in place of its elements', () => {
    const { store: s, clock } = store();
    expect(s.pushSummary('l', 'a', { ttlMs: 60_000 })).toEqual({
      key: 'l',
      version: 1,
      expiresAtMs: 1_060_000,
      createdAtMs: 1_000_000,
      updatedAtMs: 1_000_000,
      kind: 'string_slice',
      length: 1,
    });
    clock.advance(1);
    expect(s.pushSummary('l', ['b', 'c'])).toMatchObject({ length: 3, updatedAtMs: 1_000_001, expiresAtMs: 1_060_000 });
    expect(s.popSummary('l')).toEqual({
      key: 'l',
      version: 3,
      expiresAtMs: 1_060_000,
      createdAtMs: 1_000_000,
      updatedAtMs: 1_000_001,
      kind: 'string_slice',
      length: 2,
      popped: 'c',
    });
    expect(s.get('l')?.value).toEqual(['a', 'b']);
  });

  it('are push and pop: same errors, same journal records, same counters', () => {
    const records: Mutation[] = [];
    const { store: s } = store({ journal: (mutation) => records.push(mutation) });
    s.set('str', 'v');
    expect(codeOf(() => s.pushSummary('str', 'x'))).toBe('wrong_type');
    expect(codeOf(() => s.popSummary('missing'))).toBe('item_not_found');
    s.pushSummary('l', 'a');
    s.popSummary('l');
    expect(codeOf(() => s.popSummary('l'))).toBe('list_empty');
    expect(records.map((record) => record.type)).toEqual(['set', 'push', 'pop']);
    expect(s.stats().commands).toMatchObject({ push: 2, pop: 3 });
  });
});

describe('journal', () => {
  it('receives every write, resolved to absolute times, before it is applied', () => {
    const seen: Mutation[] = [];
    const { store: s, clock } = store({ journal: (m) => seen.push(structuredClone(m)) });
    s.set('a', 'v', { ttlMs: 1000 });
    s.update('a', 'w');
    s.push('l', ['x', 'y']);
    s.pop('l');
    s.expire('l', 50);
    s.persist('l');
    s.remove('a');
    s.set('gone', 'v', { ttlMs: 10 });
    clock.advance(10);
    expect(s.get('gone')).toBeUndefined();
    expect(seen).toEqual([
      { type: 'set', revision: 1, key: 'a', value: 'v', expiresAtMs: 1_001_000, atMs: 1_000_000 },
      { type: 'update', revision: 2, key: 'a', value: 'w', expiresAtMs: 1_001_000, atMs: 1_000_000 },
      { type: 'push', revision: 3, key: 'l', values: ['x', 'y'], expiresAtMs: 0, atMs: 1_000_000 },
      { type: 'pop', revision: 4, key: 'l', atMs: 1_000_000 },
      { type: 'ttl', revision: 5, key: 'l', expiresAtMs: 1_000_050, atMs: 1_000_000 },
      { type: 'ttl', revision: 6, key: 'l', expiresAtMs: 0, atMs: 1_000_000 },
      { type: 'remove', revision: 7, key: 'a' },
      { type: 'set', revision: 8, key: 'gone', value: 'v', expiresAtMs: 1_000_010, atMs: 1_000_000 },
      { type: 'expired', revision: 9, key: 'gone' },
    ]);
  });

  it('does not journal refused writes', () => {
    const seen: Mutation[] = [];
    const { store: s } = store({ journal: (m) => seen.push(m) });
    s.set('str', 'v');
    seen.length = 0;
    expect(codeOf(() => s.push('str', 'x'))).toBe('wrong_type');
    expect(codeOf(() => s.update('missing', 'x'))).toBe('item_not_found');
    expect(codeOf(() => s.set('k', 5 as never))).toBe('invalid_request');
    expect(seen).toEqual([]);
  });

  it('leaves memory unchanged when the journal throws', () => {
    let fail = false;
    const { store: s } = store({
      journal: () => {
        if (fail) throw new Error('disk full');
      },
    });
    s.set('k', ['a']);
    fail = true;
    expect(() => s.set('k', 'v')).toThrow('disk full');
    expect(() => s.push('k', 'b')).toThrow('disk full');
    expect(() => s.pop('k')).toThrow('disk full');
    expect(() => s.remove('k')).toThrow('disk full');
    expect(s.get('k')?.value).toEqual(['a']);
  });

  it('replays a journal into an identical store', () => {
    const log: Mutation[] = [];
    const { store: source, clock } = store({ journal: (m) => log.push(structuredClone(m)) });
    source.set('s', 'v', { ttlMs: 100_000 });
    clock.advance(3);
    source.push('l', ['a', 'b', 'c']);
    source.pop('l');
    source.update('s', ['x']);
    source.set('r', 'gone');
    source.remove('r');
    const { store: copy } = store();
    for (const m of log) copy.apply(m);
    expect([...copy.entries()]).toEqual([...source.entries()]);
  });
});
