/** GET /api/v1/db/watch over TCP: the stream's framing, from and Last-Event-ID, errors, auth, slow watchers, closing. */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/engine/store.js';
import { buildApp } from '../../src/http/app.js';
import { createWatchHub, type WatchHub, type WatchHubOptions } from '../../src/watch/watch-hub.js';
import { createAuthTestApp, USERS, type Persona } from '../helpers/auth-app.js';
import { DOCUMENTED_PATHS } from '../helpers/app.js';
import { RawWatch, change, parseFrames } from '../helpers/watch.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(hubOptions: WatchHubOptions | false = {}): Promise<{ app: FastifyInstance; hub: WatchHub | undefined; port: number }> {
  const store = createStore({ cleanupIntervalMs: 0 });
  const hub = hubOptions === false ? undefined : createWatchHub({ heartbeatMs: 0, ...hubOptions });
  const app = await buildApp({ store, watch: hub });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(async () => {
    await app.close();
    hub?.close();
    store.close();
  });
  return { app, hub, port: (app.server.address() as AddressInfo).port };
}

async function waitFor(test: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function open(port: number, path: string, headers?: Record<string, string>): RawWatch {
  const watch = new RawWatch(port, path, headers);
  cleanups.push(() => watch.close());
  return watch;
}

describe('the watch stream', () => {
  it('is text/event-stream: retry, its starting id and a comment first, then one event per change, and heartbeats', async () => {
    const { hub, port } = await serve({ heartbeatMs: 30 });
    const watch = open(port, '/api/v1/db/watch?prefix=a');
    await watch.until((body) => body.startsWith('retry: 1000\nid: 0\n: ok\n\n'));
    expect(watch.status).toBe(200);
    expect(watch.head).toMatch(/^content-type: text\/event-stream/im);
    expect(watch.head).toMatch(/^cache-control: no-cache/im);
    hub!.publish(change(1, 'a1'));
    hub!.publish(change(2, 'b1'));
    hub!.publish(change(3, 'a2', 'remove'));
    await watch.until((body) => parseFrames(body).events.length === 2 && parseFrames(body).comments.includes('heartbeat'));
    expect(parseFrames(watch.body).events.map((event) => [event.id, event.data.key, event.data.op])).toEqual([
      ['1', 'a1', 'set'],
      ['3', 'a2', 'remove'],
    ]);
  });

  it('resumes after from, and after Last-Event-ID, which wins', async () => {
    const { hub, port } = await serve();
    for (let revision = 1; revision <= 5; revision++) hub!.publish(change(revision, `k${revision}`));
    const fromQuery = open(port, '/api/v1/db/watch?from=3');
    const fromHeader = open(port, '/api/v1/db/watch?from=1', { 'Last-Event-ID': '4' });
    await fromQuery.until((body) => parseFrames(body).events.length === 2);
    await fromHeader.until((body) => parseFrames(body).events.length === 1);
    // The opening names where each stream begins: the id to resume from before any event.
    expect(fromQuery.body).toMatch(/^retry: 1000\nid: 3\n/);
    expect(fromHeader.body).toMatch(/^retry: 1000\nid: 4\n/);
    const now = open(port, '/api/v1/db/watch');
    await now.until((body) => body.includes(': ok'));
    expect(now.body).toMatch(/^retry: 1000\nid: 5\n/);
    expect(parseFrames(fromQuery.body).events.map((event) => event.id)).toEqual(['4', '5']);
    expect(parseFrames(fromHeader.body).events.map((event) => event.id)).toEqual(['5']);
  });

  it('answers 400 for a malformed or future from, 410 past the history, before any stream', async () => {
    const { app, hub } = await serve({ historyEvents: 2 });
    for (let revision = 1; revision <= 5; revision++) hub!.publish(change(revision, 'k'));
    const answer = async (url: string, headers: Record<string, string> = {}) => {
      const response = await app.inject({ method: 'GET', url, headers });
      return { status: response.statusCode, body: response.json(), type: response.headers['content-type'] };
    };
    expect(await answer('/api/v1/db/watch?from=x')).toMatchObject({ status: 400, body: { code: 'invalid_request', message: expect.stringMatching(/^from must be an event id/) } });
    expect(await answer('/api/v1/db/watch', { 'last-event-id': '1.x' })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^Last-Event-ID/) } });
    expect(await answer('/api/v1/db/watch?from=6')).toMatchObject({ status: 400, body: { code: 'invalid_request', message: expect.stringContaining('ahead of the current revision 5') } });
    expect(await answer('/api/v1/db/watch?from=2')).toMatchObject({ status: 410, body: { code: 'history_compacted' }, type: expect.stringMatching(/json/) });
    expect(await answer('/api/v1/db/watch?from=1&nope=1')).toMatchObject({ status: 400 });
    // No HEAD: it would be a stream without a body that never ends.
    expect((await app.inject({ method: 'HEAD', url: '/api/v1/db/watch' })).statusCode).toBe(404);
  });

  it('answers 404 when watch is off', async () => {
    const { app } = await serve(false);
    const response = await app.inject({ method: 'GET', url: '/api/v1/db/watch' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: 'route_not_found', message: 'watch is off on this server (WATCH_HISTORY=0)' });
  });

  it('is in the OpenAPI document, tagged db', async () => {
    const { app } = await serve();
    const doc = (await app.inject({ method: 'GET', url: '/api/v1/docs/swagger.json' })).json();
    expect(DOCUMENTED_PATHS).toContain('/api/v1/db/watch');
    const operation = doc.paths['/api/v1/db/watch'].get;
    expect(operation.tags).toEqual(['db']);
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '404', '410']);
    expect(Object.keys(operation.responses['200'].content)).toEqual(['text/event-stream']);
  });

  it('ends its streams when the app closes, without holding the close', async () => {
    const { app, port } = await serve();
    const watch = open(port, '/api/v1/db/watch');
    await watch.until((body) => body.includes(': ok'));
    const startedAt = Date.now();
    await app.close();
    await watch.closed;
    expect(Date.now() - startedAt).toBeLessThan(1500);
  });
});

