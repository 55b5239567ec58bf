/**
 * The memkv server as the suite runs it: `startServer` from dist/ in a child process, with a
 * bench-only IPC channel to pre-fill the store and to read the event-loop delay measured inside
 * this process. Not part of memkv: the production server has no such hook.
 *
 * Usage: node bench/memkv-server.mjs   (env PORT, and any memkv variable; parent talks over IPC)
 */
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../dist/config/load.js';
import { startServer } from '../dist/server.js';
import pino from 'pino';

const config = loadConfig({ overrides: { host: '127.0.0.1', healthPort: '0', verbose: 'warn' } });
const server = await startServer(config, pino({ level: 'warn' }));
const value = 'v0123456789abcdef0123456789abcde';
let delay;
let gcPauses = [];
const GC_KINDS = { [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push({ kind: GC_KINDS[entry.detail?.kind] ?? 'other', ms: entry.duration });
});

const commands = {
  /** `count` string keys s0..s{count-1} of 32 bytes; `ttlMs` optional. */
  fillStrings({ count, ttlMs, prefix = 's' }) {
    for (let i = 0; i < count; i++) server.store.set(prefix + i, value, ttlMs === undefined ? undefined : { ttlMs });
    return { size: server.store.size };
  },
  /** `count` lists l0.. of `length` elements. */
  fillLists({ count, length, prefix = 'l' }) {
    const items = new Array(length).fill(value);
    for (let i = 0; i < count; i++) server.store.set(prefix + i, items);
    return { size: server.store.size };
  },
  /** `count` keys expiring spread over [`fromMs`, `fromMs + spreadMs`) (epoch ms). */
  fillExpiring({ count, fromMs, spreadMs, prefix = 'x' }) {
    for (let i = 0; i < count; i++) server.store.set(prefix + i, value, { ttlMs: fromMs + (i % spreadMs) - Date.now() });
    return { size: server.store.size };
  },
  startLoopDelay() {
    delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    gcPauses = [];
    gcObserver.observe({ entryTypes: ['gc'] });
    return {};
  },
  stopLoopDelay() {
    delay.disable();
    gcObserver.disconnect();
    const longestGc = gcPauses.reduce((a, b) => (b.ms > a.ms ? b : a), { kind: 'none', ms: 0 });
    const result = { maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6, meanMs: delay.mean / 1e6, longestGc };
    delay = undefined;
    return result;
  },
  stats() {
    return { size: server.store.size, expired: server.store.expiredCount };
  },
};

process.on('message', (message) => {
  try {
    const result = commands[message.command](message.args ?? {});
    process.send({ id: message.id, result });
  } catch (error) {
    process.send({ id: message.id, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
process.send({ ready: true, port: server.port });
