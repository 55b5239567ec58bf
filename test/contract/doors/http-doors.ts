/**
 * The HTTP front doors: every operation written as its request (one mapping for all), sent
 * through `app.inject()` or over TCP to a listening server, with the raw front and fast path on
 * or off.
 */
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { expect } from 'vitest';
import { createStore } from '../../../src/engine/store.js';
import { createApiServer } from '../../../src/http/api-server.js';
import { buildApp, fastPathStats } from '../../../src/http/app.js';
import { readTlsFiles } from '../../../src/http/tls.js';
import { seg } from '../../helpers/app.js';
import { makeTestCertificates } from '../../helpers/certificates.js';
import { startAnyMemkv, startMemkv } from '../../helpers/servers.js';
import { WireConnection } from '../../helpers/wire.js';
import type { ContractOp, Door, HttpRequest, Outcome } from '../suite.js';

const API = '/api/v1';
const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const MINIMAL_HEADERS = { prefer: 'return=minimal' } as const;

/** A request with a JSON body (`undefined` fields are left out, as JSON.stringify does). */
function withJson(method: HttpRequest['method'], path: string, body: unknown, headers: Record<string, string> = {}): HttpRequest {
  return { method, path, body: JSON.stringify(body), headers: { ...JSON_HEADERS, ...headers } };
}

/**
 * A precondition as headers: `If-Match: "N"` for a version, `If-None-Match: *` for a missing key.
 * (push and setTtl send theirs as the body's `if_version`, so that both forms are held to the contract.)
 */
function preconditionHeaders(ifVersion: number | null | undefined, ifAbsent?: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  if (typeof ifVersion === 'number') headers['if-match'] = `"${ifVersion}"`;
  if (ifVersion === null || ifAbsent === true) headers['if-none-match'] = '*';
  return headers;
}

/** The request of an operation, as the README's API section writes it. */
export function requestFor(op: ContractOp): HttpRequest {
  switch (op.op) {
    case 'set':
      return withJson('POST', '/set', { key: op.key, value: op.value, ttl: op.ttl }, preconditionHeaders(op.ifVersion, op.ifAbsent));
    case 'get':
      return { method: 'GET', path: `/${seg(op.key)}` };
    case 'update':
      // If-None-Match is for set only: a null version goes in the body.
      return op.ifVersion === null
        ? withJson('PATCH', `/${seg(op.key)}`, { value: op.value, ttl: op.ttl, if_version: null })
        : withJson('PATCH', `/${seg(op.key)}`, { value: op.value, ttl: op.ttl }, preconditionHeaders(op.ifVersion));
    case 'remove':
      return { method: 'DELETE', path: `/${seg(op.key)}`, headers: preconditionHeaders(op.ifVersion) };
    case 'push':
      return withJson('PATCH', `/${seg(op.key)}/push`, { value: op.value, ttl: op.ttl, if_version: op.ifVersion }, op.minimal === true ? MINIMAL_HEADERS : {});
    case 'pop':
      return { method: 'PATCH', path: `/${seg(op.key)}/pop`, headers: { ...(op.minimal === true ? MINIMAL_HEADERS : {}), ...preconditionHeaders(op.ifVersion) } };
    case 'txn':
      return withJson('POST', '/db/txn', { checks: op.checks, ops: op.ops });
    case 'range':
      return { method: 'GET', path: `/${seg(op.key)}/range?start=${op.start}&stop=${op.stop}` };
    case 'getTtl':
      return { method: 'GET', path: `/${seg(op.key)}/ttl` };
    case 'setTtl':
      return withJson('PATCH', `/${seg(op.key)}/ttl`, { ttl: op.ttl, if_version: op.ifVersion });
    case 'size':
      return { method: 'GET', path: '/db/size' };
    case 'flush':
      return { method: 'POST', path: '/db/flush' };
    case 'keys': {
      const query = new URLSearchParams();
      if (op.prefix !== undefined) query.set('prefix', op.prefix);
      if (op.cursor !== undefined) query.set('cursor', op.cursor);
      if (op.limit !== undefined) query.set('limit', String(op.limit));
      if (op.delimiter !== undefined) query.set('delimiter', op.delimiter);
      const text = query.toString();
      return { method: 'GET', path: `/db/keys${text === '' ? '' : `?${text}`}` };
    }
    case 'deletePrefix':
      return withJson('POST', '/db/delete-prefix', { prefix: op.prefix, dry_run: op.dryRun });
  }
}

/** The answer's body as JSON, or as text when it is not JSON (which no case expects). */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A door over any function that sends one HTTP request (and answers the `ETag` header too). */
function httpDoor(send: (request: HttpRequest) => Promise<Outcome>, close: () => Promise<void>): Door {
  const withoutEtag = async (request: HttpRequest): Promise<Outcome> => {
    const { etag, ...outcome } = await send(request);
    return request.readEtag === true ? { ...outcome, etag } : outcome;
  };
  return { call: (op) => withoutEtag(requestFor(op)), http: withoutEtag, close };
}

/** `buildApp()` over a store with the system clock, requests through `app.inject()`: no sockets. */
export async function openInjectDoor(): Promise<Door> {
  const store = createStore();
  const app = await buildApp({ store });
  return httpDoor(
    async ({ method, path, body, headers }) => {
      const response = await app.inject({ method, url: API + path, payload: body, headers });
      return { status: response.statusCode, body: parseBody(response.body), etag: response.headers.etag as string | undefined };
    },
    async () => {
      await app.close();
      store.close();
    },
  );
}

