/**
 * The raw front: the API server's connections start here, on the bare socket, below `node:http`.
 * It answers pipelined hot requests (GET a key, set, push, pop) straight from the socket's data
 * chunks through {@link FastPath.answer}, and hands the connection over to Node's HTTP server
 * (llhttp, then the fast-path listener and Fastify) for good the moment anything else arrives.
 *
 * Why: with the fast path in front of Fastify, most of the server's CPU went to Node's HTTP layer
 * (IncomingMessage and ServerResponse streams, header objects, one writev per response). Here a
 * request costs one pass over its bytes, the store call and `JSON.stringify`, and all answers to
 * one chunk leave in one write.
 *
 * The front parses only COMPLETE requests, inside one chunk, of a strict subset of HTTP/1.1:
 * - request line `METHOD SP target SP HTTP/1.1 CRLF`, METHOD one of GET, POST, PATCH, DELETE, the target
 *   visible ASCII starting with `/`;
 * - header lines `token ":" OWS value OWS CRLF`, values of visible ASCII, space and tab (no
 *   obs-fold, no obs-text, no CR, LF or NUL), at most {@link MAX_HEADERS} lines and
 *   {@link MAX_HEAD_BYTES} bytes of head;
 * - exactly one `Host`; at most one `Content-Type` and one `Content-Length` (decimal digits and
 *   nothing after them); no `Transfer-Encoding`, `Expect`, `Upgrade` or `Prefer` (preferences
 *   change the answer); `Connection` only as `keep-alive`; with CORS on, no `Origin` (Fastify's
 *   CORS hooks add the headers a browser needs);
 * - no body on GET and DELETE; for POST and PATCH the whole `Content-Length` body in the same chunk.
 * The moment a request is outside it, is incomplete at the end of the chunk, or is declined by
 * the fast path, or when a chunk arrives while earlier answers still wait in the socket's write
 * buffer (node:http then applies its backpressure), the front writes the answers it has built,
 * stops reading, puts every unconsumed byte back (`socket.unshift`) and gives the socket to the
 * HTTP server's own connection listener, which then parses, answers (errors included), times out
 * and closes it as for any connection. So the front never produces an error answer itself.
 *
 * Bounds and failures: the answers to a chunk are built and written in batches of about
 * {@link MAX_BATCH_BYTES}; once the client has not read a batch (the socket needs 'drain'), the
 * rest waits until it has, so a few bytes of pipelined GETs of a large value never build more
 * than a batch and one answer. Anything thrown while serving a connection is logged (once per
 * kind) and ends that connection only. Every request received before the client half-closes is
 * answered, also when its answer waited for the log; node:http is handed the end too.
 *
 * Its answers are the bytes Node and Fastify send for the same request: status line,
 * `content-type`, `content-length`, `Date`, `Connection: keep-alive`, `Keep-Alive: timeout=<s>`.
 * An idle connection closes after the server's `keepAliveTimeout`, as in Node. The HTTP server
 * stays the listening server: the front only takes its 'connection' event (over HTTPS the event on
 * which api-server.ts hands over each accepted TLS connection: the front then reads the decrypted
 * stream, with the same bytes), so `listen`, `close`,
 * `closeIdleConnections` and the request timeouts work as before for handed-over connections;
 * {@link RawFront.closeIdle} ends the front's own (always idle between chunks) at close.
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { connectionEvent } from './api-server.js';
import { DECLINED_BY_FRONT, FAST_PATH_CONTENT_TYPE, type FastAnswer, type FastPath, type FrontSocket } from './fast-path.js';

/** Most header lines in a request the front parses itself; more go to Node. */
export const MAX_HEADERS = 32;
/** Most bytes of request line and headers the front parses itself; more go to Node. */
export const MAX_HEAD_BYTES = 8192;
/** Most digits of a Content-Length the front reads; longer ones go to Node. */
const MAX_LENGTH_DIGITS = 9;
/** Bytes a connection may send while its answers wait for the log, before reading it pauses. */
const MAX_QUEUED_BYTES = 64 * 1024;
/**
 * Bytes of answers (about) built before they are written: a chunk of pipelined requests is
 * answered in batches, and the next batch is built only once the client has read the last one
 * (the socket's 'drain'), so a small chunk asking for large values never builds a large string.
 */
