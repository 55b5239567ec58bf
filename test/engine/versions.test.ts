import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/engine/change.js';
import { createManualClock } from '../../src/engine/clock.js';
import type { KeyState, Mutation } from '../../src/engine/mutation.js';
import { createStore } from '../../src/engine/store.js';
import { MemkvError } from '../../src/errors.js';

const T0 = Date.UTC(2026, 0, 1);

function setup(options: Parameters<typeof createStore>[0] = {}) {
  const clock = createManualClock(T0);
  const store = createStore({ clock, cleanupIntervalMs: 0, ...options });
  return { clock, store };
}

function failure(run: () => unknown): MemkvError {
  try {
    run();
  } catch (error) {
    if (error instanceof MemkvError) return error;
    throw error;
  }
  throw new Error('expected a MemkvError');
}

describe('revisions and versions', () => {
  it('gives every change the next revision, and each key the revision of its last write', () => {
    const { store, clock } = setup();
    expect(store.revision).toBe(0);
    expect(store.set('a', 'x')).toBe(1);
    expect(store.set('b', 'y', { ttlMs: 10 })).toBe(2);
    expect(store.pushSummary('l', ['p', 'q']).version).toBe(3);
    expect(store.popSummary('l')).toMatchObject({ version: 4, popped: 'q' });
    expect(store.update('a', 'z')).toBe(5);
    expect(store.setTtl('a', 60_000)?.version).toBe(6);
    expect(store.get('a')).toMatchObject({ value: 'z', version: 6 });
    expect(store.range('l', 0, -1).version).toBe(4);
    expect(store.expiry('l')?.version).toBe(4);
    expect(store.remove('a')).toBe(7);
    expect(store.remove('a')).toBe(0);
    clock.advance(10);
    expect(store.get('b')).toBeUndefined(); // expired: a change of its own
    expect(store.revision).toBe(8);
    expect(store.version('l')).toBe(4);
    expect(store.version('b')).toBeNull();
    expect(store.flush()).toBe(1);
    expect(store.revision).toBe(9);
    expect(store.set('a', 'again')).toBe(10);
  });

  it('does not spend a revision on a refused write', () => {
    const { store } = setup();
    store.set('s', 'v');
    expect(() => store.pop('s')).toThrow(MemkvError);
    expect(() => store.update('missing', 'v')).toThrow(MemkvError);
    expect(() => store.set('s', 'w', { ifVersion: 9 })).toThrow(MemkvError);
    expect(store.revision).toBe(1);
    expect(store.set('t', 'v')).toBe(2);
  });

  it('gives an evicted key a revision of its own before the write that evicted it', () => {
    const { store } = setup({ maxMemoryBytes: 300, evictionPolicy: 'allkeys-lru' });
    store.set('old', 'x'.repeat(100));
    const version = store.set('new', 'y'.repeat(150));
    expect(store.get('old')).toBeUndefined();
    expect(version).toBe(3);
  });
});

