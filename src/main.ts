/**
 * The memkv server process: configuration from the environment, start, a clean stop on
 * SIGINT/SIGTERM (stop accepting, finish requests in flight, close, exit 0; during the load: stop
 * it, release the log's lock, exit 0), and with TLS, the certificate and key read again on SIGHUP.
 * With WORKERS above 1 (STORAGE=redis only), this process forks that many front processes
 * (node:cluster), which share the API and health ports, and passes the signals on to them.
 */
import cluster from 'node:cluster';
import { loadConfig } from './config/load.js';
import { ConfigError, PersistenceError } from './errors.js';
import type { RunningServer } from './server.js';

/** Longest wait for requests in flight at shutdown before exiting anyway, in ms. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/** Runs the server until a signal stops it. `overrides` are command-line values. */
export async function runServer(overrides: Parameters<typeof loadConfig>[0] = {}): Promise<void> {
  let config;
  try {
    config = loadConfig(overrides);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`memkv: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (config.workers > 1 && cluster.isPrimary) {
    runWorkers(config.workers, { tls: config.tlsCertFile !== undefined });
    return;
  }
  // Imported once the configuration is valid: the server's modules (Fastify, TypeBox, jose) take
  // most of a second to load, which a misconfigured start should not wait for; server.js itself
  // loads them only once the API port listens.
  const { createLogger, startServer } = await import('./server.js');
  const logger = createLogger(config.verbose);

  // Signals are handled from the start: one during the load stops the replay at its next chunk
  // and exits 0 once the lock is released, instead of killing the process in the middle of it.
  const starting = new AbortController();
  let server: RunningServer | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    if (server === undefined) {
      logger.info({ signal }, 'shutting down: stopping the load');
      starting.abort(new StopWhileStarting(signal));
      return;
    }
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const timer = setTimeout(() => {
      logger.error(`requests still in flight after ${SHUTDOWN_TIMEOUT_MS} ms: exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    server.close().then(
      () => {
        logger.info('memkv stopped');
        logger.flush?.();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  try {
    server = await startServer(config, logger, { signal: starting.signal });
  } catch (error) {
    if (error instanceof StopWhileStarting) {
      logger.info({ signal: error.signal }, 'memkv stopped before it was ready');
      logger.flush?.();
      process.exit(0);
    }
    if (error instanceof ConfigError) {
      // A TLS file that cannot be used: the same message and exit code as any bad setting.
      process.stderr.write(`memkv: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof PersistenceError) {
      logger.fatal({ err: error, path: error.path }, `memkv: ${error.message}`);
      process.exit(1);
    }
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'EADDRINUSE'
        ? `a port is already in use (PORT=${config.port}, HEALTH_PORT=${config.healthPort})`
        : code === 'EACCES'
          ? `no permission to listen on ${config.host} (PORT=${config.port}, HEALTH_PORT=${config.healthPort})`
          : error instanceof (await import('./open-auth.js')).AuthStateError
            ? (error as Error).message
            : 'could not start';
    logger.fatal({ err: error }, `memkv: ${message}`);
    process.exit(1);
  }
  // Certificate rotation without a restart; without TLS, SIGHUP keeps its default (the process ends).
  const running = server;
  if (running.secure) {
    process.on('SIGHUP', () => {
      logger.info({ signal: 'SIGHUP' }, 'reading the TLS files again');
      running.reloadTls();
    });
  }
}

/** The reason a start was aborted: a signal arrived before the server was ready. */
class StopWhileStarting extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`stopped by ${signal} while starting`);
    this.name = 'StopWhileStarting';
  }
}

/** Longest pause before forking again a worker that exited unexpectedly, in ms. */
const RESPAWN_DELAY_MS = 1_000;

/**
 * The primary of WORKERS=N: forks N workers with the same environment (node:cluster shares the
 * listening ports between them), forks again one that dies unexpectedly, and on SIGINT/SIGTERM
 * passes the signal on and exits once every worker has stopped (1 if any stopped with an error).
 * With TLS, SIGHUP is passed on too (each worker reads the certificate and key again).
 */
function runWorkers(count: number, { tls }: { tls: boolean }): void {
  let stopping = false;
  let failed = false;
  const write = (message: string, fields: Record<string, unknown> = {}): void => {
    process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, service: 'memkv', ...fields, msg: message })}\n`);
  };
  const fork = (): void => void cluster.fork();
  const listening = new Set<number>();
  cluster.on('listening', (worker) => listening.add(worker.id));
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (code !== 0) failed = true;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0);
      return;
    }
    // A worker that could not start (a port in use) would fail again at once: stop everything.
    if (!listening.has(worker.id)) {
      write('a worker exited before listening: stopping memkv', { workerPid: worker.process.pid, code, signal });
      failed = true;
      stop('SIGTERM');
      return;
    }
    write('a worker exited: starting another', { workerPid: worker.process.pid, code, signal });
    setTimeout(fork, RESPAWN_DELAY_MS).unref();
  });
  for (let i = 0; i < count; i++) fork();
  write(`memkv primary: ${count} workers share the ports`, { workers: count });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // With TLS, SIGHUP rotates the certificate: each worker reads the files again.
  if (tls) {
    process.on('SIGHUP', () => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
    });
  }

  function stop(signal: NodeJS.Signals): void {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(failed ? 1 : 0);
    for (const worker of workers) worker?.process.kill(signal);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runServer();
}
