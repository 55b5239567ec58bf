/**
 * The memkv server process: configuration from the environment, start, a clean stop on
 * SIGINT/SIGTERM (stop accepting, finish requests in flight, close, exit 0; during the load: stop
 * it, release the log's lock, exit 0), and with TLS, the certificate and key read again on SIGHUP.
 */
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

if (import.meta.url === `file://${process.argv[1]}`) {
  await runServer();
}
