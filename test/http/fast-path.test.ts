/**
 * The fast path against Fastify: one table of requests, sent over real TCP to two servers (fast
 * path on, fast path off) whose stores run on the same fake clock. Every answer must be the same
 * bytes (status line, headers but Date, body), and the table says which requests the fast path
 * itself must answer, so that it cannot silently stop working.
 */
import { connect, type AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { MemkvError } from '../../src/errors.js';
import { createStore, type Store } from '../../src/engine/store.js';
import { buildApp, fastPathStats } from '../../src/http/app.js';
import { fastPathBlockers } from '../../src/http/fast-path.js';
import { createAuthTestApp } from '../helpers/auth-app.js';
import { createMetrics, type Metrics } from '../../src/http/metrics.js';

interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Expected status. */
  status: number;
  /** Expected body, when the case checks it exactly. */
  expect?: unknown;
  /** Who answers with the fast path on: the fast path, Fastify after a replay of the body, or Fastify at once. */
  via: 'fast' | 'replay' | 'fastify';
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const T0 = 1_764_000_000_123;
const iso = (ms: number): string => new Date(ms).toISOString();
const MAX_BODY_BYTES = 4096;
const MAX_KEY_BYTES = 64;

const post = (body: string, headers: Record<string, string> = JSON_HEADERS) => ({ method: 'POST', path: '/api/v1/set', headers, body });

const CASES: Case[] = [
  { name: 'set a string', ...post('{"key":"a","value":"b"}'), status: 200, expect: { message: 'ok', version: 1 }, via: 'fast' },
  {
    name: 'get it',
    method: 'GET',
    path: '/api/v1/a',
    status: 200,
    expect: { key: 'a', kind: 'string', value: 'b', version: 1, ttl: null, created_at: iso(T0), updated_at: iso(T0) },
    via: 'fast',
  },
  { name: 'get a missing key', method: 'GET', path: '/api/v1/missing', status: 404, expect: { code: 'item_not_found', message: 'key "missing" does not exist' }, via: 'fast' },
  { name: 'set a list with a TTL', ...post('{"key":"l","value":["x","y"],"ttl":"1h"}'), status: 200, via: 'fast' },
  { name: 'charset in the content type', ...post('{"key":"c","value":"d"}', { 'content-type': 'application/json; charset=utf-8' }), status: 200, via: 'fast' },
  { name: 'push one', method: 'PATCH', path: '/api/v1/l/push', headers: JSON_HEADERS, body: '{"value":"z"}', status: 200, via: 'fast' },
  { name: 'push several with a TTL', method: 'PATCH', path: '/api/v1/l/push', headers: JSON_HEADERS, body: '{"value":["p","q"],"ttl":"1.5h"}', status: 200, via: 'fast' },
  { name: 'push creates a list', method: 'PATCH', path: '/api/v1/new-list/push', headers: JSON_HEADERS, body: '{"value":"one"}', status: 200, via: 'fast' },
  {
    name: 'pop',
    method: 'PATCH',
    path: '/api/v1/new-list/pop',
    status: 200,
    expect: { key: 'new-list', kind: 'string_slice', value: [], version: 7, ttl: null, created_at: iso(T0 + 7), updated_at: iso(T0 + 8), popped: 'one' },
    via: 'fast',
  },
  // Preconditions and idempotency keys change whether and how a write runs: Fastify's.
  { name: 'a conditional read', method: 'GET', path: '/api/v1/a', headers: { 'if-none-match': '"1"' }, status: 304, via: 'fastify' },
  { name: 'a stale If-Match', ...post('{"key":"a","value":"z"}', { ...JSON_HEADERS, 'if-match': '"999"' }), status: 412, via: 'fastify' },
  { name: 'an Idempotency-Key', method: 'PATCH', path: '/api/v1/nothing/pop', headers: { 'idempotency-key': 'k-1' }, status: 404, via: 'fastify' },
  { name: 'pop an empty list', method: 'PATCH', path: '/api/v1/new-list/pop', status: 409, expect: { code: 'list_empty', message: 'the list at key "new-list" is empty' }, via: 'fast' },
  { name: 'pop a string', method: 'PATCH', path: '/api/v1/a/pop', status: 409, via: 'fast' },
  { name: 'pop a missing key', method: 'PATCH', path: '/api/v1/nothing/pop', status: 404, via: 'fast' },
  { name: 'push onto a string', method: 'PATCH', path: '/api/v1/a/push', headers: JSON_HEADERS, body: '{"value":"x"}', status: 409, via: 'fast' },
  { name: 'a number is not a string', ...post('{"key":"a","value":5}'), status: 400, expect: { code: 'invalid_request', message: 'value must be a string or an array of strings' }, via: 'replay' },
  { name: 'an array of numbers', ...post('{"key":"a","value":["x",5]}'), status: 400, via: 'replay' },
  { name: 'unknown field', ...post('{"key":"a","value":"b","extra":1}'), status: 400, expect: { code: 'invalid_request', message: 'unknown field "extra" in the request body' }, via: 'replay' },
  { name: 'empty key', ...post('{"key":"","value":"x"}'), status: 400, via: 'replay' },
  { name: 'missing value', ...post('{"key":"a"}'), status: 400, via: 'replay' },
  { name: 'null ttl', ...post('{"key":"a","value":"b","ttl":null}'), status: 400, via: 'replay' },
  { name: 'zero ttl', ...post('{"key":"a","value":"b","ttl":"0s"}'), status: 400, via: 'fast' },
  { name: 'not a duration', ...post('{"key":"a","value":"b","ttl":"soon"}'), status: 400, via: 'replay' },
  { name: 'a JSON array body', ...post('["a","b"]'), status: 400, via: 'replay' },
  { name: 'invalid JSON', ...post('{"key":'), status: 400, expect: { code: 'invalid_json', message: 'the request body is not valid JSON' }, via: 'replay' },
  { name: 'prototype poisoning', ...post('{"__proto__":{"x":1},"key":"a","value":"b"}'), status: 400, via: 'replay' },
  { name: 'a byte-order mark', ...post('\uFEFF{"key":"bom","value":"b"}'), status: 200, via: 'replay' },
  { name: 'text/plain', ...post('{"key":"a","value":"b"}', { 'content-type': 'text/plain' }), status: 415, via: 'fastify' },
  { name: 'empty body for set', ...post(''), status: 400, via: 'fastify' },
  { name: 'body over the limit', ...post(`{"key":"big","value":"${'x'.repeat(MAX_BODY_BYTES)}"}`), status: 413, via: 'fastify' },
  { name: 'empty array push', method: 'PATCH', path: '/api/v1/e/push', headers: JSON_HEADERS, body: '{"value":[]}', status: 400, expect: { code: 'invalid_request', message: 'value must not be an empty array' }, via: 'replay' },
  { name: 'unicode value', ...post('{"key":"u","value":"héllo 😀 \\u0000"}'), status: 200, via: 'fast' },
  { name: 'get the unicode value', method: 'GET', path: '/api/v1/u', status: 200, via: 'fast' },
  { name: 'key that needs percent-encoding', ...post('{"key":"a b/c","value":"sp"}'), status: 200, via: 'fast' },
  { name: 'get it percent-encoded', method: 'GET', path: '/api/v1/a%20b%2Fc', status: 200, via: 'fastify' },
  { name: 'bad percent-encoding', method: 'GET', path: '/api/v1/a%zz', status: 400, via: 'fastify' },
  { name: 'query string', method: 'GET', path: '/api/v1/a?x=1', status: 200, via: 'fastify' },
  { name: 'key over the limit', method: 'GET', path: `/api/v1/${'k'.repeat(MAX_KEY_BYTES + 1)}`, status: 404, via: 'fastify' },
  { name: 'key at the limit', ...post(`{"key":"${'k'.repeat(MAX_KEY_BYTES)}","value":"v"}`), status: 200, via: 'fast' },
  { name: 'get the key at the limit', method: 'GET', path: `/api/v1/${'k'.repeat(MAX_KEY_BYTES)}`, status: 200, via: 'fast' },
  { name: 'dots and colons', ...post('{"key":"user:1.x~_-","value":"v"}'), status: 200, via: 'fast' },
  { name: 'get dots and colons', method: 'GET', path: '/api/v1/user:1.x~_-', status: 200, via: 'fast' },
  { name: 'a key that is a dot', ...post('{"key":".","value":"dot"}'), status: 200, via: 'fast' },
  { name: 'get the dot key', method: 'GET', path: '/api/v1/.', status: 200, via: 'fast' },
  { name: 'get a dot-dot key', method: 'GET', path: '/api/v1/..', status: 404, via: 'fast' },
  { name: 'a key named like the docs', ...post('{"key":"docs","value":"v"}'), status: 200, via: 'fast' },
  { name: 'get the key named docs', method: 'GET', path: '/api/v1/docs', status: 200, via: 'fastify' },
  { name: 'a key named set', method: 'PATCH', path: '/api/v1/set/push', headers: JSON_HEADERS, body: '{"value":"s"}', status: 200, via: 'fast' },
  { name: 'get the key named set', method: 'GET', path: '/api/v1/set', status: 200, via: 'fast' },
  { name: 'pop with a JSON content type and no body', method: 'PATCH', path: '/api/v1/l/pop', headers: JSON_HEADERS, status: 400, via: 'fastify' },
  {
    name: 'chunked body',
    method: 'POST',
    path: '/api/v1/set',
    headers: { ...JSON_HEADERS, 'transfer-encoding': 'chunked' },
    body: '18\r\n{"key":"ch","value":"b"}\r\n0\r\n\r\n',
    status: 200,
    via: 'fastify',
  },
  { name: 'HEAD', method: 'HEAD', path: '/api/v1/a', status: 200, via: 'fastify' },
  { name: 'DELETE', method: 'DELETE', path: '/api/v1/c', status: 200, via: 'fast' },
  { name: 'update', method: 'PATCH', path: '/api/v1/a', headers: JSON_HEADERS, body: '{"value":"b2"}', status: 200, via: 'fast' },
  { name: 'range (a query string)', method: 'GET', path: '/api/v1/l/range?start=0&stop=-1', status: 200, via: 'fastify' },
  { name: 'ttl', method: 'GET', path: '/api/v1/a/ttl', status: 200, via: 'fast' },
  { name: 'set the ttl', method: 'PATCH', path: '/api/v1/a/ttl', headers: JSON_HEADERS, body: '{"ttl":"1h"}', status: 200, via: 'fast' },
  { name: 'pop with an Idempotency-Key', method: 'PATCH', path: '/api/v1/l/pop', headers: { 'idempotency-key': 'k-pop' }, status: 200, via: 'fastify' },
  { name: 'the same pop again: the kept answer', method: 'PATCH', path: '/api/v1/l/pop', headers: { 'idempotency-key': 'k-pop' }, status: 200, via: 'fastify' },
  { name: 'unknown route', method: 'GET', path: '/api/v2/a', status: 404, via: 'fastify' },
  { name: 'the OpenAPI document', method: 'GET', path: '/api/v1/docs/swagger.json', status: 200, via: 'fastify' },
];

interface Answer {
  /** Status line and headers without Date, then the body. */
  text: string;
  status: number;
  body: string;
}

/** Sends one raw HTTP/1.1 request on a new connection and reads one answer. */
function send(port: number, c: Case): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const body = c.body === undefined ? Buffer.alloc(0) : Buffer.from(c.body);
    const headers: Record<string, string> = { host: 'localhost', ...c.headers };
    if (c.body !== undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(body.length);
    const head = `${c.method} ${c.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headText = all.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(headText)?.[1] ?? 0);
      const bodyLength = c.method === 'HEAD' ? 0 : length;
      if (all.length < end + 4 + bodyLength) return;
      socket.destroy();
      const text = headText
        .split('\r\n')
        .filter((line) => !/^date:/i.test(line))
        .join('\n');
      resolve({ text, status: Number(headText.split(' ')[1]), body: all.subarray(end + 4, end + 4 + bodyLength).toString('utf8') });
    });
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}

interface Server {
  app: FastifyInstance;
  store: Store;
  metrics: Metrics;
  port: number;
  answers: Answer[];
  /** How the fast-path server answered each case (undefined on the Fastify-only server). */
  routes: (Case['via'] | 'listener' | undefined)[];
}

async function startServer(fastPath: boolean): Promise<Server> {
  let now = T0;
  const store = createStore({ clock: { now: () => now++ }, cleanupIntervalMs: 0, maxKeyBytes: MAX_KEY_BYTES });
  const metrics = createMetrics({ store, defaultMetrics: false });
  const app = await buildApp({ store, metrics, fastPath, maxBodyBytes: MAX_BODY_BYTES, maxKeyBytes: MAX_KEY_BYTES });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const server: Server = { app, store, metrics, port: (app.server.address() as AddressInfo).port, answers: [], routes: [] };
  for (const c of CASES) {
    now = T0 + server.answers.length; // both servers see the same time for the same case
    const before = { ...(fastPathStats(app) ?? { answered: 0, replayed: 0, handedOver: 0, failed: 0 }) };
    server.answers.push(await send(server.port, c));
    const after = fastPathStats(app);
    server.routes.push(
      after === undefined
        ? undefined
        : after.answered > before.answered
          ? // 'fast' is the raw front's own answer; after a handover the listener's fast path answered
            after.handedOver > before.handedOver
            ? 'listener'
            : 'fast'
          : after.replayed > before.replayed
            ? 'replay'
            : 'fastify',
    );
  }
  return server;
}

describe('HTTP fast path', () => {
  let fast: Server;
  let plain: Server;

  beforeAll(async () => {
    fast = await startServer(true);
    plain = await startServer(false);
  });
  afterAll(async () => {
    await fast?.app.close();
    await plain?.app.close();
    fast?.store.close();
    plain?.store.close();
  });

  it('is off when asked to be', () => {
    expect(fastPathStats(plain.app)).toBeUndefined();
    expect(fastPathStats(fast.app)).toBeDefined();
  });

  describe.each(CASES.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const c = CASES[i]!;
    it(`answers ${c.status}, the same bytes on both paths`, () => {
      expect(plain.answers[i]!.status).toBe(c.status);
      if (c.expect !== undefined) expect(JSON.parse(plain.answers[i]!.body)).toEqual(c.expect);
      expect(fast.answers[i]!.text).toBe(plain.answers[i]!.text);
      expect(fast.answers[i]!.body).toBe(plain.answers[i]!.body);
    });
    it(`is answered by ${c.via}`, () => {
      expect(fast.routes[i]).toBe(c.via);
    });
  });

  it('records the same request metrics on both paths', async () => {
    const requests = async (server: Server) =>
      (await server.metrics.registry.getSingleMetricAsString('memkv_http_requests_total')).split('\n').sort();
    const counts = async (server: Server) =>
      (await server.metrics.registry.getSingleMetricAsString('memkv_http_request_duration_seconds'))
        .split('\n')
        .filter((line) => line.startsWith('memkv_http_request_duration_seconds_count'))
        .sort();
    const fastRequests = await requests(fast);
    expect(fastRequests).toEqual(await requests(plain));
    const gets = CASES.filter((c) => c.method === 'GET' && c.status === 200 && /^\/api\/v1\/[^/]+$/.test(c.path.split('?')[0]!)).length;
    expect(fastRequests.filter((line) => line.includes(`method="GET",route="/api/v1/:key",status="200"`))).toEqual([`memkv_http_requests_total{method="GET",route="/api/v1/:key",status="200"} ${gets}`]);
    expect(await counts(fast)).toEqual(await counts(plain));
  });

  it('leaves both stores in the same state, counters included', () => {
    const dump = (store: Store) => [...store.entries()].sort((a, b) => (a.key < b.key ? -1 : 1));
    expect(dump(fast.store)).toEqual(dump(plain.store));
    expect(fast.store.stats()).toEqual(plain.store.stats());
    expect(fast.store.stats().misses).toBeGreaterThan(0);
    expect(fast.store.size).toBeGreaterThan(5);
  });
});

describe('HTTP fast path and server errors', () => {
  it('leaves a 5xx refusal of the store (out_of_memory) to Fastify, which logs it', async () => {
    const answers: Answer[] = [];
    const replayed: number[] = [];
    for (const fastPath of [true, false]) {
      const store = createStore({ cleanupIntervalMs: 0, maxMemoryBytes: 1000, evictionPolicy: 'noeviction' });
      const app = await buildApp({ store, fastPath });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const big: Case = { name: 'too big', ...post(`{"key":"k","value":"${'x'.repeat(2000)}"}`), status: 507, via: 'replay' };
      answers.push(await send((app.server.address() as AddressInfo).port, big));
      replayed.push(fastPathStats(app)?.replayed ?? -1);
      expect(store.stats().commands.set).toBe(fastPath ? 2 : 1); // the fast path's attempt, then Fastify's
      await app.close();
      store.close();
    }
    expect(answers[0]!.status).toBe(507);
    expect(JSON.parse(answers[0]!.body).code).toBe('out_of_memory');
    expect(answers[0]!.text).toBe(answers[1]!.text);
    expect(answers[0]!.body).toBe(answers[1]!.body);
    expect(replayed).toEqual([1, -1]);
  });
});

describe('HTTP fast path switch', () => {
  /** An app whose durable hook holds every write until `release()`; `calls()` counts the waits. */
  async function startHeld(fastPath = true) {
    const store = createStore({ cleanupIntervalMs: 0 });
    let release: () => void = () => {};
    let calls = 0;
    const durable = () => {
      calls++;
      return new Promise<void>((resolve) => (release = resolve));
    };
    const app = await buildApp({ store, durable, fastPath });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { store, app, port: (app.server.address() as AddressInfo).port, calls: () => calls, release: () => release() };
  }

  /** A raw connection that has sent one `POST /set` of k=v; `received()` is everything answered so far. */
  function openWithSet(port: number) {
    const body = '{"key":"k","value":"v"}';
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.write(`POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    return { socket, received: () => received };
  }

  it('answers writes only once the durable hook resolves (PERSISTENCE_FSYNC=always), and reads at once', async () => {
    const { store, app, port, calls, release } = await startHeld();
    let answered = false;
    const written = send(port, { name: 'set', ...post('{"key":"k","value":"v"}'), status: 200, via: 'fast' });
    void written.then(() => (answered = true));
    await expect.poll(calls).toBe(1);
    // Applied in memory (a read sees it), but not answered before the disk says so.
    expect(store.get('k')?.value).toBe('v');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    release();
    expect((await written).status).toBe(200);
    expect(fastPathStats(app)).toEqual({ answered: 1, replayed: 0, handedOver: 0, failed: 0 });
    expect((await send(port, { name: 'get', method: 'GET', path: '/api/v1/k', status: 200, via: 'fast' })).status).toBe(200);
    expect(fastPathStats(app)!.answered).toBe(2);
    await app.close();
    store.close();
  });

  it('keeps the answers of a connection in order when it sends more while a write waits for the log', async () => {
    const { store, app, port, calls, release } = await startHeld();
    const { socket, received } = openWithSet(port);
    await expect.poll(calls).toBe(1);
    // A read and a write on the same connection while the first write waits: both wait their turn.
    socket.write('GET /api/v1/k HTTP/1.1\r\nHost: x\r\n\r\nPATCH /api/v1/k/pop HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received()).toBe('');
    release();
    await expect.poll(() => (received().match(/HTTP\/1\.1 /g) ?? []).length).toBe(3);
    socket.destroy();
    expect([...received().matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => Number(m[1]))).toEqual([200, 200, 409]);
    expect(received().indexOf('"value":"v"')).toBeGreaterThan(received().indexOf('HTTP/1.1 200'));
    expect(fastPathStats(app)).toMatchObject({ answered: 3, handedOver: 0 });
    await app.close();
    store.close();
  });

  for (const fastPath of [true, false]) {
    it(`serves a request that arrives on a busy connection while the server closes, and ends the connection (fast path ${fastPath ? 'on' : 'off'})`, async () => {
      const { store, app, port, calls, release } = await startHeld(fastPath);
      const { socket, received } = openWithSet(port);
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      await expect.poll(calls).toBe(1);
      const closed = app.close();
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.write('GET /api/v1/k HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await ended;
      await closed;
      const statuses = [...received().matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => Number(m[1]));
      expect(statuses).toEqual([200, 200]);
      expect(received().slice(received().lastIndexOf('HTTP/1.1 '))).toContain('"value":"v"'); // the GET saw the write
      expect(received().toLowerCase()).toContain('connection: close');
      store.close();
    });
  }

  it('answers 500 persistence_failed for the writes of a chunk whose fsync fails, in order with the rest', async () => {
    const store = createStore({ cleanupIntervalMs: 0 });
    store.set('l', ['a']);
    const durable = () => Promise.reject(new MemkvError('persistence_failed', 'fsync failed (EIO)'));
    const app = await buildApp({ store, durable });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    // One write that fails on disk, one read and one refused write (409) in one pipelined chunk.
    const body = '{"key":"k","value":"v"}';
    const raw =
      `POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
      'GET /api/v1/l HTTP/1.1\r\nHost: x\r\n\r\n' +
      'PATCH /api/v1/k/pop HTTP/1.1\r\nHost: x\r\n\r\n';
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if ((received.match(/HTTP\/1\.1 /g) ?? []).length === 3) {
          socket.destroy();
          resolve(received);
        }
      });
      socket.on('error', reject);
      socket.write(raw);
    });
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([500, 200, 409]);
    expect(text).toContain('"code":"persistence_failed"');
    await app.close();
    store.close();
  });

  it('stays off with authentication, which it does not implement: a GET without a token is refused over TCP', async () => {
    const t = await createAuthTestApp();
    t.store.set('secret', 'value');
    expect(fastPathStats(t.app)).toBeUndefined();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const answer = await send((t.app.server.address() as AddressInfo).port, { name: 'get', method: 'GET', path: '/api/v1/secret', status: 401, via: 'fastify' });
    expect(answer.status).toBe(401);
    expect(answer.body).not.toContain('value');
    await t.close();
  });

  it('stays off with per-request debug logging, which it does not implement', async () => {
    const store = createStore({ cleanupIntervalMs: 0 });
    const app = await buildApp({ store, logger: pino({ level: 'debug' }, { write: () => {} }) });
    expect(fastPathStats(app)).toBeUndefined();
    await app.close();
    store.close();
  });
});

describe('fastPathBlockers', () => {
  it('names each feature the fast path does not implement', () => {
    expect(fastPathBlockers({ requestLogging: false })).toEqual([]);
    expect(fastPathBlockers({ requestLogging: true, authentication: true })).toEqual(['request logging (VERBOSE=debug)', 'authentication']);
  });
});
