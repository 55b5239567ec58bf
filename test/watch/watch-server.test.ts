/**
 * Watch end to end on a real server over TCP: writes and transactions through the API, a reader
 * that disconnects at random points and resumes, every kind of event, the client's iterator
 * across dropped connections, and `memkv watch`.
 */
import { spawn } from 'node:child_process';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, HistoryCompactedError, type WatchEvent } from '@memkv/client';
import { seededRandom } from '../helpers/random.js';
import { startMemkv } from '../helpers/servers.js';
import { RawWatch, parseFrames } from '../helpers/watch.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

let server: Awaited<ReturnType<typeof startMemkv>>;
beforeAll(async () => {
  server = await startMemkv({ watchHistory: '100000' });
});
afterAll(() => server.close());

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const json = await response.json();
  if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Reads a watch until `stop` says so or the connection ends; answers the events read. */
async function readWatch(query: string, headers: Record<string, string>, stop: (events: ReturnType<typeof parseFrames>['events']) => boolean, signal?: AbortSignal) {
  let response: Response;
  try {
    response = await fetch(`${server.url}/api/v1/db/watch${query}`, { headers, signal });
  } catch (error) {
    if (signal?.aborted) return [];
    throw error;
  }
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const events: ReturnType<typeof parseFrames>['events'] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const parsed = parseFrames(text);
      text = parsed.rest;
      events.push(...parsed.events);
      if (stop(events)) break;
    }
  } catch (error) {
    if (!signal?.aborted) throw error;
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}

describe('a watcher that disconnects at random points', () => {
  it('sees every change exactly once and in order, transactions included', async () => {
    const random = seededRandom(42);
    const prefix = 'race:';
    const start = String(server.store.revision);
    const expected: string[] = [];
    const seen: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 2000; i++) {
        const key = `${prefix}${Math.floor(random() * 40)}`;
        const roll = random();
        if (roll < 0.1) {
          const keys = [key, `${prefix}t${i}`, `other:${i}`, `${prefix}l`];
          const answer = await api('POST', '/db/txn', {
            ops: [
              { op: 'set', key: keys[0], value: `x${i}` },
              { op: 'set', key: keys[1], value: 'y' },
              { op: 'set', key: keys[2], value: 'z' },
              { op: 'push', key: keys[3], value: [`p${i}`] },
            ],
          });
          const n = answer.version;
          // The other: key is filtered out; ids still count every change of the revision.
          expected.push(`${n}.0 set ${keys[0]}`, `${n}.1 set ${keys[1]}`, `${n} push ${keys[3]}`);
        } else if (roll < 0.2) {
          await api('POST', '/set', { key: `other:${i}`, value: 'ignored' });
        } else if (roll < 0.3) {
          const answer = await fetch(`${server.url}/api/v1/${encodeURIComponent(key)}`, { method: 'DELETE' });
          const body = (await answer.json()) as { version: number };
          if (answer.status === 200) expected.push(`${body.version} remove ${key}`);
        } else {
          const answer = await api('POST', '/set', { key, value: `v${i}` });
          expected.push(`${answer.version} set ${key}`);
        }
      }
      writing = false;
    })();
    let lastId = start;
    while (writing || seen.length < expected.length) {
      // Each connection ends after a random number of events, or a random time, whichever first.
      const quota = 1 + Math.floor(random() * 200);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 5 + random() * 50);
      const events = await readWatch(
        `?prefix=${encodeURIComponent(prefix)}`,
        { 'last-event-id': lastId },
        (got) => got.length >= quota || (!writing && seen.length + got.length >= expected.length),
        controller.signal,
      );
      clearTimeout(timer);
      for (const event of events) {
        seen.push(`${event.id} ${event.data.op} ${event.data.key}`);
        lastId = event.id!;
      }
    }
    await writer;
    expect(expected.length).toBeGreaterThan(1600);
    expect(seen).toEqual(expected);
  }, 120_000);
});

