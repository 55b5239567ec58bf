/**
 * The idempotency store in Redis (STORAGE=redis), over the backend's own ioredis client: every
 * front (WORKERS, several servers) sees the same kept answers. One Redis string per key, under
 * `{REDIS_KEY_PREFIX}idem:`, holding JSON: `{"f": fingerprint, "a": null}` while the first request
 * runs (a claim, expiring after CLAIM_TTL_MS), `{"f": fingerprint, "a": {status, body, headers}}`
 * once its answer is kept (expiring after the TTL). A claim is one command, `SET … NX PX … GET`
 * (Redis 7+): it either claims the key or answers what the key holds. In a cluster each key lives
 * on its own slot; no operation spans two keys. Redis owns the memory they take (maxmemory).
 */
import type { Cluster, Redis } from 'ioredis';
import { MemkvError } from '../errors.js';
import {
  CLAIM_TTL_MS,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  type BeginResult,
  type IdempotencyStore,
  type KeptAnswer,
} from './idempotency-store.js';

export interface RedisIdempotencyOptions {
  /** The backend's client (RedisStorage's `client`). */
  client: Redis | Cluster;
  /** Prefix of the keys, such as `memkv:idem:` (REDIS_KEY_PREFIX + `idem:`); no `{` or `}`. */
  keyPrefix: string;
  /** How long an answer is kept, in ms; default 24 h (IDEMPOTENCY_TTL). */
  ttlMs?: number;
}

interface Stored {
  f: string;
  a: KeptAnswer | null;
}

/** Creates the Redis idempotency store. */
export function createRedisIdempotency(options: RedisIdempotencyOptions): RedisIdempotency {
  return new RedisIdempotency(options);
}

export class RedisIdempotency implements IdempotencyStore {
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #ttlMs: number;

  constructor(options: RedisIdempotencyOptions) {
    const { client, keyPrefix, ttlMs = DEFAULT_IDEMPOTENCY_TTL_MS } = options;
    if (typeof client?.set !== 'function') throw new TypeError('client must be an ioredis client');
    if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix)) throw new TypeError('keyPrefix must be a string without "{" or "}"');
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new TypeError('ttlMs must be a whole number of ms >= 1');
    this.#client = client;
    this.#prefix = keyPrefix;
    this.#ttlMs = ttlMs;
  }

  async begin(scope: string, key: string, fingerprint: string): Promise<BeginResult> {
    const claim = JSON.stringify({ f: fingerprint, a: null } satisfies Stored);
    const held = await this.#call(this.#client.set(this.#keyOf(scope, key), claim, 'PX', CLAIM_TTL_MS, 'NX', 'GET'));
    if (held === null) return { outcome: 'new' };
    const stored = parse(held);
    if (stored.f !== fingerprint) return { outcome: 'mismatch' };
    return stored.a === null ? { outcome: 'in_flight' } : { outcome: 'replay', answer: stored.a };
  }

  async finish(scope: string, key: string, answer: KeptAnswer): Promise<void> {
    const redisKey = this.#keyOf(scope, key);
    const held = await this.#call(this.#client.get(redisKey));
    // Only over this request's own claim (one that lapsed meanwhile may have been taken again).
    if (held === null) return;
    const stored = parse(held);
    if (stored.a !== null) return;
    await this.#call(this.#client.set(redisKey, JSON.stringify({ f: stored.f, a: answer } satisfies Stored), 'PX', this.#ttlMs, 'XX'));
  }

  async abandon(scope: string, key: string): Promise<void> {
    await this.#call(this.#client.del(this.#keyOf(scope, key)));
  }

  close(): void {
    // The client is the backend's: it closes it.
  }

  /** The Redis key of `key` in `scope`: the scope's length first, so no two pairs meet. */
  #keyOf(scope: string, key: string): string {
    return `${this.#prefix}${scope.length}:${scope}:${key}`;
  }

  #call<T>(reply: Promise<T>): Promise<T> {
    return reply.catch((error: unknown) => {
      if (error instanceof MemkvError) throw error;
      throw new MemkvError('backend_unavailable', `the idempotency keys in Redis cannot be read or written (${(error as Error).message}); retry later`, {
        cause: error,
      });
    });
  }
}

function parse(text: string): Stored {
  const stored = JSON.parse(text) as Stored;
  if (typeof stored?.f !== 'string') throw new MemkvError('internal_server_error', 'an idempotency key in Redis holds something else');
  return stored;
}
