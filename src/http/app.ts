/**
 * buildApp(): the HTTP application (Fastify) over a store. It never listens: its caller does
 * (`app.listen()`, or server.ts through its own {@link ApiServer}), and tests use `app.inject()`.
 */
import type { ServerOptions } from 'node:http';
import cors from '@fastify/cors';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
} from 'fastify';
import type { Logger } from 'pino';
import type { AuthService } from '../auth/auth-service.js';
import { Executor } from '../commands/execute.js';
import type { IdempotencyStore } from '../idempotency/idempotency-store.js';
import { createMemoryIdempotency } from '../idempotency/memory.js';
import { COMMANDS } from '../commands/table.js';
import { DEFAULT_MAX_TXN_OPS } from '../commands/limits.js';
import type { Store } from '../engine/store.js';
import { memoryDatabase, memoryStorage } from '../storage/memory.js';
import type { Database, Storage } from '../storage/storage.js';
import authPlugin from './auth-plugin.js';
import { formatSchemaErrors, frameworkErrorHandler, installErrorHandling } from './error-handler.js';
import { FastPath, fastPathBlockers, type FastPathStats } from './fast-path.js';
import { createApiServer, type ApiServer, type ApiServerOptions } from './api-server.js';
import type { RequestHandler } from './in-order.js';
import idempotencyPlugin from './idempotency.js';
import { UNMATCHED_ROUTE, type Metrics } from './metrics.js';
import { installRawFront, type RawFront } from './raw-front.js';
import { authRoutes, type LoginRateLimit } from './routes/auth.js';
import { commandRoutes } from './routes/commands.js';
import { dbRoutes, type PersistenceStats } from './routes/db.js';
import { registerDocsRoutes, registerOpenApi } from './routes/docs.js';
import { registerUiRoutes } from './routes/ui.js';
import { watchRoutes, type WatchSource } from './routes/watch.js';
import type { WatchHub } from '../watch/watch-hub.js';
import type { MemkvError } from '../errors.js';

export type { PersistenceStats };

export interface AppOptions {
  /** The embedded engine to serve; or give `storage` and `database` (another backend). */
  store?: Store;
  /** A storage backend in place of `store` (STORAGE=redis); its answers may be promises. */
  storage?: Storage;
  /** The database-level operations of `storage`, for the /db routes; required with it. */
  database?: Database;
  /** Version segment of the base path `/api/{apiVersion}`; default `v1`. */
  apiVersion?: string;
  /** Largest request body in bytes; default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest key in UTF-8 bytes, used to size the router's parameter limit; default 1024. */
  maxKeyBytes?: number;
  /** Most ops, and most checks, in one transaction; default 128. */
  maxTxnOps?: number;
  /** A pino logger; default none. */
  logger?: Logger;
  /** Records every request's route, status and latency (see metrics.ts); default none, at no cost. */
  metrics?: Metrics;
  /**
   * Persistence status for `GET /db/stats`, read on each call; absent or returning `null`, the
   * stats say `{"enabled": false}`.
   */
  persistenceStatus?: () => PersistenceStats | null;
  /** When the server started, in epoch ms, for the stats' uptime; default when buildApp runs. */
  startedAtMs?: number;
  /**
   * Durability seam (persistence's `durable`): after a write, handlers call it and, when it
   * returns a promise, answer only once it resolves (its rejection is the write's error answer).
   * Absent (the default) when writes need no wait: handlers then answer at once.
   */
  durable?: () => Promise<void> | undefined;
  /** Starts a compaction of the log (`POST /db/compact`); absent when persistence is off. */
  compact?: () => 'started' | 'running';
  /** The auth service; when given, data and auth routes need bearer tokens. Default: no auth. */
  auth?: AuthService;
  /**
   * Directory of the built dashboard (routes/ui.ts: `UI_ASSETS_DIR`) to serve at `/ui/`; default
   * none: no dashboard, and `/ui` is a 404 like any unknown route.
   */
  uiDir?: string;
  /** With `auth`: whether the API documentation needs a token too (any role); default false. */
  protectDocs?: boolean;
  /** With `auth`: login attempts allowed per client address and per user name per window; default 10 per minute. */
  loginRateLimit?: LoginRateLimit;
  /**
   * Answer the hot data requests on the fast path in front of Fastify (see fast-path.ts);
   * default true. It stays off anyway while a feature it does not implement is on.
   */
  fastPath?: boolean;
  /**
   * Longest time to receive a whole request (head and body), in ms; a slower one is answered 408
   * and its connection closed; 0 = no limit. Default 30 s, or with `server` that server's.
   */
  requestTimeoutMs?: number;
  /**
   * A server from `createApiServer()` (api-server.ts), typically already listening and answering
   * `503 loading`, to serve instead of creating one. Once the app is ready, buildApp sends the
   * server's requests to the app and, with the fast path, puts the raw front in front of its new
   * connections (those already open stay on node:http). The app neither listens on it nor closes
   * it: `app.close()` only stops serving, and the owner closes the server (after `app.close()`
   * has begun, so that requests in flight end with the app still open). Default: the app's own
   * server, which `app.listen()` listens on.
   */
  server?: ApiServer;
  /**
   * Origins whose browser pages may call the API (CORS): `['*']` for any, which only makes sense
   * without `auth`; default none (no CORS headers, preflights answered 404). With origins, the
   * fast path declines requests that carry an `Origin` header.
   */
  corsOrigins?: readonly string[];
  /**
   * Which proxies' `X-Forwarded-For` / `X-Forwarded-Proto` to believe, as Fastify's `trustProxy`
   * takes it (true, a hop count, addresses and CIDR ranges); the login rate limit and the logs
   * then use the client's address. Default false: the headers are ignored.
   */
  trustProxy?: boolean | number | readonly string[];
  /**
   * Where the answers of requests with an `Idempotency-Key` are kept (see http/idempotency.ts).
   * Default: kept in this process for `idempotencyTtlMs`, counted toward the store's memory
   * limit (with `store`), and closed with the app.
   */
  idempotency?: IdempotencyStore;
  /** How long the default idempotency store keeps an answer, in ms; default 24 h. */
  idempotencyTtlMs?: number;
  /**
   * The change feed served at `GET /db/watch` (src/watch/): a hub that the store's change
   * listener (or any other source of changes) publishes to. Default none: the route answers 404
   * (watch off). The app ends its watch streams when it closes; the hub's owner closes the hub.
   */
  watch?: WatchHub | WatchSource;
  /** The error `GET /db/watch` answers when this backend has no change feed (STORAGE=redis on a Redis Cluster). */
  watchUnavailable?: MemkvError;
}

