import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { runToExit } from '../helpers/process.js';

const REDIS = { STORAGE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('STORAGE and the REDIS_* settings', () => {
  it('default to the embedded engine, the memkv: prefix, a 2 s command timeout and one worker', () => {
    expect(loadConfig({ env: {} })).toMatchObject({
      storage: 'memory',
      redisUrl: undefined,
      redisClusterNodes: undefined,
      redisKeyPrefix: 'memkv:',
      redisCommandTimeoutMs: 2000,
      workers: 1,
    });
  });

  it('read a server URL, a cluster node list, a prefix, a timeout and WORKERS (auto = the cores)', () => {
    expect(loadConfig({ env: { ...REDIS, REDIS_URL: 'rediss://user:pw@cache.internal:6380/2' } }).redisUrl).toBe('rediss://user:pw@cache.internal:6380/2');
    expect(loadConfig({ env: { STORAGE: 'REDIS', REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001' } }).redisClusterNodes).toEqual([
      '10.0.0.1:7000',
      '10.0.0.2:7001',
    ]);
    expect(loadConfig({ env: { ...REDIS, REDIS_KEY_PREFIX: 'app1:memkv:', REDIS_COMMAND_TIMEOUT: '250ms' } })).toMatchObject({
      redisKeyPrefix: 'app1:memkv:',
      redisCommandTimeoutMs: 250,
    });
    expect(loadConfig({ env: { ...REDIS, WORKERS: '3' } }).workers).toBe(3);
    expect(loadConfig({ env: { ...REDIS, WORKERS: 'auto' } }).workers).toBe(availableParallelism());
  });

  it.each([
    [{ STORAGE: 'postgres' }, /STORAGE: accepts memory, redis/],
    [{ STORAGE: 'redis' }, /REDIS_URL: STORAGE=redis needs exactly one of REDIS_URL .* and REDIS_CLUSTER_NODES/],
    [{ ...REDIS, REDIS_CLUSTER_NODES: '127.0.0.1:7000' }, /STORAGE=redis needs exactly one of/],
    [{ ...REDIS, REDIS_URL: 'http://127.0.0.1:6379' }, /REDIS_URL: accepts a redis:\/\/ or rediss:\/\/ URL/],
    [{ STORAGE: 'redis', REDIS_CLUSTER_NODES: '127.0.0.1' }, /REDIS_CLUSTER_NODES: accepts host:port pairs/],
    [{ ...REDIS, REDIS_KEY_PREFIX: 'memkv{x}:' }, /REDIS_KEY_PREFIX: accepts up to 64 characters without "\{", "\}"/],
    [{ ...REDIS, REDIS_COMMAND_TIMEOUT: '0' }, /REDIS_COMMAND_TIMEOUT: accepts a duration of at least 10ms/],
    [{ ...REDIS, WORKERS: '0' }, /WORKERS: accepts a whole number from 1 to 1024/],
    [{ ...REDIS, MAX_MEMORY: '1gb' }, /MAX_MEMORY: is not used with STORAGE=redis, where Redis owns it: unset it and configure Redis's maxmemory instead/],
    [{ ...REDIS, EVICTION_POLICY: 'allkeys-lru' }, /EVICTION_POLICY: .*configure Redis's maxmemory-policy instead/],
    [{ ...REDIS, PERSISTENCE_ENABLED: 'true' }, /PERSISTENCE_ENABLED: .*configure Redis's persistence \(appendonly yes/],
    [{ WORKERS: '2' }, /WORKERS: WORKERS=2 needs STORAGE=redis: with STORAGE=memory the data lives in one process/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379' }, /REDIS_URL: is only used with STORAGE=redis/],
    [
      { ...REDIS, AUTH_ENABLED: 'true', ADMIN_USER: 'admin', ADMIN_PASSWORD: 'correct horse' },
      /JWT_SECRET: STORAGE=redis with AUTH_ENABLED=true needs JWT_SECRET, the same on every front/,
    ],
  ])('refuses %j naming the variable and what to do', (env, message) => {
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(message);
  });

  it('never echoes a bad REDIS_URL, which may hold a password', () => {
    expect(() => loadConfig({ env: { ...REDIS, REDIS_URL: 'mysql://user:s3cret@db' } })).toThrow(/^(?!.*s3cret)/s);
  });

  it('the server process refuses to start with exit code 2 and the message on stderr', async () => {
    const { code, stderr } = await runToExit({ ...REDIS, MAX_MEMORY: '1gb' });
    expect(code).toBe(2);
    expect(stderr).toContain("MAX_MEMORY: is not used with STORAGE=redis, where Redis owns it: unset it and configure Redis's maxmemory instead");
  });
});
