/**
 * Memory per key of the engine: heap used (plus ArrayBuffers) after a forced GC, before and after filling a store,
 * divided by the key count. Needs `node --expose-gc`. Prints one JSON line { bytesPerKey, keys }.
 *
 * Usage: node --expose-gc bench/memory.mjs strings|strings-ttl|lists [--keys N]
 *   strings      N keys (default 1,000,000) of 32-byte string values, no TTL
 *   strings-ttl  the same with a TTL of one hour
 *   lists        N keys (default 100,000) of lists of 10 elements of 32 bytes
 */
import { createStore } from '../dist/engine/store.js';

const scenario = process.argv[2];
const given = Number(process.argv[process.argv.indexOf('--keys') + 1]);
const keys = process.argv.includes('--keys') && given > 0 ? given : scenario === 'lists' ? 100_000 : 1_000_000;
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

// Keys and values are distinct flat strings, as JSON.parse makes them from request bodies
// (a template literal would leave a cons string of two parts, which costs more than the text).
function flat(text) {
  return Buffer.from(text, 'latin1').toString('latin1');
}
function valueFor(i) {
  return flat(`v${String(i).padStart(31, '0')}`);
}
function keyFor(prefix, i) {
  return flat(`${prefix}:${i}`);
}

/** V8 heap used plus ArrayBuffer backing stores (where the typed-array columns live, off the heap). */
function heapUsed() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const store = createStore({ cleanupIntervalMs: 0 });
const before = heapUsed();
if (scenario === 'strings' || scenario === 'strings-ttl') {
  const options = scenario === 'strings-ttl' ? { ttlMs: 3_600_000 } : undefined;
  for (let i = 0; i < keys; i++) store.set(keyFor('key', i), valueFor(i), options);
} else if (scenario === 'lists') {
  for (let i = 0; i < keys; i++) {
    const items = new Array(10);
    for (let j = 0; j < 10; j++) items[j] = valueFor(i * 10 + j);
    store.set(keyFor('list', i), items);
  }
} else {
  throw new Error(`unknown scenario ${scenario}: strings, strings-ttl or lists`);
}
const after = heapUsed();
if (store.size !== keys) throw new Error(`expected ${keys} keys, found ${store.size}`);
store.close();
process.stdout.write(`${JSON.stringify({ bytesPerKey: (after - before) / keys, keys })}\n`);
