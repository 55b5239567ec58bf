/**
 * startServer(): opens the store and starts both listeners from a Config. The composition root
 * that main.ts and `memkv serve` share; signal handling stays with the caller.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from './config/defaults.js';
import { createStore, type Store } from './engine/store.js';
import { buildApp } from './http/app.js';
import { buildHealthApp } from './http/health.js';
import { createMetrics } from './http/metrics.js';
import { openPersistence, type Persistence } from './persistence/persistence.js';
import type { AuthService } from './auth/auth-service.js';
import { openAuth } from './open-auth.js';
import { VERSION } from './version.js';

export interface RunningServer {
  readonly store: Store;
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
 * Starts memkv with `config`: the health server first (`/ready` answers 503 until ready), then
 * the replay of the log when persistence is on, then the API. Rejects (after cleaning up) when a
 * port cannot be bound or the database cannot be opened (a PersistenceError).
 */
export async function startServer(config: Config, logger: Logger = createLogger(config.verbose)): Promise<RunningServer> {
  let ready = false;
  let persistence: Persistence | undefined;
  let auth: AuthService | undefined;
  let app: FastifyInstance | undefined;
  const startedAtMs = Date.now();
  const store = createStore({
    defaultTtlMs: config.defaultTtlMs,
    cleanupIntervalMs: config.cleanupIntervalMs,
    maxKeyBytes: config.maxKeyBytes,
    maxMemoryBytes: config.maxMemoryBytes,
    evictionPolicy: config.evictionPolicy,
    // Only a debug logger pays for the callback.
    onEvict: logger.isLevelEnabled('debug') ? (key) => logger.debug({ key, policy: config.evictionPolicy }, 'evicted') : undefined,
  });
  const metrics = createMetrics({ store });
  const health = await buildHealthApp({
    isReady: () => ready,
    unavailableReason: () => {
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
      // Connections that were busy when closing began become idle once answered: close those too.
      if (app !== undefined) {
        const server = app.server;
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
        }
      }
      await health.close();
      store.close();
      await auth?.flush();
      await persistence?.close();
    })());

  try {
    await health.listen({ host: config.host, port: config.healthPort });
    if (config.persistenceEnabled) {
      persistence = await openPersistence(store, {
        dir: config.dbPath,
        fsync: config.persistenceFsync,
        compactRatio: config.persistenceCompactRatio,
        compactMinBytes: config.persistenceCompactMinBytes,
        loadDamaged: config.persistenceLoadDamaged,
        logger,
      });
    }
    // After the log: with persistence on, DB_PATH exists and this process holds its lock.
    if (config.authEnabled) auth = await openAuth(config, logger);
    const opened = persistence;
    app = await buildApp({
      auth,
      protectDocs: config.authProtectDocs,
      loginRateLimit: { max: config.loginRateLimit, windowMs: config.loginRateWindowMs },
      store,
      apiVersion: config.apiVersion,
      maxBodyBytes: config.maxBodyBytes,
      maxKeyBytes: config.maxKeyBytes,
      requestTimeoutMs: config.requestTimeoutMs,
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
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await close();
    throw error;
  }
  ready = true;
  const port = (app.server.address() as AddressInfo).port;
  const healthPort = (health.server.address() as AddressInfo).port;
  logger.info(
    { version: VERSION, host: config.host, port, healthPort, apiBase: `/api/${config.apiVersion}` },
    `memkv ${VERSION} listening on http://${config.host}:${port}/api/${config.apiVersion}`,
  );
  return { store, logger, persistence, auth, port, healthPort, close };
}