const MAX_BATCH_BYTES = 64 * 1024;
/** Bytes counted for an answer's status line and headers in a batch. */
const ANSWER_HEAD_BYTES = 160;
/** Bodies from this many characters on are written on their own, not copied into the batch's string. */
const LARGE_BODY_CHARS = 16 * 1024;
const EMPTY = Buffer.alloc(0);

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;

/** tchar (RFC 9110): ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA. */
const TOKEN = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  TOKEN[c] =
    (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))
      ? 1
      : 0;
}

// Header names the front looks at, as lowercase bytes.
const HOST = Buffer.from('host');
const CONTENT_TYPE = Buffer.from('content-type');
const CONTENT_LENGTH = Buffer.from('content-length');
const CONNECTION = Buffer.from('connection');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding');
const EXPECT = Buffer.from('expect');
const UPGRADE = Buffer.from('upgrade');
const PREFER = Buffer.from('prefer');
const ORIGIN = Buffer.from('origin');
const IF_MATCH = Buffer.from('if-match');
const IF_NONE_MATCH = Buffer.from('if-none-match');
const IDEMPOTENCY_KEY = Buffer.from('idempotency-key');
const KEEP_ALIVE = Buffer.from('keep-alive');
const HTTP_11 = Buffer.from(' HTTP/1.1\r\n');

