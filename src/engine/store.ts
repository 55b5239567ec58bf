/**
 * The keyspace: get/set/update/remove/push/pop over strings and lists of strings, with per-key
 * TTL. No I/O, no HTTP, no process.env: time comes from an injected Clock and durability from an
 * optional journal callback.
 *
 * Data layout: a `Map` from key to slot number, and per-slot columns (value, key, and the three
 * timestamps in Float64Arrays). One object per key would cost three boxed numbers and an object
 * header per key; the columns keep a million keys compact and cheap to garbage-collect.
 */
import type { Kind, Value } from '@memkv/client/protocol';
import { MemkvError, itemNotFound as notFound, quoteKey as quote } from '../errors.js';
import { MAX_DURATION_MS } from '../units.js';
import { systemClock, type Clock } from './clock.js';
import { ExpiryIndex } from './expiry.js';
import type { Journal, Mutation } from './mutation.js';

/** A key with its value and times, as the store hands it out (a copy: safe to change). */
export type Entry =
  | (EntryBase & { kind: 'string'; value: string })
  | (EntryBase & { kind: 'string_slice'; value: string[] });

interface EntryBase {
  key: string;
  /** Absolute expiry in epoch ms, or `null` when the key never expires. */
  expiresAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** A list entry after a pop, with the element that was removed. */
export type PopResult = Entry & { kind: 'string_slice'; value: string[]; popped: string };

/** Per-call options of the writing operations. */
export interface WriteOptions {
  /** Time to live in milliseconds (> 0). Omitted: see each operation. */
  ttlMs?: number;
}

export interface StoreOptions {
  /** Time source; default the system clock. */
  clock?: Clock;
  /** TTL applied by `set` and by a `push` that creates a list, when none is given; `0` (default) = never. */
  defaultTtlMs?: number;
  /** Period of the active-expiry tick in ms; default 100 (Redis runs its cycle 10×/s). `0` disables the timer. */
  cleanupIntervalMs?: number;
  /** Longest time one active-expiry slice may run, in ms; default 2. Backlogs continue in later slices. */
  sweepSliceMs?: number;
  /** Largest key accepted, in UTF-8 bytes; default 1024. */
  maxKeyBytes?: number;
  /** Receives every mutation before it is applied; may throw to refuse it. */
  journal?: Journal;
}

export const STORE_DEFAULTS = {
  defaultTtlMs: 0,
  cleanupIntervalMs: 100,
  sweepSliceMs: 2,
  maxKeyBytes: 1024,
} as const;

const INITIAL_SLOTS = 1024;
/** Keys checked between two reads of the time during an active-expiry slice. */
const SWEEP_CHECK_EVERY = 128;

/** Creates a store. See {@link StoreOptions} for defaults. */
export function createStore(options: StoreOptions = {}): Store {
  return new Store(options);
}

export class Store {
  readonly #clock: Clock;
  readonly #defaultTtlMs: number;
  readonly #maxKeyBytes: number;
  readonly #sweepSliceMs: number;
  #journal: Journal | undefined;

  // ---- Columns, indexed by slot ----
  readonly #slots = new Map<string, number>();
  #keys: (string | undefined)[] = [];
  #values: (Value | undefined)[] = [];
  #createdAt: Float64Array = new Float64Array(INITIAL_SLOTS);
  #updatedAt: Float64Array = new Float64Array(INITIAL_SLOTS);
  /** Expiry in epoch ms; 0 = never. Mirrors the expiry index, read on every access. */
  #expiresAt: Float64Array = new Float64Array(INITIAL_SLOTS);
  readonly #freeSlots: number[] = [];
  #nextSlot = 0;

  readonly #expiry = new ExpiryIndex();
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping = false;
  #expiredCount = 0;

