import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment, frozen', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual(DEFAULTS);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, healthPort: 8081, defaultTtlMs: 0, cleanupIntervalMs: 100 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      env: {
        VERBOSE: 'debug',
        API_VERSION: 'v2',
        HOST: '0.0.0.0',
        PORT: '9000',
        HEALTH_PORT: '9001',
        DEFAULT_TTL: '5m',
        DEFAULT_CLEANUP_INTERVAL: '1s',
        IDEMPOTENCY_TTL: '1h',
        PERSISTENCE_ENABLED: 'true',
        DB_PATH: '/var/lib/memkv',
        PERSISTENCE_FSYNC: 'always',
        PERSISTENCE_COMPACT_RATIO: '1.5',
        PERSISTENCE_COMPACT_MIN_SIZE: '1mb',
        PERSISTENCE_LOAD_DAMAGED: 'true',
        MAX_KEY_BYTES: '2kb',
        MAX_BODY_BYTES: '8mb',
        MAX_MEMORY: '512mb',
        EVICTION_POLICY: 'allkeys-lru',
      },
    });
    expect(config).toEqual({
      ...DEFAULTS,
      verbose: 'debug',
      apiVersion: 'v2',
      host: '0.0.0.0',
      port: 9000,
      healthPort: 9001,
      defaultTtlMs: 300_000,
      cleanupIntervalMs: 1000,
      idempotencyTtlMs: 3_600_000,
      persistenceEnabled: true,
      dbPath: '/var/lib/memkv',
      persistenceFsync: 'always',
      persistenceCompactRatio: 1.5,
      persistenceCompactMinBytes: 1024 * 1024,
      persistenceLoadDamaged: true,
      maxKeyBytes: 2048,
      maxBodyBytes: 8 * 1024 * 1024,
      maxMemoryBytes: 512 * 1024 * 1024,
      evictionPolicy: 'allkeys-lru',
    });
  });

  it('lets overrides (command-line flags) win over the environment', () => {
    expect(loadConfig({ env: { PORT: '9000' }, overrides: { port: '9100' } }).port).toBe(9100);
  });

  it.each([
    ['VERBOSE', 'loud', /VERBOSE: accepts debug, info, warn, error/],
    ['PORT', '80a', /PORT: accepts a port number from 0 to 65535/],
    ['PORT', '70000', /PORT: accepts a port number/],
    ['HEALTH_PORT', '-1', /HEALTH_PORT: accepts a port number/],
    ['DEFAULT_TTL', '5 minutes', /DEFAULT_TTL: accepts 0 \(never\) or a duration/],
    ['DEFAULT_CLEANUP_INTERVAL', '0', /DEFAULT_CLEANUP_INTERVAL: accepts a duration of at least 1ms/],
    ['PERSISTENCE_ENABLED', 'maybe', /PERSISTENCE_ENABLED: accepts true or false/],
    ['PERSISTENCE_FSYNC', 'sometimes', /PERSISTENCE_FSYNC: accepts always, everysec, no/],
    ['PERSISTENCE_COMPACT_RATIO', '1', /PERSISTENCE_COMPACT_RATIO: accepts 0 \(no automatic compaction\) or a number above 1/],
    ['PERSISTENCE_COMPACT_RATIO', '-2', /PERSISTENCE_COMPACT_RATIO: accepts 0/],
    ['PERSISTENCE_COMPACT_MIN_SIZE', 'big', /PERSISTENCE_COMPACT_MIN_SIZE: accepts a size/],
    ['PERSISTENCE_LOAD_DAMAGED', 'perhaps', /PERSISTENCE_LOAD_DAMAGED: accepts true or false/],
    ['API_VERSION', 'v1/x', /API_VERSION: accepts a path segment/],
    ['HOST', 'not a host!', /HOST: accepts an IP address or host name/],
    ['MAX_KEY_BYTES', '1tb', /MAX_KEY_BYTES: accepts a size/],
    ['MAX_BODY_BYTES', '10', /MAX_BODY_BYTES: accepts a size from 64/],
  ])('refuses %s=%s with a message naming the variable and what it accepts', (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ env: { [name]: value } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe(name);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses the same port for the API and the health server', () => {
    expect(() => loadConfig({ env: { PORT: '9000', HEALTH_PORT: '9000' } })).toThrow(/HEALTH_PORT: must differ from PORT/);
  });
});
