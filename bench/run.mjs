/**
 * The memkv benchmark suite: engine throughput and memory, HTTP throughput and latency side by
 * side with Webdis (over Redis), Redis's memory per key, the expiry burst, and memkv with
 * STORAGE=redis (WORKERS=1 and 2) beside Webdis on the same Redis. Prints one table; each figure
 * is the median of `--runs` runs. See bench/README.md.
 *
 * Usage: node bench/run.mjs [--runs 3] [--duration 5] [--pin] [--only startup,engine,memory,http,expiry,redis,watch]
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { has, installCleanup, run, stopAll, wasInterrupted } from './lib/processes.mjs';
import { median } from './lib/stats.mjs';
import { resp, startMemkv, startMemkvServer, startRedis, startWebdis } from './lib/targets.mjs';
import { runWrk } from './lib/wrk.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    pin: { type: 'boolean', default: false },
    only: { type: 'string', default: 'startup,engine,memory,http,expiry,redis,watch' },
    'http-keys': { type: 'string', default: '100000' },
    ops: { type: 'string', default: 'get,set,push,pop' },
  },
});
const RUNS = positive(args.runs, 'runs');
const SECONDS = positive(args.duration, 'duration');
const CONNECTIONS = positive(args.connections, 'connections');
const HTTP_KEYS = positive(args['http-keys'], 'http-keys');
const SECTIONS = new Set(args.only.split(','));
/** With --pin: the servers share CPU 0, the load generator gets CPU 1. */
const SERVER_CPUS = args.pin ? '0' : undefined;
const LOAD_CPUS = args.pin ? '1' : undefined;
const VALUE = 'v0123456789abcdef0123456789abcde'; // 32 bytes, as in bench/wrk/workload.lua
/** Longest a whole suite may run before it stops everything and fails. */
const SUITE_TIMEOUT_MS = 30 * 60_000;

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const rows = [];
const notes = [];

installCleanup();
const watchdog = setTimeout(() => {
  process.stderr.write(`bench: still running after ${SUITE_TIMEOUT_MS / 60_000} min: stopping\n`);
  void stopAll().finally(() => process.exit(1));
}, SUITE_TIMEOUT_MS);
watchdog.unref();

