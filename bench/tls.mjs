/**
 * Throughput over HTTPS beside plain HTTP: the same memkv (bench/memkv-server.mjs), once plain and
 * once with TLS_CERT_FILE/TLS_KEY_FILE (an EC P-256 certificate made here with openssl), under
 * wrk's GET and SET workloads on keep-alive connections; each both through the raw front and fast
 * path, and with every request through Fastify (wrk sends `Prefer: return=representation`, which
 * changes no answer but makes the fast path and raw front hand the request over): what the fast
 * path gains under TLS. Bounded: each run lasts `--seconds` (default 5) at `--connections` (default 50).
 *
 * Usage: npm run build && node bench/tls.mjs [--seconds 5] [--connections 50]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, has, installCleanup, removeAtExit, run, start, stop } from './lib/processes.mjs';
import { parseWrk } from './lib/wrk.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const KEYS = 10_000;
const here = fileURLToPath(new URL('.', import.meta.url));

installCleanup();
for (const tool of ['wrk', 'openssl']) {
  if (!has(tool)) throw new Error(`bench/tls.mjs needs ${tool}: apt-get install ${tool}`);
}

const dir = mkdtempSync(join(tmpdir(), 'memkv-bench-tls-'));
removeAtExit(dir);
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  '-subj', '/CN=localhost', '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
], { stdio: 'ignore' });

/** Starts memkv with `env`; resolves once it says it is ready, with an IPC `call`. */
async function startMemkv(env) {
  const port = await freePort();
  const child = start(process.execPath, [join(here, 'memkv-server.mjs')], { ipc: true, env: { ...process.env, PORT: String(port), ...env } });
  let nextId = 0;
  const pending = new Map();
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`memkv did not start: ${child.output}`)), 15_000);
    child.on('message', (message) => {
      if (message.ready === true) {
        clearTimeout(timer);
        resolve();
        return;
      }
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      waiter?.(message.result);
    });
  });
  await ready;
  return {
    port,
    call: (command, args) => new Promise((resolve) => { pending.set(nextId, resolve); child.send({ id: nextId++, command, args }); }),
    stop: () => stop(child),
  };
}

const script = join(here, 'wrk', 'workload.lua');
const rows = [];
for (const [name, scheme, env] of [
  ['plain HTTP', 'http', {}],
  ['HTTPS', 'https', { TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'key.pem') }],
]) {
  const memkv = await startMemkv(env);
  await memkv.call('fillStrings', { count: KEYS });
  for (const [path, prefer] of [['raw front + fast path', ''], ['Fastify only', 'return=representation']]) {
    for (const op of ['get', 'set']) {
      // A short warm-up, then the measured run.
      const wrk = (duration) =>
        run('wrk', ['-t2', `-c${connections}`, `-d${duration}s`, '--latency', '--timeout', '5s', '-s', script, `${scheme}://127.0.0.1:${memkv.port}`], {
          timeoutMs: (duration + 30) * 1000,
          env: { ...process.env, BENCH_TARGET: 'memkv', BENCH_OP: op, BENCH_KEYS: String(KEYS), BENCH_PREFER: prefer },
        });
      await wrk(1);
      rows.push({ name, path, op, ...parseWrk(await wrk(seconds)) });
    }
  }
  await memkv.stop();
}

const plain = Object.fromEntries(rows.filter((row) => row.name === 'plain HTTP').map((row) => [`${row.path} ${row.op}`, row.rps]));
console.log(`| transport | path | op | req/s | p50 ms | p99 ms | errors | vs plain HTTP |`);
console.log(`| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |`);
for (const row of rows) {
  const ratio = ((row.rps / plain[`${row.path} ${row.op}`]) * 100).toFixed(0);
  console.log(
    `| ${row.name} | ${row.path} | ${row.op.toUpperCase()} | ${Math.round(row.rps).toLocaleString('en-US')} | ${row.p50Ms.toFixed(2)} | ${row.p99Ms.toFixed(2)} | ${row.errors} | ${ratio}% |`,
  );
}
process.exit(0);
