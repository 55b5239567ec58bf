import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  createClient,
  ListEmptyError,
  MemkvClientError,
  NotFoundError,
  TimeoutError,
  UnauthorizedError,
  UnexpectedResponseError,
  ValidationError,
  WrongTypeError,
  type MemkvClient,
} from '@memkv/client';
import { refusedUrl, startHttpServer, startMemkv, startSilentServer } from '../helpers/servers.js';

let server: Awaited<ReturnType<typeof startMemkv>>;
let client: MemkvClient;

beforeAll(async () => {
  server = await startMemkv();
  client = createClient({ url: server.url, retries: 0 });
});
afterAll(() => server.close());

async function failure(promise: Promise<unknown>): Promise<MemkvClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof MemkvClientError)) throw new Error(`expected a MemkvClientError, got ${String(error)}`);
  return error;
}

describe('errors answered by the server', () => {
  it('NotFoundError for an update or a pop of a missing key', async () => {
    for (const call of [() => client.update('missing', 'v'), () => client.pop('missing')]) {
      const error = await failure(call());
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ status: 404, code: 'item_not_found', name: 'NotFoundError' });
      expect(error.message).toContain('"missing"');
    }
  });

  it('WrongTypeError for a push onto a string or a pop of a string', async () => {
    await client.set('text', 'v');
    for (const call of [() => client.push('text', 'x'), () => client.pop('text')]) {
      const error = await failure(call());
      expect(error).toBeInstanceOf(WrongTypeError);
      expect(error).toMatchObject({ status: 409, code: 'wrong_type' });
    }
  });

  it('ListEmptyError for a pop of an empty list', async () => {
    await client.set('empty', []);
    const error = await failure(client.pop('empty'));
    expect(error).toBeInstanceOf(ListEmptyError);
    expect(error).toMatchObject({ status: 409, code: 'list_empty' });
  });

  it('ValidationError for a TTL or a value the server refuses', async () => {
    const badTtl = await failure(client.set('k', 'v', { ttl: 'soon' }));
    expect(badTtl).toBeInstanceOf(ValidationError);
    expect(badTtl).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(badTtl.message).toMatch(/ttl/);
    const emptyPush = await failure(client.push('list', []));
    expect(emptyPush).toMatchObject({ status: 400, code: 'invalid_request', message: 'value must not be an empty array' });
  });

  it('ValidationError for a body over the size limit', async () => {
    const error = await failure(client.set('big', 'x'.repeat(1024 * 1024 + 1)));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large' });
  });
});

describe('errors found before sending', () => {
  it('ValidationError without a status for a bad TTL number or an empty key', async () => {
    const calls = [() => client.set('k', 'v', { ttl: -5 }), () => client.set('k', 'v', { ttl: 1.5 }), () => client.get(''), () => client.set('', 'v')];
    for (const call of calls) {
      const error = await failure(call());
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ status: undefined, code: 'invalid_request' });
    }
  });

  it('TypeError naming the option for a bad client option', () => {
    expect(() => createClient({ url: 'not a url' })).toThrow(/url must be an absolute http or https URL/);
    expect(() => createClient({ url: 'ftp://x' })).toThrow(/url must use http or https/);
    expect(() => createClient({ url: 'http://x', retries: -1 })).toThrow(/retries/);
    expect(() => createClient({ url: 'http://x', timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createClient({ url: 'http://x', apiVersion: 'v1/x' })).toThrow(/apiVersion/);
    expect(() => createClient({ url: 'http://x', token: 'two\nlines' })).toThrow(/token/);
  });
});

describe('authentication', () => {
  it('sends the bearer token, follows setToken, and maps 401 to UnauthorizedError', async () => {
    const seen: (string | undefined)[] = [];
    const fake = await startHttpServer((request, _body, response) => {
      seen.push(request.headers.authorization);
      response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      response.end(JSON.stringify({ code: 'unauthorized', message: 'the access token has expired' }));
    });
    try {
      const local = createClient({ url: fake.url, token: 'first', retries: 0 });
      const error = await failure(local.get('k'));
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect(error).toMatchObject({ status: 401, code: 'unauthorized', message: 'the access token has expired' });
      local.setToken('second');
      await failure(local.set('k', 'v'));
      local.setToken(undefined);
      await failure(local.remove('k'));
      expect(seen).toEqual(['Bearer first', 'Bearer second', undefined]);
    } finally {
      await fake.close();
    }
  });
});

describe('errors without a usable answer', () => {
  it('ConnectionError when nothing listens', async () => {
    const local = createClient({ url: await refusedUrl(), retries: 0 });
    const error = await failure(local.get('k'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ status: undefined, code: 'connection_failed' });
    expect(error.message).toMatch(/connection refused/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('TimeoutError when the server never answers, from the client option or the call option', async () => {
    const silent = await startSilentServer();
    try {
      const local = createClient({ url: silent.url, timeoutMs: 150 });
      const error = await failure(local.get('k'));
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toMatchObject({ status: undefined, code: 'timeout' });
      expect(error.message).toContain('150 ms');
      const patient = createClient({ url: silent.url });
      const perCall = await failure(patient.pop('k', { timeoutMs: 100 }));
      expect(perCall).toBeInstanceOf(TimeoutError);
      expect(perCall.message).toContain('100 ms');
    } finally {
      await silent.close();
    }
  });

  it("rejects with the caller's abort reason, not a TimeoutError", async () => {
    const silent = await startSilentServer();
    try {
      const local = createClient({ url: silent.url });
      const controller = new AbortController();
      const call = local.get('k', { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('caller gave up')), 50);
      await expect(call).rejects.toThrow('caller gave up');
      await expect(local.get('k', { signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already');
    } finally {
      await silent.close();
    }
  });

  it('UnexpectedResponseError for an HTML error page, a non-JSON success or JSON that is not a row', async () => {
    const answers = [
      { status: 502, type: 'text/html', body: '<html><body>Bad Gateway</body></html>' },
      { status: 200, type: 'text/plain', body: 'hello' },
      { status: 200, type: 'application/json', body: '{"key":"k","kind":"string","value":["not","a","string"]}' },
      { status: 200, type: 'application/json', body: '' },
    ];
    let next = 0;
    const fake = await startHttpServer((_request, _body, response) => {
      const answer = answers[next++]!;
      response.writeHead(answer.status, { 'content-type': answer.type });
      response.end(answer.body);
    });
    try {
      const local = createClient({ url: fake.url, retries: 0 });
      const errors = [];
      for (let i = 0; i < answers.length; i++) errors.push(await failure(local.get('k')));
      for (const error of errors) {
        expect(error).toBeInstanceOf(UnexpectedResponseError);
        expect(error.code).toBe('unexpected_response');
      }
      expect(errors.map((e) => e.status)).toEqual([502, 200, 200, 200]);
      expect(errors[0]!.message).toContain('Bad Gateway');
      expect(errors[1]!.message).toContain('text/plain');
      expect(errors[2]!.message).toContain('not a memkv row');
      expect(errors[3]!.message).toContain('(empty body)');
    } finally {
      await fake.close();
    }
  });
});
