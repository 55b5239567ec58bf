/**
 * The engine's own share of an expiry burst, without HTTP or machine noise: 1,000,000 keys
 * (beside 100,000 that stay) expire in the same second of an injected clock, and the store's
 * active expiry reclaims them in slices of its default budget. Prints one JSON line:
 * { longestSliceMs, longestSliceCpuMs, slices, totalMs, longestGcMs }.
 *
 * Usage: node bench/expiry-slices.mjs
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { STORE_DEFAULTS, createStore } from '../dist/engine/store.js';

let now = 1_000_000;
const store = createStore({ clock: { now: () => now }, cleanupIntervalMs: 0 });
const value = 'v0123456789abcdef0123456789abcde';
for (let i = 0; i < 100_000; i++) store.set(`s${i}`, value);
for (let i = 0; i < 1_000_000; i++) store.set(`x${i}`, value, { ttlMs: 1000 + (i % 1000) });

let longestGcMs = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) longestGcMs = Math.max(longestGcMs, entry.duration);
});
observer.observe({ entryTypes: ['gc'] });
now += 2000;
let longestSliceMs = 0;
/** CPU time of the longest slice: wall time minus the time other processes held the CPU. */
let longestSliceCpuMs = 0;
let slices = 0;
const started = performance.now();
// The store's own loop: one slice of sweepSliceMs, then yield to the event loop (setImmediate).
await new Promise((resolve) => {
  const slice = () => {
    const start = performance.now();
    const cpu = process.cpuUsage();
    store.expireDue(STORE_DEFAULTS.sweepSliceMs);
    longestSliceMs = Math.max(longestSliceMs, performance.now() - start);
    const used = process.cpuUsage(cpu);
    longestSliceCpuMs = Math.max(longestSliceCpuMs, (used.user + used.system) / 1000);
    slices++;
    if (store.hasDue) setImmediate(slice);
    else resolve();
  };
  slice();
});
const totalMs = performance.now() - started;
await new Promise((resolve) => setTimeout(resolve, 100));
observer.disconnect();
if (store.size !== 100_000) throw new Error(`expected 100000 keys left, found ${store.size}`);
process.stdout.write(`${JSON.stringify({ longestSliceMs, longestSliceCpuMs, slices, totalMs, longestGcMs })}\n`);