try {
  const tools = { redis: await has('redis-server'), webdis: await has('webdis'), wrk: await has('wrk') };
  if (args.pin && !(await has('taskset'))) throw new Error('--pin needs taskset (util-linux)');
  if (SECTIONS.has('startup')) await startupSection();
  if (SECTIONS.has('engine')) await engineSection();
  if (SECTIONS.has('memory')) await memorySection(tools);
  if (SECTIONS.has('http')) await httpSection(tools);
  if (SECTIONS.has('expiry')) await expirySection(tools);
  if (SECTIONS.has('redis')) await redisSection(tools);
  if (SECTIONS.has('watch')) await watchSection(tools);
  printTable();
} catch (error) {
  if (!wasInterrupted()) process.stderr.write(`bench: ${error?.stack ?? error}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
  clearTimeout(watchdog);
}

// ---- Sections ----

async function startupSection() {
  log('start-up: npm start and node dist/main.js on an empty database, and a misconfigured start');
  const group = 'start-up (empty database, ms from the command)';
  const result = JSON.parse(await run(process.execPath, [here('./startup.mjs'), '--runs', String(Math.max(RUNS, 5))], { timeoutMs: 15 * 60_000 }));
  rows.push({ group, name: 'npm start: API port listens', memkv: result.npmStartListeningMs, target: { maxValue: 1000 }, unit: 'ms' });
  rows.push({ group, name: 'npm start: ready', memkv: result.npmStartReadyMs, unit: 'ms' });
  rows.push({ group, name: 'node dist/main.js: listens', memkv: result.nodeListeningMs, unit: 'ms' });
  rows.push({ group, name: 'node dist/main.js: ready', memkv: result.nodeReadyMs, unit: 'ms' });
  rows.push({ group, name: 'npm start, PORT=abc: exit', memkv: result.npmBadConfigExitMs, target: { maxValue: 1000 }, unit: 'ms' });
  rows.push({ group, name: 'node dist/main.js, PORT=abc: exit', memkv: result.nodeBadConfigExitMs, unit: 'ms' });
}

async function engineSection() {
  log('engine: ops/s on 1,000,000 keys');
  const results = [];
  for (let i = 0; i < RUNS; i++) results.push(JSON.parse(await run(process.execPath, [here('./engine.mjs')])));
  for (const op of ['set', 'get', 'update', 'push', 'pop', 'remove']) {
    rows.push({ group: 'engine (in-process, 1M keys)', name: `${op} ops/s`, memkv: median(results.map((r) => r[op])), unit: 'ops' });
  }
}

async function memorySection(tools) {
  const scenarios = [
    ['strings', '1M strings of 32 B', 1_000_000],
    ['strings-ttl', '1M strings of 32 B, TTL', 1_000_000],
    ['lists', '100k lists of 10 x 32 B', 100_000],
  ];
  let redis;
  if (tools.redis) redis = await startRedis({ cpus: SERVER_CPUS });
  else notes.push('redis-server is not installed: no Redis memory figures (see bench/README.md).');
  for (const [scenario, label, keys] of scenarios) {
    log(`memory: ${label}`);
    const own = [];
    for (let i = 0; i < RUNS; i++) {
      own.push(JSON.parse(await run(process.execPath, ['--expose-gc', here('./memory.mjs'), scenario])).bytesPerKey);
    }
    const other = redis === undefined ? undefined : await redisBytesPerKey(redis, scenario, keys);
    const memkv = median(own);
    rows.push({
      group: 'memory per key (bytes)',
      name: label,
      memkv,
      other,
      otherName: 'Redis',
      ratio: other === undefined ? undefined : memkv / other,
      target: scenario === 'lists' ? undefined : { max: 1.5 },
      unit: 'bytes',
    });
  }
  await redis?.stop();
}

async function redisBytesPerKey(redis, scenario, keys) {
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.cli(['info', 'memory']))[1]);
  await redis.cli(['flushall']);
  const before = await usedMemory();
  const value = (i) => `v${String(i).padStart(31, '0')}`; // the same values as bench/memory.mjs
  await pipeInBatches(redis, keys, (i) => {
    if (scenario === 'lists') return resp('RPUSH', `list:${i}`, ...Array.from({ length: 10 }, (_, j) => value(i * 10 + j)));
    return scenario === 'strings-ttl' ? resp('SET', `key:${i}`, value(i), 'PX', '3600000') : resp('SET', `key:${i}`, value(i));
  });
  const after = await usedMemory();
  await redis.cli(['flushall']);
  return (after - before) / keys;
}

async function pipeInBatches(redis, count, command) {
  const batch = 200_000;
  for (let start = 0; start < count; start += batch) {
    const parts = [];
    for (let i = start; i < Math.min(count, start + batch); i++) parts.push(command(i));
    await redis.cli(['--pipe'], parts.join(''));
  }
}

async function httpSection(tools) {
  if (!tools.wrk) {
    notes.push('wrk is not installed: no HTTP figures (see bench/README.md).');
    return;
  }
  const sideBySide = tools.redis && tools.webdis;
  if (!sideBySide) notes.push('redis-server or webdis is not installed: memkv HTTP figures only, no side-by-side columns.');
  const memkv = await startMemkv({ cpus: SERVER_CPUS });
  await memkv.call('fillStrings', { count: HTTP_KEYS, prefix: 's' });
  let redis;
  let webdis;
  if (sideBySide) {
    redis = await startRedis({ cpus: SERVER_CPUS });
    webdis = await startWebdis(redis.port, { cpus: SERVER_CPUS });
    await pipeInBatches(redis, HTTP_KEYS, (i) => resp('SET', `s${i}`, VALUE));
  }
  // Lists are reset before each run so that every run meets the same list lengths.
  const reset = {
    get: async () => {},
    set: async () => {},
    push: async () => {
      await memkv.call('fillLists', { count: HTTP_KEYS, length: 1, prefix: 'p' });
      if (redis) await pipeInBatches(redis, HTTP_KEYS, (i) => resp('DEL', `p${i}`) + resp('RPUSH', `p${i}`, VALUE));
    },
    pop: async () => {
      await memkv.call('fillLists', { count: HTTP_KEYS, length: 10, prefix: 'l' });
      if (redis) {
        await pipeInBatches(redis, HTTP_KEYS, (i) => resp('DEL', `l${i}`) + resp('RPUSH', `l${i}`, ...new Array(10).fill(VALUE)));
      }
    },
  };
  const load = { keys: HTTP_KEYS, connections: CONNECTIONS, cpus: LOAD_CPUS };
  for (const op of args.ops.split(',')) {
    if (reset[op] === undefined) throw new Error(`--ops: unknown operation ${op} (get, set, push, pop)`);
    log(`http: ${op.toUpperCase()} at ${CONNECTIONS} connections, ${RUNS} x ${SECONDS} s per system`);
    // Warm-up (JIT, connection pools), not measured.
    await reset[op]();
    await runWrk({ ...load, port: memkv.port, target: 'memkv', op, seconds: 1 });
    if (webdis) await runWrk({ ...load, port: webdis.port, target: 'webdis', op, seconds: 1 });
    const own = [];
    const other = [];
    for (let i = 0; i < RUNS; i++) {
      await reset[op]();
      own.push(checked(await runWrk({ ...load, port: memkv.port, target: 'memkv', op, seconds: SECONDS }), 'memkv', op));
      if (webdis) other.push(checked(await runWrk({ ...load, port: webdis.port, target: 'webdis', op, seconds: SECONDS }), 'webdis', op));
    }
    const pairs = (pick) => own.map((run, i) => pick(run) / pick(other[i]));
    const name = op.toUpperCase();
    rows.push({
      group: `HTTP, ${CONNECTIONS} connections (wrk)`,
      name: `${name} req/s`,
      memkv: median(own.map((r) => r.rps)),
      other: webdis ? median(other.map((r) => r.rps)) : undefined,
      otherName: 'Webdis',
      ratio: webdis ? median(pairs((r) => r.rps)) : undefined,
      target: { min: 1 },
      unit: 'ops',
    });
    for (const [field, label] of [['p50Ms', 'p50'], ['p99Ms', 'p99']]) {
      rows.push({
        group: `HTTP, ${CONNECTIONS} connections (wrk)`,
        name: `${name} ${label} ms`,
        memkv: median(own.map((r) => r[field])),
        other: webdis ? median(other.map((r) => r[field])) : undefined,
        otherName: 'Webdis',
        ratio: webdis ? median(pairs((r) => r[field])) : undefined,
        target: label === 'p99' ? { max: 1 } : undefined,
        unit: 'ms',
      });
    }
  }
  await memkv.stop();
  await webdis?.stop();
  await redis?.stop();
}

/**
 * memkv with STORAGE=redis at WORKERS=1 and WORKERS=2, beside Webdis, all three on the same Redis
 * and interleaved run by run. memkv's keys are filled in its own layout (REDIS_KEY_PREFIX memkv:),
 * Webdis's as plain Redis keys.
 */
async function redisSection(tools) {
  if (!tools.wrk || !tools.redis || !tools.webdis) {
    notes.push('wrk, redis-server or webdis is not installed: no redis-mode figures.');
    return;
  }
  const redis = await startRedis({ cpus: SERVER_CPUS });
  const webdis = await startWebdis(redis.port, { cpus: SERVER_CPUS });
  const env = { STORAGE: 'redis', REDIS_URL: `redis://127.0.0.1:${redis.port}` };
  const fronts = [
    { name: 'WORKERS=1', server: await startMemkvServer({ cpus: SERVER_CPUS, env: { ...env, WORKERS: '1' } }) },
    { name: 'WORKERS=2', server: await startMemkvServer({ cpus: SERVER_CPUS, env: { ...env, WORKERS: '2' } }) },
  ];
  const nowMs = String(Date.now());
  const meta = (key, kind) => ['HSET', `memkv:{${key}}`, 'kind', kind, 'created_ms', nowMs, 'updated_ms', nowMs, 'expires_ms', '0'];
  await pipeInBatches(redis, HTTP_KEYS, (i) => resp(...meta(`s${i}`, 'string'), 'value', VALUE) + resp('SET', `s${i}`, VALUE));
  const lists = async (prefix, length) =>
    pipeInBatches(
      redis,
      HTTP_KEYS,
      (i) =>
        resp('DEL', `memkv:{${prefix}${i}}:l`, `${prefix}${i}`) +
        resp(...meta(`${prefix}${i}`, 'string_slice')) +
        resp('RPUSH', `memkv:{${prefix}${i}}:l`, ...new Array(length).fill(VALUE)) +
        resp('RPUSH', `${prefix}${i}`, ...new Array(length).fill(VALUE)),
    );
  const reset = { get: async () => {}, set: async () => {}, push: () => lists('p', 1), pop: () => lists('l', 10) };
  const load = { keys: HTTP_KEYS, connections: CONNECTIONS, cpus: LOAD_CPUS };
  const group = `STORAGE=redis, ${CONNECTIONS} connections (wrk; memkv/Webdis on one Redis)`;
  for (const op of args.ops.split(',')) {
    if (reset[op] === undefined) throw new Error(`--ops: unknown operation ${op} (get, set, push, pop)`);
    log(`redis mode: ${op.toUpperCase()} at ${CONNECTIONS} connections, ${RUNS} x ${SECONDS} s per system`);
    await reset[op]();
    for (const { server } of fronts) await runWrk({ ...load, port: server.port, target: 'memkv', op, seconds: 1 });
    await runWrk({ ...load, port: webdis.port, target: 'webdis', op, seconds: 1 });
    const own = fronts.map(() => []);
    const other = [];
    for (let i = 0; i < RUNS; i++) {
      for (const [f, { server, name }] of fronts.entries()) {
        await reset[op]();
        own[f].push(checked(await runWrk({ ...load, port: server.port, target: 'memkv', op, seconds: SECONDS }), `memkv ${name}`, op));
      }
      await reset[op]();
      other.push(checked(await runWrk({ ...load, port: webdis.port, target: 'webdis', op, seconds: SECONDS }), 'webdis', op));
    }
    for (const [f, { name }] of fronts.entries()) {
      const ratio = (pick) => median(own[f].map((run, i) => pick(run) / pick(other[i])));
      const label = op.toUpperCase();
      rows.push({ group, name: `${label} req/s ${name}`, memkv: median(own[f].map((r) => r.rps)), other: median(other.map((r) => r.rps)), otherName: 'Webdis', ratio: ratio((r) => r.rps), target: { min: 1 }, unit: 'ops' });
      rows.push({ group, name: `${label} p99 ms ${name}`, memkv: median(own[f].map((r) => r.p99Ms)), other: median(other.map((r) => r.p99Ms)), otherName: 'Webdis', ratio: ratio((r) => r.p99Ms), target: { max: 1 }, unit: 'ms' });
    }
  }
  for (const { server } of fronts) await server.stop();
  await webdis.stop();
  await redis.stop();
}

async function expirySection(tools) {
  const keys = 1_000_000;
  const group = 'expiry burst (1M keys, one second)';
  const measured = { stall: [], gc: [], p99: [], controlStall: [], controlP99: [] };
  const loadFor = (memkv, seconds) =>
    tools.wrk
      ? runWrk({ port: memkv.port, target: 'memkv', op: 'get', keys: HTTP_KEYS, seconds, connections: CONNECTIONS, cpus: LOAD_CPUS })
      : sleep(seconds * 1000);
  for (let i = 0; i < RUNS; i++) {
    log(`expiry burst ${i + 1}/${RUNS}: ${keys} keys expiring within one second${tools.wrk ? ' under a GET load' : ''}`);
    const memkv = await startMemkv({ cpus: SERVER_CPUS });
    await memkv.call('fillStrings', { count: HTTP_KEYS, prefix: 's' });
    // Control: the same load on the same process with nothing expiring (the machine's own noise).
    await memkv.call('startLoopDelay');
    const control = await loadFor(memkv, 4);
    const quiet = await memkv.call('stopLoopDelay');
    // Every key expires within the same wall-clock second, a few seconds after the fill.
    const second = Math.ceil((Date.now() + 6000) / 1000) * 1000;
    await memkv.call('fillExpiring', { count: keys, fromMs: second, spreadMs: 1000, prefix: 'x' });
    const startIn = second - Date.now() - 1000;
    if (startIn < 0) throw new Error('filling the expiring keys took longer than expected: raise the lead time');
    await sleep(startIn);
    // The load runs from 1 s before the burst to 3 s after its start.
    await memkv.call('startLoopDelay');
    const burst = await loadFor(memkv, 4);
    const delay = await memkv.call('stopLoopDelay');
    const { size } = await memkv.call('stats');
    if (size !== HTTP_KEYS) notes.push(`expiry burst ${i + 1}: ${size - HTTP_KEYS} keys were not expired after 3 s`);
    log(`  longest stall ${delay.maxMs.toFixed(1)} ms (without a burst: ${quiet.maxMs.toFixed(1)} ms); longest GC pause ${delay.longestGc.ms.toFixed(1)} ms (${delay.longestGc.kind})`);
    measured.stall.push(delay.maxMs);
    measured.gc.push(delay.longestGc.ms);
    measured.controlStall.push(quiet.maxMs);
    if (burst?.p99Ms !== undefined) measured.p99.push(burst.p99Ms);
    if (control?.p99Ms !== undefined) measured.controlP99.push(control.p99Ms);
    await memkv.stop();
  }
  // The engine's own part, without HTTP: the longest active-expiry slice (wall and CPU time).
  const slices = [];
  for (let i = 0; i < RUNS; i++) slices.push(JSON.parse(await run(process.execPath, [here('./expiry-slices.mjs')])));
  rows.push({ group, name: 'longest event-loop stall ms', memkv: median(measured.stall), target: { maxValue: 10 }, unit: 'ms' });
  rows.push({ group, name: '  same load, no burst ms', memkv: median(measured.controlStall), unit: 'ms' });
  rows.push({ group, name: 'longest GC pause in burst ms', memkv: median(measured.gc), unit: 'ms' });
  rows.push({ group, name: 'engine alone: longest slice ms', memkv: median(slices.map((r) => r.longestSliceMs)), target: { maxValue: 10 }, unit: 'ms' });
  rows.push({ group, name: '  its CPU time ms', memkv: median(slices.map((r) => r.longestSliceCpuMs)), unit: 'ms' });
  if (measured.p99.length > 0) {
    rows.push({ group, name: 'GET p99 during burst ms', memkv: median(measured.p99), unit: 'ms' });
    rows.push({ group, name: '  same load, no burst ms', memkv: median(measured.controlP99), unit: 'ms' });
  } else {
    notes.push('wrk is not installed: the expiry burst ran without a GET load.');
  }
}

// ---- Output ----

async function watchSection(tools) {
  if (!tools.wrk) {
    notes.push('wrk is not installed: no watch fan-out figures.');
    return;
  }
  log(`watch: SET at ${CONNECTIONS} connections without and with 100 watchers on its prefix, ${RUNS} x ${SECONDS} s`);
  const result = JSON.parse(
    await run(process.execPath, [here('./watch.mjs'), '--runs', String(RUNS), '--duration', String(SECONDS), '--connections', String(CONNECTIONS)], {
      timeoutMs: (RUNS * (2 * SECONDS + 10) + 30) * 1000,
    }),
  );
  const group = `watch fan-out: 100 watchers on the SET prefix (wrk, ${CONNECTIONS} connections)`;
  rows.push({ group, name: 'SET req/s, no watchers', memkv: result.setRpsWithout, unit: 'ops' });
  rows.push({ group, name: 'SET req/s, 100 watchers', memkv: result.setRpsWith, ratio: result.ratio, unit: 'ops' });
  rows.push({ group, name: 'event lag p50 (write start to arrival)', memkv: result.lagP50Ms, unit: 'ms' });
  rows.push({ group, name: 'event lag p99 (write start to arrival)', memkv: result.lagP99Ms, unit: 'ms' });
  if (result.cutOff > 0) notes.push(`watch: ${result.cutOff} watchers were cut off (watch_overflow) and watched again`);
}

function printTable() {
  const header = ['benchmark', 'memkv', 'other', 'ratio', 'target'];
  const lines = [];
  let group;
  for (const row of rows) {
    if (row.group !== group) {
      group = row.group;
      lines.push([`[${group}]`, '', '', '', '']);
    }
    const other = row.other === undefined ? (row.otherName ? '—' : '') : `${format(row.other, row.unit)} ${row.otherName}`;
    const ratio = row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`;
    lines.push(['  ' + row.name, format(row.memkv, row.unit), other, ratio, targetText(row)]);
  }
  const widths = header.map((_, c) => Math.max(header[c].length, ...lines.map((l) => l[c].length)));
  const print = (cells) => process.stdout.write(`${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}\n`);
  process.stdout.write(`\n${machine()}\n`);
  process.stdout.write(`runs: median of ${RUNS}; HTTP: ${SECONDS} s per run, ${CONNECTIONS} connections, ratio = median of per-pair ratios (memkv/other)${args.pin ? '; pinned: servers on CPU 0, wrk on CPU 1' : ''}\n\n`);
  print(header);
  for (const line of lines) print(line);
  for (const note of notes) process.stdout.write(`note: ${note}\n`);
}

function targetText(row) {
  const target = row.target;
  if (target === undefined) return '';
  if (target.maxValue !== undefined) return `<= ${target.maxValue} ${row.unit} ${row.memkv <= target.maxValue ? 'met' : 'MISSED'}`;
  if (row.ratio === undefined) return target.min !== undefined ? `>= ${target.min}x` : `<= ${target.max}x`;
  if (target.min !== undefined) return `>= ${target.min}x ${row.ratio >= target.min ? 'met' : 'MISSED'}`;
  return `<= ${target.max}x ${row.ratio <= target.max ? 'met' : 'MISSED'}`;
}

function machine() {
  const cpu = cpus();
  let kernel = '';
  try {
    kernel = execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim();
  } catch {
    // Not important enough to fail for.
  }
  return `${new Date().toISOString()}  ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}  ${kernel}  node ${process.version}`;
}

function format(value, unit) {
  if (value === undefined || Number.isNaN(value)) return '—';
  if (unit === 'ms') return value.toFixed(2);
  if (unit === 'bytes') return value.toFixed(0);
  return Math.round(value).toLocaleString('en-US');
}

// ---- Helpers ----

function checked(result, system, op) {
  if (!(result.rps > 0)) throw new Error(`${system} ${op}: wrk reported no throughput`);
  if (result.errors > 0) notes.push(`${system} ${op}: ${result.errors} error answers or socket errors in one run`);
  return result;
}


function positive(text, name) {
  const value = Number(text);
  if (!(value > 0)) throw new Error(`--${name} must be a positive number, not ${text}`);
  return value;
}

function log(message) {
  process.stderr.write(`bench: ${message}\n`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
