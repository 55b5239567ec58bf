/**
 * startServer(): opens the storage (the embedded store, or Redis with STORAGE=redis) and starts
 * both listeners from a Config. The composition root
 * that main.ts and `memkv serve` share; signal handling stays with the caller.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from './config/defaults.js';
import type { Store } from './engine/store.js';
// Only what the API port needs to listen and answer `503 loading` is imported up front; the rest
// (Fastify, TypeBox, jose, prom-client: most of a second) loads once the port listens.
import { createApiServer, loadingAnswer, loadingMessage } from './http/api-server.js';
import type { Persistence } from './persistence/persistence.js';
import { readTlsFiles, serverOnly, type TlsMaterial } from './http/tls.js';
import type { AuthService } from './auth/auth-service.js';
import { ERRORS } from './errors.js';
import type { RedisStorage } from './storage/redis.js';
import type { MemoryIdempotency } from './idempotency/memory.js';
import type { RedisIdempotency } from './idempotency/redis.js';
import type { WatchHub } from './watch/watch-hub.js';
import type { RedisWatch } from './storage/redis-watch.js';
import type { MemkvError } from './errors.js';
import { VERSION } from './version.js';

/**
 * How long the API port still accepts connections after the health port closed, at shutdown: a
 * client (or supervisor) told "healthy" just before can still connect (the same grace as a load
 * balancer's drain). Short enough not to slow a stop.
 */
const HEALTH_TO_API_GRACE_MS = 200;

export interface RunningServer {
  /** The embedded engine (STORAGE=memory); undefined with STORAGE=redis. */
  readonly store: Store | undefined;
  /** The Redis backend (STORAGE=redis); undefined with STORAGE=memory. */
  readonly redis: RedisStorage | undefined;
  readonly logger: Logger;
  /** The log of DB_PATH, when PERSISTENCE_ENABLED; its `status()` is what stats report. */
  readonly persistence: Persistence | undefined;
  /** The auth service, when AUTH_ENABLED. */
  readonly auth: AuthService | undefined;
  /** The change feed behind `GET /db/watch` (STORAGE=memory, WATCH_HISTORY > 0). */
  readonly watch: WatchHub | undefined;
  /** Port the API listens on (useful when PORT=0). */
  readonly port: number;
  /** Port the health server listens on. */
  readonly healthPort: number;
  /** Whether the API serves HTTPS (TLS_CERT_FILE). */
  readonly secure: boolean;
  /**
   * Reads the TLS files again and serves new connections (API, and health with HEALTH_TLS) with
   * them; connections already open keep theirs. A file that cannot be used is logged and the
   * certificate in use kept. Does nothing without TLS.
   * @returns true when the new files are in use
   */
  reloadTls(): boolean;
  /** Stops accepting, finishes requests in flight, closes everything. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartOptions {
  /**
   * Aborts the start (a SIGTERM while the log is replayed): the replay stops at its next chunk,
   * everything opened so far is closed (the lock released) and startServer rejects with the
   * signal's reason, an AbortError unless given.
   */
  signal?: AbortSignal;
}

/** Creates the logger memkv writes with: JSON lines on stdout. */
export function createLogger(level: Config['verbose']): Logger {
  return pino({ level, base: { service: 'memkv' } });
}

