/**
 * The contract suite: the API's behaviour, written once and run against every front door (the
 * engine in-process, `app.inject()`, TCP with the raw front on and off, the typed client) and
 * every storage backend (the embedded engine, STORAGE=redis on a real redis-server and on a real
 * Redis Cluster). Each door answers every operation as an HTTP status and JSON body, so all are
 * held to the same terms. A door's test file is one line:
 * `runContract('inject', openInjectDoor, { http: true })`.
 */
import type { TxnOpJson } from '@memkv/client/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// ---- The door interface ----

/**
 * One operation of the API. `value` is deliberately `unknown`: values the API refuses (a number,
 * a list holding a number) are part of the contract.
 */
export type ContractOp =
  // POST /api/v1/set  {key, value, ttl?}  [If-Match, If-None-Match: *]
  | { op: 'set'; key: string; value: unknown; ttl?: string; ifVersion?: number | null; ifAbsent?: boolean }
  // GET /api/v1/{key}
  | { op: 'get'; key: string }
  // PATCH /api/v1/{key}  {value, ttl?}  [If-Match]
  | { op: 'update'; key: string; value: unknown; ttl?: string; ifVersion?: number | null }
  // DELETE /api/v1/{key}  [If-Match]
  | { op: 'remove'; key: string; ifVersion?: number }
  // PATCH /api/v1/{key}/push  {value, ttl?, if_version?}  [Prefer: return=minimal]
  | { op: 'push'; key: string; value: unknown; ttl?: string; minimal?: boolean; ifVersion?: number | null }
  // PATCH /api/v1/{key}/pop  [Prefer: return=minimal]  [If-Match]
  | { op: 'pop'; key: string; minimal?: boolean; ifVersion?: number }
  // POST /api/v1/db/txn  {checks?, ops}
  | { op: 'txn'; checks?: { key: string; version: number | null }[]; ops: TxnOpJson[] }
  // GET /api/v1/{key}/range?start=&stop=
  | { op: 'range'; key: string; start: number; stop: number }
  // GET /api/v1/{key}/ttl
  | { op: 'getTtl'; key: string }
  // PATCH /api/v1/{key}/ttl  {ttl, if_version?}   (null removes the TTL)
  | { op: 'setTtl'; key: string; ttl: string | null; ifVersion?: number | null }
  // GET /api/v1/db/size
  | { op: 'size' }
  // POST /api/v1/db/flush
  | { op: 'flush' }
  // GET /api/v1/db/keys?prefix=&cursor=&limit=&delimiter=
  | { op: 'keys'; prefix?: string; cursor?: string; limit?: number; delimiter?: string }
  // POST /api/v1/db/delete-prefix  {prefix, dry_run?}
  | { op: 'deletePrefix'; prefix: string; dryRun?: boolean };

/** An answer in HTTP terms: 200 with the result, or the error status with `{code, message}`. */
export interface Outcome {
  status: number;
  body: unknown;
  /** The `ETag` header, for a raw request that asked for it (`readEtag`). */
  etag?: string | undefined;
}

/** A request as written on the wire, for the cases only HTTP can express (bad JSON, unknown fields). */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below the API base `/api/v1`, already percent-encoded, with any query string. */
  path: string;
  /** Body text, sent as it is. */
  body?: string;
  headers?: Record<string, string>;
  /** Answer the `ETag` header too (as {@link Outcome.etag}). */
  readEtag?: boolean;
}

/** A front door: the operations, and raw HTTP requests when the door speaks HTTP. */
export interface Door {
  call(op: ContractOp): Promise<Outcome>;
  /** Sends a request exactly as given; present only on doors that speak HTTP. */
  http?: (request: HttpRequest) => Promise<Outcome>;
  close(): Promise<void>;
}

/** What a door can express beyond the operations; decides which cases run on it. */
export interface DoorCapabilities {
  /** The door sends raw HTTP requests (`door.http`): malformed bodies, queries and URLs. */
  http?: boolean;
  /**
   * A transaction may touch one key only (STORAGE=redis on a Redis Cluster, where every key has
   * a hash slot of its own): the transaction cases run on one key, and several keys are refused.
   */
  oneKeyTransactions?: boolean;
}

// ---- Matchers ----

/** An RFC 3339 time in UTC, as the API writes times. */
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const TIME = expect.stringMatching(RFC3339_UTC);
const HOUR_MS = 3_600_000;
/** A key's version: a whole number, which only a write of the key changes. */
const VERSION = expect.any(Number);
/** The answer of set, update and remove: ok and the version of the write. */
const OK_VERSION = { message: 'ok', version: VERSION };

const stringRow = (key: string, value: string, ttl: unknown = null) => ({
  key,
  kind: 'string',
  value,
  version: VERSION,
  ttl,
  created_at: TIME,
  updated_at: TIME,
});

const listRow = (key: string, value: string[], ttl: unknown = null) => ({
  key,
  kind: 'string_slice',
  value,
  version: VERSION,
  ttl,
  created_at: TIME,
  updated_at: TIME,
});

/** Field order of a minimal row, as documented: `length` where `value` would be. */
const MINIMAL_FIELDS = ['key', 'kind', 'length', 'version', 'ttl', 'created_at', 'updated_at'];

/** Checks that `ttl` is an RFC 3339 time `ms` after a moment between `beforeMs` and now. */
function expectExpiresIn(ttl: unknown, ms: number, beforeMs: number): void {
  expect(ttl).toEqual(TIME);
  const atMs = Date.parse(ttl as string);
  expect(atMs).toBeGreaterThanOrEqual(beforeMs + ms);
  expect(atMs).toBeLessThanOrEqual(Date.now() + ms);
}

/** Polls `check` every 10 ms until it holds; fails after `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---- The suite ----

/**
 * Defines `describe(name)` with every case of the contract, run against the doors `open` makes:
 * one door for the whole suite (each case uses keys of its own), plus a fresh one for each case
 * that counts or removes every key. Cases that need raw HTTP run where `capabilities.http` is
 * set; elsewhere one case says so, so nothing is skipped without a trace.
 */
