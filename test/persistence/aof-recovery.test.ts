import fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/engine/clock.js';
import { createStore, type Store } from '../../src/engine/store.js';
import { PersistenceError } from '../../src/errors.js';
import { AOF_HEADER_BYTES } from '../../src/persistence/aof-format.js';
import { AOF_FILE, openPersistence, type PersistenceOptions } from '../../src/persistence/persistence.js';
import { EVERY_MUTATION, T0, fixturePath, logBytes } from './fixtures.js';
import { captureLogger, tempDir } from './helpers.js';

const SETS = [1, 2, 3, 4].map((i) => ({ type: 'set' as const, revision: 0, key: `k${i}`, value: `v${i}`, expiresAtMs: 0, atMs: T0 + i }));

function storeAt(nowMs = T0 + 100): Store {
  return createStore({ clock: createManualClock(nowMs), cleanupIntervalMs: 0 });
}

async function open(dir: string, store = storeAt(), options: Partial<PersistenceOptions> = {}) {
  const { logger, records } = captureLogger();
  const persistence = await openPersistence(store, { dir, fsync: 'no', compactRatio: 0, logger, ...options });
  return { persistence, store, records };
}

/** Offset of record `index` (0-based) in logBytes(SETS). */
function recordOffset(index: number): number {
  return logBytes(SETS.slice(0, index)).length;
}

