/**
 * The key index: key -> slot, and the key of each slot. An open-addressing hash table (linear
 * probing, backward-shift deletion, so no tombstones) of slot numbers in Int32Arrays, split into
 * 64 shards by the top bits of a seeded 32-bit hash of the whole key. The hash of each slot's
 * key is kept in a column beside the keys, so that probing compares integers and reads a key
 * string only when the hashes match.
 *
 * Why not a `Map`: V8's Map (an OrderedHashMap) compares a lookup against each entry of its
 * chain by reading the entry's key string, which lives anywhere in the heap: with a million
 * keys, each insert of a new key cost two or three cache misses, and replay of a million keys
 * spent 40% of its time there. Here a miss reads the table and the hash column (a few MiB,
 * mostly in cache). With the hash column, the index takes about 10 to 20 bytes per key where
 * the Map took 28 to 56.
 *
 * Why shards: a table grows or shrinks by rehashing, in one step. A shard holds 1/64 of the
 * keys, so that step stays well under a millisecond at millions of keys (with one table it
 * would block the event loop for tens of ms; V8's Map rehash of half a million keys took 30 ms).
 *
 * The hash is seeded per process, as V8 seeds its own string hash, so that keys colliding on
 * purpose cannot simply be computed offline. It is a fast mixing hash, not a keyed
 * cryptographic one (SipHash would cost more on every lookup).
 */

const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
const SHARD_SHIFT = 32 - SHARD_BITS;
/** Smallest table of a shard (a power of two). */
const MIN_TABLE = 16;
/** A free table position. */
const EMPTY = -1;

export class KeyIndex {
  readonly #seed: number;
  /** Per shard: the table of slot numbers (EMPTY where free); its length is a power of two. */
  readonly #tables: Int32Array[] = [];
  /** Per shard: number of keys. */
  readonly #counts = new Int32Array(SHARDS);
  /** Key of each slot; `undefined` for a free slot. */
  #keys: (string | undefined)[] = [];
  /** Hash of the key of each slot. */
  #hashes = new Int32Array(MIN_TABLE);
  #size = 0;
  /**
   * The probe of the last `get()` that missed: `add()` of that key right after it (nothing
   * changed in between) reuses the hash and the free position instead of probing again.
   */
  #missKey: string | undefined;
  #missHash = 0;
  #missPosition = 0;

  /** @param seed seed of the hash; default a random one. */
  constructor(seed: number = (Math.random() * 2 ** 32) | 0) {
    this.#seed = seed | 0;
    for (let shard = 0; shard < SHARDS; shard++) this.#tables.push(new Int32Array(MIN_TABLE).fill(EMPTY));
  }

  /** Number of keys. */
  get size(): number {
    return this.#size;
  }

  /** Key held at `slot`, or `undefined` when the slot is free. */
  keyOf(slot: number): string | undefined {
    return this.#keys[slot];
  }

  /** Slot of `key`, or -1. */
  get(key: string): number {
    const hash = hashKey(key, this.#seed);
    const table = this.#tables[hash >>> SHARD_SHIFT]!;
    const mask = table.length - 1;
    const hashes = this.#hashes;
    const keys = this.#keys;
    for (let position = hash & mask; ; position = (position + 1) & mask) {
      const slot = table[position]!;
      if (slot === EMPTY) {
        this.#missKey = key;
        this.#missHash = hash;
        this.#missPosition = position;
        return -1;
      }
      if (hashes[slot] === hash && keys[slot] === key) return slot;
    }
  }

  /** Maps `key`, which must not be in the index, to `slot`, which must be free. */
  add(key: string, slot: number): void {
    let hash: number;
    let position: number;
    if (key === this.#missKey) {
      hash = this.#missHash;
      position = this.#missPosition;
    } else {
      hash = hashKey(key, this.#seed);
      position = freePosition(this.#tables[hash >>> SHARD_SHIFT]!, hash);
    }
    this.#missKey = undefined;
    if (slot >= this.#hashes.length) this.#growHashes(slot);
    const shard = hash >>> SHARD_SHIFT;
    const table = this.#tables[shard]!;
    table[position] = slot;
    this.#keys[slot] = key;
    this.#hashes[slot] = hash;
    this.#size++;
    // Grown at 3/4 full: linear probing stays short below that.
    if (++this.#counts[shard]! * 4 > table.length * 3) this.#resize(shard, table.length * 2);
  }

  /** Removes the key held at `slot`, if any. */
  delete(slot: number): void {
    if (this.#keys[slot] === undefined) return;
    this.#missKey = undefined;
    const hashes = this.#hashes;
    const hash = hashes[slot]!;
    const shard = hash >>> SHARD_SHIFT;
    const table = this.#tables[shard]!;
    const mask = table.length - 1;
    let hole = hash & mask;
    while (table[hole] !== slot) hole = (hole + 1) & mask;
    // Backward shift: move each later entry of the run into the hole when the hole lies between
    // its home position and where it is, so that every lookup still finds it without tombstones.
    for (let position = (hole + 1) & mask; ; position = (position + 1) & mask) {
      const other = table[position]!;
      if (other === EMPTY) break;
      const home = hashes[other]! & mask;
      if (((position - home) & mask) >= ((position - hole) & mask)) {
        table[hole] = other;
        hole = position;
      }
    }
    table[hole] = EMPTY;
    this.#keys[slot] = undefined;
    this.#size--;
    // Shrunk at 1/8 full, so that the tables give memory back after a mass expiry.
    if (--this.#counts[shard]! * 8 < table.length && table.length > MIN_TABLE) this.#resize(shard, table.length / 2);
  }

  /** Removes every key and gives the memory back. */
  clear(): void {
    this.#missKey = undefined;
    for (let shard = 0; shard < SHARDS; shard++) this.#tables[shard] = new Int32Array(MIN_TABLE).fill(EMPTY);
    this.#counts.fill(0);
    this.#keys = [];
    this.#hashes = new Int32Array(MIN_TABLE);
    this.#size = 0;
  }

  #resize(shard: number, capacity: number): void {
    const old = this.#tables[shard]!;
    const table = new Int32Array(capacity).fill(EMPTY);
    const hashes = this.#hashes;
    for (let i = 0; i < old.length; i++) {
      const slot = old[i]!;
      if (slot !== EMPTY) table[freePosition(table, hashes[slot]!)] = slot;
    }
    this.#tables[shard] = table;
  }

  #growHashes(slot: number): void {
    let capacity = this.#hashes.length * 2;
    while (capacity <= slot) capacity *= 2;
    const hashes = new Int32Array(capacity);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
  }
}

/** First free position of the run that starts at `hash`'s home in `table`. */
function freePosition(table: Int32Array, hash: number): number {
  const mask = table.length - 1;
  let position = hash & mask;
  while (table[position] !== EMPTY) position = (position + 1) & mask;
  return position;
}

/**
 * A seeded 32-bit hash of every UTF-16 unit of `key`: FNV-1a steps, then MurmurHash3's
 * finalizer so that the low bits (the position) and the top bits (the shard) both vary.
 */
function hashKey(key: string, seed: number): number {
  const n = key.length;
  let h = seed ^ n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
