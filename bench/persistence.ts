/**
 * Persistence benchmark: HTTP write throughput of the real server process with persistence off,
 * PERSISTENCE_FSYNC=everysec and =always (50 concurrent connections; wrk when installed, else
 * autocannon), then the replay time and memory of a log of 1,000,000 small keys.
 *
 *   npm run build && npm run bench:persistence
 *   node --import tsx bench/persistence.ts [--seconds 5] [--rounds 3] [--connections 50] [--keys 1000000]
 *     [--only http|replay] [--client wrk|autocannon]
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createStore } from '../src/engine/store.js';
import { RecordEncoder } from '../src/persistence/aof-format.js';
import { AOF_FILE, openPersistence } from '../src/persistence/persistence.js';
import { freePort, has, installCleanup, removeAtExit, start, stop, waitForMemkv } from './lib/processes.mjs';
import { median } from './lib/stats.mjs';
import { runWrk } from './lib/wrk.mjs';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    keys: { type: 'string', default: '1000000' },
    only: { type: 'string' },
    client: { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const replayKeys = Number(args.keys);
/** Keys the writes cycle through, as in the main suite's SET workload (bench/wrk/workload.lua). */
const WRITE_KEYS = 100_000;
const VALUE = 'v0123456789abcdef0123456789abcde'; // 32 bytes, as in bench/wrk/workload.lua

// ---- HTTP write throughput ----

interface Started {
  child: ChildProcess;
  port: number;
}

/** The real server process (dist/main.js) with `env`, stopped with the suite however it ends. */
async function startServer(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const child = start(process.execPath, [MAIN], { env: { PATH: process.env.PATH, PORT: String(port), HEALTH_PORT: '0', ...env } });
  await waitForMemkv(port, 60_000, child);
  return { child, port };
}

interface Mode {
  label: string;
  env: Record<string, string>;
  server?: Started;
  dir?: string;
  rates: number[];
}

type Client = 'wrk' | 'autocannon';

interface Measured {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
}

/** One run of POST /api/v1/set against `port` for `duration` seconds. */
async function measure(client: Client, port: number, duration: number): Promise<Measured> {
  if (client === 'wrk') {
    const { rps, p50Ms, p99Ms, errors } = await runWrk({ port, target: 'memkv', op: 'set', keys: WRITE_KEYS, seconds: duration, connections });
    return { rate: rps, p50: p50Ms, p99: p99Ms, errors };
  }
  let n = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/set',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: `{"key":"s${n++ % WRITE_KEYS}","value":"${VALUE}"}` }),
      },
    ],
  });
  return { rate: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/**
 * Runs the modes in alternation, `rounds` times, and reports each mode's median: on a machine
 * shared with other work, alternation spreads the background load over all modes alike.
 */
async function writeThroughput(client: Client, modes: Mode[], rounds: number): Promise<void> {
  try {
    for (const mode of modes) {
      mode.dir = fs.mkdtempSync(join(tmpdir(), 'memkv-bench-'));
      removeAtExit(mode.dir);
      mode.server = await startServer({ DB_PATH: mode.dir, ...mode.env });
      await measure(client, mode.server.port, 2); // warm-up
    }
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
        const { rate, p50, p99, errors } = await measure(client, mode.server!.port, seconds);
        mode.rates.push(rate);
        console.log(
          `  round ${round + 1} ${mode.label.padEnd(28)} ${rate.toFixed(0).padStart(7)} writes/s  p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms` +
            (errors > 0 ? `  (${errors} errors)` : ''),
        );
      }
    }
  } finally {
    for (const mode of modes) {
      if (mode.server !== undefined) await stop(mode.server.child);
      if (mode.dir !== undefined) fs.rmSync(mode.dir, { recursive: true, force: true });
    }
  }
}

// ---- Replay of 1,000,000 keys ----

async function replay(keys: number): Promise<void> {
  const dir = fs.mkdtempSync(join(tmpdir(), 'memkv-bench-'));
  removeAtExit(dir);
  try {
    const encoder = new RecordEncoder(64 * 1024 * 1024);
    encoder.header();
    const now = Date.now();
    const fd = fs.openSync(join(dir, AOF_FILE), 'w');
    for (let i = 0; i < keys; i++) {
      encoder.mutation({ type: 'set', revision: i + 1, key: `key:${i}`, value: `value-${i}`, expiresAtMs: 0, atMs: now });
      if (encoder.length > 60 * 1024 * 1024) {
        fs.writeSync(fd, encoder.buffer, 0, encoder.length);
        encoder.reset();
      }
    }
    fs.writeSync(fd, encoder.buffer, 0, encoder.length);
    fs.closeSync(fd);
    const bytes = fs.statSync(join(dir, AOF_FILE)).size;

    globalThis.gc?.();
    const before = process.memoryUsage();
    const store = createStore({ cleanupIntervalMs: 0 });
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const persistence = await openPersistence(store, { dir, fsync: 'no', compactRatio: 0 });
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    globalThis.gc?.();
    const after = process.memoryUsage();
    const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
    console.log(
      `replay of ${store.size} keys from ${mib(bytes)} MiB: ${ms.toFixed(0)} ms ` +
        `(CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms) ` +
        `(${((store.size / ms) * 1000).toFixed(0)} keys/s); heap +${mib(after.heapUsed - before.heapUsed)} MiB, ` +
        `rss +${mib(after.rss - before.rss)} MiB${globalThis.gc ? '' : ' (run node with --expose-gc for exact memory)'}`,
    );
    const compactStarted = performance.now();
    persistence.compact();
    const compacted = await persistence.compacting!;
    console.log(
      `compaction of ${compacted.keys} keys: ${(performance.now() - compactStarted).toFixed(0)} ms, ` +
        `${mib(compacted.beforeBytes)} MiB -> ${mib(compacted.afterBytes)} MiB`,
    );
    await persistence.close();
    store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- Main ----

installCleanup();

if (args.only !== 'replay') {
  // wrk (C) leaves the CPU to the server; autocannon (JavaScript) takes about a core of the two
  // itself, and the fsyncs of `always` then compete with the load generator (see bench/README.md).
  if (args.client !== undefined && args.client !== 'wrk' && args.client !== 'autocannon') throw new Error('--client must be wrk or autocannon');
  const client: Client = (args.client as Client | undefined) ?? ((await has('wrk')) ? 'wrk' : 'autocannon');
  if (args.client === undefined && client === 'autocannon') console.log('note: wrk is not installed; autocannon generates the load');
  console.log(`write throughput, POST /api/v1/set, ${connections} connections (${client}), ${rounds} rounds of ${seconds} s per mode`);
  const modes: Mode[] = [
    { label: 'persistence off', env: { PERSISTENCE_ENABLED: 'false' }, rates: [] },
    { label: 'PERSISTENCE_FSYNC=everysec', env: { PERSISTENCE_ENABLED: 'true', PERSISTENCE_FSYNC: 'everysec' }, rates: [] },
    { label: 'PERSISTENCE_FSYNC=always', env: { PERSISTENCE_ENABLED: 'true', PERSISTENCE_FSYNC: 'always' }, rates: [] },
  ];
  await writeThroughput(client, modes, rounds);
  const [off, everysec, always] = modes.map((mode) => median(mode.rates)) as [number, number, number];
  for (const [i, mode] of modes.entries()) console.log(`${mode.label.padEnd(28)} median ${[off, everysec, always][i]!.toFixed(0)} writes/s`);
  console.log(`everysec / off = ${(everysec / off).toFixed(2)}   always / everysec = ${(always / everysec).toFixed(2)}`);
}
if (args.only !== 'http') await replay(replayKeys);
