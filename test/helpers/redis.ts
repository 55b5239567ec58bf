/**
 * Real Redis servers for the redis backend's tests: `redis-server` (Debian's, or REDIS_SERVER_PATH)
 * on free loopback ports, without persistence, stopped after the tests. A missing binary fails the
 * test, saying what to install: nothing is skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

const INSTALL = 'redis-server is not installed: apt-get install redis-server (or set REDIS_SERVER_PATH to its binary)';

/** The redis-server binary, or a failure that says what to install. */
export function redisServerPath(): string {
  const path = process.env.REDIS_SERVER_PATH ?? 'redis-server';
  const probe = spawnSync(path, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(INSTALL);
  return path;
}

/** redis-cli beside redis-server (Debian's redis-tools, installed with it). */
export function redisCliPath(): string {
  const path = process.env.REDIS_CLI_PATH ?? 'redis-cli';
  const probe = spawnSync(path, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) throw new Error('redis-cli is not installed: apt-get install redis-tools');
  return path;
}

/** A port the OS handed out on 127.0.0.1, then closed (redis-server takes a port, not 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RedisProcess {
  port: number;
  url: string;
  child: ChildProcess;
  /** Every line it printed. */
  output: () => string;
  /** Runs redis-cli against it and answers its output. */
  cli(...args: string[]): string;
  /** SIGSTOP: it keeps its connections but answers nothing (a slow backend). */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** Stops it (SIGKILL with `kill`, else SIGTERM) and waits for the exit. */
  stop(kill?: boolean): Promise<void>;
}

/**
 * Starts redis-server on `port` (a free one by default) with `--save ''` and `--appendonly no`,
 * plus `args`; resolves once it accepts connections.
 */
export async function startRedis(options: { port?: number; args?: string[] } = {}): Promise<RedisProcess> {
  const binary = redisServerPath();
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'memkv-redis-'));
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited before it was ready:\n${output}`));
    });
  });
  const cli = redisCliPath();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    child,
    output: () => output,
    cli: (...args) => spawnSync(cli, ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim(),
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stop(kill = false) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill(kill ? 'SIGKILL' : 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A redis-server for the whole test file: started before its tests, stopped after them. The
 * returned object is filled in by `beforeAll`.
 */
export function useRedisServer(): { current: RedisProcess } {
  const holder = {} as { current: RedisProcess };
  beforeAll(async () => {
    holder.current = await startRedis();
  }, 20_000);
  afterAll(async () => {
    await holder.current?.stop();
  });
  return holder;
}
