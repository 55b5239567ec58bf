/**
 * The API server before and after the app: `503 loading` answers while memkv loads, memkv's
 * error shape for bytes that are not HTTP, and the switch to the app on the same listening
 * server, for the connections already open and for new ones (through the raw front).
 */
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/engine/store.js';
import { createApiServer, loadingAnswer, loadingMessage, type ApiServer } from '../../src/http/api-server.js';
import { buildApp } from '../../src/http/app.js';

const servers: ApiServer[] = [];
afterEach(async () => {
  for (const { server } of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listening(api: ApiServer): Promise<number> {
  servers.push(api);
  await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
  return (api.server.address() as AddressInfo).port;
}

/** A keep-alive connection that sends one request at a time and reads its whole answer. */
function connection(port: number): Promise<{ socket: Socket; ask(request: string): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      let received = '';
      let waiting: ((answer: string) => void) | undefined;
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        const end = received.indexOf('\r\n\r\n');
        if (end < 0 || waiting === undefined) return;
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? 0);
        if (received.length < end + 4 + length) return;
        const answer = received.slice(0, end + 4 + length);
        received = received.slice(end + 4 + length);
        const done = waiting;
        waiting = undefined;
        done(answer);
      });
      socket.on('close', () => waiting?.(received));
      resolve({
        socket,
        ask: (request) =>
          new Promise<string>((answered) => {
            waiting = answered;
            socket.write(request);
          }),
      });
    });
    socket.on('error', reject);
  });
}

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

describe('loadingMessage', () => {
  it('says how far the replay is, in whole percent (rounded down) and grouped bytes', () => {
    expect(loadingMessage(21_504_000, 47_800_000)).toBe('memkv is loading the dataset: 44% (21,504,000 of 47,800,000 bytes of the log)');
    expect(loadingMessage(0, 0)).toBe('memkv is loading the dataset: 100% (0 of 0 bytes of the log)');
    expect(loadingMessage(999, 1000)).toMatch(/: 99% /);
  });
});

describe('the API server while loading', () => {
  it('answers every request 503 loading with Retry-After, and keeps the connection', async () => {
    let read = 450;
    const port = await listening(createApiServer({ handler: loadingAnswer(() => loadingMessage(read, 1000)) }));
    const { socket, ask } = await connection(port);
    const first = await ask(GET('/api/v1/k'));
    expect(first).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(first).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(first).toMatch(/\r\ncontent-type: application\/json; charset=utf-8\r\n/i);
    expect(JSON.parse(first.slice(first.indexOf('\r\n\r\n') + 4))).toEqual({
      code: 'loading',
      message: 'memkv is loading the dataset: 45% (450 of 1,000 bytes of the log)',
    });
    read = 900;
    const body = '{"key":"k","value":"v"}';
    const second = await ask(`POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second).toContain('"message":"memkv is loading the dataset: 90% (900 of 1,000 bytes of the log)"');
    expect(socket.destroyed).toBe(false);
    socket.destroy();
  });

  it('answers bytes that are not HTTP in memkv error shape, then closes', async () => {
    const port = await listening(createApiServer());
    const { ask } = await connection(port);
    const answer = await ask('THIS IS NOT HTTP\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\nConnection: close\r\n/);
    expect(answer).toContain('{"code":"invalid_request","message":"the request is not valid HTTP/1.1"}');
  });
});

describe('buildApp on a given server', () => {
  it('takes over the listening server: open connections get the app, new ones go through the raw front', async () => {
    const api = createApiServer();
    const port = await listening(api);
    const before = await connection(port);
    expect(await before.ask(GET('/api/v1/k'))).toMatch(/^HTTP\/1\.1 503 /);
    const nodeListener = api.server.listeners('connection')[0];

    const store = createStore({ cleanupIntervalMs: 0 });
    store.set('k', 'v');
    const app = await buildApp({ store, server: api });
    expect(app.server).toBe(api.server);
    // The connection opened while loading stays on node:http, now answered by the app.
    expect(await before.ask(GET('/api/v1/k'))).toMatch(/^HTTP\/1\.1 200 [^]*"value":"v"/);
    // New connections start on the raw front.
    const listeners = api.server.listeners('connection');
    expect(listeners).toHaveLength(1);
    expect(listeners[0]).not.toBe(nodeListener);
    const after = await connection(port);
    expect(await after.ask(GET('/api/v1/k'))).toMatch(/^HTTP\/1\.1 200 [^]*"value":"v"/);
    expect(await after.ask(GET('/api/v1/missing'))).toMatch(/^HTTP\/1\.1 404 [^]*"code":"item_not_found"/);

    // The app does not close a server it did not listen on: its owner does.
    await app.close();
    expect(api.server.listening).toBe(true);
    before.socket.destroy();
    after.socket.destroy();
  });

  it('refuses a requestTimeoutMs other than the server’s', async () => {
    const api = createApiServer({ requestTimeoutMs: 5000 });
    await expect(buildApp({ store: createStore({ cleanupIntervalMs: 0 }), server: api, requestTimeoutMs: 1000 })).rejects.toThrow(TypeError);
  });
});
