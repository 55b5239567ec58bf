/**
 * The raw front's parser is a strict subset of llhttp: every request it accepts, node:http
 * accepts too, with the same method, target, Content-Type, Content-Length and body. Checked on
 * thousands of seeded mutations of well-formed hot requests, each sent to a real node:http server.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRequest } from '../../src/http/raw-front.js';
import { seededRandom } from '../helpers/random.js';

interface Seen {
  method: string;
  target: string;
  contentType: string | null;
  contentLength: string | null;
  body: string;
}

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const seen: Seen = {
        method: request.method!,
        target: request.url!,
        contentType: request.headers['content-type'] ?? null,
        contentLength: request.headers['content-length'] ?? null,
        body: Buffer.concat(chunks).toString('hex'),
      };
      response.setHeader('connection', 'close');
      response.end(JSON.stringify(seen));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** What node:http made of `bytes` (the first request), or the status it refused them with. */
function nodeSees(bytes: Buffer): Promise<Seen | number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.end(bytes));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(data.split(' ', 2)[1]);
      if (status !== 200) return resolve(Number.isNaN(status) ? 0 : status);
      resolve(JSON.parse(data.slice(data.indexOf('\r\n\r\n') + 4)) as Seen);
    });
  });
}

const SEEDS = [
  'GET /api/v1/key HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{"key":"k","value":"v12"}',
  'PATCH /api/v1/l/push HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 13\r\n\r\n{"value":"v"}',
  'PATCH /api/v1/l/pop HTTP/1.1\r\nhost: x\r\nUser-Agent: t\r\n\r\n',
];
/** Bytes the mutations insert or substitute: the ones HTTP parsers disagree about. */
const ALPHABET = [0x20, 0x09, 0x0d, 0x0a, 0x3a, 0x30, 0x39, 0x2c, 0x3b, 0x00, 0x7f, 0x80, 0xff, 0x41, 0x2d, 0x2b, 0x22, 0x0b, 0x0c];

function mutate(seed: Buffer, random: () => number): Buffer {
  let bytes = Buffer.from(seed);
  const edits = 1 + Math.floor(random() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const byte = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
    const kind = random();
    if (kind < 0.4) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(byte), bytes.subarray(at)]);
    else if (kind < 0.7 && at < bytes.length) bytes[at] = byte;
    else if (at < bytes.length) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
  }
  return bytes;
}

describe('the raw front parser', () => {
  it('accepts only what llhttp accepts, and reads it the same', async () => {
    const random = seededRandom(16);
    const cases: Buffer[] = SEEDS.map((seed) => Buffer.from(seed, 'latin1'));
    for (let i = 0; cases.length < 3_000 && i < 200_000; i++) {
      const candidate = mutate(Buffer.from(SEEDS[i % SEEDS.length]!, 'latin1'), random);
      // Only what the front takes matters here; what it declines goes to node:http anyway.
      if (parseRequest(candidate, 0) !== undefined) cases.push(candidate);
    }
    expect(cases.length).toBeGreaterThan(1_000);
    const disagreements: string[] = [];
    for (const bytes of cases) {
      const front = parseRequest(bytes, 0)!;
      const seen = await nodeSees(bytes.subarray(0, front.end));
      const expected: Seen = {
        method: front.method,
        target: front.target,
        contentType: front.contentType ?? null,
        contentLength: front.contentLength ?? null,
        body: front.body.toString('hex'),
      };
      if (typeof seen === 'number' || JSON.stringify(seen) !== JSON.stringify(expected)) {
        disagreements.push(`${JSON.stringify(bytes.toString('latin1'))}: front ${JSON.stringify(expected)}, node:http ${JSON.stringify(seen)}`);
      }
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
  }, 120_000);
});
