/** `fetchOptions`: platform fields added to every fetch call (how a CA or client certificate reaches Node's fetch), under the client's own. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@memkv/client';
import { startMemkv } from '../helpers/servers.js';

let server: Awaited<ReturnType<typeof startMemkv>>;
beforeAll(async () => {
  server = await startMemkv();
});
afterAll(() => server.close());

describe('fetchOptions', () => {
  it('adds its fields to every call, and the client\'s method, headers, body and signal win', async () => {
    const seen: RequestInit[] = [];
    const marker = { name: 'a dispatcher' };
    const client = createClient({
      url: server.url,
      fetch: (input, init) => {
        seen.push(init);
        // The marker is no real dispatcher: the platform fetch gets the rest.
        const { dispatcher: _marker, ...rest } = init as RequestInit & { dispatcher?: unknown };
        return fetch(input, rest);
      },
      fetchOptions: { dispatcher: marker, method: 'DELETE', headers: { 'x-other': '1' }, body: 'nothing', keepalive: true },
    });
    await client.set('k', 'v');
    expect((await client.get('k'))?.value).toBe('v');
    expect(seen).toHaveLength(2);
    for (const init of seen) {
      expect((init as RequestInit & { dispatcher?: unknown }).dispatcher).toBe(marker);
      expect(init.keepalive).toBe(true);
      expect(init.signal).toBeInstanceOf(AbortSignal);
    }
    expect(seen.map((init) => init.method)).toEqual(['POST', 'GET']);
    expect(seen[0]!.body).toBe(JSON.stringify({ key: 'k', value: 'v' }));
    expect(seen[1]!.body).toBeUndefined();
    expect(seen[0]!.headers).not.toHaveProperty('x-other');
  });

  it('must be an object', () => {
    for (const bad of [null, 'dispatcher', [1], 5]) {
      expect(() => createClient({ url: server.url, fetchOptions: bad as never })).toThrow(/^fetchOptions must be an object/);
    }
  });
});
