/** The in-memory idempotency store: claims, kept answers, expiry (lazy and by a bounded sweep), memory accounting. */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/engine/clock.js';
import { createStore } from '../../src/engine/store.js';
import { CLAIM_TTL_MS, checkIdempotencyKey, fingerprintOf, isKeptStatus } from '../../src/idempotency/idempotency-store.js';
import { createMemoryIdempotency } from '../../src/idempotency/memory.js';

const answer = (body: string) => ({ status: 200, body, headers: { etag: '"1"' } });

describe('the in-memory idempotency store', () => {
  it('claims, keeps, replays, refuses another fingerprint, and scopes keys', () => {
    const clock = createManualClock();
    const kept = createMemoryIdempotency({ clock, ttlMs: 1000, sweepIntervalMs: 0 });
    expect(kept.begin('', 'k', 'A')).toEqual({ outcome: 'new' });
    expect(kept.begin('', 'k', 'A')).toEqual({ outcome: 'in_flight' });
    expect(kept.begin('', 'k', 'B')).toEqual({ outcome: 'mismatch' });
    expect(kept.begin('alice', 'k', 'B')).toEqual({ outcome: 'new' });
    // A scope and a key never meet another pair that reads the same when joined.
    expect(kept.begin('a', 'lice:k', 'B')).toEqual({ outcome: 'new' });
    kept.finish('', 'k', answer('1'));
    expect(kept.begin('', 'k', 'A')).toEqual({ outcome: 'replay', answer: answer('1') });
    kept.abandon('alice', 'k');
    expect(kept.begin('alice', 'k', 'C')).toEqual({ outcome: 'new' });
    expect(kept.stats().kept).toBe(1);
  });

  it('frees a claim that was never finished after CLAIM_TTL_MS, and an answer after its TTL', () => {
    const clock = createManualClock();
    const kept = createMemoryIdempotency({ clock, ttlMs: 1000, sweepIntervalMs: 0 });
    kept.begin('', 'lost', 'A');
    clock.advance(CLAIM_TTL_MS - 1);
    expect(kept.begin('', 'lost', 'A').outcome).toBe('in_flight');
    clock.advance(1);
    expect(kept.begin('', 'lost', 'B').outcome).toBe('new');
    kept.finish('', 'lost', answer('x'));
    clock.advance(999);
    expect(kept.begin('', 'lost', 'B').outcome).toBe('replay');
    clock.advance(1);
    expect(kept.begin('', 'lost', 'B').outcome).toBe('new');
  });

  it('sweeps expired answers, at most sweepBatch per tick, stopping at the first live one', () => {
    const clock = createManualClock();
    const store = createStore({ clock, cleanupIntervalMs: 0 });
    const kept = createMemoryIdempotency({ clock, ttlMs: 1000, sweepIntervalMs: 0, sweepBatch: 100, holdBytes: (bytes, force) => store.holdBytes(bytes, force) });
    for (let i = 0; i < 250; i++) {
      kept.begin('', `k${i}`, 'A');
      kept.finish('', `k${i}`, answer(String(i)));
    }
    clock.advance(500);
    kept.begin('', 'young', 'A');
    kept.finish('', 'young', answer('y'));
    expect(kept.sweep()).toBe(0);
    clock.advance(500);
    expect(kept.sweep()).toBe(100);
    expect(kept.sweep()).toBe(100);
    expect(kept.sweep()).toBe(50);
    expect(kept.sweep()).toBe(0);
    expect(kept.stats().kept).toBe(1);
    expect(store.heldBytes).toBe(kept.stats().bytes);
    clock.advance(500);
    expect(kept.sweep()).toBe(1);
    expect(store.heldBytes).toBe(0);
  });

  it('loads answers from the log, later ones replacing earlier ones, expired ones skipped', () => {
    const clock = createManualClock();
    const kept = createMemoryIdempotency({ clock, ttlMs: 1000, sweepIntervalMs: 0 });
    const now = clock.now();
    kept.load({ scope: '', key: 'a', fingerprint: 'A', answer: answer('old'), expiresAtMs: now + 10 });
    kept.load({ scope: '', key: 'a', fingerprint: 'A', answer: answer('new'), expiresAtMs: now + 20 });
    kept.load({ scope: '', key: 'b', fingerprint: 'A', answer: answer('gone'), expiresAtMs: now });
    expect(kept.stats().kept).toBe(1);
    expect(kept.begin('', 'a', 'A')).toEqual({ outcome: 'replay', answer: answer('new') });
    expect([...kept.records()].map((r) => r.key)).toEqual(['a']);
  });
});

describe('idempotency rules', () => {
  it('accepts 1 to 255 visible ASCII characters as a key', () => {
    expect(checkIdempotencyKey('!~')).toBe('!~');
    expect(checkIdempotencyKey('k'.repeat(255))).toHaveLength(255);
    for (const bad of ['', ' ', 'a b', 'k'.repeat(256), 'é', 'a\tb', 'a, b']) expect(() => checkIdempotencyKey(bad)).toThrow(/Idempotency-Key/);
  });

  it('fingerprints the method, the path with its query and the JSON of the body', () => {
    const base = fingerprintOf('PATCH', '/api/v1/k/push', { value: 'a' });
    expect(fingerprintOf('PATCH', '/api/v1/k/push', { value: 'a' })).toBe(base);
    expect(fingerprintOf('PATCH', '/api/v1/k/push', { value: 'b' })).not.toBe(base);
    expect(fingerprintOf('POST', '/api/v1/k/push', { value: 'a' })).not.toBe(base);
    expect(fingerprintOf('PATCH', '/api/v1/k/push?x=1', { value: 'a' })).not.toBe(base);
    expect(fingerprintOf('PATCH', '/api/v1/k/pop', undefined)).not.toBe(fingerprintOf('PATCH', '/api/v1/k/pop', {}));
  });

  it('keeps successes and data refusals, not validation failures or server errors', () => {
    expect([200, 304, 404, 409, 412, 422].map(isKeptStatus)).toEqual([true, true, true, true, true, true]);
    expect([400, 401, 403, 413, 415, 500, 503, 507].map(isKeptStatus)).toEqual([false, false, false, false, false, false, false, false]);
  });
});