describe('events of every kind', () => {
  it('reports set, update, push, pop, ttl, remove, expire and flush with their rows', async () => {
    const from = server.store.revision;
    await api('POST', '/set', { key: 'kinds:s', value: 'a' });
    await api('PATCH', '/kinds:s', { value: 'b' });
    await api('PATCH', '/kinds:l/push', { value: ['x', 'y'] });
    await api('PATCH', '/kinds:l/pop');
    await api('PATCH', '/kinds:s/ttl', { ttl: '1h' });
    await api('DELETE', '/kinds:s');
    await api('POST', '/set', { key: 'kinds:e', value: 'soon', ttl: '50ms' });
    // The active expiry (every 100 ms) removes it without anyone reading it.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await api('POST', '/db/flush');
    const events = await readWatch(`?prefix=kinds:&from=${from}`, {}, (got) => got.at(-1)?.data.op === 'flush');
    const data = events.map((event) => event.data);
    expect(data.map((event) => `${event.op} ${event.key ?? ''}`)).toEqual([
      'set kinds:s',
      'update kinds:s',
      'push kinds:l',
      'pop kinds:l',
      'ttl kinds:s',
      'remove kinds:s',
      'set kinds:e',
      'expire kinds:e',
      'flush ',
    ]);
    expect(data[0]).toEqual({ revision: from + 1, op: 'set', key: 'kinds:s', row: expect.objectContaining({ value: 'a', version: from + 1 }) });
    expect(data[2]).toMatchObject({ op: 'push', values: ['x', 'y'], row: { length: 2 } });
    expect(data[2].row).not.toHaveProperty('value');
    expect(data[3]).toMatchObject({ op: 'pop', popped: 'y', row: { length: 1 } });
    expect(data[4].row.ttl).toMatch(/^\d{4}-/);
    expect(data[5]).toEqual({ revision: expect.any(Number), op: 'remove', key: 'kinds:s' });
    expect(data.at(-1)).toEqual({ revision: expect.any(Number), op: 'flush' });
    expect(events.map((event) => Number(event.id))).toEqual(data.map((event) => event.revision));
  });

  it('reports evictions', async () => {
    const small = await startMemkv({ maxMemoryBytes: '4kb', evictionPolicy: 'allkeys-lru' });
    try {
      const from = small.store.revision;
      for (let i = 0; i < 20; i++) {
        await fetch(`${small.url}/api/v1/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: `e${i}`, value: 'x'.repeat(500) }) });
      }
      const response = await fetch(`${small.url}/api/v1/db/watch?from=${from}`);
      const reader = response.body!.getReader();
      let text = '';
      while (!text.includes('"op":"evict"')) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      expect(text).toMatch(/"op":"evict","key":"e\d+"/);
    } finally {
      await small.close();
    }
  });

  it('answers 410 once the history no longer reaches back, and 400 for a future from', async () => {
    const small = await startMemkv({ watchHistory: '5' });
    try {
      for (let i = 0; i < 10; i++) {
        await fetch(`${small.url}/api/v1/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'k', value: String(i) }) });
      }
      const gone = await fetch(`${small.url}/api/v1/db/watch?from=1`);
      expect(gone.status).toBe(410);
      expect(await gone.json()).toMatchObject({ code: 'history_compacted' });
      const future = await fetch(`${small.url}/api/v1/db/watch?from=11`);
      expect(future.status).toBe(400);
      await future.body?.cancel();
      const client = createClient({ url: small.url });
      await expect(client.watch({ from: 1 }).next()).rejects.toBeInstanceOf(HistoryCompactedError);
    } finally {
      await small.close();
    }
  });

  it('is off with WATCH_HISTORY=0: 404', async () => {
    const off = await startMemkv({ watchHistory: '0' });
    try {
      expect(off.watch).toBeUndefined();
      const response = await fetch(`${off.url}/api/v1/db/watch`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { message: string }).message).toContain('WATCH_HISTORY=0');
    } finally {
      await off.close();
    }
  });
});

async function until(test: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the server and its streams', () => {
  it('keeps a quiet stream open past REQUEST_TIMEOUT, and ends it when the server closes', async () => {
    const own = await startMemkv({ requestTimeoutMs: '1s' });
    let closed = false;
    try {
      const watch = new RawWatch(own.port, '/api/v1/db/watch');
      await watch.until((body) => body.includes(': ok'));
      // Node checks the request timeout on a period: wait for two of them.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await fetch(`${own.url}/api/v1/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'late', value: 'x' }) });
      await watch.until(() => watch.lastId !== undefined);
      expect(watch.head).not.toMatch(/408/);
      const startedAt = Date.now();
      await own.close();
      closed = true;
      await watch.closed;
      expect(Date.now() - startedAt).toBeLessThan(3000);
    } finally {
      if (!closed) await own.close();
    }
  });
});