  constructor(options: StoreOptions = {}) {
    const {
      clock = systemClock,
      defaultTtlMs = STORE_DEFAULTS.defaultTtlMs,
      cleanupIntervalMs = STORE_DEFAULTS.cleanupIntervalMs,
      sweepSliceMs = STORE_DEFAULTS.sweepSliceMs,
      maxKeyBytes = STORE_DEFAULTS.maxKeyBytes,
      journal,
    } = options;
    if (typeof clock?.now !== 'function') throw new TypeError('clock must have a now() method');
    if (!isDuration(defaultTtlMs)) throw new TypeError('defaultTtlMs must be a number of ms >= 0 (0 = never expire)');
    if (!isDuration(cleanupIntervalMs)) throw new TypeError('cleanupIntervalMs must be a number of ms >= 0 (0 = no timer)');
    if (!(sweepSliceMs > 0)) throw new TypeError('sweepSliceMs must be a number of ms > 0');
    if (!Number.isSafeInteger(maxKeyBytes) || maxKeyBytes < 1) throw new TypeError('maxKeyBytes must be an integer >= 1');
    if (journal !== undefined && typeof journal !== 'function') throw new TypeError('journal must be a function');
    this.#clock = clock;
    this.#defaultTtlMs = Math.ceil(defaultTtlMs);
    this.#maxKeyBytes = maxKeyBytes;
    this.#sweepSliceMs = sweepSliceMs;
    this.#journal = journal;
    if (cleanupIntervalMs > 0) {
      this.#timer = setInterval(() => this.#sweepInSlices(), cleanupIntervalMs);
      this.#timer.unref();
    }
  }

  // ---- Reading ----

  /** Number of keys held, including keys whose TTL has passed but which are not yet reclaimed (as Redis DBSIZE). */
  get size(): number {
    return this.#slots.size;
  }

  /** Number of keys that currently have a TTL. */
  get volatileSize(): number {
    return this.#expiry.size;
  }

  /** Number of keys removed because their TTL passed, since the store was created. */
  get expiredCount(): number {
    return this.#expiredCount;
  }

  /** Returns a copy of the entry at `key`, or `undefined` when it is missing or expired. */
  get(key: string): Entry | undefined {
    const slot = this.#liveSlot(key, this.#clock.now());
    return slot < 0 ? undefined : this.#entry(slot);
  }

  /** True when `key` holds a live value. */
  has(key: string): boolean {
    return this.#liveSlot(key, this.#clock.now()) >= 0;
  }

  /** Remaining time to live of `key` in ms; `null` when it never expires; `undefined` when missing. */
  ttl(key: string): number | null | undefined {
    const now = this.#clock.now();
    const slot = this.#liveSlot(key, now);
    if (slot < 0) return undefined;
    const expiresAtMs = this.#expiresAt[slot]!;
    return expiresAtMs === 0 ? null : expiresAtMs - now;
  }

  /**
   * Returns a copy of the entry at `key` even when its TTL has passed, without expiring it or
   * calling the journal: for snapshots, which keep the expiry time and let replay drop the key.
   */
  peek(key: string): Entry | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#entry(slot);
  }