describe('a watcher that does not read', () => {
  it('is cut off once its unsent bytes pass the bound, and memory stays bounded', async () => {
    const maxBufferBytes = 256 * 1024;
    const { app, hub, port } = await serve({ maxBufferBytes, historyBytes: 2 * 1024 * 1024 });
    const stalled = open(port, '/api/v1/db/watch');
    const reading = new RawWatch(port, '/api/v1/db/watch', {}, { keepBody: false });
    cleanups.push(() => reading.close());
    await stalled.until((body) => body.includes(': ok'));
    await waitFor(() => reading.status === 200);
    stalled.socket.pause();
    const heapBefore = process.memoryUsage().heapUsed;
    const value = 'x'.repeat(10_000);
    let revision = 0;
    // Loopback socket buffers take megabytes before the server's own buffer grows: keep writing until the cut.
    while (hub!.stats().overflows === 0 && revision < 20_000) {
      for (let i = 0; i < 10; i++) hub!.publish(change(++revision, 'key', 'set', 0, 1, value));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(hub!.stats()).toMatchObject({ overflows: 1, watchers: 1 });
    expect(hub!.stats().historyBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    // Far more went by than anything kept: the history, one socket's buffer and a reader's backlog.
    expect(revision * value.length).toBeGreaterThan(5 * maxBufferBytes);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    // The server cuts the connection once the final event has had its grace period (2 s) to leave.
    const connections = () => new Promise<number>((resolve) => app.server.getConnections((_error, count) => resolve(count)));
    const cutAt = Date.now();
    while ((await connections()) > 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(Date.now() - cutAt).toBeLessThan(5000);
    stalled.socket.resume();
    await stalled.closed;
    await waitFor(() => reading.lastId === String(revision));
    expect(reading.events).toBe(revision);
  }, 40_000);
});

describe('watch with auth on', () => {
  async function watchAs(persona: Persona | undefined, prefix: string): Promise<{ status: number; body: string }> {
    const t = await createAuthTestApp({ app: { watch: createWatchHub({ heartbeatMs: 0 }) } });
    cleanups.push(() => t.close());
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const headers: Record<string, string> = persona === undefined ? {} : { Authorization: `Bearer ${(await t.login(persona)).access_token}` };
    const watch = open((t.app.server.address() as AddressInfo).port, `/api/v1/db/watch?prefix=${encodeURIComponent(prefix)}`, headers);
    await watch.until((body) => watch.status !== 0 && (watch.status !== 200 || body.includes(': ok')));
    if (watch.status !== 200) await watch.until((body) => body.includes('}'));
    return { status: watch.status, body: watch.body };
  }

  it('needs the read right on every key under the prefix', async () => {
    expect(USERS.cache.keys).toEqual(['cache:*']);
    expect((await watchAs('cache', 'cache:')).status).toBe(200);
    expect((await watchAs('cache', 'cache:x:')).status).toBe(200);
    const refused = await watchAs('cache', '');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'forbidden', message: expect.stringContaining('"*"') });
    expect((await watchAs('cache', 'cach')).status).toBe(403);
    expect((await watchAs('readonly', '')).status).toBe(200);
    expect((await watchAs(undefined, '')).status).toBe(401);
  });
});