/** A TCP proxy in front of the server whose connections the test can cut. */
async function startProxy(target: number): Promise<{ url: string; drop(): void; stall(stalled: boolean): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const upstreams = new Set<Socket>();
  let stalled = false;
  const proxy: Server = createServer((socket) => {
    const upstream = connect(target, '127.0.0.1');
    upstreams.add(upstream);
    upstream.on('close', () => upstreams.delete(upstream));
    if (stalled) upstream.pause();
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    drop: () => {
      for (const socket of sockets) socket.destroy();
    },
    // Stops (or starts again) reading what the server sends, as a client that does not read.
    stall: (stall) => {
      stalled = stall;
      for (const upstream of upstreams) {
        if (stall) upstream.pause();
        else upstream.resume();
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

describe('the client', () => {
  it('resumes across dropped connections, missing nothing, and stops on abort', async () => {
    const proxy = await startProxy(server.port);
    try {
      const client = createClient({ url: proxy.url, retryDelayMs: 10 });
      const controller = new AbortController();
      const from = server.store.revision;
      const received: WatchEvent[] = [];
      const reading = (async () => {
        for await (const event of client.watch({ prefix: 'client:', from, signal: controller.signal })) received.push(event);
      })();
      const written: string[] = [];
      for (let i = 0; i < 300; i++) {
        const answer = await api('POST', '/set', { key: `client:${i % 7}`, value: String(i) });
        written.push(`${answer.version} client:${i % 7}`);
        if (i % 50 === 25) proxy.drop();
      }
      const deadline = Date.now() + 15_000;
      while (received.length < written.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort();
      await reading;
      expect(received.map((event) => `${event.id} ${'key' in event ? event.key : ''}`)).toEqual(written);
      expect(received[0]).toMatchObject({ op: 'set', row: { kind: 'string', version: Number(received[0]!.id) } });
    } finally {
      await proxy.close();
    }
  });

  it('resumes after the server cut it off for not reading (watch_overflow), missing nothing', async () => {
    const own = await startMemkv({ watchMaxBufferBytes: '64kb' });
    const proxy = await startProxy(own.port);
    try {
      const client = createClient({ url: proxy.url, retryDelayMs: 10 });
      const controller = new AbortController();
      const received: string[] = [];
      const reading = (async () => {
        for await (const event of client.watch({ prefix: 'big:', from: own.store.revision, signal: controller.signal })) received.push(event.id);
      })();
      await until(() => own.watch!.stats().watchers === 1);
      proxy.stall(true);
      const written: string[] = [];
      const value = 'x'.repeat(20_000);
      // Until the server gives up on the stalled stream (loopback buffers hold megabytes first).
      for (let i = 0; own.watch!.stats().overflows === 0 && i < 5000; i++) {
        const answer = await fetch(`${own.url}/api/v1/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: `big:${i % 10}`, value }) });
        written.push(String(((await answer.json()) as { version: number }).version));
      }
      expect(own.watch!.stats().overflows).toBe(1);
      proxy.stall(false);
      await until(() => received.length >= written.length, 20_000);
      controller.abort();
      await reading;
      expect(received).toEqual(written);
    } finally {
      await proxy.close();
      await own.close();
    }
  }, 60_000);

  it('resumes from where its stream began when it drops before the first event', async () => {
    const proxy = await startProxy(server.port);
    try {
      const client = createClient({ url: proxy.url, retryDelayMs: 200 });
      const controller = new AbortController();
      const watchers = () => server.watch!.stats().watchers;
      await until(() => watchers() === 0);
      const iterator = client.watch({ prefix: 'early:', signal: controller.signal });
      const first = iterator.next();
      await until(() => watchers() === 1);
      proxy.drop();
      // Written while the client is away (it waits about 100-200 ms before reconnecting).
      const answer = await api('POST', '/set', { key: 'early:1', value: 'x' });
      expect((await first).value).toMatchObject({ id: String(answer.version), op: 'set', key: 'early:1' });
      controller.abort();
      await iterator.return();
    } finally {
      await proxy.close();
    }
  });

  it('ends when the loop breaks', async () => {
    const client = createClient({ url: server.url });
    const watchers = () => server.watch!.stats().watchers;
    await until(() => watchers() === 0);
    const iterator = client.watch({ prefix: 'brk:' });
    const first = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await api('POST', '/set', { key: 'brk:1', value: 'x' });
    expect((await first).value).toMatchObject({ op: 'set', key: 'brk:1' });
    expect(watchers()).toBe(1);
    await iterator.return();
    await until(() => watchers() === 0);
  });
});

describe('memkv watch', () => {
  it('prints one JSON line per event until Ctrl-C, then exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'watch', 'cli:', '--url', server.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Until the watch is open: one more watcher on the server.
    const before = server.watch!.stats().watchers;
    while (server.watch!.stats().watchers === before) await new Promise((resolve) => setTimeout(resolve, 20));
    await api('POST', '/set', { key: 'cli:a', value: '1' });
    await api('POST', '/set', { key: 'skip', value: '1' });
    await api('DELETE', '/cli:a');
    while (stdout.split('\n').length < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as { op: string; key: string; revision: number });
    expect(lines.map((line) => `${line.op} ${line.key}`)).toEqual(['set cli:a', 'remove cli:a']);
    expect(lines[1]).toEqual({ revision: expect.any(Number), op: 'remove', key: 'cli:a', id: String(lines[1]!.revision) });
  });
});
