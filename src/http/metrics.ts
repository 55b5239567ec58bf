/**
 * Prometheus metrics: HTTP requests by route and status, the store's counters, and the Node.js
 * process metrics of prom-client, in one registry that the health server exposes at `/metrics`.
 *
 * Request metrics are on the hot path, so they are accumulated in a few typed-array cells per
 * series (tens of nanoseconds a request, against about 1 µs for a prom-client histogram plus
 * counter, which build a label hash on every observation) and handed to the registry at scrape
 * time, which renders them. Store counters are read at scrape time too, costing requests nothing.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { STORE_OPERATIONS, type Store } from '../engine/store.js';
import { totalMaxMemory, totalOf, type BackendStats, type Database, type NodeFigure } from '../storage/storage.js';
import { VERSION } from '../version.js';

/** Upper bounds of the request latency buckets, in seconds: an in-memory database answers in well under a millisecond. */
export const REQUEST_DURATION_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;

/** Route label of requests that matched no route (keeps the label set bounded). */
export const UNMATCHED_ROUTE = 'unmatched';

/** The metrics of one server: its registry and the per-request recorder. */
export interface Metrics {
  readonly registry: Registry;
  /**
   * Records one answered request. `route` is the route pattern (`/api/v1/:key`), never the raw
   * URL, so that the number of series stays bounded.
   */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

export interface MetricsOptions {
  /** The embedded engine whose sizes and counters are exported; absent with STORAGE=redis. */
  store?: Store;
  /**
   * Without `store`: the backend's database operations, whose report (`backendStats`: Redis's
   * memory and counters, memkv's keys counted at a bounded cost) gives the same gauges.
   */
  database?: Database;
  /** Also collect prom-client's process and Node.js metrics (CPU, memory, event loop lag); default true. */
  defaultMetrics?: boolean;
}

/** Creates a registry with memkv's metrics over `store`. */
export function createMetrics({ store, database, defaultMetrics = true }: MetricsOptions): Metrics {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  const requests = new RequestSeriesTable();
  registry.registerMetric(requests.counterMetric() as unknown as Metric);
  registry.registerMetric(requests.histogramMetric() as unknown as Metric);
  if (store !== undefined) registerStoreMetrics(registry, store);
  else if (database !== undefined) registerBackendMetrics(registry, database);
  return {
    registry,
    observeRequest: (method, route, status, seconds) => requests.observe(method, route, status, seconds),
  };
}

// ---- Store metrics, read at scrape time ----

function registerStoreMetrics(registry: Registry, store: Store): void {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers, collect() { this.set(read()); } });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });

  new Gauge({
    name: 'memkv_info',
    help: 'Always 1; the labels tell the version and the eviction policy.',
    labelNames: ['version', 'eviction_policy'],
    registers,
    collect() {
      this.reset();
      this.set({ version: VERSION, eviction_policy: store.stats().evictionPolicy }, 1);
    },
  });
  gauge('memkv_keys', 'Keys held.', () => store.size);
  gauge('memkv_keys_with_ttl', 'Keys that have a TTL.', () => store.volatileSize);
  gauge('memkv_data_bytes', 'Bytes of data as memkv accounts them (keys, values, per-key overhead).', () => store.dataBytes);
  gauge('memkv_max_memory_bytes', 'MAX_MEMORY in bytes; 0 means unlimited.', () => store.stats().maxMemoryBytes);
  counter('memkv_keyspace_hits_total', 'Reads that found their key.', () => store.stats().hits);
  counter('memkv_keyspace_misses_total', 'Reads that found nothing.', () => store.stats().misses);
  counter('memkv_expired_keys_total', 'Keys removed because their TTL passed.', () => store.expiredCount);
  counter('memkv_evicted_keys_total', 'Keys removed by the eviction policy to stay under MAX_MEMORY.', () => store.evictedCount);
  new Counter({
    name: 'memkv_commands_total',
    help: 'Store operations called, by operation.',
    labelNames: ['operation'],
    registers,
    collect() {
      this.reset();
      const { commands } = store.stats();
      for (const operation of STORE_OPERATIONS) this.inc({ operation }, commands[operation]);
    },
  });
}

// ---- Backend metrics (STORAGE=redis), from one backend report per scrape ----

/** How long one backend report serves the metrics of a scrape, in ms. */
const BACKEND_REPORT_MS = 1000;

