/**
 * Watch with STORAGE=redis: two real memkv processes on one standalone Redis send the same
 * changes in the same order, whichever front took each write, and a watch resumes on the other
 * front from the last event id; on a Redis Cluster, watch answers 501 watch_unavailable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, useTwoFronts, whenReady } from '../helpers/fronts.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { useRedisCluster, useRedisServer } from '../helpers/redis.js';

interface Event {
  id: string;
  data: { revision: number; op: string; key?: string; row?: { version: number; value?: unknown; length?: number }; values?: string[]; popped?: string };
}

/** A watch stream: its events as they come, and a way to end it. */
async function watch(front: ServerProcess, query: string, headers: Record<string, string> = {}): Promise<{ next(count: number): Promise<Event[]>; close(): void }> {
  const abort = new AbortController();
  const response = await fetch(`${front.url}/api/v1/db/watch?${query}`, { headers, signal: abort.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const ready: Event[] = [];
  return {
    async next(count) {
      const deadline = Date.now() + 10_000;
      while (ready.length < count) {
        if (Date.now() > deadline) throw new Error(`${ready.length} of ${count} events within 10 s`);
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (id !== undefined && data !== undefined) ready.push({ id, data: JSON.parse(data) as Event['data'] });
        }
      }
      return ready.splice(0, count);
    },
    close: () => abort.abort(),
  };
}

describe('watch over two fronts on one standalone Redis', () => {
  const redis = useRedisServer();

  const fronts = useTwoFronts(() => ({ STORAGE: 'redis', REDIS_URL: redis.current.url }));

  it('both fronts send every change in the same order, with its row; a watch resumes on the other front', async () => {
    const [a, b] = fronts as [ServerProcess, ServerProcess];
    const onA = await watch(a, 'prefix=w:');
    const onB = await watch(b, 'prefix=w:');
    const version = async (answer: Promise<Response>): Promise<number> => {
      const response = await answer;
      expect(response.status).toBe(200);
      return Number(JSON.parse(response.headers.get('etag')!));
    };
    const v1 = await version(api(a, '/set', 'POST', { key: 'w:1', value: 'one' }));
    const v2 = await version(api(b, '/set', 'POST', { key: 'w:l', value: ['x'] }));
    await api(a, '/set', 'POST', { key: 'other', value: 'not watched' });
    const v3 = await version(api(a, '/w:l/push', 'PATCH', { value: ['y', 'z'] }));
    const v4 = await version(api(b, '/w:l/pop', 'PATCH'));
    const v5 = await version(
      api(b, '/db/txn', 'POST', {
        checks: [{ key: 'w:1', version: v1 }],
        ops: [
          { op: 'update', key: 'w:1', value: 'two' },
          { op: 'remove', key: 'w:l' },
        ],
      }),
    );
    const v6 = await version(api(a, '/w:1', 'DELETE'));
    const events = await onA.next(7);
    expect(await onB.next(7)).toEqual(events);
    expect(events.map((event) => [event.id, event.data.op, event.data.key])).toEqual([
      [String(v1), 'set', 'w:1'],
      [String(v2), 'set', 'w:l'],
      [String(v3), 'push', 'w:l'],
      [String(v4), 'pop', 'w:l'],
      [`${v5}.0`, 'update', 'w:1'],
      [String(v5), 'remove', 'w:l'],
      [String(v6), 'remove', 'w:1'],
    ]);
    expect(events[0]!.data.row).toMatchObject({ value: 'one', version: v1 });
    expect(events[2]!.data).toMatchObject({ row: { length: 3, version: v3 }, values: ['y', 'z'] });
    expect(events[3]!.data).toMatchObject({ row: { length: 2 }, popped: 'z' });
    expect(events[4]!.data.row).toMatchObject({ value: 'two', version: v5 });
    onA.close();

    // Resume on B after the transaction's first change: the rest, exactly once.
    const resumed = await watch(b, 'prefix=w:', { 'last-event-id': `${v5}.0` });
    expect(await resumed.next(2)).toEqual(events.slice(5));
    const v7 = await version(api(a, '/set', 'POST', { key: 'w:3', value: 'three' }));
    expect((await resumed.next(1))[0]!.id).toBe(String(v7));
    expect((await onB.next(1))[0]!.id).toBe(String(v7));
    resumed.close();
    onB.close();
  }, 30_000);

  it('a front started later serves a resume from a change made before it started', async () => {
    const [a] = fronts as [ServerProcess];
    const before = Number(JSON.parse((await api(a, '/set', 'POST', { key: 'w:old', value: 'v' })).headers.get('etag')!));
    const after = Number(JSON.parse((await api(a, '/set', 'POST', { key: 'w:old', value: 'w' })).headers.get('etag')!));
    const late = await startServerProcess({ STORAGE: 'redis', REDIS_URL: redis.current.url });
    try {
      await whenReady(late);
      const resumed = await watch(late, `prefix=w:old&from=${before}`);
      const [event] = await resumed.next(1);
      expect(event!.id).toBe(String(after));
      expect(event!.data.row).toMatchObject({ value: 'w' });
      resumed.close();
    } finally {
      await late.stop();
    }
  }, 30_000);
});

describe('watch on a Redis Cluster', () => {
  const cluster = useRedisCluster();
  let front: ServerProcess;

  beforeAll(async () => {
    front = await startServerProcess({ STORAGE: 'redis', REDIS_CLUSTER_NODES: cluster.current.nodeList });
    await whenReady(front);
  }, 30_000);
  afterAll(async () => {
    await front?.stop();
  });

  it('answers 501 watch_unavailable, saying why', async () => {
    const answer = await api(front, '/db/watch');
    expect(answer.status).toBe(501);
    expect(await answer.json()).toEqual({ code: 'watch_unavailable', message: expect.stringContaining('Redis Cluster') });
  });
});
