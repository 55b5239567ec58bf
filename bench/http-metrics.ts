/**
 * What request metrics cost per request: the recorder memkv uses against a prom-client histogram
 * plus counter, and `GET /api/v1/:key` through Fastify (`inject`, no sockets) with and without it.
 *
 *   node --import tsx bench/http-metrics.ts            # or: npm run bench:metrics
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { createStore } from '../src/engine/store.js';
import { buildApp } from '../src/http/app.js';
import { REQUEST_DURATION_BUCKETS_SECONDS, createMetrics } from '../src/http/metrics.js';

const OBSERVATIONS = 2_000_000;
const REQUESTS = Number(process.env.REQUESTS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

function nsPerCall(fn: (i: number) => void, calls: number): number {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) fn(i);
    best = Math.min(best, ((performance.now() - start) * 1e6) / calls);
  }
  return best;
}

const store = createStore({ cleanupIntervalMs: 0 });
const metrics = createMetrics({ store, defaultMetrics: false });
const routes = ['/api/v1/:key', '/api/v1/set', '/api/v1/:key/push'];
const ours = nsPerCall((i) => metrics.observeRequest('GET', routes[i % 3]!, 200, 0.00004 + (i & 7) * 1e-5), OBSERVATIONS);

const registry = new Registry();
const labelNames = ['method', 'route', 'status'] as const;
const histogram = new Histogram({ name: 'h', help: 'h', labelNames, buckets: [...REQUEST_DURATION_BUCKETS_SECONDS], registers: [registry] });
const counter = new Counter({ name: 'c', help: 'c', labelNames, registers: [registry] });
const prom = nsPerCall((i) => {
  const labels = { method: 'GET', route: routes[i % 3]!, status: '200' };
  histogram.observe(labels, 0.00004 + (i & 7) * 1e-5);
  counter.inc(labels);
}, OBSERVATIONS);

console.log(`per observation: memkv recorder ${ours.toFixed(0)} ns, prom-client histogram + counter ${prom.toFixed(0)} ns`);

async function requestsPerSecond(withMetrics: boolean): Promise<number> {
  const s = createStore({ cleanupIntervalMs: 0 });
  s.set('greeting', 'hello');
  const app = await buildApp({ store: s, metrics: withMetrics ? createMetrics({ store: s, defaultMetrics: false }) : undefined });
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) await app.inject({ method: 'GET', url: '/api/v1/greeting' });
    const used = process.cpuUsage(start);
    best = Math.max(best, REQUESTS / ((used.user + used.system) / 1e6));
  }
  await app.close();
  s.close();
  return best;
}

// Alternate to spread the noise of a shared machine over both; CPU time rather than wall time.
let without = 0;
let withMetrics = 0;
for (let pass = 0; pass < 3; pass++) {
  without = Math.max(without, await requestsPerSecond(false));
  withMetrics = Math.max(withMetrics, await requestsPerSecond(true));
}
console.log(
  `GET /api/v1/:key via inject: ${Math.round(without)} req per CPU-second without metrics, ` +
    `${Math.round(withMetrics)} with (${((withMetrics / without - 1) * 100).toFixed(1)}%)`,
);