/** Sends over TCP with the platform `fetch` (keep-alive connections, as most clients hold them). */
function fetchTo(baseUrl: string): (request: HttpRequest) => Promise<Outcome> {
  return async ({ method, path, body, headers }) => {
    // Bytes, not a string: fetch would add `Content-Type: text/plain` to a string body.
    const response = await fetch(baseUrl + API + path, { method, body: body === undefined ? undefined : Buffer.from(body), headers });
    return { status: response.status, body: parseBody(await response.text()), etag: response.headers.get('etag') ?? undefined };
  };
}

/**
 * Sends each request as exact bytes on a connection of its own. The raw front keeps a connection
 * only until the first request it does not answer itself (a query string, a percent-encoded key,
 * an error), then hands it to node:http for good; a fresh connection per request puts every
 * request in front of it first.
 */
function wireTo(port: number, tls?: { ca: string }): (request: HttpRequest) => Promise<Outcome> {
  return async ({ method, path, body, headers = {} }) => {
    let head = `${method} ${API}${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    if (body !== undefined) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    const connection = await WireConnection.open(port, tls);
    try {
      await connection.write(Buffer.from(`${head}\r\n${body ?? ''}`, 'utf8'));
      const [answer] = await connection.waitForAnswers(1, 10_000);
      if (answer === undefined) throw new Error(`no answer to ${method} ${path} (connection ${connection.closed ? 'closed' : 'timed out'})`);
      return { status: answer.status, body: parseBody(answer.body), etag: /^etag: (.*)$/im.exec(answer.head)?.[1] };
    } finally {
      connection.close();
    }
  };
}

/** A real server (`startServer` with its defaults: the raw front and the fast path on), over TCP. */
export async function openTcpRawFrontDoor(): Promise<Door> {
  const server = await startMemkv();
  return httpDoor(wireTo(server.port), () => server.close());
}

/** `buildApp({ fastPath: false })` listening on TCP: every request goes through node:http and Fastify. */
export async function openTcpFastifyDoor(): Promise<Door> {
  const store = createStore();
  const app: FastifyInstance = await buildApp({ store, fastPath: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  expect(fastPathStats(app), 'the fast path must be off on this door').toBeUndefined();
  const { port } = app.server.address() as AddressInfo;
  return httpDoor(fetchTo(`http://127.0.0.1:${port}`), async () => {
    await app.close();
    store.close();
  });
}

/**
 * A real server over HTTPS (`startServer` with TLS_CERT_FILE and TLS_KEY_FILE from certificates
 * made for the test; the raw front and the fast path on, reading the decrypted stream), each
 * request as exact bytes on a TLS connection of its own.
 */
export async function openTlsRawFrontDoor(): Promise<Door> {
  const certificates = makeTestCertificates();
  const server = await startMemkv({ tlsCertFile: certificates.server.certFile, tlsKeyFile: certificates.server.keyFile });
  expect(server.secure).toBe(true);
  return httpDoor(wireTo(server.port, { ca: certificates.ca.cert }), async () => {
    await server.close();
    certificates.remove();
  });
}

/** `buildApp({ fastPath: false })` on an HTTPS API server: every request through node:https and Fastify, with fetch. */
export async function openTlsFastifyDoor(): Promise<Door> {
  const certificates = makeTestCertificates();
  const store = createStore();
  const api = createApiServer({ tls: readTlsFiles({ certFile: certificates.server.certFile, keyFile: certificates.server.keyFile }) });
  const app: FastifyInstance = await buildApp({ store, fastPath: false, server: api });
  expect(fastPathStats(app), 'the fast path must be off on this door').toBeUndefined();
  await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
  const { port } = api.server.address() as AddressInfo;
  const dispatcher = new Agent({ connect: { ca: certificates.ca.cert } });
  return httpDoor(
    async ({ method, path, body, headers }) => {
      const response = await undiciFetch(`https://localhost:${port}${API}${path}`, { method, body: body === undefined ? undefined : Buffer.from(body), headers, dispatcher });
      return { status: response.status, body: parseBody(await response.text()), etag: response.headers.get('etag') ?? undefined };
    },
    async () => {
      await dispatcher.close();
      await app.close();
      await new Promise<void>((resolve) => api.server.close(() => resolve()));
      store.close();
      certificates.remove();
    },
  );
}

let redisDoors = 0;

/**
 * A real server with STORAGE=redis on `redis` (a URL, or the `host:port,...` of a cluster), over
 * TCP. Each door has a key prefix of its own, so a fresh door sees an empty database on the same
 * Redis: which the size and flush cases also prove that memkv counts and removes its own keys only.
 */
export function openTcpRedisDoor(redis: () => { url?: string; clusterNodes?: string }): () => Promise<Door> {
  return async () => {
    const { url, clusterNodes } = redis();
    const server = await startAnyMemkv({
      storage: 'redis',
      ...(url === undefined ? {} : { redisUrl: url }),
      ...(clusterNodes === undefined ? {} : { redisClusterNodes: clusterNodes }),
      redisKeyPrefix: `door${++redisDoors}-${process.pid}:`,
    });
    // The server starts without waiting for Redis: wait until it is connected.
    const deadline = Date.now() + 10_000;
    while (server.redis?.ready !== true) {
      if (Date.now() > deadline) throw new Error('memkv did not connect to Redis within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return httpDoor(wireTo(server.port), () => server.close());
  };
}
