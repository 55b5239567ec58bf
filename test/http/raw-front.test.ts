/**
 * The raw front over real TCP: what it answers itself (complete hot requests, pipelined), what it
 * hands to node:http (split requests, other methods, HTTP/1.0, Connection: close, chunked
 * bodies, Expect, malformed bytes), and that the answers are the bytes of a server without it.
 */
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../src/engine/store.js';
import { buildApp, fastPathStats } from '../../src/http/app.js';
import { parseRequest } from '../../src/http/raw-front.js';

const MAX_BODY_BYTES = 1024;
const T0 = 1_764_000_000_000;

interface Server {
  app: FastifyInstance;
  store: Store;
  port: number;
}

async function start(fastPath: boolean): Promise<Server> {
  const store = createStore({ clock: { now: () => T0 }, cleanupIntervalMs: 0 });
  const app = await buildApp({ store, fastPath, maxBodyBytes: MAX_BODY_BYTES });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, store, port: (app.server.address() as AddressInfo).port };
}

interface Answer {
  status: number;
  /** Status line and headers without Date. */
  head: string;
  body: string;
}

interface Exchange {
  answers: Answer[];
  /** Whether the server closed the connection. */
  closed: boolean;
  socket: Socket;
}

/** Splits what arrived into answers (a body only by Content-Length). */
function parseAnswers(data: Buffer): Answer[] {
  const answers: Answer[] = [];
  let p = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', p);
    if (end < 0) return answers;
    const head = data.subarray(p, end).toString('latin1');
    let length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
    if (/\r\ntransfer-encoding: chunked/i.test(head)) {
      // Only the empty chunked bodies of node:http's own refusals occur here.
      const last = data.indexOf('0\r\n\r\n', end + 4);
      if (last < 0) return answers;
      length = last + 5 - (end + 4);
    }
    if (data.length < end + 4 + length) return answers;
    answers.push({
      status: Number(head.split(' ')[1]),
      head: head
        .split('\r\n')
        .filter((line) => !/^date:/i.test(line))
        .join('\n'),
      body: data.subarray(end + 4, end + 4 + length).toString('utf8'),
    });
    p = end + 4 + length;
  }
}

/**
 * Opens a connection, sends each of `writes` as its own write (after `between(i)` resolves for
 * the second and later ones), and resolves once `count` answers arrived or the server closed.
 */
function exchange(
  port: number,
  writes: (string | Buffer)[],
  count: number,
  between: (i: number) => Promise<void> = async () => {},
  keepOpen = false,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      if (!keepOpen || closed) socket.destroy();
      resolve({ answers: parseAnswers(Buffer.concat(chunks)), closed, socket });
    };
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const answers = parseAnswers(Buffer.concat(chunks));
      // An answer with Connection: close is followed by the close: wait for it.
      if (answers.length >= count && !answers[answers.length - 1]!.head.includes('Connection: close')) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', async () => {
      for (let i = 0; i < writes.length; i++) {
        if (i > 0) await between(i);
        socket.write(writes[i]!);
      }
    });
  });
}

