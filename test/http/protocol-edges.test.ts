/**
 * HTTP edges every front door must handle as node:http does or better: a half-close after
 * requests whose answers wait for the log, a Content-Length llhttp refuses, bodies that never
 * arrive (REQUEST_TIMEOUT), and bodies sent without Content-Type (read as JSON).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMemkv } from '../helpers/servers.js';
import { WireConnection, announcesClose } from '../helpers/wire.js';

type Server = Awaited<ReturnType<typeof startMemkv>>;

const request = (method: string, path: string, body?: string, headers = ''): string =>
  `${method} /api/v1/${path} HTTP/1.1\r\nHost: x\r\n${headers}` +
  (body === undefined ? '\r\n' : `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
const json = (method: string, path: string, body: unknown): string =>
  request(method, path, JSON.stringify(body), 'Content-Type: application/json\r\n');

/** Writes `parts` one after the other on one connection, half-closes, and collects every answer until the server closes. */
function halfClose(port: number, parts: string[]): Promise<{ statuses: number[]; bodies: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true, allowHalfOpen: true });
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const statuses: number[] = [];
      const bodies: string[] = [];
      let p = 0;
      while (p < data.length) {
        const end = data.indexOf('\r\n\r\n', p);
        if (end < 0) break;
        const head = data.slice(p, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        statuses.push(Number(head.split(' ')[1]));
        bodies.push(data.slice(end + 4, end + 4 + length));
        p = end + 4 + length;
      }
      resolve({ statuses, bodies });
    });
    socket.on('connect', async () => {
      for (const part of parts) {
        await new Promise<void>((done) => socket.write(part, () => done()));
        await new Promise((done) => setTimeout(done, 5));
      }
      socket.end();
    });
  });
}

describe.each([
  { name: 'fast path on, persistence always', fastPath: true, persistence: true },
  { name: 'fast path off (debug logging), persistence always', fastPath: false, persistence: true },
  { name: 'fast path on, no persistence', fastPath: true, persistence: false },
])('a half-close after requests ($name)', ({ fastPath, persistence }) => {
  let server: Server;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'memkv-half-close-'));
    server = await startMemkv({
      ...(persistence ? { persistenceEnabled: 'true', persistenceFsync: 'always', dbPath: dir } : {}),
      // Request logging at debug switches the fast path (and the raw front) off.
      ...(fastPath ? {} : { verbose: 'debug' }),
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every request received before it, in separate segments, then closes', async () => {
    const { statuses } = await halfClose(server.port, [
      json('POST', 'set', { key: 'victim', value: 'v' }),
      request('DELETE', 'victim'),
    ]);
    expect(statuses).toEqual([200, 200]);
    expect((await fetch(`${server.url}/api/v1/victim`)).status).toBe(404);
  });

  it('answers a pipelined write, a read and a write in one segment', async () => {
    const { statuses, bodies } = await halfClose(server.port, [
      json('POST', 'set', { key: 'hc', value: ['a'] }) + request('GET', 'hc') + json('PATCH', 'hc/push', { value: 'b' }) + request('PATCH', 'hc/pop'),
    ]);
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(JSON.parse(bodies[3]!)).toMatchObject({ value: ['a'], popped: 'b' });
  });
});

describe('Content-Length', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startMemkv();
  });
  afterAll(() => server.close());

  it('with a trailing tab is refused as node:http refuses it, and nothing is applied', async () => {
    const body = JSON.stringify({ key: 'tab', value: 'v' });
    const connection = await WireConnection.open(server.port);
    await connection.write(
      Buffer.from(`POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\t\r\n\r\n${body}`),
    );
    const [answer] = await connection.waitForAnswers(1, 5_000);
    expect(answer?.status).toBe(400);
    expect(JSON.parse(answer!.body)).toMatchObject({ code: 'invalid_request' });
    expect(announcesClose(answer!)).toBe(true);
    expect((await fetch(`${server.url}/api/v1/tab`)).status).toBe(404);
    connection.close();
  });
});

describe('REQUEST_TIMEOUT', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startMemkv({ requestTimeoutMs: '1s' });
  });
  afterAll(() => server.close());

  const expect408 = async (connection: WireConnection, startedAt: number): Promise<void> => {
    const answers = await connection.waitForAnswers(1, 5_000);
    expect(answers[0]?.status).toBe(408);
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ code: 'request_timeout' });
    expect(await connection.waitForClose(2_000)).toBe(true);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
  };

  it('answers 408 to a body announced and never sent, then closes', async () => {
    const connection = await WireConnection.open(server.port);
    const startedAt = Date.now();
    await connection.write(Buffer.from('POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"key"'));
    await expect408(connection, startedAt);
  });

  it('answers 408 to a body sent a byte at a time, slower than the limit', async () => {
    const connection = await WireConnection.open(server.port);
    const startedAt = Date.now();
    const body = JSON.stringify({ key: 'slow', value: 'x'.repeat(40) });
    await connection.write(Buffer.from(`POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`));
    let sent = 0;
    const drip = setInterval(() => {
      if (connection.closed || sent >= body.length) return clearInterval(drip);
      void connection.write(Buffer.from(body[sent++]!)).catch(() => clearInterval(drip));
    }, 100);
    try {
      await expect408(connection, startedAt);
    } finally {
      clearInterval(drip);
    }
    expect((await fetch(`${server.url}/api/v1/slow`)).status).toBe(404);
  });

  it('answers 408 to a head sent a byte at a time', async () => {
    const connection = await WireConnection.open(server.port);
    const startedAt = Date.now();
    const head = 'GET /api/v1/anything HTTP/1.1\r\nHost: x\r\nX-Padding: ' + 'p'.repeat(60) + '\r\n\r\n';
    let sent = 0;
    const drip = setInterval(() => {
      if (connection.closed || sent >= head.length) return clearInterval(drip);
      void connection.write(Buffer.from(head[sent++]!)).catch(() => clearInterval(drip));
    }, 50);
    try {
      await expect408(connection, startedAt);
    } finally {
      clearInterval(drip);
    }
  });

  it('leaves a request that arrives in time alone', async () => {
    const response = await fetch(`${server.url}/api/v1/set`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'quick', value: 'v' }),
    });
    expect(response.status).toBe(200);
  });
});