describe('preconditions', () => {
  it('writes only at the expected version, and says the current one when it does not hold', () => {
    const { store } = setup();
    const v1 = store.set('k', 'one');
    const stale = failure(() => store.set('k', 'two', { ifVersion: v1 + 5 }));
    expect(stale).toMatchObject({ code: 'precondition_failed', status: 412, details: { version: v1 } });
    expect(store.get('k')?.value).toBe('one');
    const v2 = store.update('k', 'two', { ifVersion: v1 });
    expect(v2).toBe(v1 + 1);
    expect(failure(() => store.remove('k', { ifVersion: v1 })).details).toEqual({ version: v2 });
    expect(store.remove('k', { ifVersion: v2 })).toBeGreaterThan(v2);
    expect(failure(() => store.update('k', 'x', { ifVersion: v2 })).details).toEqual({ version: null });
  });

  it('creates only when absent (ifAbsent, ifVersion null) and needs the key for ifExists', () => {
    const { store, clock } = setup();
    expect(store.set('k', 'v', { ifAbsent: true })).toBe(1);
    expect(failure(() => store.set('k', 'w', { ifAbsent: true })).details).toEqual({ version: 1 });
    expect(failure(() => store.set('k', 'w', { ifVersion: null })).code).toBe('precondition_failed');
    expect(failure(() => store.set('n', 'w', { ifExists: true })).details).toEqual({ version: null });
    expect(store.set('k', 'w', { ifExists: true })).toBe(2);
    // An expired key is missing.
    store.set('t', 'v', { ttlMs: 5 });
    clock.advance(5);
    expect(store.set('t', 'again', { ifAbsent: true })).toBeGreaterThan(2);
  });

  it('checks push, pop and TTL changes too', () => {
    const { store } = setup();
    const { version } = store.pushSummary('l', ['a', 'b'], { ifVersion: null });
    expect(failure(() => store.pushSummary('l', 'c', { ifVersion: null })).code).toBe('precondition_failed');
    expect(failure(() => store.popSummary('l', { ifVersion: version - 1 })).code).toBe('precondition_failed');
    expect(store.get('l')?.value).toEqual(['a', 'b']);
    const popped = store.popSummary('l', { ifVersion: version });
    expect(popped.popped).toBe('b');
    expect(failure(() => store.setTtl('l', 1000, { ifVersion: version })).code).toBe('precondition_failed');
    expect(store.setTtl('l', 1000, { ifVersion: popped.version })?.version).toBe(popped.version + 1);
  });

  it('journals nothing for a write whose precondition fails', () => {
    const journaled: Mutation[] = [];
    const { store } = setup({ journal: (mutation) => journaled.push(mutation) });
    store.set('k', 'v');
    expect(() => store.set('k', 'w', { ifAbsent: true })).toThrow(MemkvError);
    expect(journaled.map((m) => [m.type, m.revision])).toEqual([['set', 1]]);
  });
});

describe('transactions', () => {
  it('applies every op under one revision when the checks hold', () => {
    const { store } = setup();
    store.set('a', '1');
    store.pushSummary('l', ['x', 'y']);
    const result = store.txn(
      [
        { key: 'a', version: 1 },
        { key: 'nope', version: null },
      ],
      [
        { op: 'set', key: 'a', value: '2' },
        { op: 'push', key: 'l', values: 'z' },
        { op: 'pop', key: 'l' },
        { op: 'set', key: 'b', value: ['new'], ttlMs: 60_000 },
        { op: 'ttl', key: 'a', ttlMs: null },
        { op: 'update', key: 'b', value: 'str' },
        { op: 'remove', key: 'b' },
      ],
    );
    expect(result.version).toBe(3);
    expect(result.results).toEqual([
      { op: 'set', key: 'a', version: 3 },
      { op: 'push', key: 'l', version: 3, length: 3 },
      { op: 'pop', key: 'l', version: 3, length: 2, popped: 'z' },
      { op: 'set', key: 'b', version: 3 },
      { op: 'ttl', key: 'a', version: 3 },
      { op: 'update', key: 'b', version: 3 },
      { op: 'remove', key: 'b', version: null },
    ]);
    expect(store.revision).toBe(3);
    expect(store.get('a')).toMatchObject({ value: '2', version: 3 });
    expect(store.get('l')).toMatchObject({ value: ['x', 'y'], version: 3 });
    expect(store.set('c', 'next')).toBe(4);
  });

  it('applies nothing when a check fails, and names every failed check with its version', () => {
    const { store } = setup();
    store.set('a', '1');
    store.set('b', '1');
    const error = failure(() =>
      store.txn(
        [
          { key: 'a', version: 1 },
          { key: 'b', version: null },
          { key: 'c', version: 7 },
        ],
        [{ op: 'set', key: 'a', value: 'changed' }],
      ),
    );
    expect(error).toMatchObject({ code: 'txn_conflict', status: 409 });
    expect(error.details).toEqual({ conflicts: [{ key: 'b', version: 2 }, { key: 'c', version: null }] });
    expect(store.get('a')?.value).toBe('1');
    expect(store.revision).toBe(2);
  });

  it('undoes the ops before one that fails, and names it', () => {
    const changes: Change[] = [];
    const journaled: Mutation[] = [];
    const { store } = setup({ journal: (mutation) => journaled.push(mutation) });
    store.setChangeListener((change) => changes.push(change));
    store.set('s', 'string');
    store.pushSummary('l', ['a']);
    const error = failure(() =>
      store.txn(
        [],
        [
          { op: 'set', key: 'n', value: 'new' },
          { op: 'pop', key: 'l' },
          { op: 'remove', key: 's' },
          { op: 'push', key: 'l', values: ['b'] },
          { op: 'pop', key: 'n' },
        ],
      ),
    );
    expect(error).toMatchObject({ code: 'wrong_type', details: { op: 4 } });
    expect(error.message).toMatch(/^op 4 \(pop "n"\)/);
    expect(store.get('n')).toBeUndefined();
    expect(store.get('s')).toMatchObject({ value: 'string', version: 1 });
    expect(store.get('l')).toMatchObject({ value: ['a'], version: 2 });
    expect(store.revision).toBe(2);
    expect(journaled.map((m) => m.type)).toEqual(['set', 'push']);
    expect(changes.map((c) => c.op)).toEqual(['set', 'push']);
  });

  it('journals one txn mutation with the prior state of each key, and reports its changes once applied', () => {
    const journaled: Array<[Mutation, KeyState | readonly KeyState[]]> = [];
    const changes: Change[] = [];
    const { store } = setup({ journal: (mutation, previous) => journaled.push([mutation, previous]) });
    store.set('a', '1');
    store.setChangeListener((change) => changes.push(change));
    store.txn([], [
      { op: 'set', key: 'a', value: '2' },
      { op: 'push', key: 'l', values: ['x', 'y'] },
      { op: 'remove', key: 'a' },
    ]);
    const [mutation, previous] = journaled[1]!;
    expect(mutation).toMatchObject({ type: 'txn', revision: 2, key: '' });
    expect((mutation as unknown as { mutations: Mutation[] }).mutations.map((m) => [m.type, m.key])).toEqual([
      ['set', 'a'],
      ['push', 'l'],
      ['remove', 'a'],
    ]);
    expect((previous as KeyState[]).map((state) => [state.key, state.version])).toEqual([
      ['a', 1],
      ['l', 0],
      ['a', 2],
    ]);
    expect(changes.map((c) => [c.revision, c.index, c.count, c.op, c.key])).toEqual([
      [2, 0, 3, 'set', 'a'],
      [2, 1, 3, 'push', 'l'],
      [2, 2, 3, 'remove', 'a'],
    ]);
    expect(changes[1]!.values).toEqual(['x', 'y']);
  });

  it('replays a journaled transaction to the same keys and versions', () => {
    const journaled: Mutation[] = [];
    const { store } = setup({ journal: (mutation) => journaled.push(structuredClone(mutation)) });
    store.set('a', '1');
    store.txn([{ key: 'a', version: 1 }], [
      { op: 'update', key: 'a', value: '2' },
      { op: 'push', key: 'l', values: ['x'] },
    ]);
    store.flush();
    store.set('after', 'v');
    const { store: replayed } = setup();
    for (const mutation of journaled) replayed.apply(mutation);
    expect([...replayed.entries()]).toEqual([...store.entries()]);
    expect(replayed.revision).toBe(store.revision);
    expect(replayed.get('after')?.version).toBe(4);
  });
});

