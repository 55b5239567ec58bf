/**
 * Eviction: the policies MAX_MEMORY can use, and the choice of the key each one evicts next.
 *
 * As in Redis, LRU is approximated by sampling: each eviction looks at a few random keys and
 * keeps the least recently used it has seen in a small pool, so that the store needs one access
 * tick per slot and no linked list per key. `volatile-ttl` needs no sampling: the expiry index
 * already knows the soonest-expiring key. The store removes the victim; this module only reads.
 */
import { EVICTION_POLICIES, type EvictionPolicy } from '@memkv/client/protocol';
import type { ExpiryIndex } from './expiry.js';
import type { KeyIndex } from './key-index.js';

export { EVICTION_POLICIES, type EvictionPolicy };

/** Number of candidates the pool keeps between evictions (Redis's EVPOOL_SIZE). */
export const EVICTION_POOL_SIZE = 16;

/** Random probes per sampled key before the sampler falls back to a linear walk (sparse slots). */
const SAMPLE_PROBES = 4;

/** True when `value` names a policy. */
export function isEvictionPolicy(value: unknown): value is EvictionPolicy {
  return (EVICTION_POLICIES as readonly unknown[]).includes(value);
}

/** True for the policies that need the per-slot access tick. */
export function isLruPolicy(policy: EvictionPolicy): boolean {
  return policy === 'allkeys-lru' || policy === 'volatile-lru';
}

/**
 * The best eviction candidates seen so far, least recently used last. A candidate is a slot with
 * the key and access tick it had when sampled; the sampler checks both before choosing it, since the
 * key may have been read, removed or replaced since. Allocation-free after construction.
 */
export class EvictionPool {
  readonly #slots = new Int32Array(EVICTION_POOL_SIZE);
  readonly #ticks = new Float64Array(EVICTION_POOL_SIZE);
  readonly #keys: (string | undefined)[] = new Array<string | undefined>(EVICTION_POOL_SIZE);
  #length = 0;

  /** Number of candidates held. */
  get size(): number {
    return this.#length;
  }

  /** Slot of the least recently used candidate (call only when `size > 0`). */
  get bestSlot(): number {
    return this.#slots[this.#length - 1]!;
  }

  /** Key the best candidate held when sampled. */
  get bestKey(): string {
    return this.#keys[this.#length - 1]!;
  }

  /** Access tick of the best candidate when sampled. */
  get bestTick(): number {
    return this.#ticks[this.#length - 1]!;
  }

  /** Removes the best candidate. */
  dropBest(): void {
    this.#keys[--this.#length] = undefined;
  }

  /** Offers a sampled candidate; kept when the pool has room or it is older than the newest held. */
  offer(slot: number, key: string, tick: number): void {
    for (let i = 0; i < this.#length; i++) {
      if (this.#slots[i] === slot && this.#keys[i] === key) {
        if (this.#ticks[i] === tick) return;
        this.#removeAt(i);
        break;
      }
    }
    if (this.#length === EVICTION_POOL_SIZE) {
      // Sorted newest first: the candidate must be older than position 0 to earn a place.
      if (tick >= this.#ticks[0]!) return;
      this.#removeAt(0);
    }
    let position = this.#length;
    while (position > 0 && this.#ticks[position - 1]! < tick) {
      this.#move(position - 1, position);
      position--;
    }
    this.#slots[position] = slot;
    this.#ticks[position] = tick;
    this.#keys[position] = key;
    this.#length++;
  }

  /** Forgets every candidate. */
  clear(): void {
    this.#keys.fill(undefined);
    this.#length = 0;
  }

  #removeAt(position: number): void {
    for (let i = position; i < this.#length - 1; i++) this.#move(i + 1, i);
    this.#keys[--this.#length] = undefined;
  }

  #move(from: number, to: number): void {
    this.#slots[to] = this.#slots[from]!;
    this.#ticks[to] = this.#ticks[from]!;
    this.#keys[to] = this.#keys[from];
  }
}

/**
 * What the sampler reads of the store's keyspace. The indexes are the store's own objects; the
 * columns are read through functions because the store replaces them as they grow.
 */
export interface EvictionKeyspace {
  /** Key of each slot (`undefined` for a free one) and the number of keys. */
  readonly keys: Pick<KeyIndex, 'keyOf' | 'size'>;
  /** The keys with a TTL, dense by heap position. */
  readonly expiry: Pick<ExpiryIndex, 'size' | 'slotAtPosition'>;
  /** Slots handed out so far: every live slot is below it. */
  slotCount(): number;
  /** Access tick of `slot` (kept only under the LRU policies). */
  accessTick(slot: number): number;
  /** Expiry of `slot` in epoch ms, `0` for never. */
  expiresAtMs(slot: number): number;
}

/**
 * Picks the slot the store evicts next under one policy. Runs only when a write would pass
 * MAX_MEMORY; allocation-free after construction.
 */
export class EvictionSampler {
  readonly #policy: EvictionPolicy;
  readonly #samples: number;
  readonly #random: () => number;
  readonly #keyspace: EvictionKeyspace;
  readonly #pool = new EvictionPool();

