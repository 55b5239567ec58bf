/**
 * Engine throughput, in-process: operations per second of set, get, update, push, pop and
 * remove over a keyspace of `--keys` keys (default 1,000,000). Prints one JSON line:
 * { set, get, update, push, pop, remove } in ops/s.
 *
 * Usage: node bench/engine.mjs [--keys 1000000]
 */
import { createStore } from '../dist/engine/store.js';
import { VALUE as value, keyspace } from './lib/keyspace.mjs';

const keys = Number(process.argv[process.argv.indexOf('--keys') + 1] || 1_000_000) || 1_000_000;
const { names, lists, order } = keyspace(keys);

function time(fn) {
  const start = process.hrtime.bigint();
  fn();
  return keys / (Number(process.hrtime.bigint() - start) / 1e9);
}

const store = createStore({ cleanupIntervalMs: 0 });
for (let i = 0; i < keys; i++) store.set(names[i], value);
for (let i = 0; i < keys; i++) store.set(lists[i], [value]);
let sink = 0;
const result = {
  set: time(() => {
    for (let i = 0; i < keys; i++) store.set(names[order[i]], value);
  }),
  get: time(() => {
    for (let i = 0; i < keys; i++) sink += store.get(names[order[i]]).value.length;
  }),
  update: time(() => {
    for (let i = 0; i < keys; i++) store.update(names[order[i]], value);
  }),
  push: time(() => {
    for (let i = 0; i < keys; i++) sink += store.push(lists[order[i]], value).value.length;
  }),
  pop: time(() => {
    for (let i = 0; i < keys; i++) sink += store.pop(lists[order[i]]).popped.length;
  }),
  remove: time(() => {
    for (let i = 0; i < keys; i++) sink += store.remove(names[order[i]]) ? 1 : 0;
  }),
};
if (sink === 0) throw new Error('nothing was read');
store.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