function registerBackendMetrics(registry: Registry, database: Database): void {
  const registers = [registry];
  // Every metric of one scrape reads the same report; a backend that cannot answer leaves them out.
  let report: { atMs: number; stats: Promise<BackendStats | undefined> } | undefined;
  const latest = (): Promise<BackendStats | undefined> => {
    const now = Date.now();
    if (report === undefined || now - report.atMs > BACKEND_REPORT_MS) {
      report = { atMs: now, stats: Promise.resolve(database.backendStats()).catch(() => undefined) };
    }
    return report.stats;
  };
  const gauge = (name: string, help: string, read: (stats: BackendStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const stats = await latest();
        if (stats === undefined) this.reset();
        else this.set(read(stats));
      },
    });
  const counter = (name: string, help: string, figure: NodeFigure) =>
    new Counter({
      name,
      help,
      registers,
      async collect() {
        const stats = await latest();
        this.reset();
        if (stats !== undefined) this.inc(totalOf(stats, figure));
      },
    });
  gauge('memkv_keys', "Keys held (memkv's keys in Redis, counted at a bounded cost: see GET /db/stats).", (stats) => totalOf(stats, 'keys'));
  gauge('memkv_keys_with_ttl', 'Keys that have a TTL.', (stats) => totalOf(stats, 'keysWithTtl'));
  gauge('memkv_data_bytes', 'Memory Redis uses (used_memory, summed over the masters).', (stats) => totalOf(stats, 'usedMemoryBytes'));
  // As GET /db/stats reports it: unlimited unless every master has a maxmemory.
  gauge('memkv_max_memory_bytes', "Redis's maxmemory, summed over the masters; 0 means unlimited.", totalMaxMemory);
  counter('memkv_keyspace_hits_total', "Redis's keyspace hits (of every key it holds).", 'hits');
  counter('memkv_keyspace_misses_total', "Redis's keyspace misses.", 'misses');
  counter('memkv_expired_keys_total', 'Keys Redis removed because their TTL passed.', 'expired');
  counter('memkv_evicted_keys_total', "Keys Redis evicted under maxmemory.", 'evicted');
}

// ---- Request metrics: compact series, rendered by the registry ----

const BOUNDS = REQUEST_DURATION_BUCKETS_SECONDS;

/** One (method, route, status) series: a count per bucket (not cumulative), the sum and the count. */
interface RequestSeries {
  readonly labels: { method: string; route: string; status: string };
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/** The value shape prom-client's registry renders (see Registry#getMetricsAsString). */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

class RequestSeriesTable {
  /** route → (status × 16 + method index) → series: two lookups and no allocation per request. */
  readonly #byRoute = new Map<string, Map<number, RequestSeries>>();
  readonly #all: RequestSeries[] = [];

  observe(method: string, route: string, status: number, seconds: number): void {
    let byCode = this.#byRoute.get(route);
    if (byCode === undefined) this.#byRoute.set(route, (byCode = new Map()));
    const index = methodIndex(method);
    const code = status * 16 + index;
    let series = byCode.get(code);
    if (series === undefined) {
      const labels = { method: index === OTHER_METHOD ? 'OTHER' : method, route, status: String(status) };
      series = { labels, buckets: new Float64Array(BOUNDS.length), sum: 0, count: 0 };
      byCode.set(code, series);
      this.#all.push(series);
    }
    series.count++;
    series.sum += seconds;
    for (let i = 0; i < BOUNDS.length; i++) {
      if (seconds <= BOUNDS[i]!) {
        series.buckets[i]!++;
        break;
      }
    }
  }

  counterMetric() {
    const name = 'memkv_http_requests_total';
    const help = 'HTTP requests answered, by method, route pattern and status.';
    return {
      name,
      help,
      type: 'counter',
      get: () => ({
        name,
        help,
        type: 'counter',
        aggregator: 'sum',
        values: this.#all.map((s): MetricValue => ({ value: s.count, labels: s.labels })),
      }),
    };
  }

  histogramMetric() {
    const name = 'memkv_http_request_duration_seconds';
    const help = 'Time to answer HTTP requests in seconds, by method, route pattern and status.';
    return {
      name,
      help,
      type: 'histogram',
      get: () => {
        const values: MetricValue[] = [];
        for (const series of this.#all) {
          let cumulative = 0;
          for (let i = 0; i < BOUNDS.length; i++) {
            cumulative += series.buckets[i]!;
            values.push({ metricName: `${name}_bucket`, value: cumulative, labels: { ...series.labels, le: BOUNDS[i]! } });
          }
          values.push({ metricName: `${name}_bucket`, value: series.count, labels: { ...series.labels, le: '+Inf' } });
          values.push({ metricName: `${name}_sum`, value: series.sum, labels: series.labels });
          values.push({ metricName: `${name}_count`, value: series.count, labels: series.labels });
        }
        return { name, help, type: 'histogram', aggregator: 'sum', values };
      },
    };
  }
}

const METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'];
const OTHER_METHOD = 15;

/** Index of an HTTP method in a 4-bit code; any other method is labelled `OTHER`, keeping the label set bounded. */
function methodIndex(method: string): number {
  const index = METHODS.indexOf(method);
  return index < 0 ? OTHER_METHOD : index;
}