  /** Iterates over copies of the live entries, in no particular order. */
  *entries(): IterableIterator<Entry> {
    for (const slot of this.#slots.values()) {
      const expiresAtMs = this.#expiresAt[slot]!;
      if (expiresAtMs !== 0 && expiresAtMs <= this.#clock.now()) continue;
      yield this.#entry(slot);
    }
  }

  // ---- Writing ----

  /**
   * Creates or replaces `key`. Without `ttlMs` the store's `defaultTtlMs` applies.
   * @throws MemkvError `invalid_request` for a bad key, value or TTL.
   */
  set(key: string, value: Value, options?: WriteOptions): void {
    this.#checkKey(key);
    const stored = ownValue(value);
    const now = this.#clock.now();
    const given = this.#expiryFor(options?.ttlMs, now);
    const expiresAtMs = given < 0 ? this.#defaultExpiry(now) : given;
    if (this.#journal !== undefined) this.#journal({ type: 'set', key, value: stored, expiresAtMs, atMs: now });
    this.#applySet(key, stored, expiresAtMs, now);
  }

  /**
   * Replaces the value of an existing `key` (of either kind). Keeps the TTL unless `ttlMs` is given.
   * @throws MemkvError `item_not_found` when the key is missing or expired; `invalid_request` for bad input.
   */
  update(key: string, value: Value, options?: WriteOptions): void {
    this.#checkKey(key);
    const stored = ownValue(value);
    const now = this.#clock.now();
    const slot = this.#liveSlot(key, now);
    if (slot < 0) throw notFound(key);
    const given = this.#expiryFor(options?.ttlMs, now);
    const resolved = given < 0 ? this.#expiresAt[slot]! : given;
    if (this.#journal !== undefined) this.#journal({ type: 'update', key, value: stored, expiresAtMs: resolved, atMs: now });
    this.#applyUpdate(slot, stored, resolved, now);
  }

  /** Deletes `key`. @returns false when it was missing or expired. */
  remove(key: string): boolean {
    const slot = this.#liveSlot(key, this.#clock.now());
    if (slot < 0) return false;
    if (this.#journal !== undefined) this.#journal({ type: 'remove', key });
    this.#free(key, slot);
    return true;
  }

  /**
   * Appends one string, or several in order, to the end of the list at `key`, creating the list
   * when the key is missing (with `ttlMs`, else `defaultTtlMs`). On an existing list the TTL is
   * kept unless `ttlMs` is given.
   * @returns the entry after the push.
   * @throws MemkvError `wrong_type` when `key` holds a string; `invalid_request` for bad input.
   */
  push(key: string, values: string | readonly string[], options?: WriteOptions): Entry {
    this.#checkKey(key);
    const items = ownList(values);
    const now = this.#clock.now();
    const slot = this.#liveSlot(key, now);
    if (slot >= 0 && typeof this.#values[slot] === 'string') throw wrongType(key, 'push onto');
    const given = this.#expiryFor(options?.ttlMs, now);
    const expiresAtMs = given >= 0 ? given : slot < 0 ? this.#defaultExpiry(now) : this.#expiresAt[slot]!;
    if (this.#journal !== undefined) this.#journal({ type: 'push', key, values: items, expiresAtMs, atMs: now });
    return this.#entry(this.#applyPush(key, slot, items, expiresAtMs, now));
  }

  /**
   * Removes and returns the last element of the list at `key`. A list popped empty stays as a
   * key holding `[]`.
   * @throws MemkvError `item_not_found`, `wrong_type` (a string), `list_empty`.
   */
  pop(key: string): PopResult {
    const now = this.#clock.now();
    const slot = this.#liveSlot(key, now);
    if (slot < 0) throw notFound(key);
    const list = this.#values[slot]!;
    if (typeof list === 'string') throw wrongType(key, 'pop from');
    if (list.length === 0) throw new MemkvError('list_empty', `the list at key ${quote(key)} is empty`);
    if (this.#journal !== undefined) this.#journal({ type: 'pop', key, atMs: now });
    const popped = this.#applyPop(slot, now);
    return { ...(this.#entry(slot) as PopResult), popped };
  }

  /**
   * Sets the TTL of an existing key to `ttlMs` from now.
   * @returns false when the key is missing or expired.
   */
  expire(key: string, ttlMs: number): boolean {
    const now = this.#clock.now();
    const expiresAtMs = this.#expiryFor(ttlMs, now);
    if (expiresAtMs < 0) throw new MemkvError('invalid_request', 'ttl is required');
    return this.#setTtl(key, expiresAtMs, now);
  }

  /** Removes the TTL of `key` so that it never expires. @returns false when missing or expired. */
  persist(key: string): boolean {
    return this.#setTtl(key, 0, this.#clock.now());
  }

  /**
   * Applies a resolved mutation, as replay does: times come from the mutation, not the clock,
   * and the journal is not called. Mutations that no longer apply (a pop on a missing key) are ignored.
   */
  apply(mutation: Mutation): void {
    const slot = this.#slots.get(mutation.key) ?? -1;
    switch (mutation.type) {
      case 'set':
        this.#applySet(mutation.key, ownValue(mutation.value), mutation.expiresAtMs, mutation.atMs, slot);
        break;
      case 'update':
        if (slot >= 0) this.#applyUpdate(slot, ownValue(mutation.value), mutation.expiresAtMs, mutation.atMs);
        break;
      case 'push':
        if (slot < 0 || typeof this.#values[slot] !== 'string') {
          this.#applyPush(mutation.key, slot, ownList(mutation.values), mutation.expiresAtMs, mutation.atMs);
        }
        break;
      case 'pop': {
        const list = slot >= 0 ? this.#values[slot] : undefined;
        if (Array.isArray(list) && list.length > 0) this.#applyPop(slot, mutation.atMs);
        break;
      }
      case 'remove':
      case 'expired':
        if (slot >= 0) this.#free(mutation.key, slot);
        break;
      case 'ttl':
        if (slot >= 0) this.#applyTtl(slot, mutation.expiresAtMs, mutation.atMs);
        break;
    }
  }

  /** Replaces the journal (for example once replay has finished); `undefined` removes it. */
  setJournal(journal: Journal | undefined): void {
    this.#journal = journal;
  }

  // ---- Expiry ----

  /**
   * Removes keys whose TTL has passed, soonest first, for at most `budgetMs` milliseconds.
   * @returns the number of keys removed.
   */
  expireDue(budgetMs = Infinity): number {
    const now = this.#clock.now();
    const deadline = budgetMs === Infinity ? Infinity : performance.now() + budgetMs;
    let removed = 0;
    while (this.#expiry.nextAt <= now) {
      this.#expireSlot(this.#expiry.nextSlot);
      removed++;
      if (removed % SWEEP_CHECK_EVERY === 0 && performance.now() >= deadline) break;
    }
    return removed;
  }

  /** True when some key's TTL has passed and it has not been reclaimed yet. */
  get hasDue(): boolean {
    return this.#expiry.nextAt <= this.#clock.now();
  }

  /** Stops background work (the active-expiry timer). The data stays readable. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One tick of active expiry: slices of at most `sweepSliceMs`, yielding to the event loop between slices. */
  #sweepInSlices(): void {
    if (this.#sweeping) return;
    this.#sweeping = true;
    const slice = (): void => {
      try {
        this.expireDue(this.#sweepSliceMs);
      } catch {
        // A journal that refuses the write keeps the key; lazy expiry still hides it.
        this.#sweeping = false;
        return;
      }
      if (this.#timer !== undefined && this.hasDue) setImmediate(slice).unref();
      else this.#sweeping = false;
    };
    slice();
  }

  #expireSlot(slot: number): void {
    const key = this.#keys[slot]!;
    if (this.#journal !== undefined) this.#journal({ type: 'expired', key });
    this.#free(key, slot);
    this.#expiredCount++;
  }

  // ---- Internals ----

  /** Slot of `key` if live at `now`; expires it lazily and returns -1 when its TTL has passed. */
  #liveSlot(key: string, now: number): number {
    const slot = this.#slots.get(key);
    if (slot === undefined) return -1;
    const expiresAtMs = this.#expiresAt[slot]!;
    if (expiresAtMs !== 0 && expiresAtMs <= now) {
      this.#expireSlot(slot);
      return -1;
    }
    return slot;
  }

  /** `slot` is the key's slot when the caller has looked it up already (-1: missing). */
  #applySet(key: string, value: Value, expiresAtMs: number, now: number, slot = this.#slots.get(key) ?? -1): void {
    if (slot < 0) slot = this.#allocate(key);
    this.#values[slot] = value;
    this.#createdAt[slot] = now;
    this.#updatedAt[slot] = now;
    this.#applyExpiry(slot, expiresAtMs);
  }

  #applyUpdate(slot: number, value: Value, expiresAtMs: number, now: number): void {
    this.#values[slot] = value;
    this.#updatedAt[slot] = now;
    this.#applyExpiry(slot, expiresAtMs);
  }

  #applyPush(key: string, slot: number, items: string[], expiresAtMs: number, now: number): number {
    if (slot < 0) {
      slot = this.#allocate(key);
      this.#values[slot] = items;
      this.#createdAt[slot] = now;
    } else {
      const list = this.#values[slot] as string[];
      for (let i = 0; i < items.length; i++) list.push(items[i]!);
    }
    this.#updatedAt[slot] = now;
    this.#applyExpiry(slot, expiresAtMs);
    return slot;
  }

  #applyPop(slot: number, now: number): string {
    const popped = (this.#values[slot] as string[]).pop()!;
    this.#updatedAt[slot] = now;
    return popped;
  }

  #setTtl(key: string, expiresAtMs: number, now: number): boolean {
    const slot = this.#liveSlot(key, now);
    if (slot < 0) return false;
    if (this.#journal !== undefined) this.#journal({ type: 'ttl', key, expiresAtMs, atMs: now });
    this.#applyTtl(slot, expiresAtMs, now);
    return true;
  }

  #applyTtl(slot: number, expiresAtMs: number, now: number): void {
    this.#updatedAt[slot] = now;
    this.#applyExpiry(slot, expiresAtMs);
  }

  #applyExpiry(slot: number, expiresAtMs: number): void {
    this.#expiresAt[slot] = expiresAtMs;
    if (expiresAtMs === 0) this.#expiry.delete(slot);
    else this.#expiry.set(slot, expiresAtMs);
  }

  /** Resolves a TTL option into an absolute expiry (epoch ms); -1 when no TTL was given. */
  #expiryFor(ttlMs: number | undefined, now: number): number {
    if (ttlMs === undefined) return -1;
    if (typeof ttlMs !== 'number' || !(ttlMs > 0) || ttlMs > MAX_DURATION_MS) {
      throw new MemkvError('invalid_request', `ttl must be a positive duration of at most ${MAX_DURATION_MS} ms`);
    }
    return now + Math.ceil(ttlMs);
  }

  /** Expiry of a key created now without an explicit TTL. */
  #defaultExpiry(now: number): number {
    return this.#defaultTtlMs > 0 ? now + this.#defaultTtlMs : 0;
  }

  #allocate(key: string): number {
    let slot = this.#freeSlots.pop();
    if (slot === undefined) {
      slot = this.#nextSlot++;
      if (slot === this.#createdAt.length) this.#growColumns();
    }
    this.#slots.set(key, slot);
    this.#keys[slot] = key;
    return slot;
  }

  #free(key: string, slot: number): void {
    this.#slots.delete(key);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    if (this.#expiresAt[slot] !== 0) {
      this.#expiresAt[slot] = 0;
      this.#expiry.delete(slot);
    }
    this.#freeSlots.push(slot);
  }

  #growColumns(): void {
    const capacity = this.#createdAt.length * 2;
    this.#createdAt = grown(this.#createdAt, capacity);
    this.#updatedAt = grown(this.#updatedAt, capacity);
    this.#expiresAt = grown(this.#expiresAt, capacity);
  }

