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

export interface RedisOptions {
  /** Port to listen on; default a free one. */
  port?: number;
  /** More redis-server arguments (they win over the defaults). */
  args?: string[];
  /** Working directory (its AOF/RDB files), kept after stop; default a temporary one, removed. */
  dir?: string;
}

/**
 * Starts redis-server on `port` (a free one by default) with `--save ''` and `--appendonly no`,
 * plus `args`; resolves once it accepts connections.
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisProcess> {
  // A free port can be taken by another process before redis-server binds it: try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisOnce(options);
    } catch (error) {
      if (options.port !== undefined || attempt >= 5 || !String((error as Error).message).includes('Address already in use')) throw error;
    }
  }
}

async function startRedisOnce(options: RedisOptions): Promise<RedisProcess> {
  const binary = redisServerPath();
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'memkv-redis-'));
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
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
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

export interface RedisCluster {
  /** The nodes, masters first (as `redis-cli --cluster create` pairs them: node i+3 replicates node i). */
  nodes: RedisProcess[];
  /** `host:port,...` of every node, as REDIS_CLUSTER_NODES takes them. */
  nodeList: string;
  /** The node that serves `slot` as master now. */
  masterOf(slot: number): RedisProcess;
  stop(): Promise<void>;
}

/**
 * Starts a Redis Cluster of three masters, each with one replica, on free loopback ports
 * (`--cluster-enabled yes`, then `redis-cli --cluster create … --cluster-replicas 1`); resolves
 * once every slot is served (`cluster_state:ok` on every node). With
 * `cluster-require-full-coverage no`, the other masters keep serving while one fails over.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      for (let attempt = 1; ; attempt++) {
        // A cluster node also takes port + 10000 for its bus: keep both free.
        let port = await freePort();
        while (port > 55_000) port = await freePort();
        try {
          nodes.push(
            await startRedis({
              port,
              args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0', '--cluster-require-full-coverage', 'no'],
            }),
          );
          break;
        } catch (error) {
          if (attempt >= 5 || !String((error as Error).message).includes('Address already in use')) throw error;
        }
      }
    }
    const cli = redisCliPath();
    const created = spawnSync(cli, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], {
      encoding: 'utf8',
    });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
    const deadline = Date.now() + 20_000;
    while (!nodes.every((node) => node.cli('cluster', 'info').includes('cluster_state:ok'))) {
      if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop(true)));
    throw error;
  }
  return {
    nodes,
    nodeList: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
    masterOf(slot) {
      for (const node of nodes) {
        if (node.child.exitCode !== null || node.child.signalCode !== null) continue;
        const slots = node.cli('cluster', 'slots');
        // Each range: start, end, then the master's ip and port first.
        const lines = slots.split('\n');
        for (let i = 0; i + 3 < lines.length; i++) {
          const start = Number(lines[i]);
          const end = Number(lines[i + 1]);
          if (/^\d+$/.test(lines[i]!) && /^\d+$/.test(lines[i + 1]!) && lines[i + 2] === '127.0.0.1' && start <= slot && slot <= end) {
            const port = Number(lines[i + 3]);
            const master = nodes.find((n) => n.port === port);
            if (master !== undefined) return master;
          }
        }
        break;
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop(true)));
    },
  };
}

/** A Redis Cluster for the whole test file (see {@link startRedisCluster}). */
export function useRedisCluster(): { current: RedisCluster } {
  const holder = {} as { current: RedisCluster };
  beforeAll(async () => {
    holder.current = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await holder.current?.stop();
  });
  return holder;
}
