import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, createClient, MemkvClientError, TimeoutError, type MemkvClient } from '@memkv/client';
import { countingFetch, refusedUrl, startHttpServer, startResettingServer, startSilentServer, type RawServer } from '../helpers/servers.js';

function clientWith(url: string, options: { retries?: number; timeoutMs?: number; idempotencyKeys?: boolean } = {}): { client: MemkvClient; calls: () => number } {
  const counter = countingFetch();
  return { client: createClient({ url, retryDelayMs: 1, fetch: counter.fetch, ...options }), calls: counter.calls };
}

describe('connection refused: the request never left, so every call retries', () => {
  it.each(['get', 'set', 'update', 'remove', 'push', 'pop'] as const)('%s makes 1 + retries attempts', async (name) => {
    const { client, calls } = clientWith(await refusedUrl(), { retries: 2 });
    const call = name === 'set' || name === 'update' || name === 'push' ? client[name]('k', 'v') : client[name]('k');
    await expect(call).rejects.toBeInstanceOf(ConnectionError);
    expect(calls()).toBe(3);
  });

  it('retries: 0 makes one attempt', async () => {
    const { client, calls } = clientWith(await refusedUrl(), { retries: 0 });
    await expect(client.get('k')).rejects.toBeInstanceOf(ConnectionError);
    expect(calls()).toBe(1);
  });
});

describe('connection reset after the request was sent', () => {
  let resetting: RawServer;
  beforeAll(async () => {
    resetting = await startResettingServer();
  });
  afterAll(() => resetting.close());

  it.each(['get', 'set', 'update', 'remove'] as const)('idempotent %s is retried', async (name) => {
    const { client, calls } = clientWith(resetting.url, { retries: 2 });
    const call = name === 'set' || name === 'update' ? client[name]('k', 'v') : client[name]('k');
    await expect(call).rejects.toBeInstanceOf(ConnectionError);
    expect(calls()).toBe(3);
  });

  it.each(['push', 'pop'] as const)('%s without an idempotency key is never retried', async (name) => {
    const { client, calls } = clientWith(resetting.url, { retries: 2, idempotencyKeys: false });
    await expect(name === 'push' ? client.push('k', 'v') : client.pop('k')).rejects.toBeInstanceOf(ConnectionError);
    expect(calls()).toBe(1);
  });

  it.each(['push', 'pop'] as const)('%s with its idempotency key (the default) is retried', async (name) => {
    const { client, calls } = clientWith(resetting.url, { retries: 2 });
    await expect(name === 'push' ? client.push('k', 'v') : client.pop('k')).rejects.toBeInstanceOf(ConnectionError);
    expect(calls()).toBe(3);
  });
});

describe('range, getTtl and setTtl are idempotent', () => {
  let resetting: RawServer;
  beforeAll(async () => {
    resetting = await startResettingServer();
  });
  afterAll(() => resetting.close());

  const calls = {
    range: (client: MemkvClient) => client.range('k', 0, -1),
    getTtl: (client: MemkvClient) => client.getTtl('k'),
    // A relative TTL set again by a retry ends later by the retry's delay, as `update` with a ttl.
    setTtl: (client: MemkvClient) => client.setTtl('k', '1h'),
    'setTtl(null)': (client: MemkvClient) => client.setTtl('k', null),
  };

  it.each(Object.keys(calls) as (keyof typeof calls)[])('%s is retried after a connection reset, and after a refusal', async (name) => {
    const reset = clientWith(resetting.url, { retries: 2 });
    await expect(calls[name](reset.client)).rejects.toBeInstanceOf(ConnectionError);
    expect(reset.calls()).toBe(3);
    const refused = clientWith(await refusedUrl(), { retries: 1 });
    await expect(calls[name](refused.client)).rejects.toBeInstanceOf(ConnectionError);
    expect(refused.calls()).toBe(2);
  });
});

describe('503 from a server that is starting', () => {
  let flaky: RawServer;
  let requests = 0;
  beforeAll(async () => {
    // Every other request is refused with 503; the others answer a row.
    flaky = await startHttpServer((_request, _body, response) => {
      const unavailable = requests++ % 2 === 0;
      response.writeHead(unavailable ? 503 : 200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify(
          unavailable
            ? { code: 'service_unavailable', message: 'memkv is starting' }
            : { key: 'k', kind: 'string_slice', value: ['v'], version: 1, ttl: null, created_at: new Date().toISOString(), updated_at: new Date().toISOString() },
        ),
      );
    });
  });
  afterAll(() => flaky.close());

  it('an idempotent get succeeds on the second attempt', async () => {
    requests = 0;
    const { client, calls } = clientWith(flaky.url);
    expect(await client.get('k')).toMatchObject({ key: 'k', value: ['v'] });
    expect(calls()).toBe(2);
  });

  it('a push without an idempotency key reports the 503 instead of retrying', async () => {
    requests = 0;
    const { client, calls } = clientWith(flaky.url, { idempotencyKeys: false });
    await expect(client.push('k', 'v')).rejects.toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(calls()).toBe(1);
  });
});

