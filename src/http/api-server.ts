/**
 * The API's node:http server: its timeouts, half-open connections, memkv's answer to bytes that
 * are not HTTP, each connection's requests served one at a time in order, and a request handler
 * that can be switched. It exists apart from the app so that memkv can listen before it has
 * loaded its dataset, answering `503 loading` meanwhile (as Redis answers `-LOADING`), and then
 * hand the same server, and the connections already open, to the app.
 *
 * With TLS material it is a `node:https` server (a `tls.Server`): the same HTTP server inside the
 * TLS stream. Its decrypted connections arrive on 'secureConnection', where the client
 * certificate is checked (`optional` mode), and those accepted reach node:http through
 * {@link ACCEPTED_TLS_CONNECTION} (see {@link connectionEvent}); a client that speaks plain HTTP
 * to it fails the handshake and its connection is closed. The certificate can be replaced for
 * new connections with {@link ApiServer.setSecureContext}.
 */
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { Server as TlsServer, type TLSSocket } from 'node:tls';
import { ERRORS } from '../errors.js';
import { oneAtATime, type RequestHandler } from './in-order.js';
import type { TlsMaterial } from './tls.js';

export interface ApiServerOptions {
  /**
   * Longest time to receive a whole request (head and body), in ms; a slower one is answered 408
   * and its connection closed; 0 = no limit. Default 30 s.
   */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open, in ms; default 72 s (Fastify's). */
  keepAliveTimeoutMs?: number;
  /** Inactivity after which a socket is closed, in ms; 0 (default) = never (Fastify's `connectionTimeout`). */
  connectionTimeoutMs?: number;
  /** Further node:http server options (Fastify's `http` option). */
  http?: ServerOptions;
  /** Where requests go until {@link ApiServer.serve} names another handler; default the `503 loading` answer. */
  handler?: RequestHandler;
  /** Serve HTTPS with this certificate and key (tls.ts, `readTlsFiles`); default plain HTTP. */
  tls?: TlsMaterial;
}

export const API_SERVER_DEFAULTS = {
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  connectionTimeoutMs: 0,
} as const;

/** A node:http server whose request handler can be switched; see {@link createApiServer}. */
export interface ApiServer {
  readonly server: Server;
  /** The request timeout the server was created with, in ms (0 = none). */
  readonly requestTimeoutMs: number;
  /** Whether it serves HTTPS. */
  readonly secure: boolean;
  /**
   * Serves new connections with `material`'s certificate and key (connections already open keep
   * theirs). Only for a server created with `tls`, and with the same client certificate mode.
   */
  setSecureContext(material: TlsMaterial): void;
  /**
   * Sends every request from now on to `handler`, including requests already received on an open
   * connection and waiting behind one in progress: each connection's requests stay in order.
   */
  serve(handler: RequestHandler): void;
}

/**
 * Creates the API server (not listening). Its request listener is the in-order wrapper
 * (in-order.ts) around whichever handler {@link ApiServer.serve} last named, so that a keep-alive
 * connection opened while loading keeps its order across the switch to the app.
 */
export function createApiServer(options: ApiServerOptions = {}): ApiServer {
  const {
    requestTimeoutMs = API_SERVER_DEFAULTS.requestTimeoutMs,
    keepAliveTimeoutMs = API_SERVER_DEFAULTS.keepAliveTimeoutMs,
    connectionTimeoutMs = API_SERVER_DEFAULTS.connectionTimeoutMs,
    http,
    handler: initial = loadingAnswer(() => ERRORS.loading.message),
    tls,
  } = options;
  if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs < 0) throw new TypeError('requestTimeoutMs must be an integer >= 0');
  if (!Number.isSafeInteger(keepAliveTimeoutMs) || keepAliveTimeoutMs < 0) throw new TypeError('keepAliveTimeoutMs must be an integer >= 0');
  if (!Number.isSafeInteger(connectionTimeoutMs) || connectionTimeoutMs < 0) throw new TypeError('connectionTimeoutMs must be an integer >= 0');
  if (typeof initial !== 'function') throw new TypeError('handler must be a function');

