/**
 * The systems under test: memkv (bench/memkv-server.mjs), Redis and Webdis, each started on
 * 127.0.0.1 at a free port of its own, with a bounded start-up wait.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, removeAtExit, run, start, stop, waitForMemkv, waitForPort } from './processes.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

/** `taskset -c cpus` prefix when pinning, else nothing. */
export function pinned(cpus, command, args) {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
}

/** Starts memkv; returns { port, call(command, args), stop() }. `nodeArgs` such as `--cpu-prof`. */
export async function startMemkv({ cpus, env = {}, nodeArgs = [] } = {}) {
  const port = await freePort();
  const [command, args] = pinned(cpus, process.execPath, [...nodeArgs, join(here, '..', 'memkv-server.mjs')]);
  const child = start(command, args, { ipc: true, env: { ...process.env, PORT: String(port), ...env } });
  let nextId = 0;
  const pending = new Map();
  child.on('message', (message) => {
    const waiter = pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(message.error));
    else waiter.resolve(message.result);
  });
  await waitForMemkv(port, 15_000, child);
  return {
    name: 'memkv',
    port,
    child,
    call(command, args) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, command, args });
      });
    },
    stop: () => stop(child),
  };
}

/**
 * Starts the real memkv server (dist/main.js, as `npm start`) with `env`, such as STORAGE=redis
 * and WORKERS; resolves once `/ready` answers 200. Returns { port, stop() }.
 */
export async function startMemkvServer({ cpus, env = {} } = {}) {
  const port = await freePort();
  const healthPort = await freePort();
  const main = join(here, '..', '..', 'dist', 'main.js');
  const [command, args] = pinned(cpus, process.execPath, [main]);
  const child = start(command, args, { env: { ...process.env, VERBOSE: 'warn', PORT: String(port), HEALTH_PORT: String(healthPort), ...env } });
  await waitForPort(healthPort, 15_000, child);
  const deadline = Date.now() + 15_000;
  while ((await fetch(`http://127.0.0.1:${healthPort}/ready`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error(`memkv on 127.0.0.1:${port} not ready after 15 s: ${child.output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { name: 'memkv', port, child, stop: () => stop(child) };
}

/** Starts redis-server without persistence; returns { port, cli(args), stop() }. */
export async function startRedis({ cpus } = {}) {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'memkv-bench-redis-'));
  removeAtExit(dir);
  const [command, args] = pinned(cpus, 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning',
  ]);
  const child = start(command, args);
  await waitForPort(port, 10_000, child);
  return {
    name: 'redis',
    port,
    child,
    cli: (cliArgs, input) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...cliArgs], { input }),
    async stop() {
      await stop(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts Webdis in front of the Redis at `redisPort`; the JSON config goes to a temp dir. */
export async function startWebdis(redisPort, { cpus, threads = 2 } = {}) {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'memkv-bench-webdis-'));
  removeAtExit(dir);
  const config = join(dir, 'webdis.json');
  await writeFile(
    config,
    JSON.stringify({
      redis_host: '127.0.0.1',
      redis_port: redisPort,
      redis_auth: null,
      http_host: '127.0.0.1',
      http_port: port,
      threads,
      pool_size: 20,
      daemonize: false,
      websockets: false,
      database: 0,
      acl: [{ disabled: ['DEBUG', 'FLUSHDB', 'FLUSHALL'] }],
      verbosity: 3,
      logfile: join(dir, 'webdis.log'),
    }),
  );
  const [command, args] = pinned(cpus, 'webdis', [config]);
  const child = start(command, args, { cwd: dir });
  await waitForPort(port, 10_000, child);
  return {
    name: 'webdis',
    port,
    child,
    async stop() {
      await stop(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** RESP encoding of one command, for `redis-cli --pipe`. */
export function resp(...parts) {
  let out = `*${parts.length}\r\n`;
  for (const part of parts) out += `$${Buffer.byteLength(part)}\r\n${part}\r\n`;
  return out;
}
