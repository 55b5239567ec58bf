/** The watch hub on its own: event text and ids, resuming, the bounded history, prefixes, slow watchers. */
import { describe, expect, it } from 'vitest';
import { MemkvError } from '../../src/errors.js';
import { parsePosition } from '../../src/watch/position.js';
import { createWatchHub, type WatchHub } from '../../src/watch/watch-hub.js';
import { seededRandom } from '../helpers/random.js';
import { MemorySink, change } from '../helpers/watch.js';

function watch(hub: WatchHub, prefix = '', from?: string): { sink: MemorySink; close(): void } {
  const sink = new MemorySink();
  const subscription = hub.subscribe({ prefix, cursor: hub.resolve(from === undefined ? undefined : parsePosition(from, 'from')), sink });
  return { sink, close: () => subscription.close() };
}

/** Lets the hub write the turn's events to the watchers that keep up. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof MemkvError) return error.code;
    throw error;
  }
  return undefined;
}

describe('watch hub events', async () => {
  it('writes the spec\'s ids and JSON: N for a one-change revision, N.0 … N for a transaction', async () => {
    const hub = createWatchHub({ heartbeatMs: 0 });
    const { sink } = watch(hub);
    hub.publish(change(1, 'a'));
    hub.publish(change(2, 'l', 'push', 0, 3, 'x'));
    hub.publish(change(2, 'l', 'pop', 1, 3, 'x'));
    hub.publish(change(2, 'a', 'remove', 2, 3));
    hub.publish(change(3, 'b', 'expire'));
    hub.publish(change(4, 'c', 'evict'));
    hub.publish(change(5, '', 'flush'));
    await turn();
    const { events } = sink.parsed();
    expect(events.map((event) => event.id)).toEqual(['1', '2.0', '2.1', '2', '3', '4', '5']);
    expect(events[0]!.data).toEqual({
      revision: 1,
      op: 'set',
      key: 'a',
      row: expect.objectContaining({ key: 'a', kind: 'string', value: 'v1', ttl: null }),
    });
    expect(events[1]!.data).toEqual({ revision: 2, op: 'push', key: 'l', row: expect.objectContaining({ length: 1 }), values: ['x'] });
    expect(events[1]!.data.row).not.toHaveProperty('value');
    expect(events[2]!.data).toEqual({ revision: 2, op: 'pop', key: 'l', row: expect.objectContaining({ length: 0 }), popped: 'x' });
    expect(events[3]!.data).toEqual({ revision: 2, op: 'remove', key: 'a' });
    expect(events[4]!.data).toEqual({ revision: 3, op: 'expire', key: 'b' });
    expect(events[5]!.data).toEqual({ revision: 4, op: 'evict', key: 'c' });
    expect(events[6]!.data).toEqual({ revision: 5, op: 'flush' });
  });

  it('serializes each event once and shares the text among watchers', async () => {
    const hub = createWatchHub({ heartbeatMs: 0 });
    const first = watch(hub);
    const second = watch(hub);
    hub.publish(change(1, 'a'));
    await turn();
    expect(first.sink.text).not.toBe('');
    expect(first.sink.text).toBe(second.sink.text);
    // Nothing is built for a change no watcher wants: the history keeps an estimate.
    const quiet = createWatchHub({ heartbeatMs: 0 });
    quiet.publish(change(1, 'a'));
    expect(quiet.stats()).toMatchObject({ historyEvents: 1, published: 1 });
  });

  it('sends a watcher only the keys under its prefix, and a flush to every watcher', async () => {
    const hub = createWatchHub({ heartbeatMs: 0 });
    const users = watch(hub, 'user:');
    hub.publish(change(1, 'user:1'));
    hub.publish(change(2, 'order:1'));
    hub.publish(change(3, 'user:2', 'remove'));
    hub.publish(change(4, '', 'flush'));
    await turn();
    expect(users.sink.parsed().events.map((event) => event.id)).toEqual(['1', '3', '4']);
    // A resume filters the history the same way.
    const resumed = watch(hub, 'order:', '0');
    expect(resumed.sink.parsed().events.map((event) => event.id)).toEqual(['2', '4']);
  });
});

describe('resuming', async () => {
  it('continues right after N or N.i, with nothing missed or repeated', async () => {
    const hub = createWatchHub({ heartbeatMs: 0 });
    hub.publish(change(1, 'a'));
    hub.publish(change(2, 'a', 'set', 0, 3));
    hub.publish(change(2, 'b', 'set', 1, 3));
    hub.publish(change(2, 'c', 'set', 2, 3));
    hub.publish(change(3, 'a'));
    const ids = (from: string | undefined) => watch(hub, '', from).sink.parsed().events.map((event) => event.id);
    expect(ids('0')).toEqual(['1', '2.0', '2.1', '2', '3']);
    expect(ids('1')).toEqual(['2.0', '2.1', '2', '3']);
    expect(ids('2.0')).toEqual(['2.1', '2', '3']);
    expect(ids('2.1')).toEqual(['2', '3']);
    expect(ids('2')).toEqual(['3']);
    expect(ids('3')).toEqual([]);
    expect(ids(undefined)).toEqual([]);
  });

  it('refuses a from after the current revision (400) and a malformed one', async () => {
    const hub = createWatchHub({ heartbeatMs: 0, revision: () => 7 });
    expect(codeOf(() => hub.resolve(parsePosition('8', 'from')))).toBe('invalid_request');
    expect(codeOf(() => hub.resolve(parsePosition('7', 'from')))).toBeUndefined();
    for (const bad of ['', '-1', '01', '1.', '.1', '1.2.3', 'abc', '1e3', ' 1', '99999999999999999']) {
      expect(codeOf(() => parsePosition(bad, 'from')), bad).toBe('invalid_request');
    }
  });

  it('answers history_compacted once the ring no longer reaches back (count bound)', async () => {
    const hub = createWatchHub({ heartbeatMs: 0, historyEvents: 3, startRevision: 10 });
    expect(codeOf(() => hub.resolve(parsePosition('9', 'from')))).toBe('history_compacted');
    for (let revision = 11; revision <= 15; revision++) hub.publish(change(revision, 'k'));
    // 13, 14 and 15 are kept: after 12 is the oldest resumable position.
    expect(hub.stats()).toMatchObject({ historyEvents: 3, oldest: '12' });
    expect(codeOf(() => hub.resolve(parsePosition('11', 'from')))).toBe('history_compacted');
    expect(watch(hub, '', '12').sink.parsed().events.map((event) => event.id)).toEqual(['13', '14', '15']);
  });

  it('answers history_compacted inside a transaction that is partly gone', async () => {
    const hub = createWatchHub({ heartbeatMs: 0, historyEvents: 2 });
    hub.publish(change(1, 'a', 'set', 0, 3));
    hub.publish(change(1, 'b', 'set', 1, 3));
    hub.publish(change(1, 'c', 'set', 2, 3));
    expect(hub.stats().oldest).toBe('1.0');
    expect(codeOf(() => hub.resolve(parsePosition('0', 'from')))).toBe('history_compacted');
    expect(watch(hub, '', '1.0').sink.parsed().events.map((event) => event.id)).toEqual(['1.1', '1']);
  });

  it('bounds the history in bytes too', async () => {
    const hub = createWatchHub({ heartbeatMs: 0, historyBytes: 10_000 });
    for (let revision = 1; revision <= 100; revision++) hub.publish(change(revision, 'k', 'set', 0, 1, 'x'.repeat(1000)));
    const { historyEvents, historyBytes } = hub.stats();
    expect(historyBytes).toBeLessThanOrEqual(10_000);
    expect(historyEvents).toBeLessThan(10);
    expect(codeOf(() => hub.resolve(parsePosition('50', 'from')))).toBe('history_compacted');
  });
});

describe('slow watchers', async () => {
  it('feeds a watcher that fell behind from the history when it drains, in order', async () => {
    const hub = createWatchHub({ heartbeatMs: 0, maxBufferBytes: 1024 * 1024 });
    const { sink } = watch(hub);
    sink.reading = false;
    for (let revision = 1; revision <= 500; revision++) {
      hub.publish(change(revision, `k${revision}`));
      if (revision % 10 === 0) await turn();
    }
    expect(hub.stats().behind).toBe(1);
    while (hub.stats().behind > 0) sink.drain(), (sink.reading = false);
    sink.drain();
    hub.publish(change(501, 'last'));
    await turn();
    expect(sink.parsed().events.map((event) => Number(event.id))).toEqual(Array.from({ length: 501 }, (_, i) => i + 1));
  });

  it('cuts off a watcher that does not read, with a final watch_overflow event, holding nothing for it', async () => {
    const hub = createWatchHub({ heartbeatMs: 0, maxBufferBytes: 64 * 1024 });
    const stalled = watch(hub);
    const reader = watch(hub);
    stalled.sink.reading = false;
    let revision = 0;
    while (!stalled.sink.ended && revision < 100_000) {
      hub.publish(change(++revision, 'key', 'set', 0, 1, 'x'.repeat(100)));
      if (revision % 10 === 0) await turn();
    }
    await turn();
    expect(stalled.sink.ended).toBe(true);
    expect(stalled.sink.finalText).toMatch(/^event: error\ndata: \{"code":"watch_overflow","message":".*WATCH_MAX_BUFFER/);
    expect(hub.stats()).toMatchObject({ watchers: 1, behind: 0, overflows: 1 });
    // What it was written stayed within the bound (plus one turn's events).
    expect(stalled.sink.held).toBeLessThan(64 * 1024 + 10 * 1000);
    expect(reader.sink.parsed().events).toHaveLength(revision);
  });

  it('cuts off a watcher whose place in the history was dropped', async () => {
    const hub = createWatchHub({ heartbeatMs: 0, historyEvents: 100 });
    for (let revision = 1; revision <= 100; revision++) hub.publish(change(revision, 'k', 'set', 0, 1, 'x'.repeat(3000)));
    const sink = new MemorySink(1);
    sink.reading = false;
    hub.subscribe({ prefix: '', cursor: hub.resolve(parsePosition('0', 'from')), sink });
    // The first chunk (about 64 KiB) is written; the rest waits for a drain that never comes.
    expect(hub.stats().behind).toBe(1);
    expect(sink.parsed().events.length).toBeLessThan(30);
    for (let revision = 101; revision <= 200; revision++) hub.publish(change(revision, 'other', 'set'));
    expect(sink.ended).toBe(true);
    expect(sink.finalText).toContain('watch_overflow');
  });

  it('drops closed watchers and ends every stream when closed', async () => {
    const hub = createWatchHub({ heartbeatMs: 0 });
    const first = watch(hub);
    const second = watch(hub);
    first.close();
    first.close();
    expect(hub.stats().watchers).toBe(1);
    hub.close();
    expect(second.sink.ended).toBe(true);
    expect(hub.stats().watchers).toBe(0);
  });
});

describe('a watcher that disconnects at random points', async () => {
  it('sees every change exactly once and in order across resumes, transactions included', async () => {
    const random = seededRandom(13);
    const hub = createWatchHub({ heartbeatMs: 0 });
    const seen: string[] = [];
    const expected: string[] = [];
    let lastId = '0';
    let current = watch(hub, '', lastId);
    let taken = 0;
    let revision = 0;
    const take = (): void => {
      const events = current.sink.parsed().events;
      for (const event of events.slice(taken)) {
        seen.push(`${event.id}:${event.data.key}`);
        lastId = event.id!;
      }
      taken = events.length;
    };
    for (let round = 0; round < 3000; round++) {
      revision++;
      const count = random() < 0.2 ? 1 + Math.floor(random() * 4) : 1;
      for (let index = 0; index < count; index++) {
        const key = `k${Math.floor(random() * 50)}`;
        const c = change(revision, key, 'set', index, count);
        hub.publish(c);
        if (random() < 0.3) await turn();
        expected.push(`${index === count - 1 ? revision : `${revision}.${index}`}:${key}`);
        if (random() < 0.05) {
          // Disconnect mid-revision (the turn's events possibly not all written): the reader
          // keeps what it got, then resumes after its last id.
          take();
          current.close();
          current = watch(hub, '', lastId);
          taken = 0;
        }
      }
    }
    await turn();
    take();
    expect(seen).toEqual(expected);
  });
});