const get = (key: string, extra = ''): string => `GET /api/v1/${key} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;
const set = (key: string, value: string, extra = ''): string => {
  const body = JSON.stringify({ key, value });
  return `POST /api/v1/set HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
};
const push = (key: string, value: string): string => {
  const body = JSON.stringify({ value });
  return `PATCH /api/v1/${key}/push HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
};
const pop = (key: string): string => `PATCH /api/v1/${key}/pop HTTP/1.1\r\nHost: localhost\r\n\r\n`;

describe('raw front', () => {
  let fast: Server;
  let plain: Server;

  beforeAll(async () => {
    fast = await start(true);
    plain = await start(false);
    for (const server of [fast, plain]) {
      server.store.set('a', 'alpha');
      server.store.set('list', ['x', 'y', 'z']);
      server.store.set('a b', 'spaced');
    }
  });
  afterAll(async () => {
    for (const server of [fast, plain]) {
      await server?.app.close();
      server?.store.close();
    }
  });

  /** Sends the same bytes to both servers; the answers must be equal but for Date. */
  /**
   * The answers with the versions written as N: the two servers' revisions differ (some cases run
   * on one only); each answer's ETag must still be its body's version.
   */
  const versionless = (answers: Exchange['answers']): Exchange['answers'] =>
    answers.map((answer) => {
      const version = /"version":(\d+)/.exec(answer.body)?.[1];
      const etag = /^etag: "(\d+)"$/m.exec(answer.head)?.[1];
      if (etag !== undefined) expect(etag).toBe(version);
      if (version === undefined) return answer;
      // The length counts the version's digits.
      const head = answer.head.replace(/^etag: "\d+"$/m, 'etag: "N"').replace(/^content-length: \d+$/m, `content-length: ${Buffer.byteLength(answer.body) - version.length}+N`);
      return { ...answer, head, body: answer.body.replace(/"version":\d+/g, '"version":N') };
    });

  async function same(writes: string[], count: number): Promise<Exchange> {
    const a = await exchange(fast.port, writes, count);
    const b = await exchange(plain.port, writes, count);
    expect(a.answers.length).toBe(count);
    expect(versionless(a.answers)).toEqual(versionless(b.answers));
    expect(a.closed).toBe(b.closed);
    return a;
  }

  it('answers pipelined hot requests in one write itself, in order', async () => {
    const before = { ...fastPathStats(fast.app)! };
    const { answers } = await exchange(fast.port, [set('p1', 'one') + get('p1') + push('pl', 'v') + pop('pl') + get('missing')], 5);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 404]);
    expect(JSON.parse(answers[1]!.body)).toMatchObject({ key: 'p1', value: 'one' });
    expect(JSON.parse(answers[3]!.body)).toMatchObject({ key: 'pl', popped: 'v', value: [] });
    const after = fastPathStats(fast.app)!;
    expect(after.answered - before.answered).toBe(5);
    expect(after.handedOver).toBe(before.handedOver);
  });

  it('answers with the bytes node:http and Fastify send (but Date)', async () => {
    const a = await same([get('a') + pop('list') + get('nothing') + pop('a')], 4);
    expect(a.answers.map((x) => x.status)).toEqual([200, 200, 404, 409]);
    expect(a.answers[0]!.head).toMatch(
      /^HTTP\/1\.1 200 OK\netag: "\d+"\ncontent-type: application\/json; charset=utf-8\ncontent-length: \d+\nConnection: keep-alive\nKeep-Alive: timeout=72$/,
    );
  });

  it('hands a request split across two writes to node:http, which answers it', async () => {
    const before = fastPathStats(fast.app)!.handedOver;
    const request = set('split', 'halves');
    const { answers } = await exchange(fast.port, [request.slice(0, 30), request.slice(30) + get('split')], 2, () =>
      expect.poll(() => fastPathStats(fast.app)!.handedOver).toBe(before + 1),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(JSON.parse(answers[1]!.body)).toMatchObject({ key: 'split', value: 'halves' });
  });

  it('hands over in the middle of a pipeline: earlier answers first, the rest by node:http, in order', async () => {
    const before = { ...fastPathStats(fast.app)! };
    // A percent-encoded key is outside the front's subset: Fastify decodes it ("gone").
    const remove = 'DELETE /api/v1/go%6Ee HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const { answers } = await exchange(fast.port, [set('gone', 'soon') + get('gone') + remove + get('gone') + get('a')], 5);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 404, 200]);
    const after = fastPathStats(fast.app)!;
    expect(after.handedOver - before.handedOver).toBe(1);
    expect(after.answered - before.answered).toBe(2 + 2); // the front's two, the listener's two GETs
  });

  it('hands over HTTP/1.0, which node:http answers and closes', async () => {
    const a = await same(['GET /api/v1/a HTTP/1.0\r\nHost: localhost\r\n\r\n'], 1);
    expect(a.answers[0]!.status).toBe(200);
    expect(a.closed).toBe(true);
  });

  it('hands over Connection: close, which node:http answers and closes', async () => {
    const a = await same([get('a', 'Connection: close\r\n')], 1);
    expect(a.answers[0]!.head).toContain('Connection: close');
    expect(a.closed).toBe(true);
  });

  it('hands over chunked bodies', async () => {
    const body = '{"key":"ch","value":"chunked"}';
    const chunked = `POST /api/v1/set HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    await same([chunked + get('ch')], 2);
    expect(fast.store.get('ch')?.value).toBe('chunked');
  });

  it('hands over Expect: 100-continue', async () => {
    const a = await same([set('ex', 'pect', 'Expect: 100-continue\r\n')], 2);
    expect(a.answers.map((x) => x.status)).toEqual([100, 200]);
  });

  it.each([
    ['text after the version', 'GET /api/v1/a HTTP/1.1 x\r\nHost: localhost\r\n\r\n'],
    ['a control byte in the target', 'GET /api/v1/a\x01 HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    ['a CR without LF', 'GET /api/v1/a HTTP/1.1\rHost: localhost\r\n\r\n'],
    ['an unknown version', 'GET /api/v1/a HTTP/1.x\r\nHost: localhost\r\n\r\n'],
    ['a space before the colon', 'GET /api/v1/a HTTP/1.1\r\nHost : localhost\r\n\r\n'],
    ['a NUL in a value', 'GET /api/v1/a HTTP/1.1\r\nHost: local\0host\r\n\r\n'],
    ['a bare LF in a value', 'GET /api/v1/a HTTP/1.1\r\nHost: localhost\r\nX-A: b\nc\r\n\r\n'],
    ['two Content-Lengths', `${set('cl', 'v').replace('Content-Length:', 'Content-Length: 12\r\nContent-Length:')}`],
    ['no Host', 'GET /api/v1/a HTTP/1.1\r\n\r\n'],
  ])('hands over a malformed request (%s), which node:http refuses with 400', async (_name, request) => {
    const a = await same([request], 1);
    expect(a.answers[0]!.status).toBe(400);
  });

  it.each([
    ['Idempotency-Key', 'Idempotency-Key: k-1\r\n'],
    ['If-Match', 'If-Match: *\r\n'],
    ['If-None-Match', 'If-None-Match: *\r\n'],
  ])('hands over a write with %s, which Fastify answers', async (name, header) => {
    const parse = parseRequest(Buffer.from(set('hd', 'v', header)), 0);
    expect(parse).toBeUndefined();
    // If-Match: * needs the key to exist.
    fast.store.set(`h-${name}-old`, 'v0');
    const key = name === 'If-Match' ? `h-${name}-old` : `h-${name}`;
    const handedOver = fastPathStats(fast.app)!.handedOver;
    const a = await exchange(fast.port, [set(key, 'v', header) + get(key)], 2);
    expect(a.answers.map((x) => x.status)).toEqual([200, 200]);
    expect(JSON.parse(a.answers[1]!.body).value).toBe('v');
    await expect.poll(() => fastPathStats(fast.app)!.handedOver).toBe(handedOver + 1);
  });

  it('hands over a body over MAX_BODY_BYTES, which Fastify refuses with 413', async () => {
    const a = await same([set('big', 'x'.repeat(MAX_BODY_BYTES))], 1);
    expect(a.answers[0]!.status).toBe(413);
    expect(JSON.parse(a.answers[0]!.body).code).toBeDefined();
  });

  it('leaves percent-encoded keys to Fastify, with the same answer', async () => {
    const a = await same([get('a%20b') + get('a%zz')], 2);
    expect(a.answers.map((x) => x.status)).toEqual([200, 400]);
    expect(JSON.parse(a.answers[0]!.body)).toMatchObject({ key: 'a b', value: 'spaced' });
  });
});

