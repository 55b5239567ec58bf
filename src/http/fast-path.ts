/**
 * The HTTP fast path: a narrow layer in front of Fastify, on the same `node:http` server, that
 * answers the data commands of the command table (src/commands/table.ts) when they are
 * well-formed, and hands every other request to Fastify untouched. The same decision serves the
 * raw front (raw-front.ts), which parses requests on the socket itself, through
 * {@link FastPath.answer}; this module's request listener serves the connections it hands over.
 *
 * Why: Fastify's routing, hooks, validation and reply pipeline cost more per request than the
 * store operation itself (a CPU profile of GET at 50 connections spent most of its time there).
 * The fast path keeps only what a command needs: Node's HTTP parser, a string comparison or two
 * for routing, `JSON.parse`, the command's own fast body check (a subset of what its TypeBox
 * schema accepts), the command's `run` (the same one Fastify's route calls) and `JSON.stringify`.
 *
 * Which commands: every entry of the table whose request it can take whole (no query string; a
 * body only as JSON), routed by method and path (`/set`, `/:key`, `/:key/<suffix>`); the others
 * are declined, and the start-up log names them with the reason. It answers a request only
 * when ALL of these hold ({@link FastPath.answer} and the listener check them in order):
 * 1. the fast path is on (see {@link fastPathBlockers}: off with authentication or debug request
 *    logging) and the app is not closing (Fastify then serves the request and its answer ends
 *    the connection);
 * 2. the method and URL are a served command's, with no query string, and `{key}` made only of
 *    `A-Z a-z 0-9 - _ . ~ :` (no percent-decoding needed), at most `maxKeyBytes` long, and not
 *    the first segment of any other route under `{base}` for that method (such as `docs`); no
 *    `Prefer` header (preferences change the answer: Fastify's route honours them), no `If-Match`,
 *    `If-None-Match` or `Idempotency-Key` (they decide whether and how a write runs, and a read
 *    may answer 304: Fastify's routes honour them); with CORS on,
 *    no `Origin` header (Fastify's CORS hooks add the headers a browser needs). While writes
 *    wait for the log (persistence on), the node:http listener takes reads only, and Fastify's
 *    handlers await the log; {@link FastPath.answer}, used by the raw front, takes writes too and
 *    marks them `durable`, for the front to send once the log has them;
 * 3. with a body: `Content-Type` is `application/json` (optionally `; charset=utf-8`) or absent,
 *    a `Content-Length` of at most `maxBodyBytes` is given and no `Transfer-Encoding`; the body is
 *    JSON without a BOM, `__proto__` or `constructor`, an object that the command's `fastBody`
 *    accepts. Without a body: no `Content-Type` and no body bytes;
 * 4. the command succeeds, or refuses with a `MemkvError` below 500 (a miss, a wrong type, an
 *    empty list, a zero TTL), which is answered through the same mapping as Fastify's error
 *    handler; a 5xx refusal (`out_of_memory`) or any other exception goes to Fastify, which
 *    repeats the operation (a refused write changed nothing), answers and logs it. An answer that
 *    cannot be built after the command ran (a list whose JSON passes V8's string limit) is a 500,
 *    never handed over: the write must not happen twice.
 *
 * In every other case the request goes to Fastify: at once when the decision needs only the
 * head, or after the body was read, in which case the body is replayed to Fastify through a
 * `preParsing` hook ({@link installFastPathReplay}), so that Fastify parses, validates and
 * answers exactly as without the fast path. The answers it does give are byte-for-byte
 * Fastify's: same status, headers in the same order (`ETag` first when the result carries a
 * `version`, as the route sets it), same `JSON.stringify` of the same result.
 *
 * Request metrics (metrics.ts) are recorded here too, with the command's route pattern as label.
 * Any other feature that every data request must honour and that lives in a Fastify hook (an
 * authentication check) is invisible here: it must either be added to {@link fastPathBlockers}
 * (the fast path then stays off while it is on) or be taught to the fast path, with a case in
 * test/http/fast-path.test.ts. Features inside the storage (the journal, memory limits) apply
 * unchanged: the fast path runs the same commands, and a refusal is an exception.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Command } from '../commands/command.js';
import type { Executor } from '../commands/execute.js';
import { MemkvError } from '../errors.js';
import { toErrorAnswer } from './error-handler.js';
import type { Metrics } from './metrics.js';

/** Node's request listener signature, as Fastify hands its own to `serverFactory`. */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface FastPathOptions {
  /** Runs the commands (on a storage that answers synchronously: the embedded store). */
  executor: Executor;
  /** The commands to serve (those it cannot serve are declined and named in the log at start). */
  commands: readonly Command<any, any, unknown>[];
  /** The API base path, such as `/api/v1`. */
  basePath: string;
  /** Largest request body in bytes (the app's `bodyLimit`). */
  maxBodyBytes: number;
  /** Largest key in UTF-8 bytes (the store's limit). */
  maxKeyBytes: number;
  /** Request metrics: the fast path records its answers as Fastify's hook would; default none. */
  metrics?: Metrics;
  /** Where failures while serving a connection are logged (see {@link FastPath.failed}); default none. */
  logger?: Logger;
  /**
   * CORS is on (CORS_ORIGINS): requests with an `Origin` header are declined, so that Fastify's
   * CORS hooks answer them with the right headers. Default false: no origin gets CORS headers,
   * so the fast path's answers are Fastify's for every request.
   */
  crossOrigin?: boolean;
}

