/**
 * Pipelining over real TCP: on one keep-alive connection, requests are applied in the order they
 * were received and answered in that order, whichever door serves each (the raw front, the
 * fast-path listener on node:http, Fastify). RFC 9112 §9.3.2 allows a server to process
 * pipelined requests in parallel only when all of them are safe.
 *
 * Every ordered pair of nine requests (set, get, update, push, pop, remove, a db route, an
 * unknown route, a bad body) is sent on a fresh connection, in one write and split in two writes
 * at byte boundaries; its answers and the key's state afterwards must equal those of the same two
 * requests sent one by one (each after the previous answer arrived). Each config has its own
 * server; the cases of a config run concurrently, each on its own keys.
 *
 * What is covered, per config (see {@link Coverage}; a pair is 100 to 260 bytes, 0.9 to 1.1 KB with a token):
 * - fast path on: all 81 pairs at every split point (about 14,600 connections);
 * - fast path off (debug logging) and persistence always: all 81 pairs in one write and split
 *   within 2 bytes of every line end and of the start of the second request, plus every 8th byte
 *   (about 4,300 connections each);
 * - auth on: the same with every 32nd byte (the token makes each head about 400 bytes longer;
 *   about 6,100 connections).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import type { Store } from '../../src/engine/store.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startMemkv } from '../helpers/servers.js';
import { WireConnection, announcesClose, type WireAnswer } from '../helpers/wire.js';

/** Cases of one config in flight at once. */
const CONCURRENCY = 32;
/** How long a case waits for an answer before it counts as missing. */
const ANSWER_TIMEOUT_MS = 5_000;

// ---- The requests ----

/** One request of a case, on the keys of the case (`prefix` + `k`). */
interface Op {
  method: string;
  target: (prefix: string) => string;
  /** The body, sent with `Content-Type: application/json`; none when absent. */
  body?: (prefix: string) => string;
}

/**
 * The requests paired with each other, all on one key (`k`, a list ["a","b"] before the pair),
 * so that any two data requests observe each other's order: `set` turns it into a string (push
 * and pop then answer 409), `remove` makes later reads 404 and a later push create it again.
 * The db route lists the case's own keys (the other cases' keys never show in it; the size or a
 * flush would see or wipe them); it observes whether `k` exists. Each case removes its key when
 * done, so the keyspace stays small and the listing always fits in one page (`cursor: null`).
 */
const OPS = {
  set: { method: 'POST', target: () => '/api/v1/set', body: (p) => JSON.stringify({ key: `${p}k`, value: 'set' }) },
  get: { method: 'GET', target: (p) => `/api/v1/${p}k` },
  update: { method: 'PATCH', target: (p) => `/api/v1/${p}k`, body: () => JSON.stringify({ value: ['u1', 'u2'] }) },
  push: { method: 'PATCH', target: (p) => `/api/v1/${p}k/push`, body: () => JSON.stringify({ value: 'pushed' }) },
  pop: { method: 'PATCH', target: (p) => `/api/v1/${p}k/pop` },
  remove: { method: 'DELETE', target: (p) => `/api/v1/${p}k` },
  db: { method: 'GET', target: (p) => `/api/v1/db/keys?prefix=${p}&limit=1000` },
  unknown: { method: 'GET', target: () => '/api/v1/nope/extra/segments' },
  badBody: { method: 'POST', target: () => '/api/v1/set', body: (p) => `{"key":"${p}k","value":` },
} satisfies Record<string, Op>;

type OpName = keyof typeof OPS;
const OP_NAMES = Object.keys(OPS) as OpName[];
/** Every ordered pair, an op with itself included: 81. */
const PAIRS: [OpName, OpName][] = OP_NAMES.flatMap((first) => OP_NAMES.map((second): [OpName, OpName] => [first, second]));

/** The value of `k` before each pair. */
const SETUP_VALUE = ['a', 'b'];

function requestText(op: Op, prefix: string, authorization: string): string {
  const body = op.body?.(prefix);
  const bodyHeaders = body === undefined ? '' : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  return `${op.method} ${op.target(prefix)} HTTP/1.1\r\nHost: 127.0.0.1\r\n${authorization}${bodyHeaders}\r\n${body ?? ''}`;
}