describe('503 loading from a server that replays its log', () => {
  let loading: RawServer;
  /** Loading answers still to give before the server answers a row. */
  let loadingLeft = 0;
  let retryAfter = '1';
  beforeAll(async () => {
    loading = await startHttpServer((_request, _body, response) => {
      if (loadingLeft > 0) {
        loadingLeft--;
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': retryAfter });
        response.end(JSON.stringify({ code: 'loading', message: 'memkv is loading the dataset: 45% (450 of 1,000 bytes of the log)' }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      const now = new Date().toISOString();
      response.end(JSON.stringify({ key: 'k', kind: 'string', value: 'v', version: 1, ttl: null, created_at: now, updated_at: now }));
    });
  });
  afterAll(() => loading.close());

  it('an idempotent call waits as Retry-After asks (not its own 1 ms backoff), then succeeds', async () => {
    loadingLeft = 1;
    retryAfter = '1';
    const { client, calls } = clientWith(loading.url);
    const startedAtMs = performance.now();
    expect(await client.get('k')).toMatchObject({ key: 'k', value: 'v' });
    expect(performance.now() - startedAtMs).toBeGreaterThanOrEqual(990);
    expect(calls()).toBe(2);
  });

  it('a Retry-After as an HTTP date counts too', async () => {
    loadingLeft = 1;
    retryAfter = new Date(Date.now() + 2000).toUTCString(); // a whole-second date: 1 to 2 s ahead
    const { client, calls } = clientWith(loading.url);
    const startedAtMs = performance.now();
    expect(await client.get('k')).toMatchObject({ key: 'k' });
    expect(performance.now() - startedAtMs).toBeGreaterThanOrEqual(900);
    expect(calls()).toBe(2);
  });

  it('gives up with the loading error once its retries are spent', async () => {
    loadingLeft = 10;
    retryAfter = '0';
    const { client, calls } = clientWith(loading.url, { retries: 2 });
    await expect(client.get('k')).rejects.toMatchObject({ status: 503, code: 'loading', message: expect.stringMatching(/^memkv is loading the dataset: 45%/) });
    expect(calls()).toBe(3);
  });

  it('does not wait past its longest backoff (5 s): a longer Retry-After is reported at once', async () => {
    loadingLeft = 1;
    retryAfter = '60';
    const { client, calls } = clientWith(loading.url);
    await expect(client.get('k')).rejects.toMatchObject({ status: 503, code: 'loading' });
    expect(calls()).toBe(1);
  });

  it.each(['push', 'pop'] as const)('%s without an idempotency key is not retried', async (name) => {
    loadingLeft = 1;
    retryAfter = '0';
    const { client, calls } = clientWith(loading.url, { idempotencyKeys: false });
    await expect(name === 'push' ? client.push('k', 'v') : client.pop('k')).rejects.toMatchObject({ status: 503, code: 'loading' });
    expect(calls()).toBe(1);
  });

  it('a pop with its idempotency key (the default) is retried after 503 loading', async () => {
    loadingLeft = 1;
    retryAfter = '0';
    const { client, calls } = clientWith(loading.url);
    // The fake server answers a string row: the retry reached it, and the shape check refuses it.
    await expect(client.pop('k')).rejects.toMatchObject({ code: 'unexpected_response' });
    expect(calls()).toBe(2);
  });
});

describe('other failures are not retried', () => {
  it('a timeout', async () => {
    const silent = await startSilentServer();
    try {
      const { client, calls } = clientWith(silent.url, { timeoutMs: 100 });
      await expect(client.get('k')).rejects.toBeInstanceOf(TimeoutError);
      expect(calls()).toBe(1);
    } finally {
      await silent.close();
    }
  });

  it('an error answer such as 404', async () => {
    const notFound = await startHttpServer((_request, _body, response) => {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: 'item_not_found', message: 'key "k" does not exist' }));
    });
    try {
      const { client, calls } = clientWith(notFound.url);
      await expect(client.update('k', 'v')).rejects.toBeInstanceOf(MemkvClientError);
      expect(calls()).toBe(1);
    } finally {
      await notFound.close();
    }
  });
});
