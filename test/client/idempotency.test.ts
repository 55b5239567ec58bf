/**
 * The client's idempotency keys against a real memkv: a push or pop whose answer is lost on the
 * way back is retried with the same key and applied once.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient, MemkvClientError } from '@memkv/client';
import { startHttpServer, startMemkv, type RawServer } from '../helpers/servers.js';

type Memkv = Awaited<ReturnType<typeof startMemkv>>;

/**
 * A TCP proxy to `target` that forwards requests and, for the first `drops` connections, drops
 * the answer: the client's connection is cut the moment the answer arrives, after the server has
 * applied the request.
 */
async function startDroppingProxy(target: string, drops: number): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((client) => {
    const drop = connections++ < drops;
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (drop) {
        client.destroy();
        upstream.destroy();
      } else client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('idempotency keys over a connection that loses answers', () => {
  let memkv: Memkv;
  const proxies: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    memkv = await startMemkv();
  });
  afterAll(async () => {
    await memkv?.close();
  });
  afterEach(async () => {
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  it('a pop whose answer is lost is retried with the same key and removes exactly one element', async () => {
    memkv.store.set('queue', ['a', 'b', 'c']);
    const proxy = await startDroppingProxy(memkv.url, 1);
    proxies.push(proxy);
    const client = createClient({ url: proxy.url, retryDelayMs: 1 });
    const popped = await client.pop('queue');
    expect(popped.popped).toBe('c');
    expect(proxy.connections()).toBe(2);
    expect(memkv.store.get('queue')?.value).toEqual(['a', 'b']);
  });

  it('a push whose answer is lost is retried and appends once', async () => {
    memkv.store.set('pushed', ['a']);
    const proxy = await startDroppingProxy(memkv.url, 2);
    proxies.push(proxy);
    const client = createClient({ url: proxy.url, retryDelayMs: 1 });
    const row = await client.push('pushed', ['b', 'c'], { minimal: true });
    expect(row.length).toBe(3);
    expect(proxy.connections()).toBe(3);
    expect(memkv.store.get('pushed')?.value).toEqual(['a', 'b', 'c']);
  });

  it('a transaction whose answer is lost is retried and applies once', async () => {
    memkv.store.set('tq', ['a', 'b']);
    const proxy = await startDroppingProxy(memkv.url, 1);
    proxies.push(proxy);
    const client = createClient({ url: proxy.url, retryDelayMs: 1 });
    const result = await client.txn([
      { op: 'pop', key: 'tq' },
      { op: 'push', key: 'tdone', value: 'b' },
    ]);
    expect(result.results[0]).toMatchObject({ op: 'pop', popped: 'b' });
    expect(proxy.connections()).toBe(2);
    expect(memkv.store.get('tq')?.value).toEqual(['a']);
    expect(memkv.store.get('tdone')?.value).toEqual(['b']);
  });

  it('without keys (idempotencyKeys: false) the lost pop is not retried: the caller cannot know', async () => {
    memkv.store.set('plain', ['a', 'b']);
    const proxy = await startDroppingProxy(memkv.url, 1);
    proxies.push(proxy);
    const client = createClient({ url: proxy.url, retryDelayMs: 1, idempotencyKeys: false });
    await expect(client.pop('plain')).rejects.toBeInstanceOf(MemkvClientError);
    expect(memkv.store.get('plain')?.value).toEqual(['a']);
  });

  it('a key given by the caller is sent as is, and another call with it gets the first answer', async () => {
    memkv.store.set('given', ['x', 'y']);
    const client = createClient({ url: memkv.url, idempotencyKeys: false });
    const first = await client.pop('given', { idempotencyKey: 'order-42' });
    const again = await client.pop('given', { idempotencyKey: 'order-42' });
    expect(again).toEqual(first);
    expect(memkv.store.get('given')?.value).toEqual(['x']);
    await expect(client.pop('other', { idempotencyKey: 'order-42' })).rejects.toMatchObject({ code: 'idempotency_key_reused', status: 422 });
    await expect(client.pop('given', { idempotencyKey: 'no spaces' })).rejects.toMatchObject({ code: 'invalid_request' });
  });
});

describe('the idempotency key on the wire', () => {
  let server: RawServer;
  const seen: { key: string | undefined; at: number }[] = [];
  beforeAll(async () => {
    // The first attempt of each call meets 409 idempotency_in_flight with Retry-After: 1.
    server = await startHttpServer((request, _body, response) => {
      const key = request.headers['idempotency-key'] as string | undefined;
      seen.push({ key, at: Date.now() });
      const inFlight = seen.filter((s) => s.key === key).length === 1 && key !== undefined;
      response.writeHead(inFlight ? 409 : 200, { 'content-type': 'application/json', ...(inFlight ? { 'retry-after': '1' } : {}) });
      response.end(
        inFlight
          ? JSON.stringify({ code: 'idempotency_in_flight', message: 'still running' })
          : JSON.stringify({ key: 'k', kind: 'string_slice', length: 0, ttl: null, created_at: '2025-01-01T00:00:00.000Z', updated_at: '2025-01-01T00:00:00.000Z', version: 1, popped: 'x' }),
      );
    });
  });
  afterAll(() => server.close());

  it('sends a new UUID per call, the same on each attempt, and waits Retry-After after 409 idempotency_in_flight', async () => {
    const client = createClient({ url: server.url, retryDelayMs: 1 });
    await client.pop('k', { minimal: true });
    await client.pop('k', { minimal: true });
    expect(seen).toHaveLength(4);
    expect(seen[0]!.key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(seen[1]!.key).toBe(seen[0]!.key);
    expect(seen[2]!.key).not.toBe(seen[0]!.key);
    expect(seen[3]!.key).toBe(seen[2]!.key);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('does not send one with idempotencyKeys: false, and a 409 is then the answer', async () => {
    seen.length = 0;
    const client = createClient({ url: server.url, retryDelayMs: 1, idempotencyKeys: false });
    await client.pop('k', { minimal: true });
    expect(seen).toEqual([{ key: undefined, at: expect.any(Number) }]);
  });
});
