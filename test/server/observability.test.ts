import { Writable } from 'node:stream';
import pino from 'pino';
import type { StatsJson } from '@memkv/client/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createStore } from '../../src/engine/store.js';
import { buildHealthApp } from '../../src/http/health.js';
import { createMetrics } from '../../src/http/metrics.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** Starts a real server on ephemeral ports with a debug logger whose lines the test can read. */
async function start(env: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const config = loadConfig({ env: { PORT: '0', HEALTH_PORT: '0', VERBOSE: 'debug', ...env } });
  const server = await startServer(config, pino({ level: 'debug' }, sink));
  servers.push(server);
  const api = `http://127.0.0.1:${server.port}/api/v1`;
  const health = `http://127.0.0.1:${server.healthPort}`;
  const set = (key: string, value: string) =>
    fetch(`${api}/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, value }) });
  const scrape = async () => {
    const res = await fetch(`${health}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  };
  return { server, api, health, set, scrape, lines };
}

describe('the health port', () => {
  it('serves liveness, readiness and metrics that move as requests are served', async () => {
    const { api, health, set, scrape } = await start();
    expect((await fetch(`${health}/health`)).status).toBe(200);
    const ready = await fetch(`${health}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ message: 'ready' });

    const before = await scrape();
    expect(sampleValue(before, 'memkv_keys')).toBe(0);
    expect(sampleValue(before, 'memkv_info', { eviction_policy: 'noeviction' })).toBe(1);
    expect(sampleValue(before, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    for (const key of ['a', 'b', 'c']) expect((await set(key, 'value')).status).toBe(200);
    expect((await fetch(`${api}/a`)).status).toBe(200);
    expect((await fetch(`${api}/b`)).status).toBe(200);
    expect((await fetch(`${api}/missing`)).status).toBe(404);
    expect((await fetch(`${api}/a/b/c/d`)).status).toBe(404);

    const after = await scrape();
    const getKey = { method: 'GET', route: '/api/v1/:key' };
    expect(sampleValue(after, 'memkv_http_requests_total', { ...getKey, status: '200' })).toBe(2);
    expect(sampleValue(after, 'memkv_http_requests_total', { ...getKey, status: '404' })).toBe(1);
    expect(sampleValue(after, 'memkv_http_requests_total', { method: 'POST', route: '/api/v1/set', status: '200' })).toBe(3);
    expect(sampleValue(after, 'memkv_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    const histogram = after.find((f) => f.name === 'memkv_http_request_duration_seconds');
    expect(histogram?.type).toBe('histogram');
    const name = 'memkv_http_request_duration_seconds';
    const ok = { ...getKey, status: '200' };
    expect(sampleValue(after, name, ok, `${name}_count`)).toBe(2);
    expect(sampleValue(after, name, { ...ok, le: '+Inf' }, `${name}_bucket`)).toBe(2);
    expect(sampleValue(after, name, ok, `${name}_sum`)).toBeGreaterThan(0);
    expect(sampleValue(after, 'memkv_keys')).toBe(3);
    expect(sampleValue(after, 'memkv_data_bytes')).toBeGreaterThan(0);
    expect(sampleValue(after, 'memkv_keyspace_hits_total')).toBe(2);
    expect(sampleValue(after, 'memkv_keyspace_misses_total')).toBe(1);
    expect(sampleValue(after, 'memkv_commands_total', { operation: 'set' })).toBe(3);
    expect(sampleValue(after, 'memkv_commands_total', { operation: 'get' })).toBe(3);
  });

  it('counts and logs evictions at debug level', async () => {
    const { set, scrape, lines, api } = await start({ MAX_MEMORY: '2kb', EVICTION_POLICY: 'allkeys-lru' });
    for (let i = 0; i < 40; i++) expect((await set(`key${i}`, 'x'.repeat(100))).status).toBe(200);
    const metrics = await scrape();
    const evicted = sampleValue(metrics, 'memkv_evicted_keys_total')!;
    expect(evicted).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'memkv_data_bytes')).toBeLessThanOrEqual(2048);
    expect(sampleValue(metrics, 'memkv_max_memory_bytes')).toBe(2048);
    const logged = lines.filter((line) => line.msg === 'evicted');
    expect(logged.length).toBe(evicted);
    expect(logged[0]).toMatchObject({ level: 20, policy: 'allkeys-lru' });
    const stats = (await (await fetch(`${api}/db/stats`)).json()) as StatsJson;
    expect(stats.stats.evicted).toBe(evicted);
  });
});

describe('readiness', () => {
  it('answers 503 while starting and while a dependency cannot serve, and /health stays 200', async () => {
    let started = false;
    let reason: string | null = null;
    const app = await buildHealthApp({ isReady: () => started, unavailableReason: () => reason });
    try {
      expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      started = true;
      expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
      reason = 'the append-only log cannot be written: ENOSPC';
      const down = await app.inject({ method: 'GET', url: '/ready' });
      expect(down.statusCode).toBe(503);
      expect(down.json()).toEqual({ code: 'service_unavailable', message: reason });
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('labels methods outside the usual set as OTHER so that series stay bounded', async () => {
    const store = createStore({ cleanupIntervalMs: 0 });
    const metrics = createMetrics({ store, defaultMetrics: false });
    metrics.observeRequest('PROPFIND', 'unmatched', 404, 0.001);
    metrics.observeRequest('MKCOL', 'unmatched', 404, 0.002);
    const families = parsePrometheus(await metrics.registry.metrics());
    expect(sampleValue(families, 'memkv_http_requests_total', { method: 'OTHER', status: '404' })).toBe(2);
    store.close();
  });
});

describe('the exposition parser used above', () => {
  it('rejects malformed text, so that the metrics tests can fail', () => {
    const ok = '# HELP m help\n# TYPE m counter\nm{a="b"} 1\n';
    expect(parsePrometheus(ok)[0]!.samples[0]).toEqual({ name: 'm', labels: { a: 'b' }, value: 1 });
    for (const bad of [
      ok.slice(0, -1),
      '# TYPE m counter\nm{a="b" 1\n',
      '# TYPE m counter\nm{a=b} 1\n',
      '# TYPE m counter\nm one\n',
      'undeclared 1\n',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n',
    ]) {
      expect(() => parsePrometheus(bad), bad).toThrow();
    }
  });
});