describe('raw front connections', () => {
  it('stops building answers for a client that sends without reading, and answers everything in order once it reads', async () => {
    const store = createStore({ cleanupIntervalMs: 0 });
    const valueBytes = 64 * 1024;
    store.set('big', 'v'.repeat(valueBytes));
    const app = await buildApp({ store });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.pause(); // read nothing until the server has had to wait for us
    // 2,000 answers of 64 KiB (128 MiB) asked for in 70 KB: the front must not build them all.
    const count = 2_000;
    socket.write(get('big').repeat(count));
    let answered = -1;
    await expect
      .poll(async () => {
        const before = fastPathStats(app)!.answered;
        await new Promise((resolve) => setTimeout(resolve, 100));
        answered = fastPathStats(app)!.answered;
        return answered > 0 && answered === before;
      })
      .toBe(true);
    // What was built is bounded by what the sockets' buffers hold, not by what was asked for.
    expect(answered).toBeLessThan(count / 4);
    const chunks: Buffer[] = [];
    let received = 0;
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= count * valueBytes && parseAnswers(Buffer.concat(chunks)).length === count) resolve();
      });
      socket.resume();
    });
    const answers = parseAnswers(Buffer.concat(chunks));
    expect(answers.every((a) => a.status === 200 && JSON.parse(a.body).value.length === valueBytes)).toBe(true);
    expect(fastPathStats(app)).toMatchObject({ answered: count, handedOver: 0 });
    socket.destroy();
    await app.close();
    store.close();
  });

  it('closes an idle connection after the server keepAliveTimeout', async () => {
    const store = createStore({ cleanupIntervalMs: 0 });
    const app = await buildApp({ store });
    app.server.keepAliveTimeout = 300;
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const first = await exchange(port, [get('a')], 1, undefined, true);
    expect(first.answers[0]!.status).toBe(404);
    expect(first.answers[0]!.head).toContain('Keep-Alive: timeout=0');
    expect(fastPathStats(app)!.handedOver).toBe(0);
    await new Promise<void>((resolve) => first.socket.once('close', () => resolve()));
    await app.close();
    store.close();
  });

  it('closes cleanly with idle, handed-over and silent connections open', async () => {
    const store = createStore({ cleanupIntervalMs: 0 });
    const app = await buildApp({ store });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const raw = await exchange(port, [get('a')], 1, undefined, true);
    const handed = await exchange(port, ['DELETE /api/v1/%61 HTTP/1.1\r\nHost: localhost\r\n\r\n'], 1, undefined, true);
    const silent = await new Promise<Socket>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket));
    });
    expect(raw.closed || handed.closed).toBe(false);
    expect(fastPathStats(app)!.handedOver).toBe(1);
    const closed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
    await app.close();
    await Promise.all([closed(raw.socket), closed(handed.socket), closed(silent)]);
    expect(app.server.listening).toBe(false);
    store.close();
  });
});
