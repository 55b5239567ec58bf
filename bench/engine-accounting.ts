/**
 * What memory accounting, the MAX_MEMORY check and LRU bookkeeping cost on the store's hot path.
 *
 * Runs the same in-process mix (50% get, 50% set of 32-character values over 100,000 keys) on
 * stores configured in different ways and prints operations per second. Each configuration runs
 * in its own process (as a server has one configuration, so the JIT sees only its paths), the
 * processes alternate over several passes, and the best pass counts. Time is the process's CPU
 * time, not wall time, so that other work on a shared machine disturbs the figures less.
 *
 *   node --import tsx bench/engine-accounting.ts            # or: npm run bench:accounting
 *   ROUNDS=7 OPS=2000000 node --import tsx bench/engine-accounting.ts
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KEY_OVERHEAD_BYTES } from '../src/engine/accounting.js';
import { createStore, type StoreOptions } from '../src/engine/store.js';

const KEYS = 100_000;
const OPS = Number(process.env.OPS ?? 500_000);
/** Rounds inside one process, and passes over all the configurations. */
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PASSES = Number(process.env.PASSES ?? 3);
const VALUE = 'x'.repeat(32);
/** About 60% of the data the mix writes: evicting configurations evict all the time. */
const TIGHT_BYTES = Math.floor(KEYS * (KEY_OVERHEAD_BYTES + 10 + 32) * 0.6);

const CASES: { name: string; options: StoreOptions }[] = [
  { name: 'no limit (accounting only)', options: {} },
  { name: 'MAX_MEMORY, never reached, noeviction', options: { maxMemoryBytes: 1 << 30 } },
  { name: 'MAX_MEMORY, never reached, allkeys-lru', options: { maxMemoryBytes: 1 << 30, evictionPolicy: 'allkeys-lru' } },
  { name: 'MAX_MEMORY at 60%, allkeys-lru (evicting)', options: { maxMemoryBytes: TIGHT_BYTES, evictionPolicy: 'allkeys-lru' } },
  { name: 'MAX_MEMORY at 60%, allkeys-random (evicting)', options: { maxMemoryBytes: TIGHT_BYTES, evictionPolicy: 'allkeys-random' } },
];

const keys = Array.from({ length: KEYS }, (_, i) => `key:${i.toString().padStart(6, '0')}`);

function run(options: StoreOptions): number {
  const store = createStore({ cleanupIntervalMs: 0, ...options });
  for (let i = 0; i < KEYS; i += 2) {
    try {
      store.set(keys[i]!, VALUE);
    } catch {
      break; // the tight limit is reached while preloading under noeviction: start with what fits
    }
  }
  let seed = 12345;
  let found = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < OPS; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const key = keys[seed % KEYS]!;
    if ((i & 1) === 0) {
      if (store.get(key) !== undefined) found++;
    } else store.set(key, VALUE);
  }
  const used = process.cpuUsage(start);
  const seconds = (used.user + used.system) / 1e6;
  store.close();
  if (found < 0) console.log(found); // keeps the reads observable
  return OPS / seconds;
}

const only = process.env.BENCH_CASE;
if (only !== undefined) {
  // A child: run one configuration and print its best rate.
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) best = Math.max(best, run(CASES[Number(only)]!.options));
  console.log(best);
} else {
  console.log(`memkv engine accounting benchmark: ${OPS} ops per round (50% get, 50% set), ${KEYS} keys`);
  console.log(`best of ${PASSES} passes × ${ROUNDS} rounds, one process per configuration; node ${process.version}\n`);
  const best = CASES.map(() => 0);
  for (let pass = 0; pass < PASSES; pass++) {
    const order = CASES.map((_, i) => i);
    if (pass % 2 === 1) order.reverse();
    for (const index of order) {
      const output = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
        env: { ...process.env, BENCH_CASE: String(index) },
        encoding: 'utf8',
      });
      best[index] = Math.max(best[index]!, Number(output.trim().split('\n').pop()));
    }
  }
  for (const [index, { name }] of CASES.entries()) {
    const relative = index === 0 ? '' : `  (${((best[index]! / best[0]! - 1) * 100).toFixed(1)}% vs no limit)`;
    console.log(`${name.padEnd(46)} ${Math.round(best[index]!).toLocaleString('en-US').padStart(12)} ops per CPU-second${relative}`);
  }
}
