import fs from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../../src/engine/clock.js';
import type { KeyState } from '../../src/engine/mutation.js';
import { createStore, type Store } from '../../src/engine/store.js';
import type { FsyncPolicy } from '../../src/fsync-policy.js';
import { openAofWriter } from '../../src/persistence/aof-writer.js';
import { AOF_FILE, openPersistence, type Persistence } from '../../src/persistence/persistence.js';
import { T0, logBytes } from './fixtures.js';
import { refuseWrites, tempDir } from './helpers.js';

const opened: Array<{ store: Store; persistence: Persistence }> = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const { store, persistence } of opened.splice(0)) {
    await persistence.close();
    store.close();
  }
});

async function open(dir: string, fsync: FsyncPolicy = 'everysec') {
  const store = createStore({ clock: createManualClock(T0), cleanupIntervalMs: 0 });
  const persistence = await openPersistence(store, { dir, fsync, compactRatio: 0 });
  opened.push({ store, persistence });
  return { store, persistence, path: join(dir, AOF_FILE) };
}

/** The state a fresh store gets from replaying (a copy of) the log in `dir`. */
async function replayed(dir: string) {
  const copy = tempDir();
  fs.copyFileSync(join(dir, AOF_FILE), join(copy, AOF_FILE));
  const store = createStore({ clock: createManualClock(T0), cleanupIntervalMs: 0 });
  const persistence = await openPersistence(store, { dir: copy, fsync: 'no', compactRatio: 0 });
  await persistence.close();
  return sorted(store);
}

function sorted(store: Store) {
  return [...store.entries()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

describe('log writer', () => {
  for (const fsync of ['everysec', 'always'] as const) {
    it(`(${fsync}) writes the records of one turn with one write(), and durable() settles after it`, async () => {
      const dir = tempDir();
      const { store, persistence, path } = await open(dir, fsync);
      const sizeBefore = fs.statSync(path).size;
      const spy = vi.spyOn(fs, 'writeSync');
      for (let i = 0; i < 100; i++) store.set(`k${i}`, `v${i}`);
      expect(fs.statSync(path).size).toBe(sizeBefore); // nothing written in the middle of the turn
      const written = persistence.durable();
      expect(written).toBeInstanceOf(Promise);
      await written;
      // One write of records (under always, zeros are also written ahead of them).
      const records = spy.mock.calls.filter((call) => {
        const [, buffer, offset, length] = call as unknown as [number, Buffer, number, number];
        return buffer.subarray(offset, offset + length).some((byte) => byte !== 0);
      });
      expect(records.length).toBe(1);
      expect(fs.statSync(path).size).toBeGreaterThan(sizeBefore + 100 * 8);
      expect(persistence.durable()).toBeUndefined(); // nothing left to wait for
      expect(await replayed(dir)).toEqual(sorted(store));
    });
  }

  it('undoes every write of a turn the disk refused, answers them persistence_failed, and recovers', async () => {
    const dir = tempDir();
    const { store, persistence, path } = await open(dir);
    store.set('a', 'before');
    store.push('list', ['1', '2', '3']);
    store.set('ttl', 'x', { ttlMs: 60_000 });
    await persistence.durable();
    const before = sorted(store);
    const stats = { size: store.size, volatile: store.volatileSize, bytes: store.dataBytes };
    const sizeBefore = fs.statSync(path).size;

    let failing = true;
    refuseWrites(path, () => failing);
    store.set('a', 'after');
    store.pop('list');
    store.push('list', ['4', '5']);
    store.remove('ttl');
    store.set('new', ['n']);
    store.persist('a');
    await expect(persistence.durable()).rejects.toMatchObject({ code: 'persistence_failed', message: expect.stringMatching(/ENOSPC/) });
    expect(sorted(store)).toEqual(before);
    expect({ size: store.size, volatile: store.volatileSize, bytes: store.dataBytes }).toEqual(stats);
    expect(fs.statSync(path).size).toBe(sizeBefore); // the partial write was cut off
    expect(persistence.status()).toMatchObject({ failing: true, lastError: { message: expect.stringMatching(/ENOSPC/) } });

    // A flush the disk refuses puts every key back.
    store.flush();
    expect(store.size).toBe(0);
    await expect(persistence.durable()).rejects.toMatchObject({ code: 'persistence_failed' });
    expect(sorted(store)).toEqual(before);

    failing = false;
    store.set('a', 'later');
    await persistence.durable();
    expect(persistence.status().failing).toBe(false);
    expect(await replayed(dir)).toEqual(sorted(store));
  });

  it('hands restore the prior states journaled with the records of a refused turn, in journal order', async () => {
    const path = join(tempDir(), AOF_FILE);
    fs.writeFileSync(path, logBytes([]));
    const restored: KeyState[][] = [];
    const writer = openAofWriter({ path, fsync: 'no', restore: (states) => void restored.push([...states]) });
    const store = createStore({ clock: createManualClock(T0), cleanupIntervalMs: 0, journal: writer.append });
    store.set('a', 'one');
    writer.writePending();
    expect(restored).toEqual([]);

    refuseWrites(path, () => true);
    store.set('a', 'two');
    store.push('list', 'x');
    store.remove('a');
    writer.writePending();
    expect(restored).toMatchObject([
      [
        { key: 'a', value: 'one', expiresAtMs: 0, createdAtMs: T0 },
        { key: 'list', value: undefined },
        { key: 'a', value: 'two' },
      ],
    ]);
    vi.restoreAllMocks();
    await writer.close();
  });

  it('(always) writes zeros ahead of the records, which replay after a crash reads as unused, and a clean close cuts them off', async () => {
    const dir = tempDir();
    const { store, persistence, path } = await open(dir, 'always');
    for (let i = 0; i < 50; i++) store.set(`k${i}`, `v${i}`);
    await persistence.durable();
    const logical = persistence.status().sizeBytes;
    expect(fs.statSync(path).size).toBeGreaterThanOrEqual(logical + 1024 * 1024);
    expect(await replayed(dir)).toEqual(sorted(store)); // the file as a crash would leave it
    await persistence.close();
    expect(fs.statSync(path).size).toBe(logical);
  });

  it('writes what is buffered before it closes', async () => {
    const dir = tempDir();
    const { store, persistence } = await open(dir);
    store.set('last', 'words');
    await persistence.close();
    expect((await replayed(dir)).map((entry) => entry.key)).toEqual(['last']);
  });

  it('writes a turn that no caller waits for at its end', async () => {
    const dir = tempDir();
    const { store, path } = await open(dir, 'no');
    const sizeBefore = fs.statSync(path).size;
    store.set('quiet', 'write');
    await nextTurn();
    expect(fs.statSync(path).size).toBeGreaterThan(sizeBefore);
  });
});
