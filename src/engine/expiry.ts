/**
 * The expiry index: an indexed 4-ary min-heap of store slots ordered by expiry time.
 *
 * Only keys with a TTL are in it. Every operation is O(log n) and allocation-free in steady
 * state: the heap lives in typed arrays (12 bytes per indexed key, 4 bytes per slot), which
 * keeps a million TTL keys cheap for the garbage collector, and lets the store find the keys
 * that are due without scanning the keyspace.
 *
 * Why 4 children per node: reclaiming a burst of expired keys is one removal of the root after
 * another, each a sift-down from the root to a leaf. With a million keys a binary heap is 20
 * levels deep, and each level reads two children somewhere else in a 12 MB array (a cache miss
 * or two); a 4-ary heap is 10 levels deep and its four children sit in the same 32 bytes. The
 * sift-down of a million-key burst took half of the reclaim's time with two children.
 */

const INITIAL_CAPACITY = 64;
/** Children per node: node `p`'s children are at `4p + 1` to `4p + 4`, its parent at `(p - 1) >> 2`. */
const ARITY = 4;

export class ExpiryIndex {
  /** Expiry time (epoch ms) at each heap position. */
  #at = new Float64Array(INITIAL_CAPACITY);
  /** Slot at each heap position. */
  #slotAt = new Int32Array(INITIAL_CAPACITY);
  /** Heap position of each slot, or -1 when the slot has no TTL. */
  #positionOf = new Int32Array(INITIAL_CAPACITY).fill(-1);
  #length = 0;

  /** Number of indexed slots. */
  get size(): number {
    return this.#length;
  }

  /** Expiry of the soonest-expiring slot, or `Infinity` when empty. */
  get nextAt(): number {
    return this.#length === 0 ? Infinity : this.#at[0]!;
  }

  /** Slot of the soonest-expiring entry, or -1 when empty. */
  get nextSlot(): number {
    return this.#length === 0 ? -1 : this.#slotAt[0]!;
  }

  /**
   * Slot at heap `position` (0 ≤ position < size), or -1 past the end. Position 0 is the soonest;
   * positions 1 to 4 hold the next soonest. Lets eviction sample keys with a TTL uniformly.
   */
  slotAtPosition(position: number): number {
    return position < this.#length ? this.#slotAt[position]! : -1;
  }

  /** True when `slot` is indexed. */
  has(slot: number): boolean {
    return slot < this.#positionOf.length && this.#positionOf[slot]! >= 0;
  }

  /** Adds `slot` with expiry `atMs`, or moves it when it is already indexed. */
  set(slot: number, atMs: number): void {
    this.#ensureSlot(slot);
    const position = this.#positionOf[slot]!;
    if (position >= 0) {
      const previous = this.#at[position]!;
      this.#at[position] = atMs;
      if (atMs < previous) this.#up(position);
      else this.#down(position);
      return;
    }
    if (this.#length === this.#at.length) this.#growHeap();
    const end = this.#length++;
    this.#at[end] = atMs;
    this.#slotAt[end] = slot;
    this.#positionOf[slot] = end;
    this.#up(end);
  }

  /** Removes `slot` if indexed; a no-op otherwise. */
  delete(slot: number): void {
    if (slot >= this.#positionOf.length) return;
    const position = this.#positionOf[slot]!;
    if (position < 0) return;
    this.#positionOf[slot] = -1;
    const last = --this.#length;
    if (position === last) return;
    const atMs = this.#at[last]!;
    this.#place(position, atMs, this.#slotAt[last]!);
    if (position > 0 && atMs < this.#at[(position - 1) >> 2]!) this.#up(position);
    else this.#down(position);
  }

  /** Removes every entry. */
  clear(): void {
    this.#positionOf.fill(-1);
    this.#length = 0;
  }

  // ---- Heap internals ----

  #place(position: number, atMs: number, slot: number): void {
    this.#at[position] = atMs;
    this.#slotAt[position] = slot;
    this.#positionOf[slot] = position;
  }

  #up(position: number): void {
    const atMs = this.#at[position]!;
    const slot = this.#slotAt[position]!;
    while (position > 0) {
      const parent = (position - 1) >> 2;
      const parentAt = this.#at[parent]!;
      if (parentAt <= atMs) break;
      this.#place(position, parentAt, this.#slotAt[parent]!);
      position = parent;
    }
    this.#place(position, atMs, slot);
  }

  #down(position: number): void {
    const length = this.#length;
    const at = this.#at;
    const atMs = at[position]!;
    const slot = this.#slotAt[position]!;
    for (;;) {
      const first = ARITY * position + 1;
      if (first >= length) break;
      // The soonest of up to four children.
      let child = first;
      let childAt = at[first]!;
      const end = Math.min(first + ARITY, length);
      for (let next = first + 1; next < end; next++) {
        const nextAt = at[next]!;
        if (nextAt < childAt) {
          child = next;
          childAt = nextAt;
        }
      }
      if (childAt >= atMs) break;
      this.#place(position, childAt, this.#slotAt[child]!);
      position = child;
    }
    this.#place(position, atMs, slot);
  }

  #growHeap(): void {
    const capacity = this.#at.length * 2;
    const at = new Float64Array(capacity);
    at.set(this.#at);
    this.#at = at;
    const slotAt = new Int32Array(capacity);
    slotAt.set(this.#slotAt);
    this.#slotAt = slotAt;
  }

  #ensureSlot(slot: number): void {
    if (slot < this.#positionOf.length) return;
    let capacity = this.#positionOf.length * 2;
    while (capacity <= slot) capacity *= 2;
    const positionOf = new Int32Array(capacity).fill(-1);
    positionOf.set(this.#positionOf);
    this.#positionOf = positionOf;
  }
}
