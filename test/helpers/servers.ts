/** Servers the client and CLI tests talk to: a real memkv, and raw servers that misbehave on purpose. */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/defaults.js';
import type { Store } from '../../src/engine/store.js';
import { startServer, type RunningServer } from '../../src/server.js';

/** Starts a real memkv on ephemeral ports of 127.0.0.1, with the embedded engine (`store`). */
export async function startMemkv(overrides: Partial<Record<keyof Config, string>> = {}): Promise<RunningServer & { url: string; store: Store }> {
  const server = await startAnyMemkv(overrides);
  if (server.store === undefined) throw new Error('startMemkv is for STORAGE=memory: use startAnyMemkv');
  return Object.assign(server, { store: server.store });
}

/** Starts a real memkv on ephemeral ports of 127.0.0.1, with any storage (STORAGE=redis too). */
export async function startAnyMemkv(overrides: Partial<Record<keyof Config, string>> = {}): Promise<RunningServer & { url: string }> {
  const config = loadConfig({ env: {}, overrides: { host: '127.0.0.1', port: '0', healthPort: '0', verbose: 'error', ...overrides } });
  const server = await startServer(config);
  return Object.assign(server, { url: `http://127.0.0.1:${server.port}` });
}

/** A raw server for misbehaviour tests; `close()` also destroys open sockets. */
export interface RawServer {
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server, sockets: Set<Socket>): Promise<RawServer> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP server whose answers come from `handle` (which sees the request and its body). */
export function startHttpServer(handle: (request: IncomingMessage, body: string, response: ServerResponse) => void): Promise<RawServer> {
  const server = createHttpServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => handle(request, body, response));
  });
  return listen(server, new Set());
}

/** A TCP server that accepts connections and never answers. */
export function startSilentServer(): Promise<RawServer> {
  return listen(createNetServer(), new Set());
}

/** A TCP server that resets every connection as soon as a request arrives (after it was sent). */
export function startResettingServer(): Promise<RawServer> {
  return listen(
    createNetServer((socket) => socket.once('data', () => socket.resetAndDestroy())),
    new Set(),
  );
}

/** A URL on 127.0.0.1 where nothing listens: a port the OS handed out, then closed. */
export async function refusedUrl(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A fetch that counts its calls and forwards them to the platform fetch. */
export function countingFetch(): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  return {
    fetch: (input, init) => {
      calls++;
      return fetch(input, init);
    },
    calls: () => calls,
  };
}

/** The exact text the API at `url` answers a plain HTTP request (no client involved); a body is sent as JSON. */
export async function plainRequest(url: string, method: string, path: string, body?: unknown): Promise<string> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response.text();
}
