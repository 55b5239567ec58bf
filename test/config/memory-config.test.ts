import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

describe('MAX_MEMORY and EVICTION_POLICY', () => {
  it('default to unlimited and noeviction', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ maxMemoryBytes: 0, evictionPolicy: 'noeviction' });
  });

  it('read sizes with units and every policy', () => {
    expect(loadConfig({ env: { MAX_MEMORY: '512mb' } }).maxMemoryBytes).toBe(512 * 1024 * 1024);
    expect(loadConfig({ env: { MAX_MEMORY: '0' } }).maxMemoryBytes).toBe(0);
    for (const policy of ['noeviction', 'allkeys-lru', 'volatile-lru', 'allkeys-random', 'volatile-ttl']) {
      expect(loadConfig({ env: { EVICTION_POLICY: policy.toUpperCase() } }).evictionPolicy).toBe(policy);
    }
  });

  it('name the variable and what it accepts for a bad value', () => {
    expect(() => loadConfig({ env: { MAX_MEMORY: 'lots' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { MAX_MEMORY: '-1mb' } })).toThrow(/MAX_MEMORY: accepts 0 \(unlimited\) or a size/);
    expect(() => loadConfig({ env: { EVICTION_POLICY: 'lru' } })).toThrow(/EVICTION_POLICY: accepts noeviction, allkeys-lru/);
  });
});