/** Why the fast path must stay off for an app, or an empty list when it may run. */
export interface FastPathFeatures {
  /** Per-request debug logging (an `onResponse` hook the fast path would skip). */
  requestLogging: boolean;
  /** Bearer-token authentication on the data routes (a Fastify hook the fast path would skip). */
  authentication?: boolean;
  /** A storage backend in another process (STORAGE=redis), whose answers are promises. */
  remoteStorage?: boolean;
}

/**
 * The features that switch the fast path off, because it does not implement them. Every data
 * request must honour them, so while one is on, Fastify answers everything.
 * @returns the names of the features in the way; empty when the fast path may run.
 */
export function fastPathBlockers(features: FastPathFeatures): string[] {
  const blockers: string[] = [];
  if (features.requestLogging) blockers.push('request logging (VERBOSE=debug)');
  if (features.authentication === true) blockers.push('authentication');
  // The fast path answers synchronously; a backend in another process answers promises.
  if (features.remoteStorage === true) blockers.push('a remote storage backend (STORAGE=redis)');
  return blockers;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** Body held for Fastify when the fast path read it but does not answer. */
const REPLAY_BODY = Symbol('memkv.fastPathReplayBody');

type ReplayableRequest = IncomingMessage & { [REPLAY_BODY]?: Buffer };

/** Counts of what the fast path did, for tests and the benchmark. */
export interface FastPathStats {
  /** Requests the fast path answered. */
  answered: number;
  /** Requests handed to Fastify after the fast path read their body. */
  replayed: number;
  /** Connections the raw front (raw-front.ts) handed to node:http. */
  handedOver: number;
  /** Failures while serving (an answer that could not be built, a bug): each answered 500 or its connection ended. */
  failed: number;
}

/** An answer of the fast path: the status and the JSON body (content type {@link FAST_PATH_CONTENT_TYPE}). */
export interface FastAnswer {
  status: number;
  body: string;
  /** The `ETag` header: the version the answer carries, in quotes; absent for an error. */
  etag?: string;
  /** True for a write that was applied while writes wait for the log: send it after {@link FastPath.waitForLog}. */
  durable?: boolean;
}

/** The content type of every fast-path answer, as Fastify writes it. */
export const FAST_PATH_CONTENT_TYPE = JSON_TYPE;

/**
 * Set on a socket whose next request the raw front (raw-front.ts) has already offered to
 * {@link FastPath.answer} and seen declined: the listener then hands that request straight to
 * Fastify instead of deciding (and running the store operation) a second time.
 */
export const DECLINED_BY_FRONT = Symbol('memkv.declinedByFront');

/** A socket the raw front may mark. */
export type FrontSocket = { [DECLINED_BY_FRONT]?: boolean };

/** A command the fast path serves, with how its path is matched. */
interface FastRoute {
  command: Command<any, any, unknown>;
  /** The path after `{base}/` when it is a literal (`set`); undefined when it starts with the key. */
  literal: string | undefined;
  /** What follows the key (`/push`), or '' for the key alone. */
  suffix: string;
  /** Fastify's route pattern (`/api/v1/:key/push`), the metrics' label. */
  label: string;
}

/** Why the fast path cannot serve `command`, or undefined when it can. */
function whyNotFast(command: Command<any, any, unknown>): string | undefined {
  if (command.query !== undefined) return 'it takes a query string';
  if (!/^\/(?:[a-z]+|:key(?:\/[a-z]+)?)$/.test(command.path)) return `its path ${command.path}`;
  return undefined;
}

export class FastPath {
  readonly #executor: Executor;
  readonly #base: string;
  readonly #baseLength: number;
  readonly #maxBodyBytes: number;
  readonly #maxKeyBytes: number;
  readonly #metrics: Metrics | undefined;
  readonly #limits: { maxBodyBytes: number; maxKeyBytes: number };
  /** The commands served, by method: literal paths first, then key and suffix, then the key alone. */
  readonly #routes = new Map<string, FastRoute[]>();
  /** Paths of every command, which the route discovery in {@link FastPath.attach} leaves alone. */
  readonly #ownPaths = new Set<string>();
  /** First segments under the base path that other routes own, by method. */
  readonly #reserved = new Map<string, Set<string>>();
  /** The key of the last request {@link FastPath.#route} accepted (empty when it comes from the body). */
  #routedKey = '';
  /** The version the last answer {@link FastPath.#run} built carries (its ETag), or -1. */
  #version = -1;
  #fallback: RequestHandler | undefined;
  #closing = false;
  readonly #logger: Logger | undefined;
  /** Failures logged so far (each kind of failure is logged once with its stack, then counted). */
  readonly #logged = new Set<string>();
  readonly stats: FastPathStats = { answered: 0, replayed: 0, handedOver: 0, failed: 0 };
  /** Whether requests with an `Origin` header are Fastify's (CORS is on); the raw front reads it too. */
  readonly crossOrigin: boolean;
  /** The commands served, and those declined with the reason. */
  readonly served: readonly string[];
  readonly declined: readonly { command: string; reason: string }[];

  constructor(options: FastPathOptions) {
    this.#executor = options.executor;
    this.#base = `${options.basePath}/`;
    this.#baseLength = this.#base.length;
    this.#maxBodyBytes = options.maxBodyBytes;
    this.#maxKeyBytes = options.maxKeyBytes;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.crossOrigin = options.crossOrigin === true;
    this.#limits = { maxBodyBytes: options.maxBodyBytes, maxKeyBytes: options.maxKeyBytes };
    const served: string[] = [];
    const declined: { command: string; reason: string }[] = [];
    for (const command of options.commands) {
      this.#ownPaths.add(options.basePath + command.path);
      const reason = whyNotFast(command);
      if (reason !== undefined) {
        declined.push({ command: command.name, reason });
        continue;
      }
      served.push(command.name);
      const keyed = command.path.startsWith('/:key');
      const route: FastRoute = {
        command,
        literal: keyed ? undefined : command.path.slice(1),
        suffix: keyed ? command.path.slice('/:key'.length) : '',
        label: options.basePath + command.path,
      };
      let routes = this.#routes.get(command.method);
      if (routes === undefined) this.#routes.set(command.method, (routes = []));
      routes.push(route);
      // Literal paths, then the longest suffix: as Fastify's router prefers static segments.
      routes.sort((a, b) => (a.literal === undefined ? 1 : 0) - (b.literal === undefined ? 1 : 0) || b.suffix.length - a.suffix.length);
    }
    this.served = served;
    this.declined = declined;
    if (declined.length > 0) {
      this.#logger?.info(
        { served, declined: declined.map(({ command, reason }) => `${command} (${reason})`) },
        `fast path: serves ${served.join(', ')}; leaves ${declined.map(({ command }) => command).join(', ')} to Fastify`,
      );
    }
  }

  /** True once the app is closing (or cannot be served safely): every request is then Fastify's. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Registers the hooks the fast path needs on `app`: route discovery (to keep away from keys
   * that another route owns), the body replay, and the switch-off on close. Call before routes.
   */
  attach(app: FastifyInstance): void {
    const own = this.#ownPaths;
    app.addHook('onRoute', (route) => {
      const url = route.url ?? route.path;
      if (!url.startsWith(this.#base) || own.has(url)) return;
      const segment = url.slice(this.#baseLength).split('/', 1)[0]!;
      if (segment.startsWith(':') || segment.includes('*')) {
        // A parametric route beside the commands: nothing can be answered safely.
        this.#logger?.warn({ route: url }, 'fast path off: a parametric route beside the commands');
        this.#closing = true;
        return;
      }
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        let set = this.#reserved.get(method);
        if (set === undefined) this.#reserved.set(method, (set = new Set()));
        set.add(segment);
      }
    });
    installFastPathReplay(app);
    app.addHook('preClose', (done) => {
      this.#closing = true;
      done();
    });
  }

  /** The request listener for the server: the fast path, then Fastify's `fallback`. */
  listener(fallback: RequestHandler): RequestHandler {
    this.#fallback = fallback;
    return (request, response) => {
      const socket = request.socket as FrontSocket;
      if (socket[DECLINED_BY_FRONT] === true) {
        socket[DECLINED_BY_FRONT] = false;
        fallback(request, response);
        return;
      }
      let handled: boolean;
      try {
        handled = this.#handle(request, response);
      } catch (error) {
        this.#failedRequest(error, response);
        return;
      }
      if (!handled) fallback(request, response);
    };
  }

  /**
   * Records a failure while serving a connection (an answer too large to build, a bug): counted,
   * and logged with its stack the first time its kind (name and message) is seen, so that a
   * client repeating it cannot flood the log. The caller answers 500 or ends the connection.
   */
  failed(error: unknown, where: string): void {
    this.stats.failed++;
    const kind = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (this.#logged.has(kind) || this.#logger === undefined) return;
    if (this.#logged.size < 100) this.#logged.add(kind);
    this.#logger.error({ err: error, where }, 'failed to serve a request; later failures of this kind are counted, not logged');
  }

  /** Answers 500 for a request whose handling threw, or ends its connection when the answer has begun. */
  #failedRequest(error: unknown, response: ServerResponse): void {
    this.failed(error, 'fast path');
    if (response.headersSent) {
      response.destroy();
      return;
    }
    this.#send(response, this.#record(response.req.method!, undefined, error instanceof Error ? error : new Error(String(error)), 0));
  }

  /**
   * The decision for a complete request parsed outside `node:http` (the raw front): the same
   * conditions, command, metrics and stats as for a request through the listener.
   * @param contentType the `Content-Type` header, OWS-trimmed; undefined when absent
   * @param contentLength the `Content-Length` header (decimal digits); undefined when absent
   * @param body exactly the body bytes (empty when there is none); a request with
   *   `Transfer-Encoding` must not be offered
   * @returns the answer to send, or undefined when Fastify must answer (nothing was sent; the
   *   data is unchanged unless the command refused with a 5xx, which Fastify then meets again)
   */
  answer(method: string, target: string, contentType: string | undefined, contentLength: string | undefined, body: Buffer): FastAnswer | undefined {
    if (this.#closing) return undefined;
    const route = this.#route(method, target, true);
    if (route === undefined || !this.#accepts(route.command, contentType, contentLength, false)) return undefined;
    const startedAt = this.#metrics === undefined ? 0 : performance.now();
    const result = this.#run(route.command, this.#routedKey, body);
    if (result === undefined) {
      if (route.command.body !== undefined) this.stats.replayed++;
      return undefined;
    }
    const answer = this.#record(method, route, result, startedAt);
    // A write that ran waits for the log, even when its answer could not be built (500).
    if (route.command.writes && this.#executor.waitsForLog && !(result instanceof MemkvError)) answer.durable = true;
    return answer;
  }

  /**
   * A promise that settles once the log has every write answered so far (on disk with
   * PERSISTENCE_FSYNC=always); undefined when nothing needs waiting for. Its rejection is the writes' error.
   */
  waitForLog(): Promise<void> | undefined {
    return this.#executor.waitForLog();
  }

  /** The answer that replaces a durable write's when the disk refused it (`error`, mapped as Fastify maps it). */
  failedAnswer(error: unknown): FastAnswer {
    const { status, body } = toErrorAnswer(error, this.#limits);
    return { status, body: JSON.stringify(body) };
  }

  /** @returns false when the request is Fastify's (nothing was read or written). */
  #handle(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.#closing) return false;
    const method = request.method!;
    // Writes here would have to wait for the log (not done on this listener): Fastify awaits it.
    const route = this.#route(method, request.url!, !this.#executor.waitsForLog);
    if (route === undefined) return false;
    const headers = request.headers;
    // Preferences change the answer (Prefer: return=minimal), and preconditions and idempotency
    // keys whether and how it runs: Fastify's routes honour them.
    if (
      headers.prefer !== undefined ||
      headers['if-match'] !== undefined ||
      headers['if-none-match'] !== undefined ||
      headers['idempotency-key'] !== undefined
    ) {
      return false;
    }
    if (this.crossOrigin && headers.origin !== undefined) return false;
    const command = route.command;
    if (!this.#accepts(command, headers['content-type'], headers['content-length'], headers['transfer-encoding'] !== undefined)) return false;
    // Read the time only when metrics want it (Fastify's elapsedTime also starts at routing).
    const startedAt = this.#metrics === undefined ? 0 : performance.now();
    const key = this.#routedKey;
    if (command.body !== undefined) {
      this.#readBody(request, response, route, key, startedAt);
      return true;
    }
    const result = this.#run(command, key, undefined);
    if (result === undefined) return false;
    this.#send(response, this.#record(method, route, result, startedAt));
    return true;
  }

  /**
   * The served command of `method` and `url`, with the key in {@link FastPath.#routedKey}.
   * @returns undefined when it is none of them (or a write when `writes` is false)
   */
  #route(method: string, url: string, writes: boolean): FastRoute | undefined {
    const routes = this.#routes.get(method);
    if (routes === undefined || !url.startsWith(this.#base)) return undefined;
    const rest = url.slice(this.#baseLength);
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!;
      if (route.command.writes && !writes) continue;
      if (route.literal !== undefined) {
        if (rest !== route.literal) continue;
        this.#routedKey = '';
        return route;
      }
      const suffix = route.suffix;
      if (suffix.length > 0 && !rest.endsWith(suffix)) continue;
      const key = suffix.length === 0 ? rest : rest.slice(0, rest.length - suffix.length);
      if (!this.#isPlainKey(key, method)) continue;
      this.#routedKey = key;
      return route;
    }
    return undefined;
  }

  /** Whether the head suits `command`: a JSON body of a known length when it takes one, else no body. */
  #accepts(command: Command<any, any, unknown>, contentType: string | undefined, contentLength: string | undefined, chunked: boolean): boolean {
    if (chunked) return false;
    if (command.body === undefined) return contentType === undefined && (contentLength === undefined || contentLength === '0');
    // A body without Content-Type is read as JSON, as Fastify's routes read it (clients of the seed design send push so).
    if (contentType !== undefined && contentType !== 'application/json' && contentType !== JSON_TYPE) return false;
    if (contentLength === undefined) return false;
    const bytes = Number(contentLength);
    return Number.isSafeInteger(bytes) && bytes > 0 && bytes <= this.#maxBodyBytes;
  }

  /**
   * Runs `command` on `key` (and the body in `raw`).
   * @returns the 200 answer's body, the command's refusal, an Error when it ran but its answer
   *   could not be built (answered 500: never handed to Fastify, which would apply a write
   *   twice), or undefined to hand the request to Fastify (nothing was applied)
   */
  #run(command: Command<any, any, unknown>, key: string, raw: Buffer | undefined): string | Error | undefined {
    let body: Record<string, unknown> | undefined;
    if (command.body !== undefined) {
      body = parseObject(raw!);
      if (body === undefined || !command.fastBody!(body)) return undefined;
      if (command.keyFrom === 'body') key = body.key as string;
    }
    let result: unknown;
    try {
      result = this.#executor.run(command, { key, body, query: undefined, minimal: false });
    } catch (error) {
      return isAnswerable(error) ? error : undefined;
    }
    const version = (result as { version?: unknown }).version;
    this.#version = typeof version === 'number' ? version : -1;
    try {
      return JSON.stringify(result);
    } catch (error) {
      return this.#unbuildable(error);
    }
  }

  /** The failure of an answer that could not be built (say, a list whose JSON passes V8's string limit), logged. */
  #unbuildable(error: unknown): Error {
    this.failed(error, 'answer');
    return error instanceof Error ? error : new Error(String(error));
  }

  /**
   * Reads the body, then answers the command, or replays it to Fastify.
   * It acts on the chunk that completes `Content-Length` rather than on 'end' (one event-loop
   * turn later); Node has then parsed the whole message, so the request is complete.
   */
  #readBody(request: IncomingMessage, response: ServerResponse, route: FastRoute, key: string, startedAt: number): void {
    const expected = Number(request.headers['content-length']);
    let received = 0;
    let chunks: Buffer | Buffer[] | undefined;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (chunks === undefined) chunks = chunk;
      else if (Array.isArray(chunks)) chunks.push(chunk);
      else chunks = [chunks, chunk];
      if (received !== expected) return;
      const raw = Array.isArray(chunks) ? Buffer.concat(chunks) : chunks;
      let result: string | Error | undefined;
      try {
        result = this.#run(route.command, key, raw);
      } catch (error) {
        this.#failedRequest(error, response);
        return;
      }
      if (result !== undefined) {
        this.#send(response, this.#record(request.method!, route, result, startedAt));
        return;
      }
      this.stats.replayed++;
      (request as ReplayableRequest)[REPLAY_BODY] = raw;
      // Fastify must not see the stream half-read: hand over once Node has ended it.
      if (request.readableEnded) this.#fallback!(request, response);
      else request.once('end', () => this.#fallback!(request, response));
    });
  }

  /**
   * The answer for `result` (a refusal mapped as Fastify's error handler maps it, by the same
   * function), counted and recorded in the metrics with the command's route pattern.
   */
  #record(method: string, route: FastRoute | undefined, result: string | Error, startedAt: number): FastAnswer {
    let answer: FastAnswer;
    if (typeof result === 'string') answer = this.#version < 0 ? { status: 200, body: result } : { status: 200, body: result, etag: `"${this.#version}"` };
    else {
      const { status, body } = toErrorAnswer(result, this.#limits);
      answer = { status, body: JSON.stringify(body) };
    }
    this.stats.answered++;
    if (route !== undefined && this.#metrics !== undefined) {
      this.#metrics.observeRequest(method, route.label, answer.status, (performance.now() - startedAt) / 1000);
    }
    return answer;
  }

  #send(response: ServerResponse, answer: FastAnswer): void {
    // Fastify's header names, values and order, so that both paths answer the same bytes.
    const length = String(Buffer.byteLength(answer.body));
    if (answer.etag === undefined) response.writeHead(answer.status, ['content-type', JSON_TYPE, 'content-length', length]);
    else response.writeHead(answer.status, ['etag', answer.etag, 'content-type', JSON_TYPE, 'content-length', length]);
    response.end(answer.body);
  }

  /** A key the router would hand over as is: plain characters, in the size limit, not another route's. */
  #isPlainKey(key: string, method: string): boolean {
    const length = key.length;
    if (length === 0 || length > this.#maxKeyBytes) return false;
    for (let i = 0; i < length; i++) {
      const c = key.charCodeAt(i);
      // 0-9 A-Z a-z - . _ ~ :
      if (
        !((c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 126)
      ) {
        return false;
      }
    }
    return this.#reserved.get(method)?.has(key) !== true;
  }
}

/**
 * Lets Fastify parse a body that the fast path has already read: a `preParsing` hook that
 * substitutes the held bytes for the (consumed) request stream.
 */
export function installFastPathReplay(app: FastifyInstance): void {
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const held = (request.raw as ReplayableRequest)[REPLAY_BODY];
    if (held === undefined) {
      done(null, payload);
      return;
    }
    const replay = new PassThrough() as PassThrough & { receivedEncodedLength: number };
    replay.receivedEncodedLength = held.length;
    replay.end(held);
    done(null, replay);
  });
}

/**
 * A refusal the fast path answers itself: an expected error below 500. Answering it here, rather
 * than letting Fastify repeat the operation, keeps the store's counters (hits, misses, commands)
 * exact. Errors of 500 and more go to Fastify, which logs them.
 */
function isAnswerable(error: unknown): error is MemkvError {
  return error instanceof MemkvError && error.status < 500;
}

// ---- Body checks: a subset of what the TypeBox schemas accept ----

/** The body as a plain JSON object, or undefined for anything Fastify's parser might see differently. */
function parseObject(raw: Buffer): Record<string, unknown> | undefined {
  const text = raw.toString('utf8');
  // secure-json-parse strips a BOM and refuses prototype keys: leave both to Fastify.
  if (text.charCodeAt(0) === 0xfeff || text.includes('__proto__') || text.includes('constructor')) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}