describe('recovery at start', () => {
  it('creates the directory and a log with a header when there is none', async () => {
    const dir = join(tempDir(), 'nested', 'db');
    const { persistence, store } = await open(dir);
    store.set('a', '1');
    await persistence.close();
    const { store: again, persistence: second } = await open(dir);
    expect(again.get('a')?.value).toBe('1');
    await second.close();
  });

  it('cuts off a torn last record with a warning giving the bytes dropped, and appends after the last whole one', async () => {
    const dir = tempDir();
    const whole = logBytes(SETS);
    const torn = Buffer.concat([logBytes(SETS.slice(0, 3)), whole.subarray(recordOffset(3), recordOffset(3) + 7)]);
    fs.writeFileSync(join(dir, AOF_FILE), torn);
    const { persistence, store, records } = await open(dir);
    expect([...store.entries()].map((e) => e.key).sort()).toEqual(['k1', 'k2', 'k3']);
    const warning = records.find((r) => r.level === 40);
    expect(warning?.msg).toMatch(/dropped 7 bytes at offset \d+/);
    expect(warning).toMatchObject({ droppedBytes: 7, offset: recordOffset(3) });
    expect(fs.statSync(join(dir, AOF_FILE)).size).toBe(recordOffset(3));
    store.set('after', 'crash');
    await persistence.close();
    const { store: again, persistence: second, records: secondLog } = await open(dir);
    expect(again.get('after')?.value).toBe('crash');
    expect(again.size).toBe(4);
    expect(secondLog.some((r) => r.level >= 40)).toBe(false);
    await second.close();
  });

  it('reads zero bytes after the last record (space written in advance, or allocated for a lost append) as unused', async () => {
    const dir = tempDir();
    fs.writeFileSync(join(dir, AOF_FILE), Buffer.concat([logBytes(SETS), Buffer.alloc(300_000)]));
    const { persistence, store, records } = await open(dir);
    expect(store.size).toBe(4);
    expect(records.some((r) => r.level >= 40)).toBe(false);
    expect(records.find((r) => /loaded 4 keys/.test(r.msg))).toMatchObject({ unusedBytes: 300_000 });
    expect(fs.statSync(join(dir, AOF_FILE)).size).toBe(logBytes(SETS).length); // appends continue after the last record
    await persistence.close();
  });

  it('cuts off a torn last record followed by zeros, counting only the record as dropped', async () => {
    const dir = tempDir();
    const whole = logBytes(SETS);
    // The record's first 25 bytes reached the disk; the rest of it and the space after are zeros.
    const reached = whole.subarray(recordOffset(3), recordOffset(3) + 25);
    const torn = Buffer.concat([whole.subarray(0, recordOffset(3)), reached, Buffer.alloc(whole.length - recordOffset(3) - 25 + 4096)]);
    fs.writeFileSync(join(dir, AOF_FILE), torn);
    const { persistence, store, records } = await open(dir);
    expect([...store.entries()].map((e) => e.key).sort()).toEqual(['k1', 'k2', 'k3']);
    // Dropped: the bytes of the record up to its last non-zero one; the zeros after are unused space.
    const nonZero = reached.length - [...reached].reverse().findIndex((byte) => byte !== 0);
    expect(records.find((r) => r.level === 40)).toMatchObject({ droppedBytes: nonZero, offset: recordOffset(3) });
    expect(nonZero).toBeGreaterThan(20);
    await persistence.close();
  });

  it('refuses zeros in the middle of the log, followed by records, as damage', async () => {
    const dir = tempDir();
    const whole = logBytes(SETS);
    const holed = Buffer.concat([whole.subarray(0, recordOffset(1)), Buffer.alloc(recordOffset(2) - recordOffset(1)), whole.subarray(recordOffset(2))]);
    fs.writeFileSync(join(dir, AOF_FILE), Buffer.concat([holed, Buffer.alloc(1000)]));
    await expect(open(dir)).rejects.toThrow(new RegExp(`damaged at byte offset ${recordOffset(1)}`));
  });

  it('treats a log torn inside its header as empty', async () => {
    const dir = tempDir();
    fs.writeFileSync(join(dir, AOF_FILE), logBytes([]).subarray(0, AOF_HEADER_BYTES - 3));
    const { persistence, store } = await open(dir);
    expect(store.size).toBe(0);
    store.set('a', 'b');
    await persistence.close();
    const { store: again, persistence: second } = await open(dir);
    expect(again.get('a')?.value).toBe('b');
    await second.close();
  });

  it('refuses to start on damage before the end, naming the file and the offset, and releases the lock', async () => {
    const dir = tempDir();
    const bytes = logBytes(SETS);
    bytes[recordOffset(1) + 9]! ^= 0xff; // inside the second record
    fs.writeFileSync(join(dir, AOF_FILE), bytes);
    const failure = await open(dir).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PersistenceError);
    const message = (failure as Error).message;
    expect(message).toContain(join(dir, AOF_FILE));
    expect(message).toContain(`byte offset ${recordOffset(1)} of ${bytes.length}`);
    expect(message).toContain('PERSISTENCE_LOAD_DAMAGED=true');
    expect(fs.readFileSync(join(dir, AOF_FILE)).equals(bytes)).toBe(true); // untouched
    expect(fs.existsSync(join(dir, 'memkv.lock'))).toBe(false);
  });

  it('with loadDamaged, loads up to the damage, keeps a copy of the damaged file and continues the log', async () => {
    const dir = tempDir();
    const bytes = logBytes(SETS);
    bytes[recordOffset(2) + 5]! ^= 0x01;
    fs.writeFileSync(join(dir, AOF_FILE), bytes);
    const { persistence, store, records } = await open(dir, storeAt(), { loadDamaged: true });
    expect([...store.entries()].map((e) => e.key).sort()).toEqual(['k1', 'k2']);
    expect(records.find((r) => r.level === 50)).toMatchObject({ offset: recordOffset(2), droppedBytes: bytes.length - recordOffset(2) });
    const copies = fs.readdirSync(dir).filter((name) => name.startsWith(`${AOF_FILE}.damaged-`));
    expect(copies).toHaveLength(1);
    expect(fs.readFileSync(join(dir, copies[0]!)).equals(bytes)).toBe(true);
    store.set('k5', 'v5');
    await persistence.close();
    const { store: again, persistence: second } = await open(dir);
    expect([...again.entries()].map((e) => e.key).sort()).toEqual(['k1', 'k2', 'k5']);
    await second.close();
  });

  it('refuses a file that is not a memkv log', async () => {
    const dir = tempDir();
    fs.writeFileSync(join(dir, AOF_FILE), '{"op":"set","key":"a"}\n');
    await expect(open(dir)).rejects.toThrow(/is not a memkv log/);
  });

  it('does not load keys whose absolute expiry passed while the server was down', async () => {
    const dir = tempDir();
    fs.writeFileSync(
      join(dir, AOF_FILE),
      logBytes([
        { type: 'set', revision: 0, key: 'stale', value: 'x', expiresAtMs: T0 + 1_000, atMs: T0 },
        { type: 'push', revision: 0, key: 'fresh', values: ['y'], expiresAtMs: T0 + 60_000, atMs: T0 },
        { type: 'set', revision: 0, key: 'forever', value: 'z', expiresAtMs: 0, atMs: T0 },
      ]),
    );
    const { persistence, store } = await open(dir, storeAt(T0 + 30_000));
    expect([...store.entries()].map((e) => e.key).sort()).toEqual(['forever', 'fresh']);
    expect(store.size).toBe(2);
    expect(store.ttl('fresh')).toBe(30_000);
    await persistence.close();
  });

  it('replays every kind of mutation to the exact state, times and versions included', async () => {
    const dir = tempDir();
    // Up to the transaction: the flush after it would leave nothing to compare.
    const mutations = EVERY_MUTATION.filter((m) => m.type !== 'flush');
    fs.writeFileSync(join(dir, AOF_FILE), logBytes(mutations));
    const { persistence, store } = await open(dir, storeAt(T0 + 5));
    const reference = storeAt(T0 + 5);
    for (const mutation of mutations) reference.apply(mutation);
    reference.expireDue();
    expect([...store.entries()]).toEqual([...reference.entries()]);
    expect(store.get('list')).toEqual({
      key: 'list',
      version: 6,
      kind: 'string_slice',
      value: ['x', 'y', 'z', 'p1'],
      expiresAtMs: T0 + 7_200_000,
      createdAtMs: T0 + 1,
      updatedAtMs: T0 + 5,
    });
    // The transaction's keys share its revision; the revision record raises the database's.
    expect(store.get('t1')).toMatchObject({ value: 'one', version: 13 });
    expect(store.get('t2')).toMatchObject({ value: [], version: 13 });
    expect(store.get('greeting')).toBeUndefined();
    expect(store.revision).toBe(20);
    await persistence.close();
  });

  it('rewrites a log of format 1 in format 2 at start, counting its revisions, and keeps appending after it', async () => {
    const dir = tempDir();
    fs.copyFileSync(fixturePath('every-mutation-v1.aof'), join(dir, AOF_FILE));
    const first = await open(dir, storeAt(T0 + 5));
    const before = [...first.store.entries()];
    expect(first.store.revision).toBe(12);
    expect(first.store.get('list')?.version).toBe(6);
    expect(fs.readFileSync(join(dir, AOF_FILE)).readUInt32LE(8)).toBe(2);
    first.store.set('after', 'v');
    await first.persistence.close();
    const second = await open(dir, storeAt(T0 + 5));
    expect([...second.store.entries()].filter((e) => e.key !== 'after')).toEqual(before);
    expect(second.store.get('after')).toMatchObject({ value: 'v', version: 13 });
    expect(second.store.revision).toBe(13);
    await second.persistence.close();
  });
});

describe('replay and active expiry', () => {
  it('keeps the active-expiry timer from removing a key that a later record extends', async () => {
    const dir = tempDir();
    const filler = Array.from({ length: 40_000 }, (_, i) => ({ type: 'set' as const, revision: 0, key: `f${i}`, value: 'x'.repeat(20), expiresAtMs: 0, atMs: T0 }));
    fs.writeFileSync(
      join(dir, AOF_FILE),
      logBytes([
        { type: 'set', revision: 0, key: 'extended', value: 'v', expiresAtMs: T0 + 1_000, atMs: T0 },
        ...filler, // more than one read chunk: replay yields to the event loop, and timers run
        { type: 'ttl', revision: 0, key: 'extended', expiresAtMs: T0 + 3_600_000, atMs: T0 + 500 },
      ]),
    );
    const store = createStore({ clock: createManualClock(T0 + 10_000), cleanupIntervalMs: 1 });
    const { persistence } = await open(dir, store);
    expect(store.get('extended')?.value).toBe('v');
    expect(store.size).toBe(40_001);
    await persistence.close();
    store.close();
  });
});
