/**
 * GET and SET throughput with versions (this tree) beside a build from before versions: the same
 * wrk workload as the `http` section against each tree's own server (its bench/memkv-server.mjs
 * and dist/), runs alternating before, after, before, after …, each ratio the median of the
 * per-pair ratios. Bounded: `--runs` pairs of `--seconds` (default 3 pairs of 5 s) per op.
 *
 * Usage: npm run build && node bench/versions.mjs --before /path/to/memkv-before [--runs 3] [--seconds 5]
 *   where /path/to/memkv-before is a checkout of an earlier commit, built (`npm ci && npm run build`).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, has, installCleanup, run, start, stop } from './lib/processes.mjs';
import { median } from './lib/stats.mjs';
import { parseWrk } from './lib/wrk.mjs';

const { values } = parseArgs({
  options: { before: { type: 'string' }, runs: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' } },
});
if (values.before === undefined) throw new Error('--before <dir>: a built checkout of memkv from before versions');
const trees = { before: resolve(values.before), after: fileURLToPath(new URL('..', import.meta.url)) };
for (const tree of Object.values(trees)) {
  if (!existsSync(join(tree, 'dist', 'server.js'))) throw new Error(`${tree} has no dist/: run npm run build there`);
}
if (!(await has('wrk'))) throw new Error('bench/versions.mjs needs wrk: apt-get install wrk');
installCleanup();
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const KEYS = 100_000;

/** Starts the server of `tree`, filled with KEYS string keys; resolves once it is ready. */
async function startMemkv(tree) {
  const port = await freePort();
  const child = start(process.execPath, [join(tree, 'bench', 'memkv-server.mjs')], { ipc: true, env: { ...process.env, PORT: String(port) } });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`memkv did not start: ${child.output}`)), 15_000);
    child.on('message', (message) => {
      if (message.ready === true) {
        clearTimeout(timer);
        child.send({ id: 0, command: 'fillStrings', args: { count: KEYS } });
      } else if (message.id === 0) resolve();
    });
  });
  return { port, stop: () => stop(child) };
}

async function wrk(port, op, duration) {
  const output = await run('wrk', ['-t2', `-c${values.connections}`, `-d${duration}s`, '--latency', '--timeout', '5s', '-s', join(trees.after, 'bench', 'wrk', 'workload.lua'), `http://127.0.0.1:${port}`], {
    timeoutMs: (duration + 30) * 1000,
    env: { ...process.env, BENCH_TARGET: 'memkv', BENCH_OP: op, BENCH_KEYS: String(KEYS) },
  });
  return parseWrk(output);
}

const results = { before: { get: [], set: [] }, after: { get: [], set: [] } };
for (let round = 0; round < runs; round++) {
  for (const name of ['before', 'after']) {
    const memkv = await startMemkv(trees[name]);
    for (const op of ['get', 'set']) {
      await wrk(memkv.port, op, 1); // warm-up
      results[name][op].push(await wrk(memkv.port, op, seconds));
    }
    await memkv.stop();
  }
}

console.log('| op | before: req/s | after (versions): req/s | after/before (median of pairs) | p99 before | p99 after |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const op of ['get', 'set']) {
  const before = results.before[op];
  const after = results.after[op];
  const ratio = median(after.map((run, i) => run.rps / before[i].rps));
  const rps = (list) => Math.round(median(list.map((run) => run.rps))).toLocaleString('en-US');
  const p99 = (list) => median(list.map((run) => run.p99Ms)).toFixed(2);
  console.log(`| ${op.toUpperCase()} | ${rps(before)} | ${rps(after)} | ${ratio.toFixed(3)} | ${p99(before)} ms | ${p99(after)} ms |`);
}
process.exit(0);
