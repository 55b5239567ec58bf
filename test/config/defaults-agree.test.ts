/**
 * config/defaults.ts may import nothing but errors, so the defaults of the modules it configures
 * are written twice: beside each constructor (usable without the loader) and here. They must agree.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { STORE_DEFAULTS } from '../../src/engine/store.js';
import { APP_DEFAULTS } from '../../src/http/app.js';
import { DEFAULT_IDEMPOTENCY_TTL_MS } from '../../src/idempotency/idempotency-store.js';
import { PERSISTENCE_DEFAULTS } from '../../src/persistence/persistence.js';
import { REDIS_DEFAULTS } from '../../src/storage/redis.js';
import { WATCH_DEFAULTS } from '../../src/watch/watch-hub.js';

describe('configuration defaults', () => {
  it('are the defaults of the store, the HTTP app and persistence', () => {
    expect({
      defaultTtlMs: DEFAULTS.defaultTtlMs,
      cleanupIntervalMs: DEFAULTS.cleanupIntervalMs,
      maxKeyBytes: DEFAULTS.maxKeyBytes,
      maxMemoryBytes: DEFAULTS.maxMemoryBytes,
      evictionPolicy: DEFAULTS.evictionPolicy,
    }).toEqual({
      defaultTtlMs: STORE_DEFAULTS.defaultTtlMs,
      cleanupIntervalMs: STORE_DEFAULTS.cleanupIntervalMs,
      maxKeyBytes: STORE_DEFAULTS.maxKeyBytes,
      maxMemoryBytes: STORE_DEFAULTS.maxMemoryBytes,
      evictionPolicy: STORE_DEFAULTS.evictionPolicy,
    });
    expect({
      apiVersion: DEFAULTS.apiVersion,
      maxBodyBytes: DEFAULTS.maxBodyBytes,
      maxKeyBytes: DEFAULTS.maxKeyBytes,
      loginRateLimit: { max: DEFAULTS.loginRateLimit, windowMs: DEFAULTS.loginRateWindowMs },
      requestTimeoutMs: DEFAULTS.requestTimeoutMs,
    }).toEqual({
      apiVersion: APP_DEFAULTS.apiVersion,
      maxBodyBytes: APP_DEFAULTS.maxBodyBytes,
      maxKeyBytes: APP_DEFAULTS.maxKeyBytes,
      loginRateLimit: APP_DEFAULTS.loginRateLimit,
      requestTimeoutMs: APP_DEFAULTS.requestTimeoutMs,
    });
    expect({
      fsync: DEFAULTS.persistenceFsync,
      compactRatio: DEFAULTS.persistenceCompactRatio,
      compactMinBytes: DEFAULTS.persistenceCompactMinBytes,
      loadDamaged: DEFAULTS.persistenceLoadDamaged,
    }).toEqual(PERSISTENCE_DEFAULTS);
    expect({
      keyPrefix: DEFAULTS.redisKeyPrefix,
      commandTimeoutMs: DEFAULTS.redisCommandTimeoutMs,
      defaultTtlMs: DEFAULTS.defaultTtlMs,
      maxKeyBytes: DEFAULTS.maxKeyBytes,
      watchHistory: DEFAULTS.watchHistory,
    }).toEqual(REDIS_DEFAULTS);
    expect(DEFAULTS.idempotencyTtlMs).toBe(DEFAULT_IDEMPOTENCY_TTL_MS);
    expect({ historyEvents: DEFAULTS.watchHistory, maxBufferBytes: DEFAULTS.watchMaxBufferBytes }).toEqual({
      historyEvents: WATCH_DEFAULTS.historyEvents,
      maxBufferBytes: WATCH_DEFAULTS.maxBufferBytes,
    });
  });
});