  let handler: RequestHandler = initial;
  const serverOptions: ServerOptions = {
    ...http,
    requestTimeout: requestTimeoutMs,
    // Node checks the timeouts on this period: a tenth of the limit, between 100 ms and 30 s.
    headersTimeout: requestTimeoutMs === 0 ? 60_000 : Math.min(60_000, requestTimeoutMs),
    connectionsCheckingInterval:
      requestTimeoutMs === 0 ? 30_000 : Math.min(30_000, Math.max(100, Math.floor(requestTimeoutMs / 10))),
  };
  const listener = oneAtATime((request, response) => handler(request, response));
  // An https.Server is node:http's server inside a tls.Server: the same methods and events, typed apart.
  const server = tls === undefined ? createServer(serverOptions, listener) : (createHttpsServer({ ...serverOptions, ...tls.options }, listener) as unknown as Server);
  if (tls !== undefined) gateTlsConnections(server, tls.clientAuth);
  // A client that half-closes after its requests gets every answer, then the end of the
  // connection (node:http's own switch, not in its types; without it, the end of the client's
  // side ends ours at once and answers still owed are lost). test/http/protocol-edges.test.ts checks it.
  (server as typeof server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.setTimeout(connectionTimeoutMs);
  server.on('clientError', answerClientError);
  return {
    server,
    requestTimeoutMs,
    secure: tls !== undefined,
    setSecureContext(material) {
      if (tls === undefined) throw new TypeError('setSecureContext needs a server created with tls');
      if (material.clientAuth !== tls.clientAuth) throw new TypeError(`the client certificate mode must stay ${tls.clientAuth}`);
      (server as unknown as TlsServer).setSecureContext(material.options);
    },
    serve(next) {
      if (typeof next !== 'function') throw new TypeError('handler must be a function');
      handler = next;
    },
  };
}

/**
 * The event on which an HTTPS server from {@link createApiServer} hands each TLS connection it
 * accepts to node:http (and to the raw front, which takes it): after the handshake and the client
 * certificate check of 'secureConnection'.
 */
export const ACCEPTED_TLS_CONNECTION = 'memkv.acceptedTlsConnection';

/**
 * The event on which the connections of `server` (from {@link createApiServer}) reach its HTTP
 * layer: {@link ACCEPTED_TLS_CONNECTION} (the TLS socket, decrypted) for HTTPS, 'connection' (the
 * TCP socket) for HTTP. The raw front takes it.
 */
export function connectionEvent(server: Server): 'connection' | typeof ACCEPTED_TLS_CONNECTION {
  return (server as unknown) instanceof TlsServer ? ACCEPTED_TLS_CONNECTION : 'connection';
}

/**
 * Moves node:http's listener from 'secureConnection' to {@link ACCEPTED_TLS_CONNECTION}, behind
 * a check. With `TLS_CLIENT_AUTH=optional` the handshake accepts any client certificate, or none:
 * the check ends, before any request is read, a connection whose client sent one that does not
 * verify against TLS_CA_FILE (expired, another CA's, self-signed); a client without one goes on.
 * (`require` refuses those in the handshake; `none` asks for none.)
 */
function gateTlsConnections(server: Server, clientAuth: TlsMaterial['clientAuth']): void {
  const listeners = server.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
  if (listeners.length !== 1) throw new TypeError('an https server needs exactly its own connection listener');
  const http = listeners[0]!;
  server.removeListener('secureConnection', http);
  server.on(ACCEPTED_TLS_CONNECTION, http);
  const checkCertificate = clientAuth === 'optional';
  server.on('secureConnection', (socket: TLSSocket) => {
    if (checkCertificate && !socket.authorized && Object.keys(socket.getPeerCertificate()).length > 0) {
      socket.destroy();
      return;
    }
    server.emit(ACCEPTED_TLS_CONNECTION, socket);
  });
}

/**
 * The answer while the dataset loads: `503 {"code":"loading","message":…}` with `Retry-After: 1`,
 * the message from `describe` (how far the load is). The connection stays open, so a client can
 * retry on it.
 */
export function loadingAnswer(describe: () => string): RequestHandler {
  return (_request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify({ code: 'loading', message: describe() });
    response.writeHead(ERRORS.loading.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'retry-after': '1',
    });
    response.end(body);
  };
}

/**
 * The message of a `503 loading` answer once the log's size is known: `memkv is loading the
 * dataset: 45% (21,504,000 of 47,800,000 bytes of the log)`. An empty log reads as 100%.
 */
export function loadingMessage(bytesRead: number, totalBytes: number): string {
  const percent = totalBytes === 0 ? 100 : Math.floor((bytesRead * 100) / totalBytes);
  return `${ERRORS.loading.message}: ${percent}% (${bytesRead.toLocaleString('en-US')} of ${totalBytes.toLocaleString('en-US')} bytes of the log)`;
}

/**
 * The answer to bytes that are not a valid HTTP request, to a head too large, or to a request
 * not received within the request timeout, in memkv's error shape; the connection then closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', ERRORS.request_timeout.message]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'invalid_request', 'the request head is too large']
        : [400, 'invalid_request', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify({ code, message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
