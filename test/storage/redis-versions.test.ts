/**
 * Versions, preconditions, transactions and the change feed of the Redis backend, on a real
 * redis-server and a real 3-master cluster, through RedisStorage itself (the HTTP side runs in
 * the contract suite and test/e2e/redis-fronts.test.ts).
 */
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemkvError } from '../../src/errors.js';
import { keySlot, slotTag, createRedisStorage, encodeKey, type RedisStorage } from '../../src/storage/redis.js';
import type { Change } from '../../src/engine/change.js';
import { RedisWatch } from '../../src/storage/redis-watch.js';
import { freePort, startRedis, useRedisCluster, useRedisServer } from '../helpers/redis.js';

/** The MemkvError `call` throws or rejects with. */
async function rejection(call: Promise<unknown> | (() => Promise<unknown>)): Promise<MemkvError> {
  try {
    await (typeof call === 'function' ? call() : call);
  } catch (error) {
    if (error instanceof MemkvError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function connected(storage: RedisStorage): Promise<RedisStorage> {
  const deadline = Date.now() + 10_000;
  while (!storage.ready) {
    if (Date.now() > deadline) throw new Error('no connection to Redis');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return storage;
}

describe('hash slots', () => {
  it('keySlot agrees with Redis Cluster hashing, and each slot tag lands in its slot', () => {
    for (const text of ['a', 'user:1', 'ключ', '%7B', 'x'.repeat(300)]) expect(keySlot(text)).toBe(calculateSlot(text));
    for (const slot of [0, 1, 866, 16383, 12345]) expect(calculateSlot(`memkv:revision:{${slotTag(slot)}}`)).toBe(slot);
  });
});

describe('versions and preconditions on a standalone Redis', () => {
  const redis = useRedisServer();
  let storage: RedisStorage;
  let other: RedisStorage;
  let direct: Redis;

  beforeAll(async () => {
    storage = await connected(createRedisStorage({ url: redis.current.url }));
    other = await connected(createRedisStorage({ url: redis.current.url }));
    direct = new Redis(redis.current.url);
  });
  afterAll(async () => {
    await storage?.close();
    await other?.close();
    direct?.disconnect();
  });

  it('every write takes the next revision; rows carry the version of their last write', async () => {
    const start = await storage.revision();
    const v1 = await storage.set('a', 'x');
    expect(v1).toBe(start + 1);
    expect(await storage.get('a')).toMatchObject({ value: 'x', version: v1 });
    const v2 = await storage.update('a', ['l']);
    expect(v2).toBe(v1 + 1);
    const pushed = await storage.pushSummary('a', ['m', 'n']);
    expect(pushed).toMatchObject({ length: 3, version: v2 + 1 });
    const popped = await storage.pop('a');
    expect(popped).toMatchObject({ popped: 'n', value: ['l', 'm'], version: v2 + 2 });
    expect(await storage.range('a', 0, -1)).toMatchObject({ value: ['l', 'm'], version: v2 + 2 });
    const ttl = await storage.setTtl('a', 60_000);
    expect(ttl).toMatchObject({ version: v2 + 3 });
    expect(await storage.expiry('a')).toMatchObject({ version: v2 + 3 });
    expect(await storage.remove('a')).toBe(v2 + 4);
    // Removing a missing key writes nothing: no revision.
    expect(await storage.remove('a')).toBe(0);
    expect(await storage.revision()).toBe(v2 + 4);
    expect(await direct.hget('memkv:{b}', 'version')).toBeNull();
    const vb = await other.set('b', 'y');
    expect(vb).toBe(v2 + 5);
    expect(await direct.hget('memkv:{b}', 'version')).toBe(String(vb));
  });

  it('If-Match: the write happens only at that version; otherwise 412 with the current version', async () => {
    const v = await storage.set('p', 'one');
    const failed = await rejection(storage.set('p', 'two', { ifVersion: v - 1 }));
    expect(failed.code).toBe('precondition_failed');
    expect(failed.status).toBe(412);
    expect(failed.details).toEqual({ version: v });
    expect((await storage.get('p'))?.value).toBe('one');
    const v2 = await storage.set('p', 'two', { ifVersion: v });
    expect(v2).toBeGreaterThan(v);
    // Each writing command checks it.
    for (const write of [
      () => storage.update('p', 'z', { ifVersion: v }),
      () => storage.remove('p', { ifVersion: v }),
      () => storage.push('p', 'z', { ifVersion: v }),
      () => storage.pop('p', { ifVersion: v }),
      () => storage.setTtl('p', 1000, { ifVersion: v }),
    ]) {
      expect(await rejection(write())).toMatchObject({ code: 'precondition_failed', details: { version: v2 } });
    }
    expect(await storage.get('p')).toMatchObject({ value: 'two', version: v2 });
    // A missing key: its version is null.
    expect(await rejection(storage.update('nope', 'z', { ifVersion: 3 }))).toMatchObject({ code: 'precondition_failed', details: { version: null } });
    expect(await rejection(storage.remove('nope', { ifVersion: 3 }))).toMatchObject({ details: { version: null } });
  });

  it('If-None-Match: * (ifAbsent, or ifVersion null) creates only', async () => {
    const v = await storage.set('fresh', 'a', { ifAbsent: true });
    expect(await rejection(storage.set('fresh', 'b', { ifAbsent: true }))).toMatchObject({ code: 'precondition_failed', details: { version: v } });
    expect(await rejection(storage.push('fresh', 'b', { ifVersion: null }))).toMatchObject({ details: { version: v } });
    expect((await storage.get('fresh'))?.value).toBe('a');
    expect(await storage.pushSummary('fresh-list', 'x', { ifVersion: null })).toMatchObject({ length: 1 });
    expect(await rejection(() => storage.set('x', 'v', { ifVersion: -1 }))).toMatchObject({ code: 'invalid_request' });
  });

  it('two clients racing read-modify-write with If-Match on one key: every increment counted exactly once', async () => {
    await storage.set('counter', '0');
    const rounds = 300;
    let retries = 0;
    const client = async (backend: RedisStorage): Promise<void> => {
      for (let done = 0; done < rounds; ) {
        const row = (await backend.get('counter'))!;
        try {
          await backend.set('counter', String(Number(row.value) + 1), { ifVersion: row.version });
          done++;
        } catch (error) {
          if (!(error instanceof MemkvError) || error.code !== 'precondition_failed') throw error;
          retries++;
        }
      }
    };
    await Promise.all([client(storage), client(other)]);
    expect((await storage.get('counter'))?.value).toBe(String(2 * rounds));
    // The race was real: some writes lost it and were done again.
    expect(retries).toBeGreaterThan(0);
  }, 60_000);

  it('a revision counter lost from Redis does not make versions go back', async () => {
    const v = await storage.set('kept', 'v');
    await direct.del('memkv:revision');
    const next = await storage.set('kept', 'w');
    expect(next).toBeGreaterThan(v);
    expect(await storage.set('other-key', 'w')).toBeGreaterThan(next);
  });
});

describe('transactions on a standalone Redis', () => {
  const redis = useRedisServer();
  let storage: RedisStorage;
  let other: RedisStorage;

  beforeAll(async () => {
    storage = await connected(createRedisStorage({ url: redis.current.url }));
    other = await connected(createRedisStorage({ url: redis.current.url }));
  });
  afterAll(async () => {
    await storage?.close();
    await other?.close();
  });

  it('applies every op with one revision when every check holds', async () => {
    const va = await storage.set('a', 'x');
    await storage.pushSummary('l', ['1', '2']);
    const result = await storage.txn(
      [
        { key: 'a', version: va },
        { key: 'b', version: null },
      ],
      [
        { op: 'set', key: 'a', value: 'y', ttlMs: 60_000 },
        { op: 'push', key: 'l', values: ['3'] },
        { op: 'pop', key: 'l' },
        { op: 'pop', key: 'l' },
        { op: 'set', key: 'b', value: ['p'] },
        { op: 'update', key: 'b', value: 'q' },
        { op: 'ttl', key: 'b', ttlMs: null },
        { op: 'set', key: 'gone', value: 'soon' },
        { op: 'remove', key: 'gone' },
      ],
    );
    const v = result.version;
    expect(v).toBe(va + 2);
    expect(result.results).toEqual([
      { op: 'set', key: 'a', version: v },
      { op: 'push', key: 'l', version: v, length: 3 },
      { op: 'pop', key: 'l', version: v, length: 2, popped: '3' },
      { op: 'pop', key: 'l', version: v, length: 1, popped: '2' },
      { op: 'set', key: 'b', version: v },
      { op: 'update', key: 'b', version: v },
      { op: 'ttl', key: 'b', version: v },
      { op: 'set', key: 'gone', version: v },
      { op: 'remove', key: 'gone', version: null },
    ]);
    expect(await storage.get('a')).toMatchObject({ value: 'y', version: v, expiresAtMs: expect.any(Number) });
    expect(await storage.get('l')).toMatchObject({ value: ['1'], version: v });
    expect(await storage.get('b')).toMatchObject({ value: 'q', version: v, expiresAtMs: null });
    expect(await storage.get('gone')).toBeUndefined();
    expect(await storage.revision()).toBe(v);
  });

  it('a failed check applies nothing: 409 txn_conflict names each key that failed, with its version', async () => {
    const va = await storage.set('c1', 'x');
    const before = await storage.revision();
    const failed = await rejection(
      storage.txn(
        [
          { key: 'c1', version: va + 100 },
          { key: 'c1', version: va },
          { key: 'c2', version: 5 },
        ],
        [{ op: 'set', key: 'c1', value: 'changed' }],
      ),
    );
    expect(failed.code).toBe('txn_conflict');
    expect(failed.status).toBe(409);
    expect(failed.details).toEqual({ conflicts: [{ key: 'c1', version: va }, { key: 'c2', version: null }] });
    expect((await storage.get('c1'))?.value).toBe('x');
    expect(await storage.revision()).toBe(before);
  });

  it('an op that fails applies nothing, not even the ops before it', async () => {
    await storage.set('s', 'string');
    await storage.set('e', ['only']);
    const before = await storage.revision();
    const cases: [Parameters<RedisStorage['txn']>[1], string, number][] = [
      [[{ op: 'set', key: 'n1', value: 'v' }, { op: 'push', key: 's', values: ['x'] }], 'wrong_type', 1],
      [[{ op: 'set', key: 'n1', value: 'v' }, { op: 'pop', key: 'e' }, { op: 'pop', key: 'e' }], 'list_empty', 2],
      [[{ op: 'remove', key: 'e' }, { op: 'update', key: 'e', value: 'v' }], 'item_not_found', 1],
      [[{ op: 'set', key: 'n1', value: 'v' }, { op: 'ttl', key: 'missing', ttlMs: 1000 }], 'item_not_found', 1],
      [[{ op: 'set', key: 'n1', value: 'v' }, { op: 'remove', key: 'missing' }], 'item_not_found', 1],
      [[{ op: 'set', key: 'n1', value: 'v' }, { op: 'push', key: 'n2', values: [] }], 'invalid_request', 1],
    ];
    for (const [ops, code, index] of cases) {
      const failed = await rejection(() => storage.txn([], ops));
      expect(failed.code).toBe(code);
      expect(failed.details).toEqual({ op: index });
    }
    expect(await storage.get('n1')).toBeUndefined();
    expect(await storage.get('e')).toMatchObject({ value: ['only'] });
    expect(await storage.revision()).toBe(before);
  });

  it('all or nothing under concurrency: transfers between two keys from two connections keep the sum', async () => {
    await storage.set('acct:a', '1000');
    await storage.set('acct:b', '0');
    let conflicts = 0;
    const transfer = async (backend: RedisStorage, times: number): Promise<void> => {
      for (let done = 0; done < times; ) {
        const [a, b] = await Promise.all([backend.get('acct:a'), backend.get('acct:b')]);
        try {
          await backend.txn(
            [
              { key: 'acct:a', version: a!.version },
              { key: 'acct:b', version: b!.version },
            ],
            [
              { op: 'set', key: 'acct:a', value: String(Number(a!.value) - 1) },
              { op: 'set', key: 'acct:b', value: String(Number(b!.value) + 1) },
            ],
          );
          done++;
        } catch (error) {
          if (!(error instanceof MemkvError) || error.code !== 'txn_conflict') throw error;
          conflicts++;
        }
      }
    };
    await Promise.all([transfer(storage, 150), transfer(other, 150)]);
    const [a, b] = await Promise.all([storage.get('acct:a'), storage.get('acct:b')]);
    expect([a?.value, b?.value]).toEqual(['700', '300']);
    expect(a?.version).toBe(b?.version);
    expect(conflicts).toBeGreaterThan(0);
  }, 60_000);
});

describe('the change feed of a standalone Redis', () => {
  const redis = useRedisServer();
  let storage: RedisStorage;
  let other: RedisStorage;

  beforeAll(async () => {
    storage = await connected(createRedisStorage({ url: redis.current.url, watchHistory: 50 }));
    other = await connected(createRedisStorage({ url: redis.current.url, watchHistory: 50 }));
  });
  afterAll(async () => {
    await storage?.close();
    await other?.close();
  });

  it('every front sees every change, with its row at that revision, in the same order', async () => {
    const seen: Change[][] = [[], []];
    const feeds = [storage.changeFeed(), other.changeFeed()];
    feeds.forEach((feed, i) => feed.onChange((change) => seen[i]!.push(change)));
    await Promise.all(feeds.map((feed) => feed.start()));
    const start = await storage.revision();
    await storage.set('w{1}', 'a');
    await other.pushSummary('w{1}', ['x', 'y']).catch(() => undefined); // wrong type: no change
    await other.set('wl', ['x']);
    await storage.pushSummary('wl', ['y', 'z']);
    await other.popSummary('wl');
    await storage.setTtl('wl', 60_000);
    await storage.txn([], [
      { op: 'update', key: 'w{1}', value: 'b' },
      { op: 'remove', key: 'wl' },
    ]);
    await storage.remove('w{1}');
    await storage.flush();
    await waitFor(() => seen.every((changes) => changes.length === 9), 'nine changes on both fronts');
    expect(seen[1]).toEqual(seen[0]);
    const changes = seen[0]!;
    expect(changes.map((c) => [c.revision - start, c.index, c.count, c.op, c.key])).toEqual([
      [1, 0, 1, 'set', 'w{1}'],
      [2, 0, 1, 'set', 'wl'],
      [3, 0, 1, 'push', 'wl'],
      [4, 0, 1, 'pop', 'wl'],
      [5, 0, 1, 'ttl', 'wl'],
      [6, 0, 2, 'update', 'w{1}'],
      [6, 1, 2, 'remove', 'wl'],
      [7, 0, 1, 'remove', 'w{1}'],
      [8, 0, 1, 'flush', ''],
    ]);
    expect(changes[0]!.entry).toMatchObject({ key: 'w{1}', kind: 'string', value: 'a', version: start + 1, expiresAtMs: null });
    expect(changes[1]!.entry).toMatchObject({ kind: 'string_slice', value: ['x'], version: start + 2 });
    expect(changes[2]).toMatchObject({ entry: { kind: 'string_slice', length: 3, version: start + 3 }, values: ['y', 'z'] });
    expect(changes[3]).toMatchObject({ entry: { length: 2 }, popped: 'z' });
    expect(changes[4]!.entry).toMatchObject({ value: ['x', 'y'], expiresAtMs: expect.any(Number) });
    expect(changes[6]!.entry).toBeUndefined();

    // Read back from the stream: the same changes, after any position it still holds.
    expect(await feeds[0]!.history({ revision: start }, 100)).toEqual(changes);
    expect(await feeds[0]!.history({ revision: start + 6, index: 0 }, 100)).toEqual(changes.slice(6));
    expect(await feeds[0]!.history({ revision: start + 8 }, 100)).toEqual([]);

    // A front started later gets the stream's last changes (whole revisions) to fill its history.
    const late = createRedisStorage({ url: redis.current.url, watchHistory: 50 });
    try {
      const { floor, backlog } = await (await connected(late)).changeFeed().start(3);
      // The last 3 changes begin inside the transaction of revision start + 6: from start + 7 on.
      expect(floor).toEqual({ revision: start + 6, index: Infinity });
      expect(backlog).toEqual(changes.slice(7));
      expect(late.changeFeed().position).toEqual({ revision: start + 8, index: Infinity });
      // A write on another front: once caught up, this feed has handed out its revision.
      const later: Change[] = [];
      late.changeFeed().onChange((change) => later.push(change));
      const v = await storage.set('after', 'v');
      await late.changeFeed().caughtUp();
      expect(later.map((change) => change.revision)).toEqual([v]);
    } finally {
      await late.close();
    }
  });

  it('a feed reports changes it cannot have seen: a write by a front without the stream', async () => {
    const errors: Error[] = [];
    const watched = createRedisStorage({ url: redis.current.url, watchHistory: 50 });
    const blind = createRedisStorage({ url: redis.current.url, watchHistory: 0 });
    try {
      const feed = (await connected(watched)).changeFeed((error) => errors.push(error));
      const seen: Change[] = [];
      feed.onChange((change) => seen.push(change));
      await feed.start();
      await (await connected(blind)).set('unseen', 'v');
      const v = await watched.set('seen', 'v');
      await feed.caughtUp();
      expect(seen.map((change) => change.revision)).toEqual([v]);
      expect(errors.map((error) => error.message)).toEqual([expect.stringContaining(`to ${v}.0`)]);

      // A hub fed by such a feed is replaced by one that starts after the gap; the old one is closed.
      const hubs: { startRevision: number; changes: number[]; closed: boolean }[] = [];
      const other = createRedisStorage({ url: redis.current.url, watchHistory: 50 });
      try {
        const watch = new RedisWatch((await connected(other)).changeFeed(), 0, ({ startRevision }) => {
          const hub = { startRevision, changes: [] as number[], closed: false, publish: (change: Change) => void hub.changes.push(change.revision), close: () => void (hub.closed = true) };
          hubs.push(hub);
          return hub;
        });
        await watch.started;
        const before = await watched.set('seen', 'w');
        const unseen = await blind.set('unseen', 'w');
        const after = await watched.set('seen', 'x');
        await watch.caughtUp();
        expect(hubs.map(({ startRevision, changes, closed }) => ({ startRevision, changes, closed }))).toEqual([
          { startRevision: before - 1, changes: [before], closed: true },
          { startRevision: unseen, changes: [after], closed: false },
        ]);
      } finally {
        await other.close();
      }
    } finally {
      await watched.close();
      await blind.close();
    }
  });

  it('a front started before Redis gets its hub once Redis is up, with the history the stream holds', async () => {
    const port = await freePort();
    const front = createRedisStorage({ url: `redis://127.0.0.1:${port}`, watchHistory: 50 });
    const published: Change[] = [];
    const watch = new RedisWatch(front.changeFeed(), 50, (start) => ({ start, publish: (change: Change) => published.push(change), close: () => {} }));
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(watch.hub).toBeUndefined();
      const late = await startRedis({ port });
      try {
        const writer = await connected(createRedisStorage({ url: late.url, watchHistory: 50 }));
        const v1 = await writer.set('early', 'v');
        const hub = await watch.started;
        expect(watch.hub).toBe(hub);
        // The change made before the hub existed is in its history, and its start is before it.
        expect(hub.start.startRevision).toBeLessThan(v1);
        const v2 = await writer.set('later', 'v');
        await watch.caughtUp();
        expect(published.map((change) => [change.revision, change.key])).toEqual([
          [v1, 'early'],
          [v2, 'later'],
        ]);
        expect(hub.start.revision()).toBe(v2);
        await writer.close();
      } finally {
        await front.close();
        await late.stop();
      }
    } finally {
      await front.close();
    }
  }, 20_000);

  it('the stream keeps about WATCH_HISTORY changes: older positions are reported as gone', async () => {
    const feed = storage.changeFeed();
    const start = await storage.revision();
    for (let i = 0; i < 300; i++) await storage.set(`trim${i % 3}`, String(i));
    expect(await feed.history({ revision: start }, 10)).toBeUndefined();
    const recent = await feed.history({ revision: start + 295 }, 10);
    expect(recent?.map((change) => change.revision)).toEqual([start + 296, start + 297, start + 298, start + 299, start + 300]);
  });
});

describe('versions and transactions on a Redis Cluster', () => {
  const cluster = useRedisCluster();
  let storage: RedisStorage;

  beforeAll(async () => {
    storage = await connected(createRedisStorage({ clusterNodes: cluster.current.nodeList.split(',') }));
  });
  afterAll(async () => {
    await storage?.close();
  });

  it("versions increase per key, from its slot's counter and the clock, also across a removal", async () => {
    const keys = ['ca', 'cb', 'cc', 'cd'];
    const startedUs = Date.now() * 1000 - 1_000_000;
    // Keys on different masters.
    expect(new Set(keys.map((key) => cluster.current.masterOf(keySlot(encodeKey(key))).port)).size).toBeGreaterThan(1);
    for (const key of keys) {
      const v1 = await storage.set(key, 'x');
      const v2 = await storage.update(key, 'y');
      expect(v2).toBeGreaterThan(v1);
      const removedAt = await storage.remove(key);
      expect(removedAt).toBeGreaterThan(v2);
      const v3 = await storage.set(key, 'z');
      expect(v3).toBeGreaterThan(removedAt);
      expect(await rejection(storage.set(key, 'w', { ifVersion: v1 }))).toMatchObject({ code: 'precondition_failed', details: { version: v3 } });
      // At least the master's clock in microseconds: later than any write before it, whichever the slot.
      expect(v3).toBeGreaterThanOrEqual(startedUs);
    }
  });

  it('a transaction on one key applies; on keys of several slots it is refused, saying why', async () => {
    const v = await storage.set('t1', ['a']);
    const result = await storage.txn([{ key: 't1', version: v }], [
      { op: 'push', key: 't1', values: ['b'] },
      { op: 'pop', key: 't1' },
    ]);
    expect(result.results).toEqual([
      { op: 'push', key: 't1', version: result.version, length: 2 },
      { op: 'pop', key: 't1', version: result.version, length: 1, popped: 'b' },
    ]);
    expect(await rejection(storage.txn([{ key: 't1', version: result.version - 1 }], []))).toMatchObject({ code: 'txn_conflict' });
    const refused = await rejection(() => storage.txn([], [{ op: 'set', key: 't1', value: 'x' }, { op: 'set', key: 't2', value: 'y' }]));
    expect(refused.code).toBe('invalid_request');
    expect(refused.message).toContain('one hash slot');
  });

  it('watch is not available: 501 watch_unavailable', async () => {
    const error = await rejection(async () => storage.changeFeed());
    expect(error.code).toBe('watch_unavailable');
    expect(error.status).toBe(501);
  });
});