  #entry(slot: number): Entry {
    const value = this.#values[slot]!;
    const expiresAtMs = this.#expiresAt[slot]!;
    const base = {
      key: this.#keys[slot]!,
      expiresAtMs: expiresAtMs === 0 ? null : expiresAtMs,
      createdAtMs: this.#createdAt[slot]!,
      updatedAtMs: this.#updatedAt[slot]!,
    };
    return typeof value === 'string'
      ? { ...base, kind: 'string', value }
      : { ...base, kind: 'string_slice', value: value.slice() };
  }

  #checkKey(key: string): void {
    if (typeof key !== 'string' || key.length === 0) {
      throw new MemkvError('invalid_request', 'key must be a non-empty string');
    }
    // A UTF-16 code unit is at most 3 UTF-8 bytes, so short keys need no byte count.
    if (key.length * 3 > this.#maxKeyBytes && utf8Length(key) > this.#maxKeyBytes) {
      throw new MemkvError('invalid_request', `key is longer than ${this.#maxKeyBytes} bytes`);
    }
  }
}

// ---- Helpers ----

/** Kind of a value as the API names it. */
export function kindOf(value: Value): Kind {
  return typeof value === 'string' ? 'string' : 'string_slice';
}

/** Validates a value and returns a copy the store can own. */
function ownValue(value: unknown): Value {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return ownStrings(value);
  throw new MemkvError('invalid_request', 'value must be a string or an array of strings');
}

function ownList(values: unknown): string[] {
  if (typeof values === 'string') return [values];
  if (Array.isArray(values)) {
    if (values.length === 0) throw new MemkvError('invalid_request', 'value must hold at least one string to push');
    return ownStrings(values);
  }
  throw new MemkvError('invalid_request', 'value must be a string or an array of strings');
}

function ownStrings(values: readonly unknown[]): string[] {
  const copy = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const item = values[i];
    if (typeof item !== 'string') throw new MemkvError('invalid_request', 'value must be a string or an array of strings');
    copy[i] = item;
  }
  return copy;
}

function isDuration(ms: unknown): ms is number {
  return typeof ms === 'number' && ms >= 0 && ms <= MAX_DURATION_MS;
}

function grown(column: Float64Array, capacity: number): Float64Array {
  const next = new Float64Array(capacity);
  next.set(column);
  return next;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function wrongType(key: string, action: string): MemkvError {
  return new MemkvError('wrong_type', `cannot ${action} key ${quote(key)}: it holds a string, not a list`);
}