export function runContract(name: string, open: () => Promise<Door>, capabilities: DoorCapabilities = {}): void {
  describe(name, () => {
    let door: Door;
    let caseNumber = 0;
    let prefix = '';

    beforeAll(async () => {
      door = await open();
    });
    afterAll(async () => {
      await door?.close();
    });
    beforeEach(() => {
      // Only characters a URL path segment carries unencoded: the fast path leaves percent-encoded
      // keys to Fastify, so plain keys keep the other cases on the fast path where it is on.
      prefix = `c${++caseNumber}-`;
    });

    /** A key of the current case: the case's prefix, then `suffix`. */
    const key = (suffix = 'k'): string => prefix + suffix;
    const call = (op: ContractOp, on: Door = door): Promise<Outcome> => on.call(op);
    /** Calls `op`, expects 200 and returns the body. */
    const ok = async (op: ContractOp, on: Door = door): Promise<any> => {
      const outcome = await on.call(op);
      expect(outcome.status, `${op.op} answered ${JSON.stringify(outcome.body)}`).toBe(200);
      return outcome.body;
    };
    /** Calls `op` and expects the error answer `status` with `code`. */
    const refused = async (op: ContractOp, status: number, code: string, on: Door = door): Promise<void> => {
      expect(await on.call(op)).toEqual({ status, body: { code, message: expect.any(String) } });
    };
    /** Runs `fn` on a door of its own (an empty database), closed afterwards. */
    const withFreshDoor = async (fn: (fresh: Door) => Promise<void>): Promise<void> => {
      const fresh = await open();
      try {
        await fn(fresh);
      } finally {
        await fresh.close();
      }
    };
    /** Every key of a listing, page by page, checking that no page exceeds `limit`. */
    const listAll = async (on: Door, options: { prefix?: string; limit: number }): Promise<string[]> => {
      const keys: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const body = await ok({ op: 'keys', ...options, cursor }, on);
        expect(Object.keys(body).sort()).toEqual(['cursor', 'keys']);
        expect(body.keys).toEqual(expect.any(Array));
        expect(body.cursor === null || typeof body.cursor === 'string', `cursor ${JSON.stringify(body.cursor)}`).toBe(true);
        expect(body.keys.length).toBeLessThanOrEqual(options.limit);
        keys.push(...body.keys);
        if (body.cursor === null) return keys;
        cursor = body.cursor;
      }
      throw new Error('the listing did not end within 1000 pages');
    };

    /** Walks a listing with `delimiter`, adding up each page's counts per next-level prefix. */
    const listTree = async (on: Door, options: { prefix?: string; limit: number; delimiter: string }) => {
      const keys: string[] = [];
      const counts: Record<string, number> = {};
      let cursor: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const body = await ok({ op: 'keys', ...options, cursor }, on);
        expect(Object.keys(body).sort()).toEqual(['cursor', 'keys', 'prefixes']);
        keys.push(...body.keys);
        for (const { prefix, keys: count } of body.prefixes) {
          expect(count).toBeGreaterThan(0);
          counts[prefix] = (counts[prefix] ?? 0) + count;
        }
        expect(body.keys.length + body.prefixes.length).toBeLessThanOrEqual(options.limit);
        // A listing's order is not part of the contract (a cluster lists one master after another).
        if (body.cursor === null) return { keys: keys.sort(), counts };
        cursor = body.cursor;
      }
      throw new Error('the listing did not end within 1000 pages');
    };

    it('declares its capabilities truthfully', () => {
      expect(door.http !== undefined, 'capabilities.http must match door.http').toBe(capabilities.http === true);
    });

    // ---- set and get ----

    describe('set and get', () => {
      it('stores a string: set answers ok, get answers the exact row with ttl null and equal RFC 3339 times', async () => {
        expect(await ok({ op: 'set', key: key(), value: 'hello' })).toEqual(OK_VERSION);
        const row = await ok({ op: 'get', key: key() });
        expect(row).toStrictEqual(stringRow(key(), 'hello'));
        expect(row.updated_at).toBe(row.created_at);
      });

      it('stores a list as kind string_slice', async () => {
        await ok({ op: 'set', key: key(), value: ['Test1', 'test2'] });
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), ['Test1', 'test2']));
      });

      it('stores an empty string and an empty list', async () => {
        await ok({ op: 'set', key: key('s'), value: '' });
        await ok({ op: 'set', key: key('l'), value: [] });
        expect(await ok({ op: 'get', key: key('s') })).toStrictEqual(stringRow(key('s'), ''));
        expect(await ok({ op: 'get', key: key('l') })).toStrictEqual(listRow(key('l'), []));
      });

      it('stores a TTL as the absolute expiry time', async () => {
        const before = Date.now();
        await ok({ op: 'set', key: key(), value: 'v', ttl: '1h' });
        expectExpiresIn((await ok({ op: 'get', key: key() })).ttl, HOUR_MS, before);
      });

      it('replaces the value and the kind of an existing key', async () => {
        await ok({ op: 'set', key: key(), value: 'text' });
        await ok({ op: 'set', key: key(), value: ['a', 'b'] });
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), ['a', 'b']));
        await ok({ op: 'set', key: key(), value: 'text again' });
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(stringRow(key(), 'text again'));
      });

      it('replaces the TTL too: a set without ttl leaves the key without expiry (DEFAULT_TTL 0)', async () => {
        await ok({ op: 'set', key: key(), value: 'v', ttl: '1h' });
        await ok({ op: 'set', key: key(), value: 'v' });
        expect((await ok({ op: 'get', key: key() })).ttl).toBeNull();
      });

      it('answers 404 item_not_found for a missing key', async () => {
        await refused({ op: 'get', key: key('missing') }, 404, 'item_not_found');
      });
    });

    // ---- update ----

    describe('update', () => {
      it('replaces the value of either kind, keeps created_at, answers ok', async () => {
        await ok({ op: 'set', key: key(), value: 'old' });
        const before = await ok({ op: 'get', key: key() });
        expect(await ok({ op: 'update', key: key(), value: ['n', 'e', 'w'] })).toEqual(OK_VERSION);
        const after = await ok({ op: 'get', key: key() });
        expect(after).toStrictEqual(listRow(key(), ['n', 'e', 'w']));
        expect(after.created_at).toBe(before.created_at);
        expect(Date.parse(after.updated_at)).toBeGreaterThanOrEqual(Date.parse(before.updated_at));
      });

      it('answers 404 item_not_found for a missing key, and does not create it', async () => {
        await refused({ op: 'update', key: key(), value: 'v' }, 404, 'item_not_found');
        await refused({ op: 'get', key: key() }, 404, 'item_not_found');
      });

      it('keeps the TTL unless one is given', async () => {
        await ok({ op: 'set', key: key(), value: 'v', ttl: '1h' });
        const { ttl } = await ok({ op: 'get', key: key() });
        await ok({ op: 'update', key: key(), value: 'w' });
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(stringRow(key(), 'w', ttl));
        const before = Date.now();
        await ok({ op: 'update', key: key(), value: 'x', ttl: '2h' });
        expectExpiresIn((await ok({ op: 'get', key: key() })).ttl, 2 * HOUR_MS, before);
      });

      it('keeps a key without expiry without expiry', async () => {
        await ok({ op: 'set', key: key(), value: 'v' });
        await ok({ op: 'update', key: key(), value: 'w' });
        expect((await ok({ op: 'get', key: key() })).ttl).toBeNull();
      });
    });

    // ---- remove ----

    describe('remove', () => {
      it('answers ok, then the key is gone and a second remove answers 404', async () => {
        await ok({ op: 'set', key: key(), value: 'v' });
        expect(await ok({ op: 'remove', key: key() })).toEqual(OK_VERSION);
        await refused({ op: 'get', key: key() }, 404, 'item_not_found');
        await refused({ op: 'remove', key: key() }, 404, 'item_not_found');
      });

      it('removes a list', async () => {
        await ok({ op: 'set', key: key(), value: ['a'] });
        await ok({ op: 'remove', key: key() });
        await refused({ op: 'pop', key: key() }, 404, 'item_not_found');
      });
    });

    // ---- push ----

    describe('push', () => {
      it('creates a list when the key is missing and answers the whole row', async () => {
        expect(await ok({ op: 'push', key: key(), value: 'a' })).toStrictEqual(listRow(key(), ['a']));
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), ['a']));
      });

      it('appends one element, then several in order, keeping created_at', async () => {
        await ok({ op: 'set', key: key(), value: ['Test1'] });
        const first = await ok({ op: 'push', key: key(), value: 'test2' });
        expect(first).toStrictEqual(listRow(key(), ['Test1', 'test2']));
        const second = await ok({ op: 'push', key: key(), value: ['test3', 'test4', 'test5'] });
        expect(second).toStrictEqual(listRow(key(), ['Test1', 'test2', 'test3', 'test4', 'test5']));
        expect(second.created_at).toBe(first.created_at);
      });

      it('onto a string answers 409 wrong_type and leaves the string alone', async () => {
        await ok({ op: 'set', key: key(), value: 'text' });
        await refused({ op: 'push', key: key(), value: 'x' }, 409, 'wrong_type');
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(stringRow(key(), 'text'));
      });

      it('keeps the TTL of an existing list unless one is given', async () => {
        await ok({ op: 'set', key: key(), value: ['a'], ttl: '1h' });
        const { ttl } = await ok({ op: 'get', key: key() });
        expect((await ok({ op: 'push', key: key(), value: 'b' })).ttl).toBe(ttl);
        const before = Date.now();
        expectExpiresIn((await ok({ op: 'push', key: key(), value: 'c', ttl: '2h' })).ttl, 2 * HOUR_MS, before);
      });

      it('sets a TTL on a list that had none when one is given', async () => {
        await ok({ op: 'set', key: key(), value: ['a'] });
        const before = Date.now();
        const row = await ok({ op: 'push', key: key(), value: 'b', ttl: '1h' });
        expectExpiresIn(row.ttl, HOUR_MS, before);
        expect((await ok({ op: 'get', key: key() })).ttl).toBe(row.ttl);
      });

      it('gives the TTL to a list it creates', async () => {
        const before = Date.now();
        expectExpiresIn((await ok({ op: 'push', key: key(), value: 'a', ttl: '1h' })).ttl, HOUR_MS, before);
      });
    });

    // ---- pop ----

    describe('pop', () => {
      it('removes the last element and answers the list after the pop with popped', async () => {
        await ok({ op: 'set', key: key(), value: ['Test1', 'test2', 'test3'] });
        expect(await ok({ op: 'pop', key: key() })).toStrictEqual({ ...listRow(key(), ['Test1', 'test2']), popped: 'test3' });
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), ['Test1', 'test2']));
      });

      it('leaves a list popped empty as [] and then answers 409 list_empty', async () => {
        await ok({ op: 'set', key: key(), value: ['only'] });
        expect(await ok({ op: 'pop', key: key() })).toStrictEqual({ ...listRow(key(), []), popped: 'only' });
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), []));
        await refused({ op: 'pop', key: key() }, 409, 'list_empty');
      });

      it('answers 404 item_not_found for a missing key', async () => {
        await refused({ op: 'pop', key: key() }, 404, 'item_not_found');
      });

      it('answers 409 wrong_type on a string', async () => {
        await ok({ op: 'set', key: key(), value: 'text' });
        await refused({ op: 'pop', key: key() }, 409, 'wrong_type');
      });

      it('keeps the TTL', async () => {
        await ok({ op: 'set', key: key(), value: ['a', 'b'], ttl: '1h' });
        const { ttl } = await ok({ op: 'get', key: key() });
        expect((await ok({ op: 'pop', key: key() })).ttl).toBe(ttl);
      });
    });

    // ---- Prefer: return=minimal ----

    describe('Prefer: return=minimal', () => {
      it('push answers the row with length in place of value, in the documented field order', async () => {
        await ok({ op: 'set', key: key(), value: ['a', 'b'] });
        const row = await ok({ op: 'push', key: key(), value: ['c', 'd'], minimal: true });
        expect(row).toStrictEqual({ key: key(), kind: 'string_slice', length: 4, version: VERSION, ttl: null, created_at: TIME, updated_at: TIME });
        expect(Object.keys(row)).toEqual(MINIMAL_FIELDS);
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), ['a', 'b', 'c', 'd']));
      });

      it('push creating a list with a TTL answers length 1 and the TTL', async () => {
        const before = Date.now();
        const row = await ok({ op: 'push', key: key(), value: 'a', ttl: '1h', minimal: true });
        expect(row).toStrictEqual({ key: key(), kind: 'string_slice', length: 1, version: VERSION, ttl: TIME, created_at: TIME, updated_at: TIME });
        expectExpiresIn(row.ttl, HOUR_MS, before);
      });

      it('pop answers length and popped, popped last', async () => {
        await ok({ op: 'set', key: key(), value: ['a', 'b', 'c'] });
        const row = await ok({ op: 'pop', key: key(), minimal: true });
        expect(row).toStrictEqual({ key: key(), kind: 'string_slice', length: 2, version: VERSION, ttl: null, created_at: TIME, updated_at: TIME, popped: 'c' });
        expect(Object.keys(row)).toEqual([...MINIMAL_FIELDS, 'popped']);
      });

      it('errors are unchanged: list_empty, item_not_found, wrong_type', async () => {
        await ok({ op: 'set', key: key('empty'), value: [] });
        await ok({ op: 'set', key: key('text'), value: 'x' });
        await refused({ op: 'pop', key: key('empty'), minimal: true }, 409, 'list_empty');
        await refused({ op: 'pop', key: key('missing'), minimal: true }, 404, 'item_not_found');
        await refused({ op: 'pop', key: key('text'), minimal: true }, 409, 'wrong_type');
        await refused({ op: 'push', key: key('text'), value: 'y', minimal: true }, 409, 'wrong_type');
      });
    });

    // ---- Invalid input ----

    describe('invalid input', () => {
      it('a number value is refused with 400 invalid_request (never coerced), and nothing is stored', async () => {
        await refused({ op: 'set', key: key(), value: 5 }, 400, 'invalid_request');
        await refused({ op: 'get', key: key() }, 404, 'item_not_found');
      });

      it('a list holding a number is refused with 400 invalid_request', async () => {
        await refused({ op: 'set', key: key(), value: ['a', 1] }, 400, 'invalid_request');
        await refused({ op: 'get', key: key() }, 404, 'item_not_found');
      });

      it('update and push refuse a number value with 400 invalid_request', async () => {
        await ok({ op: 'set', key: key(), value: ['a'] });
        await refused({ op: 'update', key: key(), value: 7 }, 400, 'invalid_request');
        await refused({ op: 'push', key: key(), value: 7 }, 400, 'invalid_request');
        await refused({ op: 'push', key: key(), value: ['b', null] }, 400, 'invalid_request');
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), ['a']));
      });

      it('push refuses an empty list of values with 400 invalid_request', async () => {
        await refused({ op: 'push', key: key(), value: [] }, 400, 'invalid_request');
        await refused({ op: 'get', key: key() }, 404, 'item_not_found');
      });

      it('an empty key is refused with 400 invalid_request', async () => {
        await refused({ op: 'set', key: '', value: 'v' }, 400, 'invalid_request');
      });

      it.each(['5x', '0s', '0', '', '-1s', '1d', '1h 30m'])('set refuses the ttl %j with 400 invalid_request', async (ttl) => {
        await refused({ op: 'set', key: key(), value: 'v', ttl }, 400, 'invalid_request');
        await refused({ op: 'get', key: key() }, 404, 'item_not_found');
      });

      it('update and push refuse a bad ttl with 400 invalid_request and change nothing', async () => {
        await ok({ op: 'set', key: key(), value: ['a'] });
        await refused({ op: 'update', key: key(), value: 'b', ttl: '5x' }, 400, 'invalid_request');
        await refused({ op: 'push', key: key(), value: 'b', ttl: '0s' }, 400, 'invalid_request');
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), ['a']));
      });
    });

    // ---- Awkward keys and values ----

    describe('awkward keys and values', () => {
      const awkward = ['with space', 'a/b', '100%', '%41', 'q?x=1', 'hash#tag', 'ключ', '🔑', 'a+b', '.hidden', "quote'\"", 'back\\slash'];
      it.each(awkward)('round-trips the key %j through set, get, push, pop, update and remove', async (awkwardKey) => {
        const k = key(awkwardKey);
        const value = `${awkwardKey} ✓ / % \u0000 "`;
        await ok({ op: 'set', key: k, value: [value] });
        expect(await ok({ op: 'get', key: k })).toStrictEqual(listRow(k, [value]));
        expect(await ok({ op: 'push', key: k, value: [awkwardKey, '%2F'] })).toStrictEqual(listRow(k, [value, awkwardKey, '%2F']));
        expect(await ok({ op: 'pop', key: k })).toStrictEqual({ ...listRow(k, [value, awkwardKey]), popped: '%2F' });
        await ok({ op: 'update', key: k, value });
        expect(await ok({ op: 'get', key: k })).toStrictEqual(stringRow(k, value));
        await ok({ op: 'remove', key: k });
        await refused({ op: 'get', key: k }, 404, 'item_not_found');
      });

      it('keys named like routes are ordinary keys', async () => {
        // Unprefixed on purpose (no other case uses these names); removed at the end.
        const names = ['set', 'db', 'docs', 'push', 'pop', 'range', 'ttl', 'keys', 'size', 'flush'];
        for (const routeWord of names) await ok({ op: 'set', key: routeWord, value: `value of ${routeWord}` });
        for (const routeWord of names) expect(await ok({ op: 'get', key: routeWord })).toStrictEqual(stringRow(routeWord, `value of ${routeWord}`));
        for (const routeWord of names) await ok({ op: 'remove', key: routeWord });
      });

      it('keys differing only by percent-encoding are distinct keys', async () => {
        await ok({ op: 'set', key: key('a/b'), value: 'slash' });
        await ok({ op: 'set', key: key('a%2Fb'), value: 'text' });
        expect((await ok({ op: 'get', key: key('a/b') })).value).toBe('slash');
        expect((await ok({ op: 'get', key: key('a%2Fb') })).value).toBe('text');
      });
    });

    // ---- range ----

    describe('range (LRANGE semantics)', () => {
      const letters = ['a', 'b', 'c', 'd', 'e'];
      const rangeRow = (k: string, value: string[], length: number, ttl: unknown = null) => ({
        key: k,
        kind: 'string_slice',
        value,
        length,
        version: VERSION,
        ttl,
        created_at: TIME,
        updated_at: TIME,
      });

      it('start=0 stop=-1 answers the whole list with its length, times and ttl, and changes nothing', async () => {
        await ok({ op: 'set', key: key(), value: letters, ttl: '1h' });
        const row = await ok({ op: 'get', key: key() });
        const range = await ok({ op: 'range', key: key(), start: 0, stop: -1 });
        expect(range).toStrictEqual(rangeRow(key(), letters, 5, row.ttl));
        expect(range).toMatchObject({ created_at: row.created_at, updated_at: row.updated_at });
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(row);
      });

      it('counts negative indexes from the end', async () => {
        await ok({ op: 'set', key: key(), value: letters });
        expect(await ok({ op: 'range', key: key(), start: -3, stop: -2 })).toStrictEqual(rangeRow(key(), ['c', 'd'], 5));
        expect(await ok({ op: 'range', key: key(), start: 1, stop: -2 })).toStrictEqual(rangeRow(key(), ['b', 'c', 'd'], 5));
        expect(await ok({ op: 'range', key: key(), start: -1, stop: -1 })).toStrictEqual(rangeRow(key(), ['e'], 5));
      });

      it('includes both ends', async () => {
        await ok({ op: 'set', key: key(), value: letters });
        expect(await ok({ op: 'range', key: key(), start: 1, stop: 3 })).toStrictEqual(rangeRow(key(), ['b', 'c', 'd'], 5));
        expect(await ok({ op: 'range', key: key(), start: 2, stop: 2 })).toStrictEqual(rangeRow(key(), ['c'], 5));
      });

      it('answers an empty range when start is after stop; length is still the whole list', async () => {
        await ok({ op: 'set', key: key(), value: letters });
        expect(await ok({ op: 'range', key: key(), start: 3, stop: 1 })).toStrictEqual(rangeRow(key(), [], 5));
        expect(await ok({ op: 'range', key: key(), start: -1, stop: -3 })).toStrictEqual(rangeRow(key(), [], 5));
      });

      it('clamps indexes outside the list', async () => {
        await ok({ op: 'set', key: key(), value: letters });
        expect(await ok({ op: 'range', key: key(), start: -100, stop: 100 })).toStrictEqual(rangeRow(key(), letters, 5));
        expect(await ok({ op: 'range', key: key(), start: 3, stop: 100 })).toStrictEqual(rangeRow(key(), ['d', 'e'], 5));
        expect(await ok({ op: 'range', key: key(), start: -100, stop: 0 })).toStrictEqual(rangeRow(key(), ['a'], 5));
        expect(await ok({ op: 'range', key: key(), start: 5, stop: 10 })).toStrictEqual(rangeRow(key(), [], 5));
        expect(await ok({ op: 'range', key: key(), start: 0, stop: -100 })).toStrictEqual(rangeRow(key(), [], 5));
      });

      it('answers an empty list as [] with length 0', async () => {
        await ok({ op: 'set', key: key(), value: [] });
        expect(await ok({ op: 'range', key: key(), start: 0, stop: -1 })).toStrictEqual(rangeRow(key(), [], 0));
      });

      it('answers 409 wrong_type on a string', async () => {
        await ok({ op: 'set', key: key(), value: 'text' });
        await refused({ op: 'range', key: key(), start: 0, stop: -1 }, 409, 'wrong_type');
      });

      it('answers 404 item_not_found for a missing key', async () => {
        await refused({ op: 'range', key: key(), start: 0, stop: -1 }, 404, 'item_not_found');
      });
    });

    // ---- TTL routes ----

    describe('ttl', () => {
      it('GET ttl answers {key, ttl: null} for a key without expiry', async () => {
        await ok({ op: 'set', key: key(), value: 'v' });
        expect(await ok({ op: 'getTtl', key: key() })).toStrictEqual({ key: key(), ttl: null, version: VERSION });
      });

      it('GET ttl answers {key, ttl} with the same RFC 3339 time as the row', async () => {
        await ok({ op: 'set', key: key(), value: ['a'], ttl: '1h' });
        const { ttl } = await ok({ op: 'get', key: key() });
        expect(await ok({ op: 'getTtl', key: key() })).toStrictEqual({ key: key(), ttl, version: VERSION });
      });

      it('PATCH ttl "1h" answers {key, ttl}; the expiry shows in get and GET ttl, and the value stays', async () => {
        await ok({ op: 'set', key: key(), value: 'v' });
        const before = Date.now();
        const answer = await ok({ op: 'setTtl', key: key(), ttl: '1h' });
        const row = await ok({ op: 'get', key: key() });
        expect(row).toStrictEqual(stringRow(key(), 'v', TIME));
        expectExpiresIn(row.ttl, HOUR_MS, before);
        expect(answer).toStrictEqual({ key: key(), ttl: row.ttl, version: VERSION });
        expect(await ok({ op: 'getTtl', key: key() })).toStrictEqual({ key: key(), ttl: row.ttl, version: VERSION });
      });

      it('PATCH ttl replaces an existing expiry', async () => {
        await ok({ op: 'set', key: key(), value: ['a'], ttl: '1h' });
        const before = Date.now();
        await ok({ op: 'setTtl', key: key(), ttl: '2h' });
        expectExpiresIn((await ok({ op: 'get', key: key() })).ttl, 2 * HOUR_MS, before);
      });

      it('PATCH ttl null removes the expiry and answers {key, ttl: null}', async () => {
        await ok({ op: 'set', key: key(), value: ['a'], ttl: '1h' });
        expect(await ok({ op: 'setTtl', key: key(), ttl: null })).toStrictEqual({ key: key(), ttl: null, version: VERSION });
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), ['a']));
        expect(await ok({ op: 'getTtl', key: key() })).toStrictEqual({ key: key(), ttl: null, version: VERSION });
      });

      it('GET and PATCH ttl answer 404 item_not_found for a missing key, and PATCH creates nothing', async () => {
        await refused({ op: 'getTtl', key: key() }, 404, 'item_not_found');
        await refused({ op: 'setTtl', key: key(), ttl: '1h' }, 404, 'item_not_found');
        await refused({ op: 'setTtl', key: key(), ttl: null }, 404, 'item_not_found');
        await refused({ op: 'get', key: key() }, 404, 'item_not_found');
      });

      it.each(['5x', '0s', '', '-1h'])('PATCH ttl refuses the duration %j with 400 invalid_request and keeps the expiry', async (ttl) => {
        await ok({ op: 'set', key: key(), value: 'v' });
        await refused({ op: 'setTtl', key: key(), ttl }, 400, 'invalid_request');
        expect((await ok({ op: 'get', key: key() })).ttl).toBeNull();
      });
    });

    // ---- Expiry in real time ----

    describe('expiry', () => {
      it('a key whose TTL passes is gone: get, pop and remove answer 404, and it is not listed', async () => {
        await ok({ op: 'set', key: key(), value: ['a', 'b'], ttl: '250ms' });
        await ok({ op: 'set', key: key('stays'), value: 'v' });
        expect((await ok({ op: 'get', key: key() })).ttl).toEqual(TIME);
        await eventually(async () => (await call({ op: 'get', key: key() })).status === 404, `${key()} expires`);
        await refused({ op: 'get', key: key() }, 404, 'item_not_found');
        await refused({ op: 'pop', key: key() }, 404, 'item_not_found');
        await refused({ op: 'update', key: key(), value: 'v' }, 404, 'item_not_found');
        await refused({ op: 'remove', key: key() }, 404, 'item_not_found');
        expect(await listAll(door, { prefix, limit: 100 })).toEqual([key('stays')]);
      });

      it('a push after the TTL passed starts a new list without expiry', async () => {
        await ok({ op: 'push', key: key(), value: ['old'], ttl: '250ms' });
        await eventually(async () => (await call({ op: 'get', key: key() })).status === 404, `${key()} expires`);
        expect(await ok({ op: 'push', key: key(), value: 'new' })).toStrictEqual(listRow(key(), ['new']));
      });
    });

    // ---- The database as a whole ----

    describe('database', () => {
      it('size counts the keys', async () => {
        await withFreshDoor(async (fresh) => {
          expect(await ok({ op: 'size' }, fresh)).toEqual({ keys: 0 });
          await ok({ op: 'set', key: 'a', value: 'v' }, fresh);
          await ok({ op: 'set', key: 'b', value: ['v'] }, fresh);
          await ok({ op: 'push', key: 'c', value: 'v' }, fresh);
          await ok({ op: 'set', key: 'a', value: 'again' }, fresh);
          expect(await ok({ op: 'size' }, fresh)).toEqual({ keys: 3 });
          await ok({ op: 'remove', key: 'b' }, fresh);
          expect(await ok({ op: 'size' }, fresh)).toEqual({ keys: 2 });
        });
      });

      it('flush removes every key and answers how many', async () => {
        await withFreshDoor(async (fresh) => {
          for (const k of ['a', 'b', 'c', 'd']) await ok({ op: 'set', key: k, value: k }, fresh);
          await ok({ op: 'set', key: 'e', value: ['x'], ttl: '1h' }, fresh);
          expect(await ok({ op: 'flush' }, fresh)).toEqual({ removed: 5 });
          expect(await ok({ op: 'size' }, fresh)).toEqual({ keys: 0 });
          await refused({ op: 'get', key: 'a' }, 404, 'item_not_found', fresh);
          expect(await listAll(fresh, { limit: 10 })).toEqual([]);
          expect(await ok({ op: 'flush' }, fresh)).toEqual({ removed: 0 });
        });
      });

      it('the key listing returns every key exactly once across pages of limit=2', async () => {
        await withFreshDoor(async (fresh) => {
          const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'with space', 'ключ'];
          for (const k of keys) await ok({ op: 'set', key: k, value: 'v' }, fresh);
          const listed = await listAll(fresh, { limit: 2 });
          expect(listed).toHaveLength(keys.length);
          expect([...listed].sort()).toEqual([...keys].sort());
        });
      });

      it('the key listing with a delimiter counts each page per next level; the counts add up across pages', async () => {
        await withFreshDoor(async (fresh) => {
          for (const k of ['a:1:x', 'a:1:y', 'a:2:z', 'b:1', 'plain', 'a:', 'c::d']) await ok({ op: 'set', key: k, value: 'v' }, fresh);
          const top = await listTree(fresh, { limit: 2, delimiter: ':' });
          expect(top).toEqual({ keys: ['plain'], counts: { 'a:': 4, 'b:': 1, 'c:': 1 } });
          const a = await listTree(fresh, { prefix: 'a:', limit: 2, delimiter: ':' });
          expect(a.keys).toEqual(['a:']);
          expect(a.counts).toEqual({ 'a:1:': 2, 'a:2:': 1 });
          expect(await listTree(fresh, { prefix: 'c:', limit: 5, delimiter: ':' })).toEqual({ keys: [], counts: { 'c::': 1 } });
          expect(await listTree(fresh, { prefix: 'a:1:', limit: 5, delimiter: '::' })).toEqual({ keys: ['a:1:x', 'a:1:y'], counts: {} });
        });
      });

      it('delete-prefix counts with dry_run, then removes exactly the keys under the prefix', async () => {
        await withFreshDoor(async (fresh) => {
          for (let i = 0; i < 25; i++) await ok({ op: 'set', key: `job:${i}`, value: 'v' }, fresh);
          await ok({ op: 'push', key: 'job:list', value: ['a'], ttl: '1h' }, fresh);
          for (const k of ['jobs', 'other:job:1']) await ok({ op: 'set', key: k, value: 'v' }, fresh);
          expect(await ok({ op: 'deletePrefix', prefix: 'job:', dryRun: true }, fresh)).toEqual({ matched: 26 });
          expect(await ok({ op: 'size' }, fresh)).toEqual({ keys: 28 });
          expect(await ok({ op: 'deletePrefix', prefix: 'job:' }, fresh)).toEqual({ deleted: 26 });
          expect((await listAll(fresh, { limit: 10 })).sort()).toEqual(['jobs', 'other:job:1']);
          expect(await ok({ op: 'deletePrefix', prefix: 'job:' }, fresh)).toEqual({ deleted: 0 });
          await refused({ op: 'deletePrefix', prefix: '' }, 400, 'invalid_request', fresh);
          expect(await ok({ op: 'size' }, fresh)).toEqual({ keys: 2 });
        });
      });

      it('the key listing with a prefix returns only the keys that start with it', async () => {
        const mine = ['user:1', 'user:2', 'user:3'].map((k) => key(k));
        for (const k of [...mine, key('other'), key('use')]) await ok({ op: 'set', key: k, value: 'v' });
        expect((await listAll(door, { prefix: key('user:'), limit: 2 })).sort()).toEqual(mine);
        expect(await listAll(door, { prefix: key('nobody'), limit: 2 })).toEqual([]);
      });
    });

    // ---- Versions, preconditions and transactions ----

    describe('versions and preconditions', () => {
      /** Calls `op` and expects 412 precondition_failed naming the key's current version. */
      const stale = async (op: ContractOp, current: number | null): Promise<void> => {
        expect(await call(op)).toEqual({ status: 412, body: { code: 'precondition_failed', message: expect.any(String), version: current } });
      };

      it('every write answers the version it gave the key; reads answer the same version; a later write a greater one', async () => {
        const { version: v1 } = await ok({ op: 'set', key: key(), value: 'a' });
        expect(Number.isSafeInteger(v1) && v1 > 0).toBe(true);
        expect((await ok({ op: 'get', key: key() })).version).toBe(v1);
        const { version: v2 } = await ok({ op: 'update', key: key(), value: 'b' });
        expect(v2).toBeGreaterThan(v1);
        const pushed = await ok({ op: 'push', key: key('l'), value: ['x', 'y'] });
        expect(pushed.version).toBeGreaterThan(v2);
        const popped = await ok({ op: 'pop', key: key('l'), minimal: true });
        expect(popped.version).toBeGreaterThan(pushed.version);
        expect((await ok({ op: 'range', key: key('l'), start: 0, stop: -1 })).version).toBe(popped.version);
        const ttl = await ok({ op: 'setTtl', key: key(), ttl: '1h' });
        expect(ttl.version).toBeGreaterThan(popped.version);
        expect((await ok({ op: 'getTtl', key: key() })).version).toBe(ttl.version);
        // Another key's write leaves this one's version alone.
        await ok({ op: 'set', key: key('other'), value: 'x' });
        expect((await ok({ op: 'get', key: key() })).version).toBe(ttl.version);
        const removed = await ok({ op: 'remove', key: key() });
        expect(removed.version).toBeGreaterThan(ttl.version);
      });

      it('a write at the current version applies; at another version it answers 412 with the current one and changes nothing', async () => {
        const { version } = await ok({ op: 'set', key: key(), value: 'one' });
        await stale({ op: 'set', key: key(), value: 'two', ifVersion: version + 1000 }, version);
        await stale({ op: 'update', key: key(), value: 'two', ifVersion: version + 1000 }, version);
        await stale({ op: 'remove', key: key(), ifVersion: version + 1000 }, version);
        await stale({ op: 'setTtl', key: key(), ttl: '1h', ifVersion: version + 1000 }, version);
        expect(await ok({ op: 'get', key: key() })).toStrictEqual({ ...stringRow(key(), 'one'), version });
        const next = await ok({ op: 'update', key: key(), value: 'two', ifVersion: version });
        expect(next.version).toBeGreaterThan(version);
        await stale({ op: 'update', key: key(), value: 'three', ifVersion: version }, next.version);
        expect(await ok({ op: 'remove', key: key(), ifVersion: next.version })).toEqual(OK_VERSION);
        await stale({ op: 'update', key: key(), value: 'four', ifVersion: next.version }, null);
      });

      it('push and pop take a version too; a list that was changed meanwhile is left alone', async () => {
        const created = await ok({ op: 'push', key: key(), value: ['a', 'b'], ifVersion: null });
        await stale({ op: 'push', key: key(), value: 'c', ifVersion: null }, created.version);
        const pushed = await ok({ op: 'push', key: key(), value: 'c', ifVersion: created.version, minimal: true });
        await stale({ op: 'pop', key: key(), ifVersion: created.version }, pushed.version);
        expect((await ok({ op: 'get', key: key() })).value).toEqual(['a', 'b', 'c']);
        expect((await ok({ op: 'pop', key: key(), ifVersion: pushed.version, minimal: true })).popped).toBe('c');
      });

      it('create only: if_absent / If-None-Match: * and a null version create a missing key, and refuse an existing one', async () => {
        const { version } = await ok({ op: 'set', key: key(), value: 'first', ifAbsent: true });
        await stale({ op: 'set', key: key(), value: 'second', ifAbsent: true }, version);
        await stale({ op: 'set', key: key(), value: 'second', ifVersion: null }, version);
        expect((await ok({ op: 'get', key: key() })).value).toBe('first');
        await ok({ op: 'set', key: key('n'), value: 'v', ifVersion: null });
      });

      it('two writers at the same version: exactly one applies', async () => {
        const { version } = await ok({ op: 'set', key: key(), value: '0' });
        const outcomes = await Promise.all(['a', 'b', 'c', 'd'].map((value) => call({ op: 'update', key: key(), value, ifVersion: version })));
        expect(outcomes.filter((o) => o.status === 200)).toHaveLength(1);
        expect(outcomes.filter((o) => o.status === 412)).toHaveLength(3);
      });
    });

    // Every door runs the cases on one key; a door limited to them (a Redis Cluster) also shows
    // that it refuses several keys, and every other door runs the cases on several keys below.
    describe('transactions on one key', () => {
      if (capabilities.oneKeyTransactions === true) it('refuses a transaction over several keys with 400 invalid_request, saying why, and applies nothing', async () => {
        const outcome = await call({ op: 'txn', ops: [{ op: 'set', key: key('a'), value: '1' }, { op: 'set', key: key('b'), value: '2' }] });
        expect(outcome).toEqual({ status: 400, body: { code: 'invalid_request', message: expect.stringContaining('one hash slot') } });
        await refused({ op: 'get', key: key('a') }, 404, 'item_not_found');
        const checked = await call({ op: 'txn', checks: [{ key: key('b'), version: null }], ops: [{ op: 'set', key: key('a'), value: '1' }] });
        expect(checked.status).toBe(400);
      });

      it('applies every op when the checks hold, under one version', async () => {
        const { version: v } = await ok({ op: 'push', key: key(), value: ['x'] });
        const body = await ok({
          op: 'txn',
          checks: [{ key: key(), version: v }],
          ops: [
            { op: 'push', key: key(), value: ['y', 'z'] },
            { op: 'pop', key: key() },
            { op: 'ttl', key: key(), ttl: '1h' },
          ],
        });
        const version = body.version;
        expect(version).toBeGreaterThan(v);
        expect(body).toEqual({
          ok: true,
          version,
          results: [
            { op: 'push', key: key(), version, length: 3 },
            { op: 'pop', key: key(), version, length: 2, popped: 'z' },
            { op: 'ttl', key: key(), version },
          ],
        });
        expect(await ok({ op: 'get', key: key() })).toMatchObject({ value: ['x', 'y'], version, ttl: TIME });
        const replaced = await ok({ op: 'txn', ops: [{ op: 'set', key: key(), value: 's' }, { op: 'update', key: key(), value: 't' }, { op: 'remove', key: key() }] });
        expect(replaced.results.map((r: { version: number | null }) => r.version)).toEqual([replaced.version, replaced.version, null]);
        await refused({ op: 'get', key: key() }, 404, 'item_not_found');
      });

      it('applies nothing when a check fails (409 txn_conflict with the current version) or an op fails (its error, naming the op)', async () => {
        const { version } = await ok({ op: 'set', key: key(), value: '1' });
        const conflict = await call({ op: 'txn', checks: [{ key: key(), version: version + 1000 }], ops: [{ op: 'set', key: key(), value: 'changed' }] });
        expect(conflict).toEqual({ status: 409, body: { code: 'txn_conflict', message: expect.any(String), conflicts: [{ key: key(), version }] } });
        const failed = await call({ op: 'txn', ops: [{ op: 'set', key: key(), value: 'changed' }, { op: 'pop', key: key() }] });
        expect(failed).toEqual({ status: 409, body: { code: 'wrong_type', message: expect.any(String), op: 1 } });
        expect(await ok({ op: 'get', key: key() })).toMatchObject({ value: '1', version });
      });

      it('concurrent transactions on one list pop every element exactly once', async () => {
        const values = Array.from({ length: 20 }, (_, i) => `v${i}`);
        await ok({ op: 'push', key: key(), value: values });
        const outcomes = await Promise.all(values.map(() => call({ op: 'txn', ops: [{ op: 'pop', key: key() }, { op: 'push', key: key(), value: 'moved' }, { op: 'pop', key: key() }] })));
        expect(outcomes.map((o) => o.status)).toEqual(values.map(() => 200));
        const popped = outcomes.map((o) => (o.body as { results: { popped: string }[] }).results[0]!.popped);
        expect([...popped].sort()).toEqual([...values].sort());
        expect((await ok({ op: 'get', key: key() })).value).toEqual([]);
      });
    });

    if (capabilities.oneKeyTransactions !== true) describe('transactions', () => {
      it('applies every op when the checks hold, under one version shared by every key it wrote', async () => {
        const { version: a } = await ok({ op: 'set', key: key('a'), value: '1' });
        await ok({ op: 'push', key: key('l'), value: ['x'] });
        const body = await ok({
          op: 'txn',
          checks: [
            { key: key('a'), version: a },
            { key: key('none'), version: null },
          ],
          ops: [
            { op: 'set', key: key('a'), value: '2' },
            { op: 'push', key: key('l'), value: ['y', 'z'] },
            { op: 'pop', key: key('l') },
            { op: 'set', key: key('b'), value: ['n'], ttl: '1h' },
            { op: 'update', key: key('b'), value: 'str' },
            { op: 'ttl', key: key('a'), ttl: '1h' },
            { op: 'remove', key: key('b') },
          ],
        });
        const version = body.version;
        expect(version).toBeGreaterThan(a);
        expect(body).toEqual({
          ok: true,
          version,
          results: [
            { op: 'set', key: key('a'), version },
            { op: 'push', key: key('l'), version, length: 3 },
            { op: 'pop', key: key('l'), version, length: 2, popped: 'z' },
            { op: 'set', key: key('b'), version },
            { op: 'update', key: key('b'), version },
            { op: 'ttl', key: key('a'), version },
            { op: 'remove', key: key('b'), version: null },
          ],
        });
        expect(await ok({ op: 'get', key: key('a') })).toMatchObject({ value: '2', version, ttl: TIME });
        expect(await ok({ op: 'get', key: key('l') })).toMatchObject({ value: ['x', 'y'], version });
        await refused({ op: 'get', key: key('b') }, 404, 'item_not_found');
      });

      it('applies nothing when a check fails, and names each failed check with the current version (409 txn_conflict)', async () => {
        const { version } = await ok({ op: 'set', key: key('a'), value: '1' });
        const outcome = await call({
          op: 'txn',
          checks: [
            { key: key('a'), version: version + 1000 },
            { key: key('missing'), version: 5 },
            { key: key('a'), version },
          ],
          ops: [{ op: 'set', key: key('a'), value: 'changed' }, { op: 'set', key: key('new'), value: 'x' }],
        });
        expect(outcome).toEqual({
          status: 409,
          body: {
            code: 'txn_conflict',
            message: expect.any(String),
            conflicts: [
              { key: key('a'), version },
              { key: key('missing'), version: null },
            ],
          },
        });
        expect((await ok({ op: 'get', key: key('a') })).value).toBe('1');
        await refused({ op: 'get', key: key('new') }, 404, 'item_not_found');
      });

      it('applies nothing when an op fails, and names the op', async () => {
        await ok({ op: 'set', key: key('s'), value: 'string' });
        const outcome = await call({
          op: 'txn',
          ops: [
            { op: 'set', key: key('n'), value: 'new' },
            { op: 'remove', key: key('s') },
            { op: 'set', key: key('s2'), value: 'x' },
            { op: 'pop', key: key('s2') },
          ],
        });
        expect(outcome).toEqual({ status: 409, body: { code: 'wrong_type', message: expect.any(String), op: 3 } });
        await refused({ op: 'get', key: key('n') }, 404, 'item_not_found');
        expect((await ok({ op: 'get', key: key('s') })).value).toBe('string');
        const missing = await call({ op: 'txn', ops: [{ op: 'update', key: key('nope'), value: 'x' }] });
        expect(missing).toEqual({ status: 404, body: { code: 'item_not_found', message: expect.any(String), op: 0 } });
      });

      it('concurrent transactions on one list move every element exactly once', async () => {
        const values = Array.from({ length: 20 }, (_, i) => `v${i}`);
        await ok({ op: 'push', key: key('from'), value: values });
        const outcomes = await Promise.all(
          values.map(() => call({ op: 'txn', ops: [{ op: 'pop', key: key('from') }, { op: 'push', key: key('to'), value: 'moved' }] })),
        );
        expect(outcomes.map((o) => o.status)).toEqual(values.map(() => 200));
        const popped = outcomes.map((o) => (o.body as { results: { popped: string }[] }).results[0]!.popped);
        expect([...popped].sort()).toEqual([...values].sort());
        expect((await ok({ op: 'get', key: key('from') })).value).toEqual([]);
        expect((await ok({ op: 'get', key: key('to') })).value).toHaveLength(20);
      });
    });

    // ---- Concurrency ----

    describe('concurrency', () => {
      it('50 concurrent pushes of distinct values: the list holds all 50 exactly once', async () => {
        const values = Array.from({ length: 50 }, (_, i) => `v${i}`);
        const outcomes = await Promise.all(values.map((value) => call({ op: 'push', key: key(), value })));
        expect(outcomes.map((o) => o.status)).toEqual(values.map(() => 200));
        const lengths = outcomes.map((o) => (o.body as { value: string[] }).value.length).sort((a, b) => a - b);
        expect(lengths).toEqual(values.map((_, i) => i + 1));
        const row = await ok({ op: 'get', key: key() });
        expect(row.value).toHaveLength(50);
        expect([...row.value].sort()).toEqual([...values].sort());
      });

      it('50 concurrent pops of a 50-element list: 50 distinct elements, then empty, then 409 list_empty', async () => {
        const values = Array.from({ length: 50 }, (_, i) => `v${i}`);
        await ok({ op: 'set', key: key(), value: values });
        const outcomes = await Promise.all(values.map(() => call({ op: 'pop', key: key(), minimal: true })));
        expect(outcomes.map((o) => o.status)).toEqual(values.map(() => 200));
        const popped = outcomes.map((o) => (o.body as { popped: string }).popped);
        expect(new Set(popped).size).toBe(50);
        expect([...popped].sort()).toEqual([...values].sort());
        expect(outcomes.map((o) => (o.body as { length: number }).length).sort((a, b) => a - b)).toEqual(values.map((_, i) => i));
        expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), []));
        await refused({ op: 'pop', key: key() }, 409, 'list_empty');
      });
    });

    // ---- Raw HTTP: what only a request on the wire can say ----

    if (capabilities.http === true) {
      describe('raw HTTP', () => {
        const send = (request: HttpRequest): Promise<Outcome> => door.http!(request);
        const json = (method: HttpRequest['method'], path: string, body: unknown): HttpRequest => ({
          method,
          path,
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        });
        const expectRefusal = (outcome: Outcome, status: number, code: string): void => {
          expect(outcome).toEqual({ status, body: { code, message: expect.any(String) } });
        };
        const path = (k: string, suffix = ''): string => `/${encodeURIComponent(k)}${suffix}`;

        it('every answer that carries a version has it as its ETag, in quotes', async () => {
          const set = await send({ ...json('POST', '/set', { key: key(), value: 'v' }), readEtag: true });
          expect(set.etag).toBe(`"${(set.body as { version: number }).version}"`);
          const got = await send({ method: 'GET', path: path(key()), readEtag: true });
          expect(got).toEqual({ status: 200, body: stringRow(key(), 'v'), etag: set.etag });
          const pushed = await send({ ...json('PATCH', path(key('l'), '/push'), { value: ['a'] }), readEtag: true });
          expect(pushed.etag).toBe(`"${(pushed.body as { version: number }).version}"`);
          const ttl = await send({ method: 'GET', path: path(key('l'), '/ttl'), readEtag: true });
          expect(ttl.etag).toBe(pushed.etag);
          const txn = await send({ ...json('POST', '/db/txn', { ops: [{ op: 'remove', key: key() }] }), readEtag: true });
          expect(txn.etag).toBe(`"${(txn.body as { version: number }).version}"`);
          const missing = await send({ method: 'GET', path: path(key()), readEtag: true });
          expect(missing.status).toBe(404);
          expect(missing.etag).toBeUndefined();
        });

        it('a read with If-None-Match naming the current version answers 304 without a body; another version, 200', async () => {
          const { version } = await ok({ op: 'set', key: key(), value: 'v' });
          expect(await send({ method: 'GET', path: path(key()), headers: { 'if-none-match': `"${version}"` }, readEtag: true })).toEqual({
            status: 304,
            body: '',
            etag: `"${version}"`,
          });
          expect(await send({ method: 'GET', path: path(key()), headers: { 'if-none-match': `"${version - 1}", W/"${version}"` } })).toEqual({ status: 304, body: '' });
          expect((await send({ method: 'GET', path: path(key()), headers: { 'if-none-match': `"${version + 1}"` } })).status).toBe(200);
        });

        it('malformed precondition headers are refused with 400 invalid_request and change nothing', async () => {
          await ok({ op: 'set', key: key(), value: 'v' });
          const write = (headers: Record<string, string>): HttpRequest => ({ ...json('PATCH', path(key()), { value: 'changed' }), headers: { 'content-type': 'application/json', ...headers } });
          for (const ifMatch of ['5', '"abc"', '"1", "2"', 'W/"1"', '""', '"-1"', '"99999999999999999999"']) {
            expectRefusal(await send(write({ 'if-match': ifMatch })), 400, 'invalid_request');
          }
          // If-None-Match: * is for set (create only); on other writes, and with a tag, it is refused.
          expectRefusal(await send(write({ 'if-none-match': '*' })), 400, 'invalid_request');
          expectRefusal(await send({ ...json('POST', '/set', { key: key(), value: 'x' }), headers: { 'content-type': 'application/json', 'if-none-match': '"1"' } }), 400, 'invalid_request');
          expectRefusal(await send(json('PATCH', path(key()), { value: 'x', if_version: -1 })), 400, 'invalid_request');
          expectRefusal(await send(json('PATCH', path(key()), { value: 'x', if_version: '1' })), 400, 'invalid_request');
          expect((await ok({ op: 'get', key: key() })).value).toBe('v');
          // A header and a body field that disagree.
          const { version } = await ok({ op: 'get', key: key() });
          expectRefusal(
            await send({ ...json('PATCH', path(key()), { value: 'x', if_version: version + 1 }), headers: { 'content-type': 'application/json', 'if-match': `"${version}"` } }),
            400,
            'invalid_request',
          );
        });

        it('a transaction body of the wrong shape is refused with 400 invalid_request', async () => {
          for (const body of [{}, { ops: [] }, { ops: [{ op: 'get', key: key() }] }, { ops: [{ op: 'set', key: key() }] }, { ops: [{ op: 'set', key: '', value: 'v' }] }, { ops: [{ op: 'pop', key: key(), value: 'v' }] }, { checks: [{ key: key() }], ops: [{ op: 'remove', key: key() }] }, { ops: [{ op: 'set', key: key(), value: 'v', ttl: '0s' }] }]) {
            expectRefusal(await send(json('POST', '/db/txn', body)), 400, 'invalid_request');
          }
          const many = Array.from({ length: 129 }, (_, i) => ({ op: 'set', key: key(String(i)), value: 'v' }));
          expectRefusal(await send(json('POST', '/db/txn', { ops: many })), 400, 'invalid_request');
          await refused({ op: 'get', key: key('0') }, 404, 'item_not_found');
        });

        it('an unknown field in a set, update or push body is refused with 400 invalid_request', async () => {
          expectRefusal(await send(json('POST', '/set', { key: key(), value: 'v', extra: 1 })), 400, 'invalid_request');
          await refused({ op: 'get', key: key() }, 404, 'item_not_found');
          await ok({ op: 'set', key: key(), value: ['a'] });
          expectRefusal(await send(json('PATCH', path(key()), { value: 'v', expires: '1h' })), 400, 'invalid_request');
          expectRefusal(await send(json('PATCH', path(key(), '/push'), { value: 'v', key: key() })), 400, 'invalid_request');
          expect(await ok({ op: 'get', key: key() })).toStrictEqual(listRow(key(), ['a']));
        });

        it('a body without Content-Type is read as JSON on every route that takes one; another type is 415', async () => {
          const bare = (method: HttpRequest['method'], p: string, body: unknown): HttpRequest => ({ method, path: p, body: JSON.stringify(body) });
          expect(await send(bare('POST', '/set', { key: key(), value: ['a'] }))).toEqual({ status: 200, body: OK_VERSION });
          expect(await send(bare('PATCH', path(key()), { value: ['b'] }))).toEqual({ status: 200, body: OK_VERSION });
          expect((await send(bare('PATCH', path(key(), '/push'), { value: 'c' }))).status).toBe(200);
          expect((await send(bare('PATCH', path(key(), '/ttl'), { ttl: '1h' }))).status).toBe(200);
          expect((await ok({ op: 'get', key: key() })).value).toEqual(['b', 'c']);
          const typed = { ...json('PATCH', path(key(), '/push'), { value: 'd' }), headers: { 'content-type': 'text/plain' } };
          expectRefusal(await send(typed), 415, 'unsupported_media_type');
          expect((await ok({ op: 'get', key: key() })).value).toEqual(['b', 'c']);
        });

        it('a set body without key or value is refused with 400 invalid_request', async () => {
          expectRefusal(await send(json('POST', '/set', { value: 'v' })), 400, 'invalid_request');
          expectRefusal(await send(json('POST', '/set', { key: key() })), 400, 'invalid_request');
          expectRefusal(await send(json('POST', '/set', { key: key(), value: null })), 400, 'invalid_request');
        });

        it('a body that is not JSON is refused with 400 invalid_json', async () => {
          const outcome = await send({ method: 'POST', path: '/set', body: '{"key": "x", ', headers: { 'content-type': 'application/json' } });
          expectRefusal(outcome, 400, 'invalid_json');
        });

        it('a percent-encoded path segment is decoded into the key', async () => {
          await ok({ op: 'set', key: key('a/b c'), value: 'v' });
          const outcome = await send({ method: 'GET', path: `/${prefix}a%2Fb%20c` });
          expect(outcome).toEqual({ status: 200, body: stringRow(key('a/b c'), 'v') });
        });

        it('a bad percent-encoding is refused with 400 invalid_request', async () => {
          expectRefusal(await send({ method: 'GET', path: '/bad%E0%A4%A' }), 400, 'invalid_request');
          expectRefusal(await send({ method: 'GET', path: '/bad%ZZ' }), 400, 'invalid_request');
        });

        it.each(['0', '1001', 'abc', '1.5', '-1'])('the key listing refuses limit=%s with 400 invalid_request', async (limit) => {
          expectRefusal(await send({ method: 'GET', path: `/db/keys?limit=${limit}` }), 400, 'invalid_request');
        });

        it('the key listing refuses a cursor it did not issue, or one used with another prefix', async () => {
          expectRefusal(await send({ method: 'GET', path: '/db/keys?cursor=made-up' }), 400, 'invalid_request');
          for (const k of ['p1', 'p2', 'p3']) await ok({ op: 'set', key: key(k), value: 'v' });
          const first = await ok({ op: 'keys', prefix: key('p'), limit: 1 });
          expect(first.cursor).toEqual(expect.any(String));
          const other = encodeURIComponent(key('q'));
          expectRefusal(await send({ method: 'GET', path: `/db/keys?prefix=${other}&cursor=${encodeURIComponent(first.cursor)}` }), 400, 'invalid_request');
        });

        it.each([
          ['start=a&stop=1'],
          ['start=0&stop=1.5'],
          ['start=&stop=-1'],
          ['start=0x1&stop=2'],
          ['start=1e2&stop=3'],
        ])('range refuses the query %s with 400 invalid_request', async (query) => {
          await ok({ op: 'set', key: key(), value: ['a', 'b'] });
          expectRefusal(await send({ method: 'GET', path: `${path(key(), '/range')}?${query}` }), 400, 'invalid_request');
        });

        it('range without start and stop answers the whole list (defaults 0 and -1)', async () => {
          await ok({ op: 'set', key: key(), value: ['a', 'b', 'c'] });
          const outcome = await send({ method: 'GET', path: path(key(), '/range') });
          expect(outcome).toEqual({
            status: 200,
            body: { key: key(), kind: 'string_slice', value: ['a', 'b', 'c'], length: 3, version: VERSION, ttl: null, created_at: TIME, updated_at: TIME },
          });
        });

        it('a write repeated with the same Idempotency-Key gets the first answer and applies once; another request with the key is 422', async () => {
          await ok({ op: 'set', key: key(), value: ['a', 'b', 'c'] });
          const idempotent = (request: HttpRequest, idempotencyKey: string): HttpRequest => ({
            ...request,
            headers: { ...request.headers, 'idempotency-key': idempotencyKey },
          });
          const pop = idempotent({ method: 'PATCH', path: path(key(), '/pop') }, `${key()}-pop`);
          const first = await send(pop);
          expect(first.status).toBe(200);
          expect((first.body as { popped: string }).popped).toBe('c');
          expect(await send(pop)).toEqual(first);
          expect((await ok({ op: 'get', key: key() })).value).toEqual(['a', 'b']);
          const push = idempotent(json('PATCH', path(key(), '/push'), { value: 'd' }), `${key()}-push`);
          const pushed = await send(push);
          expect(await send(push)).toEqual(pushed);
          expect((await ok({ op: 'get', key: key() })).value).toEqual(['a', 'b', 'd']);
          expectRefusal(await send({ ...pop, path: path(key('other'), '/pop') }), 422, 'idempotency_key_reused');
          expectRefusal(await send(idempotent(json('PATCH', path(key(), '/push'), { value: 'e' }), `${key()}-push`)), 422, 'idempotency_key_reused');
          // A validation failure is not kept: the corrected request runs.
          const bad = idempotent(json('POST', '/set', { key: key('n'), value: 5 }), `${key()}-set`);
          expectRefusal(await send(bad), 400, 'invalid_request');
          expect((await send({ ...bad, body: JSON.stringify({ key: key('n'), value: '5' }) })).status).toBe(200);
          expectRefusal(await send(idempotent({ method: 'PATCH', path: path(key(), '/pop') }, 'has space')), 400, 'invalid_request');
        });

        it('PATCH ttl refuses a body without ttl, a number ttl and unknown fields with 400 invalid_request', async () => {
          await ok({ op: 'set', key: key(), value: 'v' });
          expectRefusal(await send(json('PATCH', path(key(), '/ttl'), {})), 400, 'invalid_request');
          expectRefusal(await send(json('PATCH', path(key(), '/ttl'), { ttl: 60 })), 400, 'invalid_request');
          expectRefusal(await send(json('PATCH', path(key(), '/ttl'), { ttl: '1h', value: 'x' })), 400, 'invalid_request');
          expect((await ok({ op: 'get', key: key() })).ttl).toBeNull();
        });
      });
    } else {
      it('sends no raw HTTP: malformed bodies, queries and URLs are covered by the inject and TCP doors', () => {
        expect(door.http).toBeUndefined();
      });
    }
  });
}
