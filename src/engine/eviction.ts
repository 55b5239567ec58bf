/**
 * Eviction: the policies MAX_MEMORY can use, and the candidate pool of sampled LRU eviction.
 *
 * As in Redis, LRU is approximated by sampling: each eviction looks at a few random keys and
 * keeps the least recently used it has seen in a small pool, so that the store needs one access
 * tick per slot and no linked list per key. `volatile-ttl` needs no sampling: the expiry index
 * already knows the soonest-expiring key.
 */
import { EVICTION_POLICIES, type EvictionPolicy } from '@memkv/client/protocol';

export { EVICTION_POLICIES, type EvictionPolicy };

/** Number of candidates the pool keeps between evictions (Redis's EVPOOL_SIZE). */
export const EVICTION_POOL_SIZE = 16;

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
 * the key and access tick it had when sampled; the store checks both before evicting, since the
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