// ---- Servers ----

interface Target {
  port: number;
  store: Store;
  /** `Authorization: Bearer …\r\n` with auth on, else empty. */
  authorization: string;
  /** Case ids handed out so far. */
  cases: number;
  close(): Promise<void>;
}

/**
 * Which split points a config tries for a pair of n bytes; split 0 stands for the pair in one
 * write, split i for bytes [0, i) then [i, n).
 * - `every`: every i from 1 to n - 1.
 * - `{ stride }`: every i within 2 bytes of a line end (after each CRLF of either request, so
 *   also the end of each head and the start of each body) or of the end of the first request
 *   (the start of the second), every multiple of `stride`, and n - 1.
 */
type Coverage = 'every' | { stride: number };

interface ServerConfig {
  name: string;
  start(): Promise<Target>;
  coverage: Coverage;
}

function target(server: RunningServer, authorization = '', cleanup = async (): Promise<void> => {}): Target {
  return {
    port: server.port,
    store: server.store!,
    authorization,
    cases: 0,
    async close() {
      await server.close();
      await cleanup();
    },
  };
}

/** A memkv whose logger is at debug level (writing nowhere): per-request logging turns the fast path off. */
async function startWithDebugLogging(): Promise<RunningServer> {
  const config = loadConfig({ env: {}, overrides: { host: '127.0.0.1', port: '0', healthPort: '0', verbose: 'debug' } });
  return startServer(config, pino({ level: 'debug' }, { write: () => {} }));
}

const ADMIN = { username: 'admin', password: 'pipelining-password' };