/** The request headers a cross-origin page may send (the preflight's `Access-Control-Allow-Headers`). */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Prefer', 'If-Match', 'If-None-Match', 'Last-Event-ID', 'Idempotency-Key'] as const;
/** The answer headers a cross-origin page may read besides the safelisted ones. */
export const CORS_EXPOSED_HEADERS = ['Retry-After', 'WWW-Authenticate', 'Preference-Applied', 'ETag', 'Idempotent-Replayed'] as const;
/** How long a browser may keep a preflight's answer, in seconds (Chromium caps it at 2 h). */
export const CORS_MAX_AGE_S = 600;

export const APP_DEFAULTS = {
  apiVersion: 'v1',
  maxBodyBytes: 1024 * 1024,
  maxKeyBytes: 1024,
  loginRateLimit: { max: 10, windowMs: 60_000 },
  fastPath: true,
  requestTimeoutMs: 30_000,
} as const;

const fastPaths = new WeakMap<FastifyInstance, FastPath>();

/** What the fast path of `app` has done, or `undefined` when it is off. */
export function fastPathStats(app: FastifyInstance): Readonly<FastPathStats> | undefined {
  return fastPaths.get(app)?.stats;
}

/** Builds the application and waits until its plugins are loaded. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const {
    store,
    apiVersion = APP_DEFAULTS.apiVersion,
    maxBodyBytes = APP_DEFAULTS.maxBodyBytes,
    maxKeyBytes = APP_DEFAULTS.maxKeyBytes,
    maxTxnOps = DEFAULT_MAX_TXN_OPS,
    logger,
    metrics,
    persistenceStatus,
    startedAtMs = Date.now(),
    durable,
    compact,
    auth,
    protectDocs = false,
    uiDir,
    loginRateLimit = APP_DEFAULTS.loginRateLimit,
    fastPath: fastPathWanted = APP_DEFAULTS.fastPath,
    server: given,
    requestTimeoutMs = given?.requestTimeoutMs ?? APP_DEFAULTS.requestTimeoutMs,
    corsOrigins = [],
    trustProxy = false,
    idempotencyTtlMs,
    watch,
  } = options;
  if (!/^[A-Za-z0-9._-]+$/.test(apiVersion)) throw new TypeError('apiVersion must be a path segment such as "v1"');
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) throw new TypeError('maxBodyBytes must be an integer >= 1');
  if (durable !== undefined && typeof durable !== 'function') throw new TypeError('durable must be a function');
  if (compact !== undefined && typeof compact !== 'function') throw new TypeError('compact must be a function');
  if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs < 0) throw new TypeError('requestTimeoutMs must be an integer >= 0');
  if (!Array.isArray(corsOrigins) || corsOrigins.some((origin) => typeof origin !== 'string' || origin === '')) {
    throw new TypeError('corsOrigins must be a list of origins such as https://app.example.com, or ["*"]');
  }
  if (corsOrigins.includes('*') && auth !== undefined) throw new TypeError('corsOrigins ["*"] is refused with auth: name the origins');
  if (given !== undefined && requestTimeoutMs !== given.requestTimeoutMs) {
    throw new TypeError(`requestTimeoutMs must be the server's own (${given.requestTimeoutMs}) when a server is given`);
  }

  if ((store === undefined) === (options.storage === undefined) || (options.storage !== undefined && options.database === undefined)) {
    throw new TypeError('give either store, or storage with its database');
  }
  const storage = options.storage ?? memoryStorage(store!);
  const database = options.database ?? memoryDatabase(store!);

  const basePath = `/api/${apiVersion}`;
  const requestLogging = logger?.isLevelEnabled('debug') === true;
  const executor = new Executor({ storage, durable, limits: { maxTxnOps } });
  const ownIdempotency =
    options.idempotency === undefined
      ? createMemoryIdempotency({ ttlMs: idempotencyTtlMs, holdBytes: store === undefined ? undefined : (bytes, force) => store.holdBytes(bytes, force) })
      : undefined;
  const idempotency = options.idempotency ?? ownIdempotency!;
  const fastPath =
    fastPathWanted &&
    fastPathBlockers({ requestLogging, authentication: auth !== undefined, remoteStorage: store === undefined }).length === 0
      ? new FastPath({ executor, commands: COMMANDS, basePath, maxBodyBytes, maxKeyBytes, metrics, logger, crossOrigin: corsOrigins.length > 0 })
      : undefined;

  let front: RawFront | undefined;
  let serveGiven: (() => void) | undefined;
  const app: FastifyInstance = Fastify({
    ...(logger === undefined ? { logger: false } : { loggerInstance: logger as FastifyBaseLogger }),
    // Per-request logs are memkv's own, at debug level (below), so the default level costs nothing.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBodyBytes,
    requestTimeout: requestTimeoutMs,
    // request.ip and request.protocol from X-Forwarded-For / -Proto only when they come from a trusted proxy.
    trustProxy: trustProxyOption(trustProxy),
    // The API server answers client errors itself (api-server.ts), also before the app exists.
    clientErrorHandler: ignoreClientError,
    // While closing, a request that still arrives on a busy keep-alive connection is served (the
    // store and the log close after the HTTP server) and its answer ends the connection; Fastify's
    // default would answer 503 with a body in its own format, not memkv's.
    return503OnClosing: false,
    // A key is one path segment: percent-encoding makes it at most three times its byte length.
    routerOptions: { maxParamLength: maxKeyBytes * 3 + 16 },
    ajv: {
      // Validation never changes the request: no coercion (5 must not become "5"), no stripping.
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
    schemaErrorFormatter: formatSchemaErrors,
    frameworkErrors: frameworkErrorHandler({ maxBodyBytes, maxKeyBytes }),
    // The API server (api-server.ts: each connection's requests in order, memkv's client errors),
    // with the fast path's listener and the raw front in front when the fast path is on: a new
    // one, or the given one, switched over to the app once it is ready.
    serverFactory: (handler, factoryOptions) => {
      const api = given ?? createApiServer(fastifyServerOptions(factoryOptions));
      const serve = (): void => {
        api.serve(fastPath === undefined ? (handler as RequestHandler) : fastPath.listener(handler as RequestHandler));
        if (fastPath !== undefined) front = installRawFront(api.server, fastPath);
      };
      if (given === undefined) serve();
      else serveGiven = serve;
      return api.server;
    },
  });
  if (fastPath !== undefined) {
    fastPath.attach(app);
    fastPaths.set(app, fastPath);
    // The front's connections are idle between chunks, and the HTTP server does not track them.
    app.addHook('preClose', (done) => {
      front?.closeIdle();
      done();
    });
  }

  // Bodies are JSON or nothing: without the text parser, text/plain is a 415 like any other type.
  app.removeContentTypeParser('text/plain');
  // A body without Content-Type is read as JSON on the routes that take one: clients of the seed
  // design send push that way. An explicit other type stays 415.
  app.addHook('onRequest', (request, _reply, done) => {
    const headers = request.headers;
    if (
      headers['content-type'] === undefined &&
      request.routeOptions.schema?.body !== undefined &&
      ((headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined)
    ) {
      headers['content-type'] = 'application/json';
    }
    done();
  });
  // Handlers build exact rows, so the response schemas document them and JSON.stringify writes them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  installErrorHandling(app, { maxBodyBytes, maxKeyBytes });

  if (requestLogging) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug(
        // request.ip: the client's address, from X-Forwarded-For when the proxy is trusted (TRUST_PROXY).
        { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime, ip: request.ip },
        'request',
      );
      done();
    });
  }

  if (metrics !== undefined) {
    app.addHook('onResponse', (request, reply, done) => {
      metrics.observeRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }

  if (corsOrigins.length > 0) {
    // At the root, before every route: its preflight route (OPTIONS *) stays outside the auth
    // scope, and its onRequest hook adds the headers to every answer, errors included.
    const allowed = new Set(corsOrigins);
    await app.register(cors, {
      // A function rather than the list: for an origin not allowed it answers `false`, and the
      // plugin then adds no CORS header at all (with a list it would still add the others).
      origin: corsOrigins[0] === '*' ? '*' : (origin: string | undefined, done: (error: Error | null, allow: string | false) => void) =>
        done(null, origin !== undefined && allowed.has(origin) ? origin : false),
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: [...CORS_ALLOWED_HEADERS],
      exposedHeaders: [...CORS_EXPOSED_HEADERS],
      maxAge: CORS_MAX_AGE_S,
      // Bearer tokens, not cookies: no credentials mode.
      credentials: false,
    });
  }
  await registerOpenApi(app, { bearerAuth: auth !== undefined });
  // The auth plugin lives inside the scope of the routes it protects (the health server is apart).
  await app.register(
    async (api) => {
      if (auth !== undefined) await api.register(authPlugin, { auth });
      // After the auth hooks: a refused request never claims an idempotency key.
      await api.register(idempotencyPlugin, { store: idempotency, waitForLog: () => durable?.(), limits: { maxBodyBytes, maxKeyBytes } });
      await api.register(commandRoutes, { executor });
      await api.register(dbRoutes, { prefix: '/db', database, storage, persistenceStatus, startedAtMs, compact, durable });
      await api.register(watchRoutes, {
        prefix: '/db',
        hub: watch,
        unavailable: options.watchUnavailable,
      });
      if (auth !== undefined) await api.register(authRoutes, { auth, loginRateLimit });
    },
    { prefix: basePath },
  );
  await app.register(async (docs) => {
    if (auth !== undefined && protectDocs) await docs.register(authPlugin, { auth, defaultAccess: 'read' });
    await registerDocsRoutes(docs, basePath);
  });
  if (uiDir !== undefined) await app.register(async (ui) => registerUiRoutes(ui, uiDir));
  if (ownIdempotency !== undefined) app.addHook('onClose', (_app, done) => {
    ownIdempotency.close();
    done();
  });
  await app.ready();
  serveGiven?.();
  return app;
}

/** The API server's settings from Fastify's own (its `http`, keep-alive, request and connection timeouts). */
function fastifyServerOptions(factoryOptions: unknown): ApiServerOptions {
  const options = factoryOptions as { http?: ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number };
  return {
    http: options.http,
    requestTimeoutMs: options.requestTimeout,
    keepAliveTimeoutMs: options.keepAliveTimeout,
    connectionTimeoutMs: options.connectionTimeout,
  };
}

/**
 * Fastify's `trustProxy` for memkv's setting. A hop count becomes the function that trusts the
 * nearest `hops` addresses (proxy-addr calls it with each address and its hop, the peer's being
 * 0), as Express reads a number; the Fastify memkv uses (5.12) trusts no address for a bare number.
 * Like any hop count, it is only safe when clients cannot reach memkv but through the proxies.
 */
function trustProxyOption(trustProxy: boolean | number | readonly string[]): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trustProxy === 'number') {
    if (!Number.isSafeInteger(trustProxy) || trustProxy < 1) throw new TypeError('trustProxy as a hop count must be an integer >= 1');
    return (_address, hop) => hop < trustProxy;
  }
  return Array.isArray(trustProxy) ? [...trustProxy] : (trustProxy as boolean);
}

/** Fastify's `clientErrorHandler`: nothing, since the API server's own listener has answered. */
function ignoreClientError(): void {}
