/**
 * The key index: key -> slot, as a fixed set of `Map`s chosen by a cheap hash of a few
 * characters of the key, with the subset of the `Map` API the store uses.
 *
 * Why not one `Map`: V8 rehashes a Map into a smaller table when deletions leave it a quarter
 * full, in one step. With a million keys expiring in the same second, that single rehash of the
 * half a million survivors blocked the event loop for about 30 ms. Spread over 64 Maps, each
 * rehash touches about 1/64 of the keys (well under a millisecond), and a lookup costs a few
 * character reads more. Keys that agree on every sampled character share one Map, which is never
 * worse than a single Map.
 */

const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
const MASK = SHARDS - 1;

export class KeyIndex {
  readonly #shards: Map<string, number>[] = Array.from({ length: SHARDS }, () => new Map<string, number>());
  #size = 0;

  /** Number of keys. */
  get size(): number {
    return this.#size;
  }

  /** Slot of `key`, or `undefined`. */
  get(key: string): number | undefined {
    return this.#shards[shardOf(key)]!.get(key);
  }

  /** Maps `key` to `slot`. */
  set(key: string, slot: number): void {
    const shard = this.#shards[shardOf(key)]!;
    const before = shard.size;
    shard.set(key, slot);
    this.#size += shard.size - before;
  }

  /** Removes `key`. @returns whether it was there. */
  delete(key: string): boolean {
    if (!this.#shards[shardOf(key)]!.delete(key)) return false;
    this.#size--;
    return true;
  }

  /** Every slot, shard by shard. */
  *values(): IterableIterator<number> {
    for (const shard of this.#shards) yield* shard.values();
  }

  /** Every `[key, slot]`, shard by shard. Deleting the current key while iterating is safe, as with a Map. */
  *[Symbol.iterator](): IterableIterator<[string, number]> {
    for (const shard of this.#shards) yield* shard;
  }
}

/** A shard number from the length and five characters spread over the key (ends vary most). */
function shardOf(key: string): number {
  const n = key.length;
  let h = Math.imul(n, 0x9e3779b1);
  h = Math.imul(h ^ key.charCodeAt(n - 1), 0x85ebca6b);
  h = Math.imul(h ^ key.charCodeAt(n - 2), 0xc2b2ae35);
  h = Math.imul(h ^ key.charCodeAt(n - 3), 0x27d4eb2f);
  h = Math.imul(h ^ key.charCodeAt(n >> 1), 0x165667b1);
  h = Math.imul(h ^ key.charCodeAt(n >> 2), 0x9e3779b1);
  return (h ^ (h >>> 15) ^ (h >>> 23)) & MASK;
}