const CONFIGS: ServerConfig[] = [
  {
    name: 'fast path on (defaults)',
    start: async () => target(await startMemkv()),
    coverage: 'every',
  },
  {
    name: 'fast path off (debug logging)',
    start: async () => target(await startWithDebugLogging()),
    coverage: { stride: 8 },
  },
  {
    name: 'persistence always',
    // PERSISTENCE_FSYNC=always: every write waits for the log; on /dev/shm when there is one, for speed.
    start: async () => {
      const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'memkv-pipelining-'));
      const overrides: Partial<Record<keyof Config, string>> = { persistenceEnabled: 'true', persistenceFsync: 'always', dbPath: dir };
      return target(await startMemkv(overrides), '', async () => rmSync(dir, { recursive: true, force: true }));
    },
    coverage: { stride: 8 },
  },
  {
    name: 'auth on',
    start: async () => {
      const server = await startMemkv({
        authEnabled: 'true',
        adminUser: ADMIN.username,
        adminPassword: ADMIN.password,
        passwordHashCost: '1024',
      });
      const response = await fetch(`${server.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      });
      if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
      const { access_token: token } = (await response.json()) as { access_token: string };
      return target(server, `Authorization: Bearer ${token}\r\n`);
    },
    coverage: { stride: 32 },
  },
];

// ---- Running a case ----

/** What a case observed: the answers, whether the server closed the connection, and the key's state afterwards. */
interface Outcome {
  /** Each answer, normalized (see {@link normalize}). */
  answers: string[];
  /** Whether the server closed the connection after those answers. */
  closed: boolean;
  /** The answer to a GET of the key afterwards, normalized. */
  state: string;
  /** What went wrong on the way: answers that never came on an open connection, a split the server never read. */
  trouble: string[];
}

/**
 * `status body`, with the case prefix replaced (cases differ only by it), and the row times and
 * versions removed (they differ between runs: there is no fake clock over TCP, and the revision is
 * the database's, moved on by every earlier case).
 */
function normalize(answer: WireAnswer, prefix: string): string {
  const text = answer.body.split(prefix).join('<case>');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: compared as text.
  }
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const row = body as Record<string, unknown>;
    delete row.created_at;
    delete row.updated_at;
    delete row.version;
  }
  return `${answer.status} ${JSON.stringify(body)}`;
}

/** The key prefix of case `id`: fixed-width, so that a pair's bytes have one length. */
const prefixOf = (id: number): string => `c${String(id).padStart(6, '0')}:`;
const newPrefix = (server: Target): string => prefixOf(++server.cases);

/**
 * Sets up the key of a new case, runs `send` (which resolves with the number of answers it
 * expects), collects the answers, reads the key's state, and removes the key.
 */
async function runCase(server: Target, send: (connection: WireConnection, prefix: string) => Promise<number>): Promise<Outcome> {
  const prefix = newPrefix(server);
  const key = `${prefix}k`;
  server.store.set(key, SETUP_VALUE);
  const trouble: string[] = [];
  let connection = await WireConnection.open(server.port);
  try {
    const count = await send(connection, prefix).catch((error: Error) => {
      trouble.push(error.message);
      return 2;
    });
    const answers = (await connection.waitForAnswers(count, ANSWER_TIMEOUT_MS)).slice(0, count);
    // An answer with Connection: close is followed by the close: wait for it, so that `closed` is exact.
    if (answers.some(announcesClose) && !(await connection.waitForClose(ANSWER_TIMEOUT_MS))) trouble.push('Connection: close, but no close');
    const closed = connection.closed;
    if (answers.length < count && !closed) trouble.push(`${answers.length} of ${count} answers within ${ANSWER_TIMEOUT_MS} ms`);
    // Read the state on the same connection, or on a new one when the server closed it.
    if (closed) {
      connection.close();
      connection = await WireConnection.open(server.port);
    }
    const before = connection.answers.length;
    await connection.write(Buffer.from(requestText(OPS.get, prefix, server.authorization)));
    const state = (await connection.waitForAnswers(before + 1, ANSWER_TIMEOUT_MS))[before];
    if (state === undefined) trouble.push('no answer to the state read');
    return {
      answers: answers.map((answer) => normalize(answer, prefix)),
      closed,
      state: state === undefined ? '-' : normalize(state, prefix),
      trouble,
    };
  } finally {
    connection.close();
    server.store.remove(key);
  }
}

/**
 * The pair one by one: the second request after the first's answer arrived, and only when the
 * server keeps the connection open. After an answer with `Connection: close` (Fastify's, to a
 * body it could not parse) a client sends nothing more; pipelined, the request after it is never
 * answered, so it must have no effect either (RFC 9112 §9.6: no further requests are processed).
 */
function runOneByOne(server: Target, [first, second]: [OpName, OpName]): Promise<Outcome> {
  return runCase(server, async (connection, prefix) => {
    await connection.write(Buffer.from(requestText(OPS[first], prefix, server.authorization)));
    const [answer] = await connection.waitForAnswers(1, ANSWER_TIMEOUT_MS);
    if (answer === undefined || announcesClose(answer) || connection.closed) return 1;
    await connection.write(Buffer.from(requestText(OPS[second], prefix, server.authorization)));
    return 2;
  });
}

/** The pair pipelined: bytes [0, split) in one write, the rest once the server has read them (split 0: one write). */
function runPipelined(server: Target, [first, second]: [OpName, OpName], split: number): Promise<Outcome> {
  return runCase(server, async (connection, prefix) => {
    const bytes = Buffer.from(requestText(OPS[first], prefix, server.authorization) + requestText(OPS[second], prefix, server.authorization));
    if (split === 0) {
      await connection.write(bytes);
      return 2;
    }
    await connection.write(bytes.subarray(0, split));
    if (!(await connection.serverHasRead(split, ANSWER_TIMEOUT_MS))) {
      if (connection.closed) return 2;
      throw new Error(`the server did not read the first ${split} bytes within ${ANSWER_TIMEOUT_MS} ms`);
    }
    // A server that closed the connection meanwhile (after an error answer) refuses the rest: that shows in the answers.
    if (!connection.closed) await connection.write(bytes.subarray(split)).catch(() => {});
    return 2;
  });
}

/** The split points a config tries for `pair` (see {@link Coverage}). */
function splitsOf(server: Target, [first, second]: [OpName, OpName], coverage: Coverage): number[] {
  const sample = prefixOf(0);
  const firstBytes = Buffer.from(requestText(OPS[first], sample, server.authorization));
  const bytes = Buffer.concat([firstBytes, Buffer.from(requestText(OPS[second], sample, server.authorization))]);
  const length = bytes.length;
  const splits = new Set<number>([0]);
  if (coverage === 'every') {
    for (let split = 1; split < length; split++) splits.add(split);
  } else {
    const marks = [firstBytes.length, length - 1];
    for (let p = bytes.indexOf('\r\n'); p >= 0; p = bytes.indexOf('\r\n', p + 1)) marks.push(p + 2);
    for (const mark of marks) for (let split = mark - 2; split <= mark + 2; split++) splits.add(split);
    for (let split = coverage.stride; split < length; split += coverage.stride) splits.add(split);
  }
  return [...splits].filter((split) => split >= 0 && split < length).sort((a, b) => a - b);
}

/** Runs `jobs` with at most `concurrency` in flight. */
async function inPool<T>(jobs: readonly T[], concurrency: number, run: (job: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
      while (next < jobs.length) await run(jobs[next++]!);
    }),
  );
}

const show = (outcome: Outcome): string =>
  `[${outcome.answers.join(' | ')}]${outcome.closed ? ' closed,' : ''} then GET k: ${outcome.state}` +
  (outcome.trouble.length > 0 ? ` (${outcome.trouble.join('; ')})` : '');

const same = (a: Outcome, b: Outcome): boolean =>
  a.trouble.length === 0 && b.trouble.length === 0 && a.closed === b.closed && a.state === b.state && a.answers.join('\n') === b.answers.join('\n');

/** `0, 3-7, 12`: sorted split points as ranges. */
function ranges(splits: number[]): string {
  const sorted = [...splits].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(', ');
}

/** Where the requests of `pair` lie in its bytes, to read split points by: `head 0-94, body 95-124 | 125-176`. */
function layout(server: Target, [first, second]: [OpName, OpName]): string {
  const firstText = requestText(OPS[first], prefixOf(0), server.authorization);
  const length = Buffer.byteLength(firstText + requestText(OPS[second], prefixOf(0), server.authorization));
  const headBytes = Buffer.byteLength(firstText.slice(0, firstText.indexOf('\r\n\r\n') + 4));
  const firstBytes = Buffer.byteLength(firstText);
  const body = headBytes === firstBytes ? '' : `, body ${headBytes}-${firstBytes - 1}`;
  return `first: head 0-${headBytes - 1}${body}; second: ${firstBytes}-${length - 1}`;
}

// ---- The tests ----

describe.each(CONFIGS)('pipelining, $name', (config) => {
  let server: Target;

  beforeAll(async () => {
    server = await config.start();
  });
  afterAll(async () => {
    await server?.close();
  });

  // The three reports, each in one write.
  it('a DELETE does not overtake the set before it', async () => {
    const prefix = newPrefix(server);
    const connection = await WireConnection.open(server.port);
    try {
      const set = { ...OPS.set, body: () => JSON.stringify({ key: `${prefix}q`, value: 'v' }) };
      const remove = { ...OPS.remove, target: () => `/api/v1/${prefix}q` };
      const get = { ...OPS.get, target: () => `/api/v1/${prefix}q` };
      await connection.write(Buffer.from([set, remove].map((op) => requestText(op, prefix, server.authorization)).join('')));
      const answers = await connection.waitForAnswers(2, ANSWER_TIMEOUT_MS);
      expect(answers.map((answer) => normalize(answer, prefix))).toEqual(['200 {"message":"ok"}', '200 {"message":"ok"}']);
      await connection.write(Buffer.from(requestText(get, prefix, server.authorization)));
      const [, , state] = await connection.waitForAnswers(3, ANSWER_TIMEOUT_MS);
      expect(state?.status).toBe(404);
    } finally {
      connection.close();
    }
  });

  it('a GET after an update reads the updated value', async () => {
    const prefix = newPrefix(server);
    server.store.set(`${prefix}k`, 'old');
    const connection = await WireConnection.open(server.port);
    try {
      const update = { ...OPS.update, body: () => JSON.stringify({ value: 'new' }) };
      await connection.write(Buffer.from([update, OPS.get].map((op) => requestText(op, prefix, server.authorization)).join('')));
      const answers = await connection.waitForAnswers(2, ANSWER_TIMEOUT_MS);
      expect(answers.map((answer) => normalize(answer, prefix))).toEqual([
        '200 {"message":"ok"}',
        '200 {"key":"<case>k","kind":"string","value":"new","ttl":null}',
      ]);
    } finally {
      connection.close();
      server.store.remove(`${prefix}k`);
    }
  });

  it('an update, a push and a GET apply in the order sent', async () => {
    const prefix = newPrefix(server);
    server.store.set(`${prefix}k`, ['a']);
    const connection = await WireConnection.open(server.port);
    try {
      const update = { ...OPS.update, body: () => JSON.stringify({ value: ['x'] }) };
      const push = { ...OPS.push, body: () => JSON.stringify({ value: 'y' }) };
      await connection.write(Buffer.from([update, push, OPS.get].map((op) => requestText(op, prefix, server.authorization)).join('')));
      const answers = await connection.waitForAnswers(3, ANSWER_TIMEOUT_MS);
      const row = '{"key":"<case>k","kind":"string_slice","value":["x","y"],"ttl":null}';
      expect(answers.map((answer) => normalize(answer, prefix))).toEqual(['200 {"message":"ok"}', `200 ${row}`, `200 ${row}`]);
    } finally {
      connection.close();
      server.store.remove(`${prefix}k`);
    }
  });

  /** The one-by-one outcome of each pair, run twice to show that it is deterministic; computed once. */
  let baseline: Promise<{ outcomes: Map<string, Outcome>; differing: string[] }> | undefined;
  const baselineOnce = () =>
    (baseline ??= (async () => {
      const outcomes = new Map<string, Outcome>();
      const differing: string[] = [];
      await inPool(PAIRS, CONCURRENCY, async (pair) => {
        const once = await runOneByOne(server, pair);
        const again = await runOneByOne(server, pair);
        if (!same(once, again)) differing.push(`${pair.join(' + ')}:\n  ${show(once)}\n  ${show(again)}`);
        outcomes.set(pair.join(' + '), once);
      });
      return { outcomes, differing };
    })());

  it('answers the pairs sent one by one the same way every time (the reference is deterministic)', async () => {
    const { differing } = await baselineOnce();
    expect(differing, differing.join('\n')).toEqual([]);
  });

  it('applies and answers pipelined pairs as one by one, in one write and split in two', { timeout: 300_000 }, async () => {
    const { outcomes } = await baselineOnce();
    const jobs = PAIRS.flatMap((pair) => splitsOf(server, pair, config.coverage).map((split) => ({ pair, split })));
    const failures = new Map<string, { splits: number[]; first: number; example: string }>();
    await inPool(jobs, CONCURRENCY, async ({ pair, split }) => {
      const name = pair.join(' + ');
      const expected = outcomes.get(name)!;
      const got = await runPipelined(server, pair, split);
      if (same(got, expected)) return;
      const failure = failures.get(name) ?? { splits: [], first: Infinity, example: '' };
      failures.set(name, failure);
      failure.splits.push(split);
      if (split < failure.first) {
        failure.first = split;
        failure.example = `split ${split}:\n    one by one: ${show(expected)}\n    pipelined:  ${show(got)}`;
      }
    });
    const report = PAIRS.filter((pair) => failures.has(pair.join(' + '))).map((pair) => {
      const name = pair.join(' + ');
      const { splits, example } = failures.get(name)!;
      const tried = jobs.filter((job) => job.pair === pair).length;
      return `${name} (${layout(server, pair)}): ${splits.length} of ${tried} splits differ: ${ranges(splits)}\n  first ${example}`;
    });
    const summary = `${report.length} of ${PAIRS.length} pairs differ from one by one (${jobs.length} connections):\n${report.join('\n')}`;
    expect(report.length, summary).toBe(0);
  });
});
