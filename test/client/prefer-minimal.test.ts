import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  ListEmptyError,
  NotFoundError,
  UnexpectedResponseError,
  WrongTypeError,
  type MemkvClient,
  type MinimalListRow,
  type MinimalPopRow,
} from '@memkv/client';
import { startHttpServer, startMemkv } from '../helpers/servers.js';

let server: Awaited<ReturnType<typeof startMemkv>>;
let client: MemkvClient;

/** What each request of the client sent and got back: its Prefer header, the answer's Preference-Applied and size. */
const exchanges: { prefer: string | null; applied: string | null; bytes: number }[] = [];

beforeAll(async () => {
  server = await startMemkv();
  client = createClient({
    url: server.url,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const text = await response.clone().text();
      const headers = new Headers(init.headers);
      exchanges.push({ prefer: headers.get('prefer'), applied: response.headers.get('preference-applied'), bytes: text.length });
      return response;
    },
  });
});
afterAll(() => server.close());

const lastExchange = () => exchanges.at(-1)!;

describe('push and pop with { minimal: true } against a real server', () => {
  it('push answers the length and times, without the elements', async () => {
    const before = Date.now();
    const row: MinimalListRow = await client.push('queue', ['a', 'b'], { minimal: true, ttl: '1h' });
    expect(Object.keys(row)).toEqual(['key', 'version', 'expiresAt', 'createdAt', 'updatedAt', 'kind', 'length']);
    expect(row).toMatchObject({ key: 'queue', kind: 'string_slice', length: 2 });
    expect(row.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(row.updatedAt).toBeInstanceOf(Date);
    // @ts-expect-error a minimal row has no value
    expect(row.value).toBeUndefined();
    expect(lastExchange()).toMatchObject({ prefer: 'return=minimal', applied: 'return=minimal' });
    expect(server.store.get('queue')?.value).toEqual(['a', 'b']);
    expect((await client.push('queue', 'c', { minimal: true })).length).toBe(3);
  });

  it('pop answers the length after the pop and the popped element', async () => {
    await client.set('stack', ['x', 'y']);
    const row: MinimalPopRow = await client.pop('stack', { minimal: true });
    expect(Object.keys(row)).toEqual(['key', 'version', 'expiresAt', 'createdAt', 'updatedAt', 'kind', 'length', 'popped']);
    expect(row).toMatchObject({ key: 'stack', length: 1, popped: 'y' });
    expect(lastExchange()).toMatchObject({ prefer: 'return=minimal', applied: 'return=minimal' });
    expect(await client.pop('stack', { minimal: true })).toMatchObject({ length: 0, popped: 'x' });
    await expect(client.pop('stack', { minimal: true })).rejects.toBeInstanceOf(ListEmptyError);
  });

  it('without minimal, sends no Prefer header and answers the whole list', async () => {
    await client.set('full', ['a']);
    expect(await client.push('full', 'b', { minimal: false })).toMatchObject({ value: ['a', 'b'] });
    expect(lastExchange()).toEqual(expect.objectContaining({ prefer: null, applied: null }));
    expect(await client.pop('full')).toMatchObject({ value: ['a'], popped: 'b' });
    expect(lastExchange()).toEqual(expect.objectContaining({ prefer: null, applied: null }));
  });

  it('errors are the same as without minimal', async () => {
    await client.set('text', 'v');
    await expect(client.push('text', 'x', { minimal: true })).rejects.toBeInstanceOf(WrongTypeError);
    await expect(client.pop('text', { minimal: true })).rejects.toBeInstanceOf(WrongTypeError);
    await expect(client.pop('ghost', { minimal: true })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('the answer stays small on a large list, over TCP through every front door', async () => {
    server.store.set('big', Array.from({ length: 200_000 }, (_, i) => `element-${i}`));
    expect(await client.push('big', 'last', { minimal: true })).toMatchObject({ length: 200_001 });
    expect(lastExchange().bytes).toBeLessThan(300);
    expect(await client.pop('big', { minimal: true })).toMatchObject({ length: 200_000, popped: 'last' });
    expect(lastExchange().bytes).toBeLessThan(300);
    expect(lastExchange().applied).toBe('return=minimal');
  });
});

describe('a server that does not apply the preference', () => {
  it('answers the whole row: the client still gives the length', async () => {
    const times = { version: 4, ttl: null, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:01.000Z' };
    const fake = await startHttpServer((request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const row = { key: 'k', kind: 'string_slice', value: ['a', 'b', 'c'], ...times };
      response.end(JSON.stringify(request.url!.endsWith('/pop') ? { ...row, popped: 'd' } : row));
    });
    try {
      const old = createClient({ url: fake.url });
      expect(await old.push('k', 'c', { minimal: true })).toEqual({
        key: 'k',
        version: 4,
        expiresAt: null,
        createdAt: new Date(times.created_at),
        updatedAt: new Date(times.updated_at),
        kind: 'string_slice',
        length: 3,
      });
      expect(await old.pop('k', { minimal: true })).toMatchObject({ length: 3, popped: 'd' });
    } finally {
      await fake.close();
    }
  });

  it('rejects a minimal answer of the wrong shape', async () => {
    const fake = await startHttpServer((request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const times = { version: 4, ttl: null, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };
      // A negative length for push; a pop answer without "popped".
      const length = request.url!.endsWith('/push') ? -1 : 0;
      response.end(JSON.stringify({ key: 'k', kind: 'string_slice', length, ...times }));
    });
    try {
      const bad = createClient({ url: fake.url });
      await expect(bad.push('k', 'v', { minimal: true })).rejects.toThrow(/"length" is not a whole number/);
      await expect(bad.pop('k', { minimal: true })).rejects.toThrow(/"popped" is not a string/);
      await expect(bad.pop('k', { minimal: true })).rejects.toBeInstanceOf(UnexpectedResponseError);
    } finally {
      await fake.close();
    }
  });
});
