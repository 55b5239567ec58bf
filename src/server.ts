/**
 * startServer(): opens the storage (the embedded store, or Redis with STORAGE=redis) and starts
 * both listeners from a Config. The composition root
 * that main.ts and `memkv serve` share; signal handling stays with the caller.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from './config/defaults.js';
import { createStore, type Store } from './engine/store.js';
import { createApiServer, loadingAnswer, loadingMessage } from './http/api-server.js';
import { buildApp } from './http/app.js';
import { buildHealthApp } from './http/health.js';
import { createMetrics } from './http/metrics.js';
import { openPersistence, type Persistence } from './persistence/persistence.js';
import type { AuthService } from './auth/auth-service.js';
import { ERRORS } from './errors.js';
import { openAuth } from './open-auth.js';
import { createRedisStorage, type RedisStorage } from './storage/redis.js';
import { VERSION } from './version.js';

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
  /** Port the API listens on (useful when PORT=0). */
  readonly port: number;
  /** Port the health server listens on. */
  readonly healthPort: number;
  /** Stops accepting, finishes requests in flight, closes everything. Safe to call twice. */
  close(): Promise<void>;
}

/** Creates the logger memkv writes with: JSON lines on stdout. */
export function createLogger(level: Config['verbose']): Logger {
  return pino({ level, base: { service: 'memkv' } });
}

/**
 * Starts memkv with `config`, as Redis does: listen first, then load. The API port listens
 * first, answering every request `503 loading` (with `Retry-After: 1` and how far the replay is),
 * then the health port (`/health` 200, `/ready` 503 until ready): so whenever `/health` answers,
 * the API port accepts connections. Then the log is replayed when persistence is on, auth
 * opened, and the app built on the listening server, which from then on serves the API. Logs
 * one line when listening (`loading: true`) and one when ready, both with `port` and
 * `healthPort`; resolves once ready. Rejects (after cleaning up) when a port cannot be bound or
 * the database cannot be opened (a PersistenceError).
 */
export async function startServer(config: Config, logger: Logger = createLogger(config.verbose)): Promise<RunningServer> {
  let ready = false;
  let persistence: Persistence | undefined;
  let auth: AuthService | undefined;
  let app: FastifyInstance | undefined;
  /** Progress of the replay: bytes of the log read and its size, once known. */
  let loaded: { bytesRead: number; totalBytes: number } | undefined;
  const startedAtMs = Date.now();
  // The data: the embedded engine, or Redis, which connects in the background: the server starts
  // without it, and answers 503 backend_unavailable (and /ready 503) until it is reachable.
  const redis =
    config.storage === 'redis'
      ? createRedisStorage({
          url: config.redisUrl,
          clusterNodes: config.redisClusterNodes,
          keyPrefix: config.redisKeyPrefix,
          commandTimeoutMs: config.redisCommandTimeoutMs,
          defaultTtlMs: config.defaultTtlMs,
          maxKeyBytes: config.maxKeyBytes,
          onConnectionError: (error) => logger.warn({ err: error }, `Redis is unreachable (reconnecting): ${error.message}`),
        })
      : undefined;
  const store =
    redis !== undefined
      ? undefined
      : createStore({
          defaultTtlMs: config.defaultTtlMs,
          cleanupIntervalMs: config.cleanupIntervalMs,
          maxKeyBytes: config.maxKeyBytes,
          maxMemoryBytes: config.maxMemoryBytes,
          evictionPolicy: config.evictionPolicy,
          // Only a debug logger pays for the callback.
          onEvict: logger.isLevelEnabled('debug') ? (key) => logger.debug({ key, policy: config.evictionPolicy }, 'evicted') : undefined,
        });
  const metrics = createMetrics({ store });
  const api = createApiServer({
    requestTimeoutMs: config.requestTimeoutMs,
    handler: loadingAnswer(() => (loaded === undefined ? ERRORS.loading.message : loadingMessage(loaded.bytesRead, loaded.totalBytes))),
  });
  const health = await buildHealthApp({
    isReady: () => ready,
    unavailableReason: () => {
      const backend = redis?.unavailableReason() ?? null;
      if (backend !== null) return backend;
      const status = persistence?.status();
      if (status?.failing !== true) return null;
      return `persistence_failed: the database cannot save writes: ${status.lastError?.message ?? 'the disk refuses them'}`;
    },
    metrics,
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      ready = false;
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
      await health.close();
      store?.close();
      await redis?.close();
      await auth?.flush();
      await persistence?.close();
    })());

  try {
    // The API port first: from the moment /health answers, the API port accepts connections.
    await listen(api.server, config.host, config.port);
    await health.listen({ host: config.host, port: config.healthPort });
    logger.info(
      { version: VERSION, host: config.host, port: portOf(api.server), healthPort: portOf(health.server), apiBase: `/api/${config.apiVersion}`, loading: true },
      `memkv ${VERSION} listening on http://${config.host}:${portOf(api.server)}/api/${config.apiVersion}: loading the dataset (503 loading until ready)`,
    );
    if (config.persistenceEnabled && store !== undefined) {
      persistence = await openPersistence(store, {
        dir: config.dbPath,
        fsync: config.persistenceFsync,
        compactRatio: config.persistenceCompactRatio,
        compactMinBytes: config.persistenceCompactMinBytes,
        loadDamaged: config.persistenceLoadDamaged,
        // At most once per chunk of the log read (about 1 MiB).
        onProgress: (bytesRead, totalBytes) => (loaded = { bytesRead, totalBytes }),
        logger,
      });
    }
    // After the log: with persistence on, DB_PATH exists and this process holds its lock.
    if (config.authEnabled) auth = await openAuth(config, logger, redis);
    const opened = persistence;
    app = await buildApp({
      auth,
      protectDocs: config.authProtectDocs,
      loginRateLimit: {
        max: config.loginRateLimit,
        windowMs: config.loginRateWindowMs,
        // Counted in Redis with STORAGE=redis, so that every front counts the same attempts.
        ...(redis === undefined ? {} : { redis: { client: redis.client, keyPrefix: `${config.redisKeyPrefix}login-rate:` } }),
      },
      ...(redis === undefined ? { store } : { storage: redis, database: redis }),
      apiVersion: config.apiVersion,
      maxBodyBytes: config.maxBodyBytes,
      maxKeyBytes: config.maxKeyBytes,
      // The listening server: once the app is ready, it serves the API there instead of 503 loading.
      server: api,
      logger,
      metrics,
      startedAtMs,
      durable: opened?.durable,
      compact: opened?.compact,
      persistenceStatus:
        opened === undefined
          ? undefined
          : () => {
              const status = opened.status();
              return {
                writable: !status.failing,
                lastWriteAtMs: status.lastWriteAtMs,
                lastFsyncAtMs: status.lastFsyncAtMs,
                logBytes: status.sizeBytes,
                lastCompactionAtMs: status.lastCompaction?.finishedAtMs ?? null,
              };
            },
    });
  } catch (error) {
    await close();
    throw error;
  }
  ready = true;
  const port = portOf(api.server);
  const healthPort = portOf(health.server);
  logger.info(
    { version: VERSION, host: config.host, port, healthPort, apiBase: `/api/${config.apiVersion}` },
    `memkv ${VERSION} listening on http://${config.host}:${port}/api/${config.apiVersion}`,
  );
  return { store, redis, logger, persistence, auth, port, healthPort, close };
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