/**
 * Starts memkv with `config`, as Redis does: listen first, then load. The API port listens
 * first, answering every request `503 loading` (with `Retry-After: 1` and how far the replay is),
 * before the server's heavier modules are even loaded; then the health port (`/health` 200,
 * `/ready` 503 until ready): so whenever `/health` answers, the API port accepts connections.
 * Then the log is replayed when persistence is on, auth opened, and the app built on the
 * listening server, which from then on serves the API. Logs one line when the API port listens
 * (`loading: true`, with `port`), one when the health port does (`loading: true`, with `port`
 * and `healthPort`) and one when ready (both ports); resolves once ready. Rejects (after
 * cleaning up) when a port cannot be bound or the database cannot be opened (a
 * PersistenceError), and before anything listens when a TLS file cannot be used (a ConfigError
 * naming the variable and the file).
 */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config.verbose),
  options: StartOptions = {},
): Promise<RunningServer> {
  const { signal } = options;
  // Read before anything listens: a certificate that cannot be used stops the start (ConfigError).
  const tls = tlsMaterial(config);
  const scheme = tls === undefined ? 'http' : 'https';
  let ready = false;
  let persistence: Persistence | undefined;
  let auth: AuthService | undefined;
  let app: FastifyInstance | undefined;
  let store: Store | undefined;
  let redis: RedisStorage | undefined;
  /** Where the answers of requests with an Idempotency-Key are kept (beside the data). */
  let idempotency: MemoryIdempotency | undefined;
  /** STORAGE=redis: the kept answers in Redis, shared by every front. */
  let redisIdempotency: RedisIdempotency | undefined;
  let watch: WatchHub | undefined;
  /** STORAGE=redis on a standalone Redis: the hub fed by Redis's change stream, once reachable. */
  let redisWatch: RedisWatch<WatchHub> | undefined;
  let health: FastifyInstance | undefined;
  /** Progress of the replay: bytes of the log read and its size, once known. */
  let loaded: { bytesRead: number; totalBytes: number } | undefined;
  const startedAtMs = Date.now();
  const loadingText = (): string => (loaded === undefined ? ERRORS.loading.message : loadingMessage(loaded.bytesRead, loaded.totalBytes));
  const api = createApiServer({ requestTimeoutMs: config.requestTimeoutMs, tls, handler: loadingAnswer(loadingText) });
  if (tls !== undefined && logger.isLevelEnabled('debug')) {
    // Failed handshakes (plain HTTP to the HTTPS port, a refused client certificate, an old TLS
    // version): the connection is closed; at debug level, say why.
    api.server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: { remoteAddress?: string }) =>
      logger.debug({ code: error.code, address: socket.remoteAddress }, `TLS handshake failed: ${error.message}`),
    );
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      ready = false;
      // The health port first, as it opened last: /health never answers while the API port
      // refuses connections, which it does from the step after the grace on.
      await health?.close();
      if (health !== undefined) await new Promise((resolve) => setTimeout(resolve, HEALTH_TO_API_GRACE_MS));
      const server = api.server;
      // Connections that were busy when closing began become idle once answered: close those too.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      try {
        // Stop accepting (and end idle connections); resolves once every connection has ended.
        const drained = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
        // The app switches its fast path off and ends the raw front's idle connections; requests
        // in flight are answered meanwhile (with `Connection: close`), the store still open.
        await app?.close();
        await drained;
      } finally {
        clearInterval(sweep);
      }
      watch?.close();
      redisWatch?.hub?.close();
      store?.close();
      await idempotency?.close();
      await redis?.close();
      await auth?.flush();
      await persistence?.close();
    })());

  try {
    signal?.throwIfAborted();
    // The API port first: from the moment /health answers, the API port accepts connections.
    await listen(api.server, config.host, config.port);
    logger.info(
      { version: VERSION, host: config.host, port: portOf(api.server), apiBase: `/api/${config.apiVersion}`, loading: true },
      `memkv ${VERSION} listening on ${scheme}://${config.host}:${portOf(api.server)}/api/${config.apiVersion}: loading (503 loading until ready)`,
    );
    const [{ createStore }, { buildApp }, { UI_ASSETS_DIR }, { buildHealthApp }, { createMetrics }, { openPersistence }, { openAuth }, { connectWatch }, { createMemoryIdempotency }] = await Promise.all([
      import('./engine/store.js'),
      import('./http/app.js'),
      import('./http/routes/ui.js'),
      import('./http/health.js'),
      import('./http/metrics.js'),
      import('./persistence/persistence.js'),
      import('./open-auth.js'),
      import('./watch/connect.js'),
      import('./idempotency/memory.js'),
    ]);
    signal?.throwIfAborted();
    // The data: the embedded engine, or Redis, which connects in the background: the server starts
    // without it, and answers 503 backend_unavailable (and /ready 503) until it is reachable.
    if (config.storage === 'redis') {
      const { createRedisStorage } = await import('./storage/redis.js');
      redis = createRedisStorage({
        url: config.redisUrl,
        clusterNodes: config.redisClusterNodes,
        keyPrefix: config.redisKeyPrefix,
        commandTimeoutMs: config.redisCommandTimeoutMs,
        defaultTtlMs: config.defaultTtlMs,
        maxKeyBytes: config.maxKeyBytes,
        watchHistory: config.watchHistory,
        onConnectionError: (error) => logger.warn({ err: error }, `Redis is unreachable (reconnecting): ${error.message}`),
      });
      const { createRedisIdempotency } = await import('./idempotency/redis.js');
      redisIdempotency = createRedisIdempotency({ client: redis.client, keyPrefix: `${config.redisKeyPrefix}idem:`, ttlMs: config.idempotencyTtlMs });
    } else {
      store = createStore({
        defaultTtlMs: config.defaultTtlMs,
        cleanupIntervalMs: config.cleanupIntervalMs,
        maxKeyBytes: config.maxKeyBytes,
        maxMemoryBytes: config.maxMemoryBytes,
        evictionPolicy: config.evictionPolicy,
        // Only a debug logger pays for the callback.
        onEvict: logger.isLevelEnabled('debug') ? (key) => logger.debug({ key, policy: config.evictionPolicy }, 'evicted') : undefined,
      });
      const data = store;
      // Kept answers count toward MAX_MEMORY, and live in the log beside the data.
      idempotency = createMemoryIdempotency({ ttlMs: config.idempotencyTtlMs, holdBytes: (bytes, force) => data.holdBytes(bytes, force) });
    }
    const metrics = createMetrics({ store, database: redis });
    health = await buildHealthApp({
      isReady: () => ready,
      // Until ready, /ready says how far the load is, as the API port's 503 loading does.
      notReadyReason: () => (closing === undefined ? loadingText() : 'memkv is stopping'),
      unavailableReason: () => {
        const backend = redis?.unavailableReason() ?? null;
        if (backend !== null) return backend;
        const status = persistence?.status();
        if (status?.failing !== true) return null;
        return `persistence_failed: the database cannot save writes: ${status.lastError?.message ?? 'the disk refuses them'}`;
      },
      metrics,
      https: config.healthTls && tls !== undefined ? serverOnly(tls) : undefined,
    });
    await health.listen({ host: config.host, port: config.healthPort });
    logger.info(
      { version: VERSION, host: config.host, port: portOf(api.server), healthPort: portOf(health.server), apiBase: `/api/${config.apiVersion}`, loading: true },
      `memkv ${VERSION} health on ${config.healthTls && tls !== undefined ? 'https' : 'http'}://${config.host}:${portOf(health.server)} (/health, /ready, /metrics)`,
    );
    if (tls !== undefined) {
      logger.info(
        { subject: tls.subject, validTo: tls.validTo.toISOString(), clientAuth: tls.clientAuth, healthTls: config.healthTls },
        `TLS: serving ${tls.subject} (valid until ${tls.validTo.toISOString()}); SIGHUP reads the files again`,
      );
      if (tls.validTo.getTime() < Date.now()) logger.warn({ validTo: tls.validTo.toISOString() }, 'TLS: the certificate has expired: clients will refuse it');
    }
    if (config.persistenceEnabled && store !== undefined) {
      persistence = await openPersistence(store, {
        dir: config.dbPath,
        fsync: config.persistenceFsync,
        compactRatio: config.persistenceCompactRatio,
        compactMinBytes: config.persistenceCompactMinBytes,
        loadDamaged: config.persistenceLoadDamaged,
        // At most once per chunk of the log read (about 1 MiB).
        onProgress: (bytesRead, totalBytes) => {
          signal?.throwIfAborted();
          loaded = { bytesRead, totalBytes };
        },
        logger,
        idempotency,
      });
    }
    // After the log: with persistence on, DB_PATH exists and this process holds its lock.
    signal?.throwIfAborted();
    // The change feed starts after the replay: a watch resumes from the revision the log ended at
    // on. STORAGE=redis: on a standalone Redis, a hub fed by its change stream once Redis is
    // reachable (storage/redis-watch.ts); a Redis Cluster has no feed (501 watch_unavailable).
    if (store !== undefined && config.watchHistory > 0) {
      watch = connectWatch(store, { historyEvents: config.watchHistory, maxBufferBytes: config.watchMaxBufferBytes });
    }
    let watchUnavailable: MemkvError | undefined;
    if (redis !== undefined && config.watchHistory > 0) {
      const { watchUnavailable: unavailable } = await import('./storage/redis.js');
      if (redis.cluster) watchUnavailable = unavailable(true);
      else {
        const [{ RedisWatch }, { createWatchHub }] = await Promise.all([import('./storage/redis-watch.js'), import('./watch/watch-hub.js')]);
        const feed = redis.changeFeed((error) => logger.warn({ err: error }, `watch: the Redis change stream: ${error.message}`));
        redisWatch = new RedisWatch(feed, config.watchHistory, (start) =>
          createWatchHub({ historyEvents: config.watchHistory, maxBufferBytes: config.watchMaxBufferBytes, ...start }),
        );
      }
    }
    if (config.authEnabled) auth = await openAuth(config, logger, redis);
    const log = persistence;
    app = await buildApp({
      auth,
      protectDocs: config.authProtectDocs,
      uiDir: config.uiEnabled ? UI_ASSETS_DIR : undefined,
      loginRateLimit: {
        max: config.loginRateLimit,
        windowMs: config.loginRateWindowMs,
        // Counted in Redis with STORAGE=redis, so that every front counts the same attempts.
        ...(redis === undefined ? {} : { redis: { client: redis.client, keyPrefix: `${config.redisKeyPrefix}login-rate:` } }),
      },
      corsOrigins: config.corsOrigins,
      trustProxy: config.trustProxy,
      idempotencyTtlMs: config.idempotencyTtlMs,
      idempotency: idempotency ?? redisIdempotency,
      watch: watch ?? redisWatch,
      watchUnavailable,
      ...(redis === undefined ? { store } : { storage: redis, database: redis }),
      apiVersion: config.apiVersion,
      maxBodyBytes: config.maxBodyBytes,
      maxKeyBytes: config.maxKeyBytes,
      maxTxnOps: config.maxTxnOps,
      // The listening server: once the app is ready, it serves the API there instead of 503 loading.
      server: api,
      logger,
      metrics,
      startedAtMs,
      durable: log?.durable,
      compact: log?.compact,
      persistenceStatus:
        log === undefined
          ? undefined
          : () => {
              const status = log.status();
              return {
                writable: !status.failing,
                lastWriteAtMs: status.lastWriteAtMs,
                lastFsyncAtMs: status.lastFsyncAtMs,
                logBytes: status.sizeBytes,
                lastCompactionAtMs: status.lastCompaction?.finishedAtMs ?? null,
              };
            },
    });
    signal?.throwIfAborted();
  } catch (error) {
    await close();
    throw error;
  }
  ready = true;
  const port = portOf(api.server);
  const healthPort = portOf(health!.server);
  logger.info(
    { version: VERSION, host: config.host, port, healthPort, apiBase: `/api/${config.apiVersion}` },
    `memkv ${VERSION} listening on ${scheme}://${config.host}:${port}/api/${config.apiVersion}`,
  );
  const reloadTls = (): boolean => {
    if (tls === undefined) return false;
    let next: TlsMaterial;
    try {
      next = tlsMaterial(config)!;
    } catch (error) {
      logger.error({ err: error }, `TLS: the files cannot be used, the certificate in use is kept: ${(error as Error).message}`);
      return false;
    }
    api.setSecureContext(next);
    if (config.healthTls) (health!.server as unknown as TlsServer).setSecureContext(serverOnly(next));
    logger.info({ subject: next.subject, validTo: next.validTo.toISOString() }, `TLS: new connections get ${next.subject} (valid until ${next.validTo.toISOString()})`);
    return true;
  };
  return { store, redis, logger, persistence, auth, watch, port, healthPort, secure: tls !== undefined, reloadTls, close };
}

/** The TLS files of `config` read and checked, or undefined for plain HTTP. @throws ConfigError */
function tlsMaterial(config: Config): TlsMaterial | undefined {
  if (config.tlsCertFile === undefined || config.tlsKeyFile === undefined) return undefined;
  return readTlsFiles({ certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, caFile: config.tlsCaFile, clientAuth: config.tlsClientAuth });
}

/** Listens on `host`:`port`; rejects with the listen error (EADDRINUSE, EACCES). */
function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => {
      server.removeListener('listening', listening);
      reject(error);
    };
    const listening = (): void => {
      server.removeListener('error', failed);
      resolve();
    };
    server.once('error', failed);
    server.once('listening', listening);
    server.listen({ host, port });
  });
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}
