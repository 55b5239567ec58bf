/**
 * A Redis Cluster master killed (SIGKILL) under memkv, with its replica present: requests for its
 * slots fail fast (503 backend_unavailable, never a hang) while the replica takes over, then
 * succeed again, and every write acknowledged and replicated before the kill is still there.
 * Keys on the other masters are served throughout. Also: the stats list every master.
 */
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisCluster } from '../helpers/redis.js';
import { startAnyMemkv } from '../helpers/servers.js';

type Server = Awaited<ReturnType<typeof startAnyMemkv>>;

const TIMEOUT_MS = 500;

describe('STORAGE=redis on a Redis Cluster: a master fails over', () => {
  const cluster = useRedisCluster();
  let server: Server;
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${server.url}/api/v1${path}`, { ...init, headers: init.body === undefined ? {} : { 'content-type': 'application/json' } });
  const slotOf = (key: string): number => calculateSlot(`memkv:{${key}}`);

  /** Waits until every master's replica has acknowledged the master's whole replication stream. */
  const replicated = async (): Promise<void> => {
    const deadline = Date.now() + 10_000;
    for (const node of cluster.current.nodes) {
      for (;;) {
        const info = node.cli('INFO', 'replication');
        if (!info.includes('role:master')) break;
        const masterOffset = /master_repl_offset:(\d+)/.exec(info)?.[1];
        const replicaOffset = /slave0:.*offset=(\d+)/.exec(info)?.[1];
        if (masterOffset !== undefined && masterOffset === replicaOffset) break;
        if (Date.now() > deadline) throw new Error(`replica of 127.0.0.1:${node.port} did not catch up:\n${info}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };

  beforeAll(async () => {
    server = await startAnyMemkv({ storage: 'redis', redisClusterNodes: cluster.current.nodeList, redisCommandTimeoutMs: `${TIMEOUT_MS}ms` });
    const deadline = Date.now() + 10_000;
    while (server.redis?.ready !== true) {
      if (Date.now() > deadline) throw new Error('memkv did not connect to the cluster');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, 30_000);
  afterAll(async () => {
    await server?.close();
  });

  it('reports the three masters in the stats, with the keys each holds', async () => {
    for (let i = 0; i < 30; i++) expect((await api('/set', { method: 'POST', body: JSON.stringify({ key: `spread${i}`, value: 'v' }) })).status).toBe(200);
    const stats = (await (await api('/db/stats')).json()) as { backend: { mode: string; nodes: { keys: number }[] }; keyspace: { keys: number } };
    expect(stats.backend.mode).toBe('cluster');
    expect(stats.backend.nodes).toHaveLength(3);
    expect(stats.backend.nodes.every((node) => node.keys > 0)).toBe(true);
    expect(stats.keyspace.keys).toBe(30);
  });

  it('fails fast during the failover, then serves again, with every replicated write kept', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `fo${i}`);
    for (const key of keys) expect((await api('/set', { method: 'POST', body: JSON.stringify({ key, value: `value of ${key}` }) })).status).toBe(200);
    expect((await api('/fo0/push', { method: 'PATCH', body: '{"value":"x"}' })).status).toBe(409);
    // Make sure the replicas have every acknowledged write (Redis replicates asynchronously).
    await replicated();
    const victim = cluster.current.masterOf(slotOf('fo0'));
    const onVictim = keys.filter((key) => cluster.current.masterOf(slotOf(key)) === victim);
    const elsewhere = keys.filter((key) => !onVictim.includes(key));
    expect(onVictim.length).toBeGreaterThan(0);

    await victim.stop(true);
    const statuses = new Set<number>();
    let slowestMs = 0;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const started = performance.now();
      const answer = await api(`/${onVictim[0]}`);
      slowestMs = Math.max(slowestMs, performance.now() - started);
      statuses.add(answer.status);
      if (answer.status === 200) break;
      expect(answer.status).toBe(503);
      expect(((await answer.json()) as { code: string }).code).toBe('backend_unavailable');
      expect(answer.headers.get('retry-after')).toBe('1');
      // Keys on the other masters are served meanwhile.
      expect((await api(`/${elsewhere[0]}`)).status).toBe(200);
      if (Date.now() > deadline) throw new Error(`no failover within 30 s; statuses ${[...statuses].join(',')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // It failed during the failover, and never waited much past REDIS_COMMAND_TIMEOUT.
    expect(statuses.has(503)).toBe(true);
    expect(slowestMs).toBeLessThan(TIMEOUT_MS + 1_500);
    for (const key of keys) {
      const answer = await api(`/${key}`);
      expect(answer.status, key).toBe(200);
      expect(((await answer.json()) as { value: string }).value).toBe(`value of ${key}`);
    }
    expect((await api('/set', { method: 'POST', body: JSON.stringify({ key: onVictim[0], value: 'after' }) })).status).toBe(200);
  }, 60_000);
});
