/**
 * What the command layer costs on the embedded store: get, set and push over 1,000,000 keys,
 * each run as the routes ran them before the command layer (the store call and the answer's row,
 * `toRow`) and through `Executor.execute()` with the command table's entry (the path every door
 * takes now), alternated `--rounds` times in one process. Prints one JSON line
 * per operation: { op, direct, command, ratio } in ops/s, medians of the rounds.
 *
 * The point: the Storage interface lets a backend answer promises, and the embedded store must
 * not pay for that; a command on the store must stay within noise of the direct call.
 *
 * Usage: npm run build && node bench/commands.mjs [--keys 1000000] [--rounds 5]
 */
import { Executor } from '../dist/commands/execute.js';
import { get, push, set } from '../dist/commands/table.js';
import { toMinimalRow, toRow } from '../dist/commands/row.js';
import { createStore } from '../dist/engine/store.js';
import { memoryStorage } from '../dist/storage/memory.js';
import { VALUE as value, keyspace } from './lib/keyspace.mjs';

const argument = (name, fallback) => Number(process.argv[process.argv.indexOf(name) + 1] || fallback) || fallback;
const keys = argument('--keys', 1_000_000);
const rounds = argument('--rounds', 5);
const { names, lists, order } = keyspace(keys);

const store = createStore({ cleanupIntervalMs: 0 });
for (let i = 0; i < keys; i++) store.set(names[i], value);
for (let i = 0; i < keys; i++) store.set(lists[i], [value]);
const executor = new Executor({ storage: memoryStorage(store) });
let sink = 0;

const time = (fn) => {
  const start = process.hrtime.bigint();
  fn();
  return keys / (Number(process.hrtime.bigint() - start) / 1e9);
};
const pushBody = { value };
const OK = { message: 'ok' };
const workloads = {
  get: {
    direct: () => {
      for (let i = 0; i < keys; i++) sink += toRow(store.get(names[order[i]])).value.length;
    },
    command: () => {
      for (let i = 0; i < keys; i++) sink += executor.execute(get, { key: names[order[i]], body: undefined, query: undefined, minimal: false }).value.length;
    },
  },
  set: {
    direct: () => {
      for (let i = 0; i < keys; i++) {
        store.set(names[order[i]], value, { ttlMs: undefined });
        sink += OK.message.length;
      }
    },
    command: () => {
      for (let i = 0; i < keys; i++) {
        const key = names[order[i]];
        sink += executor.execute(set, { key, body: { key, value }, query: undefined, minimal: false }).message.length;
      }
    },
  },
  push: {
    // Minimal answers, so that the list copy does not hide the command layer's own cost.
    direct: () => {
      for (let i = 0; i < keys; i++) sink += toMinimalRow(store.pushSummary(lists[order[i]], value, { ttlMs: undefined })).length;
    },
    command: () => {
      for (let i = 0; i < keys; i++) sink += executor.execute(push, { key: lists[order[i]], body: pushBody, query: undefined, minimal: true }).length;
    },
  },
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const [op, { direct, command }] of Object.entries(workloads)) {
  const directRuns = [];
  const commandRuns = [];
  for (let round = 0; round < rounds; round++) {
    directRuns.push(time(direct));
    commandRuns.push(time(command));
  }
  const result = { op, direct: Math.round(median(directRuns)), command: Math.round(median(commandRuns)) };
  result.ratio = Number((result.command / result.direct).toFixed(3));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
if (sink === 0) throw new Error('nothing was read');
store.close();
