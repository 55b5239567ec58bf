import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, UnexpectedResponseError, ValidationError, WrongTypeError, type MemkvClient, type RangeRow } from '@memkv/client';
import { countingFetch, startHttpServer, startMemkv } from '../helpers/servers.js';

let server: Awaited<ReturnType<typeof startMemkv>>;
let client: MemkvClient;

beforeAll(async () => {
  server = await startMemkv();
  client = createClient({ url: server.url, retries: 0 });
});
afterAll(() => server.close());
beforeEach(() => void server.store.flush());

/** The exact text a plain HTTP GET of the API answers (no client involved). */
async function plain(path: string): Promise<string> {
  return (await fetch(`${server.url}/api/v1${path}`)).text();
}

describe('range against a real server', () => {
  it('answers the slice, the whole list\'s length and the row\'s times as Dates', async () => {
    const before = Date.now();
    await client.set('letters', ['a', 'b', 'c', 'd', 'e'], { ttl: '1h' });
    const row: RangeRow | null = await client.range('letters', 1, 3);
    expect(row).not.toBeNull();
    expect(Object.keys(row!)).toEqual(['key', 'version', 'expiresAt', 'createdAt', 'updatedAt', 'kind', 'value', 'length']);
    expect(row).toMatchObject({ key: 'letters', kind: 'string_slice', value: ['b', 'c', 'd'], length: 5 });
    expect(row!.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(row!.createdAt).toBeInstanceOf(Date);
    // The same times as get gives: a range is the row, with a slice for its value.
    const whole = await client.get('letters');
    expect({ expiresAt: row!.expiresAt, createdAt: row!.createdAt, updatedAt: row!.updatedAt }).toEqual({
      expiresAt: whole!.expiresAt,
      createdAt: whole!.createdAt,
      updatedAt: whole!.updatedAt,
    });
  });

  it.each([
    [0, -1, ['a', 'b', 'c', 'd', 'e']],
    [0, 0, ['a']],
    [-1, -1, ['e']],
    [-2, -1, ['d', 'e']],
    [-100, 100, ['a', 'b', 'c', 'd', 'e']],
    [-5, 1, ['a', 'b']],
    [2, -3, ['c']],
    [3, 1, []],
    [5, 10, []],
    [-1, -2, []],
  ])('start %i, stop %i: Redis LRANGE semantics', async (start, stop, expected) => {
    await client.set('letters', ['a', 'b', 'c', 'd', 'e']);
    expect(await client.range('letters', start, stop)).toMatchObject({ value: expected, length: 5 });
  });

  it('reads an empty list as an empty slice of length 0, and changes nothing', async () => {
    await client.set('empty', []);
    expect(await client.range('empty', 0, -1)).toMatchObject({ value: [], length: 0, expiresAt: null });
    await client.set('kept', ['x', 'y']);
    const before = server.store.get('kept');
    await client.range('kept', 0, 0);
    expect(server.store.get('kept')).toEqual(before);
  });

  it('answers null for a missing or expired key, as get does', async () => {
    expect(await client.range('ghost', 0, -1)).toBeNull();
    await client.set('short-lived', ['v'], { ttl: 1 });
    await expect.poll(() => client.range('short-lived', 0, -1), { timeout: 5_000, interval: 20 }).toBeNull();
  });

  it('a string key is a WrongTypeError (409 wrong_type)', async () => {
    await client.set('text', 'v');
    const error = await client.range('text', 0, -1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongTypeError);
    expect(error).toMatchObject({ status: 409, code: 'wrong_type' });
  });

  it.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '1' as unknown as number])(
    'refuses the index %s without sending anything',
    async (index) => {
      const counter = countingFetch();
      const local = createClient({ url: server.url, fetch: counter.fetch });
      for (const call of [() => local.range('k', index, 1), () => local.range('k', 0, index)]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect(error).toMatchObject({ code: 'invalid_request', status: undefined });
      }
      expect(counter.calls()).toBe(0);
    },
  );

  it('percent-encodes the key, as the other calls do', async () => {
    const key = 'a/b?start=9#x %e ü😀';
    await client.set(key, ['1', '2']);
    expect(await client.range(key, -1, -1)).toMatchObject({ key, value: ['2'], length: 2 });
  });
});

describe('wire.range', () => {
  it('answers the same text as a plain GET /{key}/range, in the API\'s field order', async () => {
    server.store.set('q', ['a', 'b', 'c'], { ttlMs: 60_000 });
    const json = await client.wire.range('q', -2, -1);
    expect(JSON.stringify(json)).toBe(await plain('/q/range?start=-2&stop=-1'));
    expect(Object.keys(json)).toEqual(['key', 'kind', 'value', 'length', 'version', 'ttl', 'created_at', 'updated_at']);
    expect(json).toMatchObject({ key: 'q', kind: 'string_slice', value: ['b', 'c'], length: 3 });
  });

  it('a missing key is a NotFoundError (404 item_not_found)', async () => {
    await expect(client.wire.range('ghost', 0, -1)).rejects.toMatchObject({ name: 'NotFoundError', status: 404, code: 'item_not_found' });
  });
});

describe('range answers of the wrong shape', () => {
  it('are UnexpectedResponseErrors', async () => {
    const times = { version: 4, ttl: null, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' };
    const answers: Record<string, unknown> = {
      // No length, as a server without the range route's shape would answer.
      nolength: { key: 'k', kind: 'string_slice', value: ['a'], ...times },
      // A whole list shorter than the slice.
      short: { key: 'k', kind: 'string_slice', value: ['a', 'b'], length: 1, ...times },
      string: { key: 'k', kind: 'string', value: 'a', length: 1, ...times },
    };
    const fake = await startHttpServer((request, _body, response) => {
      const name = decodeURIComponent(request.url!.split('/')[3]!);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answers[name]));
    });
    try {
      const other = createClient({ url: fake.url, retries: 0 });
      for (const name of Object.keys(answers)) await expect(other.range(name, 0, -1)).rejects.toBeInstanceOf(UnexpectedResponseError);
    } finally {
      await fake.close();
    }
  });
});