describe('the change feed', () => {
  it('reports each change with its revision and the key after it', () => {
    const changes: Change[] = [];
    const { store, clock } = setup({ maxMemoryBytes: 400, evictionPolicy: 'allkeys-lru' });
    store.setChangeListener((change) => changes.push(change));
    store.set('a', 'v', { ttlMs: 5 });
    store.update('a', 'w');
    store.pushSummary('l', ['x']);
    store.popSummary('l');
    store.setTtl('l', null);
    store.remove('l');
    clock.advance(5);
    store.get('a');
    store.set('big1', 'x'.repeat(150));
    store.set('big2', 'y'.repeat(150));
    store.flush();
    expect(changes.map((c) => [c.revision, c.op, c.key])).toEqual([
      [1, 'set', 'a'],
      [2, 'update', 'a'],
      [3, 'push', 'l'],
      [4, 'pop', 'l'],
      [5, 'ttl', 'l'],
      [6, 'remove', 'l'],
      [7, 'expire', 'a'],
      [8, 'set', 'big1'],
      [9, 'evict', 'big1'],
      [10, 'set', 'big2'],
      [11, 'flush', ''],
    ]);
    expect(changes[1]!.entry).toMatchObject({ key: 'a', value: 'w', version: 2 });
    expect(changes[2]!.entry).toMatchObject({ key: 'l', length: 1, version: 3 });
    expect(changes[2]!.values).toEqual(['x']);
    expect(changes[3]!.popped).toBe('x');
    expect(changes[5]!.entry).toBeUndefined();
  });
});