  /**
   * @param samples keys sampled per eviction by the LRU and random policies (the store checks the range).
   * @param random numbers in [0, 1).
   */
  constructor(policy: EvictionPolicy, samples: number, random: () => number, keyspace: EvictionKeyspace) {
    this.#policy = policy;
    this.#samples = samples;
    this.#random = random;
    this.#keyspace = keyspace;
  }

  /** The slot the policy evicts next, never `protectedSlot` (-1 for none); -1 when there is no candidate. */
  pickVictim(protectedSlot: number): number {
    switch (this.#policy) {
      case 'volatile-ttl':
        return this.#soonestExpiring(protectedSlot);
      case 'allkeys-random':
        return this.#sampleSlot(false, protectedSlot);
      default:
        return this.#leastRecentlyUsed(this.#policy === 'volatile-lru', protectedSlot);
    }
  }

  /** Forgets the pooled candidates (after a flush, which starts the slots afresh). */
  clear(): void {
    this.#pool.clear();
  }

  /** The heap root, or the sooner of its children when the root is the key being written. */
  #soonestExpiring(protectedSlot: number): number {
    const expiry = this.#keyspace.expiry;
    const first = expiry.slotAtPosition(0);
    if (first !== protectedSlot) return first;
    const left = expiry.slotAtPosition(1);
    const right = expiry.slotAtPosition(2);
    if (right < 0) return left;
    return this.#keyspace.expiresAtMs(left) <= this.#keyspace.expiresAtMs(right) ? left : right;
  }

  /** Sampled LRU: refill the pool with a few random keys, then take its oldest still-valid candidate. */
  #leastRecentlyUsed(volatileOnly: boolean, protectedSlot: number): number {
    const pool = this.#pool;
    const keyspace = this.#keyspace;
    const keys = keyspace.keys;
    for (let attempt = 0; attempt < 2; attempt++) {
      for (let i = 0; i < this.#samples; i++) {
        const slot = this.#sampleSlot(volatileOnly, protectedSlot);
        if (slot < 0) break;
        pool.offer(slot, keys.keyOf(slot)!, keyspace.accessTick(slot));
      }
      while (pool.size > 0) {
        const slot = pool.bestSlot;
        const valid =
          slot !== protectedSlot &&
          keys.keyOf(slot) === pool.bestKey &&
          keyspace.accessTick(slot) === pool.bestTick &&
          (!volatileOnly || keyspace.expiresAtMs(slot) !== 0);
        pool.dropBest();
        if (valid) return slot;
      }
    }
    return -1;
  }

  /**
   * A random live slot other than `protectedSlot` (with a TTL when `volatileOnly`), or -1 when
   * there is none. Keys with a TTL are dense in the expiry heap; other slots may be sparse, so
   * after a few missed probes it walks from a random start.
   */
  #sampleSlot(volatileOnly: boolean, protectedSlot: number): number {
    if (volatileOnly) {
      const expiry = this.#keyspace.expiry;
      const size = expiry.size;
      if (size === 0 || (size === 1 && expiry.slotAtPosition(0) === protectedSlot)) return -1;
      for (let probe = 0; probe < SAMPLE_PROBES; probe++) {
        const slot = expiry.slotAtPosition(Math.floor(this.#random() * size));
        if (slot !== protectedSlot) return slot;
      }
      // Only the protected slot came up: one of the first two positions is another key.
      const first = expiry.slotAtPosition(0);
      return first !== protectedSlot ? first : expiry.slotAtPosition(1);
    }
    const keys = this.#keyspace.keys;
    const end = this.#keyspace.slotCount();
    if (keys.size - (protectedSlot < 0 ? 0 : 1) <= 0) return -1;
    for (let probe = 0; probe < SAMPLE_PROBES; probe++) {
      const slot = Math.floor(this.#random() * end);
      if (slot !== protectedSlot && keys.keyOf(slot) !== undefined) return slot;
    }
    const start = Math.floor(this.#random() * end);
    for (let i = 0; i < end; i++) {
      const slot = (start + i) % end;
      if (slot !== protectedSlot && keys.keyOf(slot) !== undefined) return slot;
    }
    return -1;
  }
}