/** Status lines, built once per status. */
const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) statusLines.set(status, (line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`));
  return line;
}

/** Whether `buffer[start, end)` equals the lowercase ASCII `name`, ignoring ASCII case. */
function isName(buffer: Buffer, start: number, end: number, name: Buffer): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((buffer[start + i]! | 0x20) !== name[i]) return false;
  return true;
}

/**
 * Takes the 'connection' event of `server` (an HTTP or HTTPS server from `createApiServer`; over
 * HTTPS its accepted TLS connections, see `connectionEvent`): new connections
 * start on the front, which answers what `fastPath` answers and hands the rest to `server`.
 */
export function installRawFront(server: Server, fastPath: FastPath): RawFront {
  return new RawFront(server, fastPath);
}

/** The raw front of one HTTP server; see the module comment. */
export class RawFront {
  readonly #server: Server;
  readonly #fastPath: FastPath;
  /** The HTTP server's own connection listener, which handed-over sockets go to. */
  readonly #handOver: (socket: Socket) => void;
  readonly #connections = new Set<RawConnection>();
  #tail = '';
  #tailSecond = -1;
  #tailTimeoutMs = -1;

  constructor(server: Server, fastPath: FastPath) {
    // Over HTTPS, the decrypted TLS socket: the front reads and writes it as it would the TCP one.
    const event = connectionEvent(server);
    const listeners = server.listeners(event);
    if (listeners.length !== 1) throw new TypeError('the raw front needs a fresh node:http server');
    const handOver = listeners[0] as (socket: Socket) => void;
    this.#server = server;
    this.#fastPath = fastPath;
    this.#handOver = (socket) => handOver.call(server, socket);
    server.removeListener(event, handOver);
    server.on(event, (socket: Socket) => {
      if (this.#fastPath.closing || (this.#server.maxRequestsPerSocket ?? 0) > 0) {
        this.#fastPath.stats.handedOver++;
        this.#handOver(socket);
      }
      else this.#connections.add(new RawConnection(this, socket));
    });
  }

  /** Connections on the front now (not yet handed over nor closed). */
  get size(): number {
    return this.#connections.size;
  }

  /** Ends every connection the front holds: they are idle between chunks. Call when closing. */
  closeIdle(): void {
    for (const connection of this.#connections) connection.close();
  }

  /** @internal */
  get fastPath(): FastPath {
    return this.#fastPath;
  }

  /**
   * @internal The headers after `content-length` and the blank line: `Date` (rebuilt once per
   * second) and the `Connection` and `Keep-Alive` lines Node writes (none for a zero timeout).
   */
  headTail(): string {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const timeoutMs = this.#server.keepAliveTimeout;
    if (second !== this.#tailSecond || timeoutMs !== this.#tailTimeoutMs) {
      this.#tailSecond = second;
      this.#tailTimeoutMs = timeoutMs;
      const keepAlive = timeoutMs > 0 ? `Keep-Alive: timeout=${Math.floor(timeoutMs / 1000)}\r\n` : '';
      this.#tail = `Date: ${new Date(now).toUTCString()}\r\nConnection: keep-alive\r\n${keepAlive}\r\n`;
    }
    return this.#tail;
  }

  /** @internal */
  get keepAliveTimeoutMs(): number {
    return this.#server.keepAliveTimeout;
  }

  /** @internal Something threw while serving a connection: it is logged once, and the connection ends. */
  connectionFailed(error: unknown): void {
    this.#fastPath.failed(error, 'raw front');
  }

  /** @internal */
  release(connection: RawConnection, socket: Socket, handOver: boolean): void {
    this.#connections.delete(connection);
    if (!handOver) return;
    this.#fastPath.stats.handedOver++;
    this.#handOver(socket);
  }
}

/** One connection while it is on the front. */
class RawConnection {
  readonly #front: RawFront;
  readonly #socket: Socket;
  readonly #onData = (chunk: Buffer): void => {
    if (this.#blocked) this.#queue(chunk);
    else this.#serve(chunk);
  };
  readonly #onEnd = (): void => {
    // Every request received before the half-close is answered: while answers wait, remember it.
    if (this.#blocked) this.#ended = true;
    else this.close();
  };
  readonly #onDrain = (): void => {
    if (!this.#waitingForDrain) return;
    this.#waitingForDrain = false;
    this.#unblock();
  };
  readonly #onError = (): void => this.#drop();
  readonly #onTimeout = (): void => this.#drop();
  readonly #onClose = (): void => this.#drop();
  #done = false;
  /**
   * True while answers wait for the log, or while the client has not read what was written
   * ('drain'); bytes that arrive meanwhile are queued, to keep the answers in order.
   */
  #blocked = false;
  #waitingForDrain = false;
  /** Bytes received while blocked (the unserved rest of a chunk first), and their total length. */
  #queued: Buffer[] = [];
  #queuedBytes = 0;
  /** The client half-closed (or close() was called) while blocked: end once every answer is written. */
  #ended = false;

  constructor(front: RawFront, socket: Socket) {
    this.#front = front;
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('drain', this.#onDrain);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('timeout', this.#onTimeout);
    const timeoutMs = front.keepAliveTimeoutMs;
    if (timeoutMs > 0) socket.setTimeout(timeoutMs);
  }

  /** Ends the connection once what was written has left (and answers still owed are written). */
  close(): void {
    if (this.#done) return;
    if (this.#blocked) {
      this.#ended = true;
      return;
    }
    this.#detach(false);
    const socket = this.#socket;
    if (socket.writableLength === 0) socket.destroy();
    else socket.end(() => socket.destroy());
  }

  #drop(): void {
    if (this.#done) return;
    this.#detach(false);
    this.#socket.destroy();
  }

  #detach(handOver: boolean): void {
    this.#done = true;
    const socket = this.#socket;
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('drain', this.#onDrain);
    socket.removeListener('error', this.#onError);
    socket.removeListener('close', this.#onClose);
    socket.removeListener('timeout', this.#onTimeout);
    socket.setTimeout(0);
    this.#front.release(this, socket, handOver);
  }

  /**
   * Serves `chunk`, and ends the connection if anything throws: whatever goes wrong with one
   * connection is logged and costs that connection only, never the process.
   */
  #serve(chunk: Buffer): void {
    try {
      this.#read(chunk);
      if (this.#ended && !this.#blocked) this.close();
    } catch (error) {
      this.#front.connectionFailed(error);
      this.#drop();
    }
  }

  /**
   * Answers the complete hot requests at the start of `chunk`, in batches of at most about
   * {@link MAX_BATCH_BYTES} of answers; hands over at the first other byte.
   */
  #read(chunk: Buffer): void {
    // A client that sends faster than it reads: node:http pauses reading while answers wait.
    if (this.#socket.writableNeedDrain) {
      this.#handOverFrom(chunk, 0, false);
      return;
    }
    const fastPath = this.#front.fastPath;
    const length = chunk.length;
    let position = 0;
    for (;;) {
      let answers: FastAnswer[] | undefined;
      let batchBytes = 0;
      let durable = false;
      let declined = false;
      while (position < length && batchBytes < MAX_BATCH_BYTES) {
        const request = parseRequest(chunk, position);
        if (request === undefined) break;
        // With CORS on, Fastify's CORS hooks answer a browser's cross-origin request.
        if (request.origin && fastPath.crossOrigin) {
          declined = true;
          break;
        }
        const answer = fastPath.answer(request.method, request.target, request.contentType, request.contentLength, request.body);
        if (answer === undefined) {
          declined = true;
          break;
        }
        (answers ??= []).push(answer);
        batchBytes += answer.body.length + ANSWER_HEAD_BYTES;
        if (answer.durable === true) durable = true;
        position = request.end;
      }
      // The batch stopped at the bound when it did not stop at a request the front cannot serve.
      const more = position < length && batchBytes >= MAX_BATCH_BYTES && !declined;
      const logged = durable ? fastPath.waitForLog() : undefined;
      if (logged !== undefined) {
        // Answer the writes once the log has them (on disk with PERSISTENCE_FSYNC=always); what
        // the client sends meanwhile waits its turn, so that this connection's answers keep their order.
        this.#block(chunk.subarray(position));
        const finish = (failure: FastAnswer | undefined): void => {
          if (this.#done || this.#socket.destroyed) return;
          try {
            this.#write(failure === undefined ? answers! : answers!.map((answer) => (answer.durable === true ? failure : answer)));
          } catch (error) {
            this.#front.connectionFailed(error);
            this.#drop();
            return;
          }
          if (more || position === length) this.#unblock();
          else this.#handOverQueued(declined);
        };
        logged.then(
          () => finish(undefined),
          (error: unknown) => finish(fastPath.failedAnswer(error)),
        );
        return;
      }
      if (answers !== undefined) this.#write(answers);
      if (position === length) return;
      if (!more) {
        this.#handOverFrom(chunk, position, declined);
        return;
      }
      if (this.#socket.writableNeedDrain) {
        // The client has not read the answers so far: build no more until it has.
        this.#block(chunk.subarray(position));
        this.#waitingForDrain = true;
        return;
      }
    }
  }

  /** Stops serving until {@link RawConnection.#unblock}; `rest` (unserved bytes) is served first then. */
  #block(rest: Buffer): void {
    this.#blocked = true;
    if (rest.length > 0) {
      this.#queued.unshift(rest);
      this.#queuedBytes += rest.length;
    }
  }

  /** Serves what was queued while blocked, then ends the connection if the client has half-closed. */
  #unblock(): void {
    this.#blocked = false;
    if (this.#done) return;
    const queued = this.#takeQueued();
    if (queued !== undefined) this.#serve(queued);
    else if (this.#ended) this.close();
  }

  /** Hands the connection over with every queued byte unread (the front declined the first request). */
  #handOverQueued(declined: boolean): void {
    this.#blocked = false;
    this.#handOverFrom(this.#takeQueued() ?? EMPTY, 0, declined);
  }

  /** Keeps `chunk` for when the answers waiting are written; stops reading past a bound. */
  #queue(chunk: Buffer): void {
    this.#queued.push(chunk);
    this.#queuedBytes += chunk.length;
    if (this.#queuedBytes >= MAX_QUEUED_BYTES) this.#socket.pause();
  }

  /** The queued bytes as one buffer (reading resumed), or undefined. */
  #takeQueued(): Buffer | undefined {
    if (this.#queuedBytes === 0) return undefined;
    const queued = this.#queued.length === 1 ? this.#queued[0]! : Buffer.concat(this.#queued);
    this.#queued = [];
    this.#queuedBytes = 0;
    if (this.#socket.isPaused()) this.#socket.resume();
    return queued;
  }

  /**
   * Writes `answers`, in order, as Node and Fastify would write them: small ones gathered into
   * one string, large bodies written as they are (never copied into a larger string).
   */
  #write(answers: readonly FastAnswer[]): void {
    const socket = this.#socket;
    const tail = this.#front.headTail();
    let out = '';
    let corked = false;
    for (const answer of answers) {
      const etag = answer.etag === undefined ? '' : `etag: ${answer.etag}\r\n`;
      const head = `${statusLine(answer.status)}${etag}content-type: ${FAST_PATH_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(answer.body)}\r\n${tail}`;
      if (answer.body.length < LARGE_BODY_CHARS) {
        out += head + answer.body;
        continue;
      }
      if (!corked) {
        socket.cork();
        corked = true;
      }
      socket.write(out + head);
      socket.write(answer.body);
      out = '';
    }
    if (out.length > 0) socket.write(out);
    if (corked) socket.uncork();
  }

  /** Gives the socket, with `chunk` from `position` unread, to the HTTP server for good. */
  #handOverFrom(chunk: Buffer, position: number, declined: boolean): void {
    const socket = this.#socket;
    const rest = chunk.subarray(position);
    if (declined) (socket as Socket & FrontSocket)[DECLINED_BY_FRONT] = true;
    if (this.#ended) {
      // The client half-closed while answers waited: the socket's stream has ended, so node:http
      // is given the unread bytes and the end itself, and answers them before it closes.
      this.#detach(true);
      if (rest.length > 0) socket.emit('data', rest);
      socket.emit('end');
      return;
    }
    socket.pause();
    if (rest.length > 0) socket.unshift(rest);
    this.#detach(true);
    socket.resume();
  }
}

/** A complete request of the front's subset. */
export interface RawRequest {
  method: string;
  target: string;
  contentType: string | undefined;
  contentLength: string | undefined;
  body: Buffer;
  /** Whether it has an `Origin` header (a browser's cross-origin request, or a same-origin write). */
  origin: boolean;
  /** Offset just past the request in the chunk. */
  end: number;
}

/**
 * Parses one request at `start`; undefined when it is outside the subset or incomplete.
 * @internal exported for the test that checks it against llhttp
 */
export function parseRequest(chunk: Buffer, start: number): RawRequest | undefined {
  const length = chunk.length;
  const headLimit = Math.min(length, start + MAX_HEAD_BYTES);
  // Request line.
  let method: string;
  let p: number;
  const first = chunk[start];
  if (first === 0x47 && chunk[start + 1] === 0x45 && chunk[start + 2] === 0x54 && chunk[start + 3] === SP) {
    method = 'GET';
    p = start + 4;
  } else if (first === 0x50 && chunk[start + 1] === 0x4f && chunk[start + 2] === 0x53 && chunk[start + 3] === 0x54 && chunk[start + 4] === SP) {
    method = 'POST';
    p = start + 5;
  } else if (
    first === 0x50 &&
    chunk[start + 1] === 0x41 &&
    chunk[start + 2] === 0x54 &&
    chunk[start + 3] === 0x43 &&
    chunk[start + 4] === 0x48 &&
    chunk[start + 5] === SP
  ) {
    method = 'PATCH';
    p = start + 6;
  } else if (
    first === 0x44 &&
    chunk[start + 1] === 0x45 &&
    chunk[start + 2] === 0x4c &&
    chunk[start + 3] === 0x45 &&
    chunk[start + 4] === 0x54 &&
    chunk[start + 5] === 0x45 &&
    chunk[start + 6] === SP
  ) {
    method = 'DELETE';
    p = start + 7;
  } else return undefined;
  const targetStart = p;
  // origin-form only: node:http refuses other targets that do not start with "/" (the routes all do).
  if (chunk[p] !== 0x2f) return undefined;
  while (p < headLimit) {
    const c = chunk[p]!;
    if (c === SP) break;
    if (c <= SP || c >= 0x7f) return undefined;
    p++;
  }
  if (p === targetStart || p + HTTP_11.length > headLimit) return undefined;
  const target = chunk.toString('latin1', targetStart, p);
  for (let i = 0; i < HTTP_11.length; i++) if (chunk[p + i] !== HTTP_11[i]) return undefined;
  p += HTTP_11.length;
  // Header lines.
  let hosts = 0;
  let contentType: string | undefined;
  let contentLength: string | undefined;
  let origin = false;
  let lines = 0;
  for (;;) {
    if (p + 1 >= headLimit) return undefined;
    if (chunk[p] === CR) {
      if (chunk[p + 1] !== LF) return undefined;
      p += 2;
      break;
    }
    if (++lines > MAX_HEADERS) return undefined;
    const nameStart = p;
    while (p < headLimit && TOKEN[chunk[p]!] === 1) p++;
    const nameEnd = p;
    if (nameEnd === nameStart || p >= headLimit || chunk[p] !== COLON) return undefined;
    p++;
    while (p < headLimit && (chunk[p] === SP || chunk[p] === HT)) p++;
    const valueStart = p;
    let valueEnd = p;
    for (;;) {
      if (p >= headLimit) return undefined;
      const c = chunk[p]!;
      if (c === CR) break;
      if (c === HT || c === SP) {
        p++;
        continue;
      }
      if (c < SP || c >= 0x7f) return undefined;
      valueEnd = ++p;
    }
    if (p + 1 >= headLimit || chunk[p + 1] !== LF) return undefined;
    p += 2;
    const nameLength = nameEnd - nameStart;
    if (nameLength === 4 && isName(chunk, nameStart, nameEnd, HOST)) hosts++;
    else if (nameLength === 12 && isName(chunk, nameStart, nameEnd, CONTENT_TYPE)) {
      if (contentType !== undefined) return undefined;
      contentType = chunk.toString('latin1', valueStart, valueEnd);
    } else if (nameLength === 14 && isName(chunk, nameStart, nameEnd, CONTENT_LENGTH)) {
      const digits = valueEnd - valueStart;
      // Digits and nothing after them: llhttp refuses some trailing whitespace (a tab), so none is taken.
      if (contentLength !== undefined || digits === 0 || digits > MAX_LENGTH_DIGITS || valueEnd !== p - 2) return undefined;
      for (let i = valueStart; i < valueEnd; i++) if (chunk[i]! < 48 || chunk[i]! > 57) return undefined;
      contentLength = chunk.toString('latin1', valueStart, valueEnd);
    } else if (nameLength === 10 && isName(chunk, nameStart, nameEnd, CONNECTION)) {
      if (!isName(chunk, valueStart, valueEnd, KEEP_ALIVE)) return undefined;
    } else if (nameLength === 6 && isName(chunk, nameStart, nameEnd, ORIGIN)) {
      origin = true;
    } else if (
      isName(chunk, nameStart, nameEnd, TRANSFER_ENCODING) ||
      isName(chunk, nameStart, nameEnd, EXPECT) ||
      isName(chunk, nameStart, nameEnd, UPGRADE) ||
      // Preferences change the answer (Prefer: return=minimal): Fastify's routes honour them.
      isName(chunk, nameStart, nameEnd, PREFER) ||
      // Preconditions and idempotency keys: Fastify's routes honour them.
      isName(chunk, nameStart, nameEnd, IF_MATCH) ||
      isName(chunk, nameStart, nameEnd, IF_NONE_MATCH) ||
      isName(chunk, nameStart, nameEnd, IDEMPOTENCY_KEY)
    ) {
      return undefined;
    }
  }
  if (hosts !== 1) return undefined;
  // Body.
  const bodyBytes = contentLength === undefined ? 0 : Number(contentLength);
  if ((method === 'GET' || method === 'DELETE') && bodyBytes !== 0) return undefined;
  const end = p + bodyBytes;
  if (end > length) return undefined;
  return { method, target, contentType, contentLength, body: chunk.subarray(p, end), origin, end };
}
