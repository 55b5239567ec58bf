/**
 * Kept answers of idempotent requests in the log: journaled in the same write as their change,
 * replayed at start, rewritten by compaction (only the live ones), dropped with their change when
 * the disk refuses the write.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/engine/clock.js';
import { createStore, type Store } from '../../src/engine/store.js';
import { buildApp } from '../../src/http/app.js';
import { createMemoryIdempotency, type MemoryIdempotency } from '../../src/idempotency/memory.js';
import { AOF_FILE, openPersistence, type Persistence } from '../../src/persistence/persistence.js';
import { refuseWrites, tempDir } from './helpers.js';

const TTL_MS = 3_600_000;

interface Opened {
  store: Store;
  idempotency: MemoryIdempotency;
  persistence: Persistence;
  app: Awaited<ReturnType<typeof buildApp>>;
  close(): Promise<void>;
}

const opened: Opened[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const o of opened.splice(0)) await o.close();
});

async function open(dir: string, clock: ManualClock, fsync: 'always' | 'everysec' = 'everysec'): Promise<Opened> {
  const store = createStore({ clock, cleanupIntervalMs: 0 });
  const idempotency = createMemoryIdempotency({ clock, ttlMs: TTL_MS, sweepIntervalMs: 0, holdBytes: (bytes, force) => store.holdBytes(bytes, force) });
  const persistence = await openPersistence(store, { dir, fsync, compactRatio: 0, idempotency });
  const app = await buildApp({ store, idempotency, durable: persistence.durable, compact: persistence.compact });
  let closed = false;
  const o: Opened = {
    store,
    idempotency,
    persistence,
    app,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      idempotency.close();
      store.close();
      await persistence.close();
    },
  };
  opened.push(o);
  return o;
}

const pop = (key: string, idem: string) => ({ method: 'PATCH' as const, url: `/api/v1/${key}/pop`, headers: { 'idempotency-key': idem } });

describe('kept answers in the log', () => {
  it('are replayed at start: a pop retried after a restart gets the first answer and pops nothing', async () => {
    const dir = tempDir();
    const clock = createManualClock(Date.UTC(2026, 0, 1));
    const first = await open(dir, clock, 'always');
    await first.app.inject({ method: 'PATCH', url: '/api/v1/q/push', payload: { value: ['a', 'b', 'c'] } });
    const answer = await first.app.inject(pop('q', 'k1'));
    expect(answer.json().popped).toBe('c');
    await first.close();

    const second = await open(dir, clock);
    expect(second.idempotency.stats().kept).toBe(1);
    expect(second.store.heldBytes).toBe(second.idempotency.stats().bytes);
    const again = await second.app.inject(pop('q', 'k1'));
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(answer.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(second.store.get('q')?.value).toEqual(['a', 'b']);
    expect((await second.app.inject(pop('r', 'k1'))).statusCode).toBe(422);
  });

  it('are written in the same write as the change they answer', async () => {
    const dir = tempDir();
    const clock = createManualClock(Date.UTC(2026, 0, 1));
    const o = await open(dir, clock);
    o.store.push('q', ['a', 'b']);
    await o.persistence.durable();
    const log = join(dir, AOF_FILE);
    const inode = fs.statSync(log).ino;
    const writes: number[] = [];
    const realWrite = fs.writeSync;
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buffer: Buffer, offset: number, length: number, position?: number) => {
      if (fs.fstatSync(fd).ino === inode) writes.push(length);
      return realWrite(fd, buffer, offset, length, position);
    }) as typeof fs.writeSync);
    const before = fs.statSync(log).size;
    expect((await o.app.inject(pop('q', 'one-write'))).statusCode).toBe(200);
    expect(writes).toHaveLength(1);
    expect(fs.statSync(log).size - before).toBe(writes[0]);
    // The pop record is small; the rest is the kept answer.
    expect(writes[0]).toBeGreaterThan(150);
  });

  it('are rewritten by compaction while they live, and dropped once expired', async () => {
    const dir = tempDir();
    const clock = createManualClock(Date.UTC(2026, 0, 1));
    const o = await open(dir, clock);
    o.store.push('q', ['a', 'b', 'c', 'd']);
    expect((await o.app.inject(pop('q', 'old'))).json().popped).toBe('d');
    clock.advance(TTL_MS / 2);
    expect((await o.app.inject(pop('q', 'young'))).json().popped).toBe('c');
    clock.advance(TTL_MS / 2);
    // 'old' has expired; 'young' lives for another half TTL.
    expect(o.persistence.compact()).toBe('started');
    await o.persistence.compacting;
    await o.close();

    const reopened = await open(dir, clock);
    expect(reopened.idempotency.stats().kept).toBe(1);
    expect((await reopened.app.inject(pop('q', 'young'))).json().popped).toBe('c');
    expect((await reopened.app.inject(pop('q', 'old'))).json().popped).toBe('b');
    expect(reopened.store.get('q')?.value).toEqual(['a']);
  });

  it('keeps an answer kept while a compaction runs', async () => {
    const dir = tempDir();
    const clock = createManualClock(Date.UTC(2026, 0, 1));
    const o = await open(dir, clock);
    for (let i = 0; i < 3000; i++) o.store.set(`key-${i}`, 'x'.repeat(500));
    o.store.push('q', ['a', 'b']);
    await o.persistence.durable();
    o.persistence.compact();
    const during = await o.app.inject(pop('q', 'during'));
    expect(during.json().popped).toBe('b');
    await o.persistence.compacting;
    await o.close();
    const reopened = await open(dir, clock);
    expect((await reopened.app.inject(pop('q', 'during'))).body).toBe(during.body);
    expect(reopened.store.get('q')?.value).toEqual(['a']);
  });

  it('go with their change when the disk refuses the write: the retry runs again', async () => {
    const dir = tempDir();
    const clock = createManualClock(Date.UTC(2026, 0, 1));
    const o = await open(dir, clock);
    o.store.push('q', ['a', 'b']);
    await o.persistence.durable();
    let failing = true;
    refuseWrites(join(dir, AOF_FILE), () => failing);
    const refused = await o.app.inject(pop('q', 'disk'));
    expect(refused.statusCode).toBe(500);
    expect(refused.json().code).toBe('persistence_failed');
    expect(o.store.get('q')?.value).toEqual(['a', 'b']);
    expect(o.idempotency.stats().kept).toBe(0);
    failing = false;
    const retried = await o.app.inject(pop('q', 'disk'));
    expect(retried.statusCode).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(retried.json().popped).toBe('b');
    await o.close();
    const reopened = await open(dir, clock);
    expect((await reopened.app.inject(pop('q', 'disk'))).body).toBe(retried.body);
  });
});
