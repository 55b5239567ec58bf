/**
 * The keyspace: get/set/update/remove/push/pop over strings and lists of strings, with per-key
 * TTL. No I/O, no HTTP, no process.env: time comes from an injected Clock and durability from an
 * optional journal callback.
 *
 * Data layout: a key index (key-index.ts: a hash table of slot numbers, which also holds each slot's key) from key to slot number, and per-slot columns (value and the three
 * timestamps in Float64Arrays). One object per key would cost three boxed numbers and an object
 * header per key; the columns keep a million keys compact and cheap to garbage-collect.
 */
import type { Kind, Value } from '@memkv/client/protocol';
import { MemkvError, itemNotFound as notFound, quoteKey as quote } from '../errors.js';
import { MAX_DURATION_MS } from '../units.js';
import { KEY_OVERHEAD_BYTES, entryBytes, listBytes, LIST_ITEM_OVERHEAD_BYTES } from './accounting.js';
import { systemClock, type Clock } from './clock.js';
import { EVICTION_POLICIES, EvictionSampler, isEvictionPolicy, isLruPolicy, type EvictionPolicy } from './eviction.js';
import { ExpiryIndex } from './expiry.js';
import { KeyIndex } from './key-index.js';
import type { Change, ChangeListener, ChangeOp } from './change.js';
import type { Journal, KeyMutation, KeyState, Mutation } from './mutation.js';
import type { TxnCheck, TxnOp, TxnOpResult, TxnResult } from './txn.js';

/** A key with its value and times, as the store hands it out (a copy: safe to change). */
export type Entry =
  | (EntryBase & { kind: 'string'; value: string })
  | (EntryBase & { kind: 'string_slice'; value: string[] });

interface EntryBase {
  key: string;
  /** The revision of the key's last write (see {@link Store.revision}). */
  version: number;
  /** Absolute expiry in epoch ms, or `null` when the key never expires. */
  expiresAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** A list entry after a pop, with the element that was removed. */
export type PopResult = Entry & { kind: 'string_slice'; value: string[]; popped: string };

/**
 * A list entry without its elements: its `length` instead of `value`. Built without copying the
 * list, so it costs the same for one element as for millions (see `pushSummary`, `popSummary`).
 */
export type ListSummary = EntryBase & { kind: 'string_slice'; length: number };

/** A list summary after a pop, with the element that was removed. */
export type PopSummary = ListSummary & { popped: string };

/** A slice of a list (`range`): its elements from `start` to `stop`, and the whole list's `length`. */
export type RangeResult = ListSummary & { value: string[] };

/** The expiry of a key: absolute epoch ms, or `null` when it never expires. */
export interface KeyExpiry {
  key: string;
  expiresAtMs: number | null;
  version: number;
}

/**
 * Conditions a write needs on the key's version, else it fails with `precondition_failed` and
 * changes nothing (optimistic concurrency, as HTTP's If-Match and If-None-Match).
 */
export interface Preconditions {
  /** The key's version must be this; `null`: the key must be missing. */
  ifVersion?: number | null | undefined;
  /** The key must be missing (If-None-Match: *). */
  ifAbsent?: boolean | undefined;
  /** The key must exist, whatever its version (If-Match: *). */
  ifExists?: boolean | undefined;
}

/** Per-call options of the writing operations. */
export interface WriteOptions extends Preconditions {
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
  /** Receives every mutation before it is applied, with its key's prior state; may throw to refuse it. */
  journal?: Journal;
  /**
   * Limit on the accounted data bytes (see accounting.ts); `0` (default) = unlimited. A write that
   * would pass it evicts keys first, or fails with `out_of_memory` when the policy frees nothing.
   */
  maxMemoryBytes?: number;
  /** What to evict when a write would pass `maxMemoryBytes`; default `noeviction`. */
  evictionPolicy?: EvictionPolicy;
  /** Keys sampled per eviction by the LRU and random policies; default 5 (Redis's maxmemory-samples). */
  evictionSamples?: number;
  /** Random numbers in [0, 1) for eviction sampling; default `Math.random`. Tests pass a seeded one. */
  random?: () => number;
  /** Called after each eviction with the evicted key (the store itself never logs). */
  onEvict?: (key: string) => void;
}

export const STORE_DEFAULTS = {
  defaultTtlMs: 0,
  cleanupIntervalMs: 100,
  sweepSliceMs: 2,
  maxKeyBytes: 1024,
  maxMemoryBytes: 0,
  evictionPolicy: 'noeviction',
  evictionSamples: 5,
} as const;

/** The operations the store counts calls of, as `stats().commands` names them. */
export const STORE_OPERATIONS = ['get', 'set', 'update', 'remove', 'push', 'pop', 'range', 'ttl', 'expire', 'persist', 'scan', 'flush'] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

// Indexes into the counters, one per STORE_OPERATIONS entry.
const OP_GET = STORE_OPERATIONS.indexOf('get');
const OP_SET = STORE_OPERATIONS.indexOf('set');
const OP_UPDATE = STORE_OPERATIONS.indexOf('update');
const OP_REMOVE = STORE_OPERATIONS.indexOf('remove');
const OP_PUSH = STORE_OPERATIONS.indexOf('push');
const OP_POP = STORE_OPERATIONS.indexOf('pop');
const OP_RANGE = STORE_OPERATIONS.indexOf('range');
const OP_TTL = STORE_OPERATIONS.indexOf('ttl');
const OP_EXPIRE = STORE_OPERATIONS.indexOf('expire');
const OP_PERSIST = STORE_OPERATIONS.indexOf('persist');
const OP_SCAN = STORE_OPERATIONS.indexOf('scan');
const OP_FLUSH = STORE_OPERATIONS.indexOf('flush');

/** Counters and sizes of a store at one moment, for stats and metrics. */
export interface StoreStats {
  keys: number;
  /** Keys with a TTL. */
  volatileKeys: number;
  /** Accounted data bytes (keys, values, per-key overhead). */
  dataBytes: number;
  /** The limit on `dataBytes`; `0` = unlimited. */
  maxMemoryBytes: number;
  evictionPolicy: EvictionPolicy;
  /** `get` calls that found a live key. */
  hits: number;
  /** `get` calls that found nothing. */
  misses: number;
  expired: number;
  evicted: number;
  /** Calls per operation since the store was created. */
  commands: Record<StoreOperation, number>;
}

/** One page of {@link Store.scan}. */
export interface ScanPage {
  keys: string[];
  /** Slot to continue from, or `null` when every slot has been visited. */
  nextSlot: number | null;
}

/** Options of {@link Store.scan}. */
export interface ScanOptions {
  /** Only keys that start with this text; default all keys. */
  prefix?: string;
  /** Most keys returned (≥ 1). */
  limit: number;
}

/** Slots a scan visits per key it may return (and at least {@link SCAN_MIN_SLOTS}): bounds the work of one page. */
const SCAN_SLOTS_PER_KEY = 10;
const SCAN_MIN_SLOTS = 1000;

const INITIAL_SLOTS = 1024;
/** Keys checked between two reads of the time during an active-expiry slice. */
const SWEEP_CHECK_EVERY = 16;

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
  /** `Infinity` when unlimited, so that the hot-path check is one comparison. */
  readonly #maxMemoryBytes: number;
  readonly #policy: EvictionPolicy;
  readonly #onEvict: ((key: string) => void) | undefined;
  /** Computed once: only the LRU policies pay for access ticks. */
  readonly #trackAccess: boolean;

  // ---- Columns, indexed by slot ----
  /** Key -> slot, and the key of each slot. */
  readonly #index = new KeyIndex();
  #values: (Value | undefined)[] = [];
  #createdAt: Float64Array = new Float64Array(INITIAL_SLOTS);
  #updatedAt: Float64Array = new Float64Array(INITIAL_SLOTS);
  /** Expiry in epoch ms; 0 = never. Mirrors the expiry index, read on every access. */
  #expiresAt: Float64Array = new Float64Array(INITIAL_SLOTS);
  /** Accounted bytes of each entry (accounting.ts). */
  #bytes: Float64Array = new Float64Array(INITIAL_SLOTS);
  /** Version of each key: the revision of its last write. */
  #versions: Float64Array = new Float64Array(INITIAL_SLOTS);
  /** Access tick of each slot; allocated only for the LRU policies. */
  #accessedAt: Float64Array;
  /**
   * Stack of freed slots, sized with the columns: a JS array here would grow by copying in the
   * middle of an expiry burst (a 10 ms pause at 900,000 freed slots).
   */
  #freeSlots: Int32Array = new Int32Array(INITIAL_SLOTS);
  #freeCount = 0;
  /** Invariant: a key keeps its slot until removed, which is what makes scan cursors stable. */
  #nextSlot = 0;

  // ---- Accounting and counters ----
  #dataBytes = 0;
  /** Bytes counted toward the limit outside the keyspace (holdBytes). */
  #heldBytes = 0;
  #accessTick = 0;
  #hits = 0;
  #misses = 0;
  #evictedCount = 0;
  readonly #opCounts = new Float64Array(STORE_OPERATIONS.length);
  /** Picks eviction victims (eviction.ts); reads the columns through the view given in the constructor. */
  readonly #eviction: EvictionSampler;

  readonly #expiry = new ExpiryIndex();
  /** The revision of the last change: every change takes the next one (a transaction's changes share one). */
  #revision = 0;
  /** While a transaction runs: its revision, and its changes, reported once it has applied whole. */
  #txnRevision = 0;
  #txnChanges: Change[] | undefined;
  #onChange: ChangeListener | undefined;
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
      maxMemoryBytes = STORE_DEFAULTS.maxMemoryBytes,
      evictionPolicy = STORE_DEFAULTS.evictionPolicy,
      evictionSamples = STORE_DEFAULTS.evictionSamples,
      random = Math.random,
      onEvict,
    } = options;
    if (typeof clock?.now !== 'function') throw new TypeError('clock must have a now() method');
    if (!isDuration(defaultTtlMs)) throw new TypeError('defaultTtlMs must be a number of ms >= 0 (0 = never expire)');
    if (!isDuration(cleanupIntervalMs)) throw new TypeError('cleanupIntervalMs must be a number of ms >= 0 (0 = no timer)');
    if (!(sweepSliceMs > 0)) throw new TypeError('sweepSliceMs must be a number of ms > 0');
    if (!Number.isSafeInteger(maxKeyBytes) || maxKeyBytes < 1) throw new TypeError('maxKeyBytes must be an integer >= 1');
    if (journal !== undefined && typeof journal !== 'function') throw new TypeError('journal must be a function');
    if (!Number.isSafeInteger(maxMemoryBytes) || maxMemoryBytes < 0) throw new TypeError('maxMemoryBytes must be an integer >= 0 (0 = unlimited)');
    if (!isEvictionPolicy(evictionPolicy)) throw new TypeError(`evictionPolicy must be one of ${EVICTION_POLICIES.join(', ')}`);
    if (!Number.isSafeInteger(evictionSamples) || evictionSamples < 1 || evictionSamples > 1024) {
      throw new TypeError('evictionSamples must be an integer from 1 to 1024');
    }
    if (typeof random !== 'function') throw new TypeError('random must be a function');
    if (onEvict !== undefined && typeof onEvict !== 'function') throw new TypeError('onEvict must be a function');
    this.#maxMemoryBytes = maxMemoryBytes === 0 ? Infinity : maxMemoryBytes;
    this.#policy = evictionPolicy;
    this.#onEvict = onEvict;
    this.#trackAccess = isLruPolicy(evictionPolicy);
    this.#accessedAt = new Float64Array(this.#trackAccess ? INITIAL_SLOTS : 0);
    // The columns are replaced as they grow and on flush: the sampler reads them through these.
    this.#eviction = new EvictionSampler(evictionPolicy, evictionSamples, random, {
      keys: this.#index,
      expiry: this.#expiry,
      slotCount: () => this.#nextSlot,
      accessTick: (slot) => this.#accessedAt[slot]!,
      expiresAtMs: (slot) => this.#expiresAt[slot]!,
    });
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
    return this.#index.size;
  }

  /** The database's revision: that of its last change (0 for a new database). Never goes backwards. */
  get revision(): number {
    return this.#revision;
  }

  /** Reports every change applied from now on (not replay's) to `listener`; `undefined` stops it. */
  setChangeListener(listener: ChangeListener | undefined): void {
    this.#onChange = listener;
  }

  /** Number of keys that currently have a TTL. */
  get volatileSize(): number {
    return this.#expiry.size;
  }

  /** Number of keys removed because their TTL passed, since the store was created. */
  get expiredCount(): number {
    return this.#expiredCount;
  }

  /** Number of keys removed by the eviction policy, since the store was created. */
  get evictedCount(): number {
    return this.#evictedCount;
  }

  /** Accounted bytes of the data held (see accounting.ts); what `maxMemoryBytes` limits. */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  /** A snapshot of the store's sizes and counters. */
  stats(): StoreStats {
    const commands = {} as Record<StoreOperation, number>;
    for (let i = 0; i < STORE_OPERATIONS.length; i++) commands[STORE_OPERATIONS[i]!] = this.#opCounts[i]!;
    return {
      keys: this.#index.size,
      volatileKeys: this.#expiry.size,
      dataBytes: this.#dataBytes,
      maxMemoryBytes: this.#maxMemoryBytes === Infinity ? 0 : this.#maxMemoryBytes,
      evictionPolicy: this.#policy,
      hits: this.#hits,
      misses: this.#misses,
      expired: this.#expiredCount,
      evicted: this.#evictedCount,
      commands,
    };
  }

  /** Returns a copy of the entry at `key`, or `undefined` when it is missing or expired. */
  get(key: string): Entry | undefined {
    this.#opCounts[OP_GET]!++;
    const slot = this.#liveSlot(key, this.#clock.now());
    if (slot < 0) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    return this.#entry(slot);
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
   * The expiry of `key` as an absolute time, or `undefined` when it is missing or expired.
   * Counted as a `ttl`.
   */
  expiry(key: string): KeyExpiry | undefined {
    this.#opCounts[OP_TTL]!++;
    const slot = this.#liveSlot(key, this.#clock.now());
    if (slot < 0) return undefined;
    const expiresAtMs = this.#expiresAt[slot]!;
    return { key, expiresAtMs: expiresAtMs === 0 ? null : expiresAtMs, version: this.#versions[slot]! };
  }

  /** The version of `key`, or `null` when it is missing or expired. */
  version(key: string): number | null {
    const slot = this.#liveSlot(key, this.#clock.now());
    return slot < 0 ? null : this.#versions[slot]!;
  }

  /**
   * The elements of the list at `key` from index `start` to `stop`, both inclusive, with Redis
   * `LRANGE` semantics: negative indexes count from the end (-1 is the last element), indexes
   * past either end are clamped, and `start` after `stop` gives no element. O(elements answered).
   * @throws MemkvError `item_not_found`, `wrong_type` (a string).
   */
  range(key: string, start: number, stop: number): RangeResult {
    this.#opCounts[OP_RANGE]!++;
    const slot = this.#liveSlot(key, this.#clock.now());
    if (slot < 0) throw notFound(key);
    const list = this.#values[slot]!;
    if (typeof list === 'string') throw wrongType(key, 'read a range of');
    const length = list.length;
    let from = start < 0 ? length + start : start;
    let to = stop < 0 ? length + stop : stop;
    if (from < 0) from = 0;
    if (to >= length) to = length - 1;
    const result = this.#summary(slot) as RangeResult;
    result.value = from > to ? [] : list.slice(from, to + 1);
    return result;
  }

  /**
   * Lists live keys in slot order, starting at slot `fromSlot` (0 for a new listing), for
   * cursor-based iteration. One call visits a bounded number of slots, so a page may hold fewer
   * than `limit` keys, even none, while `nextSlot` is not null. Since a key keeps its slot until
   * removed, a key present during a whole iteration is returned exactly once; keys added or
   * removed meanwhile may or may not appear. Does not expire keys (a listing never writes).
   */
  scan(fromSlot: number, { prefix = '', limit }: ScanOptions): ScanPage {
    this.#opCounts[OP_SCAN]!++;
    if (!Number.isSafeInteger(fromSlot) || fromSlot < 0) throw new TypeError('fromSlot must be an integer >= 0');
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('limit must be an integer >= 1');
    const now = this.#clock.now();
    const end = Math.min(this.#nextSlot, fromSlot + Math.max(SCAN_MIN_SLOTS, limit * SCAN_SLOTS_PER_KEY));
    const keys: string[] = [];
    let slot = fromSlot;
    for (; slot < end && keys.length < limit; slot++) {
      const key = this.#index.keyOf(slot);
      if (key === undefined || (prefix !== '' && !key.startsWith(prefix))) continue;
      const expiresAtMs = this.#expiresAt[slot]!;
      if (expiresAtMs !== 0 && expiresAtMs <= now) continue;
      keys.push(key);
    }
    return { keys, nextSlot: slot < this.#nextSlot ? slot : null };
  }

  /**
   * Returns a copy of the entry at `key` even when its TTL has passed, without expiring it or
   * calling the journal: for snapshots, which keep the expiry time and let replay drop the key.
   */
  peek(key: string): Entry | undefined {
    const slot = this.#index.get(key);
    return slot < 0 ? undefined : this.#entry(slot);
  }

  /** Iterates over copies of the live entries, in no particular order. */
  *entries(): IterableIterator<Entry> {
    // By slot, as scan(): a key keeps its slot for life, so writes between two steps of the
    // iteration neither repeat nor skip the keys present all along.
    for (let slot = 0; slot < this.#nextSlot; slot++) {
      if (this.#index.keyOf(slot) === undefined) continue;
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
  set(key: string, value: Value, options?: WriteOptions): number {
    this.#opCounts[OP_SET]!++;
    this.#checkKey(key);
    const stored = ownValue(value);
    const now = this.#clock.now();
    const given = this.#expiryFor(options?.ttlMs, now);
    const expiresAtMs = given < 0 ? this.#defaultExpiry(now) : given;
    if (options !== undefined && hasPreconditions(options)) this.#check(key, this.#liveSlot(key, now), options);
    let slot = this.#index.get(key);
    const bytes = entryBytes(key, stored);
    this.#reserve(slot < 0 ? bytes : bytes - this.#bytes[slot]!, slot);
    const revision = this.#nextRevision();
    if (this.#journal !== undefined) {
      this.#journal({ type: 'set', revision, key, value: stored, expiresAtMs, atMs: now }, this.#stateOf(key, slot));
    }
    slot = this.#applySet(key, slot, stored, bytes, expiresAtMs, now);
    this.#committed(slot, revision);
    if (this.#onChange !== undefined) this.#changed('set', key, this.#entry(slot));
    return revision;
  }

  /**
   * Replaces the value of an existing `key` (of either kind). Keeps the TTL unless `ttlMs` is given.
   * @throws MemkvError `item_not_found` when the key is missing or expired; `invalid_request` for bad input.
   */
  update(key: string, value: Value, options?: WriteOptions): number {
    this.#opCounts[OP_UPDATE]!++;
    this.#checkKey(key);
    const stored = ownValue(value);
    const now = this.#clock.now();
    const slot = this.#liveSlot(key, now);
    if (options !== undefined && hasPreconditions(options)) this.#check(key, slot, options);
    if (slot < 0) throw notFound(key);
    const given = this.#expiryFor(options?.ttlMs, now);
    const resolved = given < 0 ? this.#expiresAt[slot]! : given;
    const bytes = entryBytes(key, stored);
    this.#reserve(bytes - this.#bytes[slot]!, slot);
    const revision = this.#nextRevision();
    if (this.#journal !== undefined) {
      this.#journal({ type: 'update', revision, key, value: stored, expiresAtMs: resolved, atMs: now }, this.#stateOf(key, slot));
    }
    this.#applyUpdate(slot, stored, bytes, resolved, now);
    this.#committed(slot, revision);
    if (this.#onChange !== undefined) this.#changed('update', key, this.#entry(slot));
    return revision;
  }

  /** Deletes `key`. @returns the revision of the removal, or 0 when the key was missing or expired. */
  remove(key: string, options?: Preconditions): number {
    this.#opCounts[OP_REMOVE]!++;
    const slot = this.#liveSlot(key, this.#clock.now());
    if (options !== undefined && hasPreconditions(options)) this.#check(key, slot, options);
    if (slot < 0) return 0;
    const revision = this.#nextRevision();
    if (this.#journal !== undefined) this.#journal({ type: 'remove', revision, key }, this.#stateOf(key, slot));
    this.#free(slot);
    this.#committed(-1, revision);
    if (this.#onChange !== undefined) this.#changed('remove', key, undefined);
    return revision;
  }

  /**
   * Appends one string, or several in order, to the end of the list at `key`, creating the list
   * when the key is missing (with `ttlMs`, else `defaultTtlMs`). On an existing list the TTL is
   * kept unless `ttlMs` is given.
   * @returns the entry after the push (with a copy of the whole list: O(list length); see
   *   `pushSummary` for O(1)).
   * @throws MemkvError `wrong_type` when `key` holds a string; `invalid_request` for bad input.
   */
  push(key: string, values: string | readonly string[], options?: WriteOptions): Entry {
    return this.#entry(this.#push(key, values, options));
  }

  /**
   * `push`, answering the list's length instead of a copy of its elements: O(elements pushed),
   * whatever the length of the list. Counted as a `push`.
   */
  pushSummary(key: string, values: string | readonly string[], options?: WriteOptions): ListSummary {
    return this.#summary(this.#push(key, values, options));
  }

  /** The body of `push` and `pushSummary`. @returns the list's slot. */
  #push(key: string, values: string | readonly string[], options: WriteOptions | undefined): number {
    this.#opCounts[OP_PUSH]!++;
    this.#checkKey(key);
    const items = ownList(values);
    const now = this.#clock.now();
    const slot = this.#liveSlot(key, now);
    if (options !== undefined && hasPreconditions(options)) this.#check(key, slot, options);
    if (slot >= 0 && typeof this.#values[slot] === 'string') throw wrongType(key, 'push onto');
    const given = this.#expiryFor(options?.ttlMs, now);
    const expiresAtMs = given >= 0 ? given : slot < 0 ? this.#defaultExpiry(now) : this.#expiresAt[slot]!;
    const addedBytes = listBytes(items);
    this.#reserve(slot < 0 ? KEY_OVERHEAD_BYTES + key.length + addedBytes : addedBytes, slot);
    const revision = this.#nextRevision();
    if (this.#journal !== undefined) this.#journal({ type: 'push', revision, key, values: items, expiresAtMs, atMs: now }, this.#stateOf(key, slot));
    // A new list is `items` itself: the change reports a copy.
    const pushed = this.#onChange === undefined ? undefined : slot < 0 ? items.slice() : items;
    const at = this.#applyPush(key, slot, items, addedBytes, expiresAtMs, now);
    this.#committed(at, revision);
    if (pushed !== undefined) this.#changed('push', key, this.#summary(at), pushed);
    return at;
  }

  /**
   * Removes and returns the last element of the list at `key`. A list popped empty stays as a
   * key holding `[]`.
   * @returns the entry after the pop (with a copy of the whole list: O(list length); see
   *   `popSummary` for O(1)) and `popped`.
   * @throws MemkvError `item_not_found`, `wrong_type` (a string), `list_empty`.
   */
  pop(key: string, options?: Preconditions): PopResult {
    return this.#pop(key, false, options) as PopResult;
  }

  /** `pop`, answering the list's length instead of a copy of its elements: O(1). Counted as a `pop`. */
  popSummary(key: string, options?: Preconditions): PopSummary {
    return this.#pop(key, true, options) as PopSummary;
  }

  /** The body of `pop` and `popSummary`. */
  #pop(key: string, summary: boolean, options: Preconditions | undefined): PopResult | PopSummary {
    this.#opCounts[OP_POP]!++;
    const now = this.#clock.now();
    const slot = this.#liveSlot(key, now);
    if (options !== undefined && hasPreconditions(options)) this.#check(key, slot, options);
    if (slot < 0) throw notFound(key);
    const list = this.#values[slot]!;
    if (typeof list === 'string') throw wrongType(key, 'pop from');
    if (list.length === 0) throw new MemkvError('list_empty', `the list at key ${quote(key)} is empty`);
    const revision = this.#nextRevision();
    if (this.#journal !== undefined) this.#journal({ type: 'pop', revision, key, atMs: now }, this.#stateOf(key, slot));
    const popped = this.#applyPop(slot, now);
    this.#committed(slot, revision);
    if (this.#onChange !== undefined) this.#changed('pop', key, this.#summary(slot), undefined, popped);
    // A fresh object either way: no second one for `popped`.
    const result = (summary ? this.#summary(slot) : this.#entry(slot)) as PopResult | PopSummary;
    result.popped = popped;
    return result;
  }

  /**
   * Sets the TTL of an existing key to `ttlMs` from now.
   * @returns false when the key is missing or expired.
   */
  expire(key: string, ttlMs: number, options?: Preconditions): boolean {
    this.#opCounts[OP_EXPIRE]!++;
    const now = this.#clock.now();
    const expiresAtMs = this.#expiryFor(ttlMs, now);
    if (expiresAtMs < 0) throw new MemkvError('invalid_request', 'ttl is required');
    return this.#setTtl(key, expiresAtMs, now, options);
  }

  /** Removes the TTL of `key` so that it never expires. @returns false when missing or expired. */
  persist(key: string, options?: Preconditions): boolean {
    this.#opCounts[OP_PERSIST]!++;
    return this.#setTtl(key, 0, this.#clock.now(), options);
  }

  /**
   * Sets the TTL of an existing key to `ttlMs` from now, or removes it (`null`: never expire),
   * as `expire` and `persist` do, and answers the new expiry.
   * @returns the key's expiry after the change, or `undefined` when the key is missing or expired.
   */
  setTtl(key: string, ttlMs: number | null, options?: Preconditions): KeyExpiry | undefined {
    if (!(ttlMs === null ? this.persist(key, options) : this.expire(key, ttlMs, options))) return undefined;
    const slot = this.#index.get(key);
    const expiresAtMs = this.#expiresAt[slot]!;
    return { key, expiresAtMs: expiresAtMs === 0 ? null : expiresAtMs, version: this.#versions[slot]! };
  }

  /**
   * Applies a resolved mutation, as replay does: times come from the mutation, not the clock,
   * and the journal is not called. Mutations that no longer apply (a pop on a missing key) are ignored.
   */
  apply(mutation: Mutation): void {
    // A record of a log of format 1 has no revision: it gets the next one.
    const revision = mutation.revision > 0 ? mutation.revision : this.#revision + 1;
    switch (mutation.type) {
      case 'txn':
        for (const each of mutation.mutations) this.#applyKey(each, revision);
        break;
      case 'flush':
        this.#clear();
        break;
      case 'revision':
        break;
      default:
        this.#applyKey(mutation, revision);
    }
    if (revision > this.#revision) this.#revision = revision;
  }

  /** `apply` of one key's mutation, which gives the key `revision` as its version. */
  #applyKey(mutation: KeyMutation, revision: number): void {
    let slot = this.#index.get(mutation.key);
    switch (mutation.type) {
      case 'set': {
        const value = ownValue(mutation.value);
        slot = this.#applySet(mutation.key, slot, value, entryBytes(mutation.key, value), mutation.expiresAtMs, mutation.atMs);
        break;
      }
      case 'update':
        if (slot >= 0) {
          const value = ownValue(mutation.value);
          this.#applyUpdate(slot, value, entryBytes(mutation.key, value), mutation.expiresAtMs, mutation.atMs);
        }
        break;
      case 'push':
        if (slot < 0 || typeof this.#values[slot] !== 'string') {
          const items = ownList(mutation.values);
          slot = this.#applyPush(mutation.key, slot, items, listBytes(items), mutation.expiresAtMs, mutation.atMs);
        }
        break;
      case 'pop': {
        const list = slot >= 0 ? this.#values[slot] : undefined;
        if (Array.isArray(list) && list.length > 0) this.#applyPop(slot, mutation.atMs);
        break;
      }
      case 'remove':
      case 'expired':
        if (slot >= 0) this.#free(slot);
        return;
      case 'ttl':
        if (slot >= 0) this.#applyTtl(slot, mutation.expiresAtMs, mutation.atMs);
        break;
    }
    if (slot >= 0) this.#versions[slot] = revision;
  }

  /**
   * Removes every key, each through the journal as a `remove`, so that a replayed log ends empty
   * too. Counters (hits, expired, …) are kept. @returns the number of keys removed.
   */
  flush(): number {
    this.#opCounts[OP_FLUSH]!++;
    const removed = this.#index.size;
    const revision = this.#nextRevision();
    if (this.#journal !== undefined) {
      const states: KeyState[] = [];
      for (let slot = 0; slot < this.#nextSlot; slot++) {
        const key = this.#index.keyOf(slot);
        if (key !== undefined) states.push(this.#stateOf(key, slot));
      }
      this.#journal({ type: 'flush', revision, key: '' }, states);
    }
    this.#clear();
    this.#committed(-1, revision);
    if (this.#onChange !== undefined) this.#changed('flush', '', undefined);
    return removed;
  }

  /** Removes every key; the columns start afresh, so that a flush returns their memory. */
  #clear(): void {
    this.#index.clear();
    this.#values = [];
    this.#freeSlots = new Int32Array(INITIAL_SLOTS);
    this.#freeCount = 0;
    this.#nextSlot = 0;
    this.#createdAt = new Float64Array(INITIAL_SLOTS);
    this.#updatedAt = new Float64Array(INITIAL_SLOTS);
    this.#expiresAt = new Float64Array(INITIAL_SLOTS);
    this.#bytes = new Float64Array(INITIAL_SLOTS);
    this.#versions = new Float64Array(INITIAL_SLOTS);
    if (this.#trackAccess) this.#accessedAt = new Float64Array(INITIAL_SLOTS);
    this.#expiry.clear();
    this.#eviction.clear();
    this.#dataBytes = 0;
  }

  /**
   * Undoes journaled mutations: puts back `states`, the `previous` states the journal received
   * with each of them, latest first. A list changed in place gets its length back: elements
   * pushed since are cut off, and the element a pop took (its last one) is pushed back. Not
   * journaled; counters stay.
   */
  restoreKeys(states: readonly KeyState[]): void {
    for (let i = states.length - 1; i >= 0; i--) {
      const state = states[i]!;
      let slot = this.#index.get(state.key);
      const value = state.value;
      if (value === undefined) {
        if (slot >= 0) this.#free(slot);
        continue;
      }
      if (slot < 0) slot = this.#allocate(state.key);
      if (typeof value !== 'string') {
        if (value.length > state.length) value.length = state.length;
        else if (value.length < state.length) value.push(state.last!);
      }
      this.#values[slot] = value;
      this.#dataBytes += state.bytes - this.#bytes[slot]!;
      this.#bytes[slot] = state.bytes;
      this.#createdAt[slot] = state.createdAtMs;
      this.#updatedAt[slot] = state.updatedAtMs;
      this.#versions[slot] = state.version;
      this.#applyExpiry(slot, state.expiresAtMs);
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

  // ---- Memory held outside the keyspace ----

  /**
   * Counts `deltaBytes` held outside the keyspace (kept idempotent answers) toward
   * `maxMemoryBytes`; a negative delta releases them. Room for a positive one is made by evicting
   * keys per the policy (held bytes themselves are never evicted); when none can be made it
   * throws `out_of_memory` and counts nothing, unless `force`, which counts it anyway (memory
   * then passes the limit until it is released, and writes that grow the data are refused).
   */
  holdBytes(deltaBytes: number, force = false): void {
    if (deltaBytes > 0 && this.#dataBytes + this.#heldBytes + deltaBytes > this.#maxMemoryBytes) {
      try {
        this.#makeRoom(deltaBytes, -1);
      } catch (error) {
        if (!force) throw error;
      }
    }
    this.#heldBytes += deltaBytes;
  }

  /** Bytes held outside the keyspace (see {@link holdBytes}); they count toward `maxMemoryBytes`. */
  get heldBytes(): number {
    return this.#heldBytes;
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
    const key = this.#index.keyOf(slot)!;
    const revision = this.#nextRevision();
    if (this.#journal !== undefined) this.#journal({ type: 'expired', revision, key }, this.#stateOf(key, slot));
    this.#free(slot);
    this.#committed(-1, revision);
    this.#expiredCount++;
    if (this.#onChange !== undefined) this.#changed('expire', key, undefined);
  }

  // ---- Memory limit and eviction ----

  /**
   * Makes room for a write that changes the accounted bytes by `deltaBytes`, before it is
   * journaled. A write that frees or keeps bytes always passes, so removes, pops and shrinking
   * updates work over the limit. `protectedSlot` (the key being written, or -1) is never evicted.
   */
  #reserve(deltaBytes: number, protectedSlot: number): void {
    if (deltaBytes <= 0 || this.#dataBytes + this.#heldBytes + deltaBytes <= this.#maxMemoryBytes) return;
    this.#makeRoom(deltaBytes, protectedSlot);
  }

  #makeRoom(deltaBytes: number, protectedSlot: number): void {
    const max = this.#maxMemoryBytes;
    const keptBytes = protectedSlot < 0 ? 0 : this.#bytes[protectedSlot]!;
    // Evicting everything else would not be enough: fail before losing any key.
    if (this.#policy === 'noeviction' || keptBytes + this.#heldBytes + deltaBytes > max) throw this.#outOfMemory(deltaBytes);
    while (this.#dataBytes + this.#heldBytes + deltaBytes > max) {
      const victim = this.#eviction.pickVictim(protectedSlot);
      if (victim < 0) throw this.#outOfMemory(deltaBytes);
      this.#evict(victim);
    }
  }

  #outOfMemory(deltaBytes: number): MemkvError {
    const max = this.#maxMemoryBytes;
    const reason =
      this.#policy === 'noeviction'
        ? 'the eviction policy is noeviction'
        : `the eviction policy ${this.#policy} found nothing more to evict`;
    return new MemkvError(
      'out_of_memory',
      `out of memory: the write needs ${deltaBytes} more bytes, ${this.#dataBytes + this.#heldBytes} of the limit of ${max} bytes are used ` +
        `and ${reason}; remove keys, or raise MAX_MEMORY or choose an evicting EVICTION_POLICY`,
    );
  }

  /** Removes the key at `slot` as the policy's choice: journaled as a remove, counted, reported. */
  #evict(slot: number): void {
    const key = this.#index.keyOf(slot)!;
    const revision = this.#nextRevision();
    if (this.#journal !== undefined) this.#journal({ type: 'remove', revision, key }, this.#stateOf(key, slot));
    this.#free(slot);
    this.#committed(-1, revision);
    this.#evictedCount++;
    if (this.#onEvict !== undefined) this.#onEvict(key);
    if (this.#onChange !== undefined) this.#changed('evict', key, undefined);
  }

  // ---- Internals ----

  /** Slot of `key` if live at `now`; expires it lazily and returns -1 when its TTL has passed. */
  #liveSlot(key: string, now: number): number {
    const slot = this.#index.get(key);
    if (slot < 0) return -1;
    const expiresAtMs = this.#expiresAt[slot]!;
    if (expiresAtMs !== 0 && expiresAtMs <= now) {
      this.#expireSlot(slot);
      return -1;
    }
    if (this.#trackAccess) this.#accessedAt[slot] = ++this.#accessTick;
    return slot;
  }

  /**
   * The state of `key`, at `slot` or missing (-1), for the journal before a mutation is applied.
   * Called only when a journal is set, so a store without one allocates nothing for it.
   */
  #stateOf(key: string, slot: number): KeyState {
    if (slot < 0) return { key, value: undefined, length: 0, last: undefined, createdAtMs: 0, updatedAtMs: 0, expiresAtMs: 0, bytes: 0, version: 0 };
    const value = this.#values[slot]!;
    const isList = typeof value !== 'string';
    return {
      key,
      value,
      length: isList ? value.length : 0,
      last: isList ? value[value.length - 1] : undefined,
      createdAtMs: this.#createdAt[slot]!,
      updatedAtMs: this.#updatedAt[slot]!,
      expiresAtMs: this.#expiresAt[slot]!,
      bytes: this.#bytes[slot]!,
      version: this.#versions[slot]!,
    };
  }

  /** @returns the key's slot. */
  #applySet(key: string, slot: number, value: Value, bytes: number, expiresAtMs: number, now: number): number {
    if (slot < 0) slot = this.#allocate(key);
    else if (this.#trackAccess) this.#accessedAt[slot] = ++this.#accessTick;
    this.#dataBytes += bytes - this.#bytes[slot]!;
    this.#bytes[slot] = bytes;
    this.#values[slot] = value;
    this.#createdAt[slot] = now;
    this.#updatedAt[slot] = now;
    this.#applyExpiry(slot, expiresAtMs);
    return slot;
  }

  #applyUpdate(slot: number, value: Value, bytes: number, expiresAtMs: number, now: number): void {
    this.#dataBytes += bytes - this.#bytes[slot]!;
    this.#bytes[slot] = bytes;
    this.#values[slot] = value;
    this.#updatedAt[slot] = now;
    this.#applyExpiry(slot, expiresAtMs);
  }

  #applyPush(key: string, slot: number, items: string[], addedBytes: number, expiresAtMs: number, now: number): number {
    if (slot < 0) {
      slot = this.#allocate(key);
      this.#values[slot] = items;
      this.#createdAt[slot] = now;
      addedBytes += KEY_OVERHEAD_BYTES + key.length;
    } else {
      const list = this.#values[slot] as string[];
      for (let i = 0; i < items.length; i++) list.push(items[i]!);
    }
    this.#bytes[slot]! += addedBytes;
    this.#dataBytes += addedBytes;
    this.#updatedAt[slot] = now;
    this.#applyExpiry(slot, expiresAtMs);
    return slot;
  }

  #applyPop(slot: number, now: number): string {
    const popped = (this.#values[slot] as string[]).pop()!;
    const freed = popped.length + LIST_ITEM_OVERHEAD_BYTES;
    this.#bytes[slot]! -= freed;
    this.#dataBytes -= freed;
    this.#updatedAt[slot] = now;
    return popped;
  }

  #setTtl(key: string, expiresAtMs: number, now: number, options: Preconditions | undefined): boolean {
    const slot = this.#liveSlot(key, now);
    if (options !== undefined && hasPreconditions(options)) this.#check(key, slot, options);
    if (slot < 0) return false;
    const revision = this.#nextRevision();
    if (this.#journal !== undefined) this.#journal({ type: 'ttl', revision, key, expiresAtMs, atMs: now }, this.#stateOf(key, slot));
    this.#applyTtl(slot, expiresAtMs, now);
    this.#committed(slot, revision);
    if (this.#onChange !== undefined) this.#changed('ttl', key, this.#entry(slot));
    return true;
  }

  // ---- Revisions, preconditions, changes ----

  /** The revision the next change takes: the running transaction's, else the one after the last. */
  #nextRevision(): number {
    return this.#txnRevision > 0 ? this.#txnRevision : this.#revision + 1;
  }

  /** Records a change applied under `revision`: the key at `slot` (-1 for none left) gets it as its version. */
  #committed(slot: number, revision: number): void {
    if (slot >= 0) this.#versions[slot] = revision;
    if (this.#txnRevision === 0) this.#revision = revision;
  }

  /** Reports a change to the listener, or keeps it for the end of the running transaction. */
  #changed(op: ChangeOp, key: string, entry: Entry | ListSummary | undefined, values?: readonly string[], popped?: string): void {
    const pending = this.#txnChanges;
    // One shape for every change (no optional fields added on the way): this runs on every write.
    const change: Change = { revision: pending === undefined ? this.#revision : this.#txnRevision, index: 0, count: 1, op, key, entry, values, popped };
    if (pending !== undefined) pending.push(change);
    else this.#onChange!(change);
  }

  /** Throws `precondition_failed` unless the key (live at `slot`, or missing: -1) meets `options`. */
  #check(key: string, slot: number, options: Preconditions): void {
    const current = slot < 0 ? null : this.#versions[slot]!;
    const { ifVersion, ifAbsent, ifExists } = options;
    if ((ifVersion !== undefined && ifVersion !== current) || (ifAbsent === true && current !== null) || (ifExists === true && current === null)) {
      throw preconditionFailed(key, current, options);
    }
  }

  // ---- Transactions ----

  /**
   * Applies `ops` together if every check holds: no other call sees a partial state, the keys
   * written get one revision, the journal receives one `txn` mutation, and the change listener
   * hears the changes only once all applied. An op that fails undoes the ones before it.
   * @throws MemkvError `txn_conflict` (with the failed checks) before anything applies; an op's
   *   own error (with `details.op`, its index) after undoing the transaction.
   */
  txn(checks: readonly TxnCheck[], ops: readonly TxnOp[]): TxnResult {
    const now = this.#clock.now();
    let conflicts: { key: string; version: number | null }[] | undefined;
    for (const check of checks) {
      const slot = this.#liveSlot(check.key, now);
      const current = slot < 0 ? null : this.#versions[slot]!;
      if (current !== check.version) (conflicts ??= []).push({ key: check.key, version: current });
    }
    if (conflicts !== undefined) {
      throw new MemkvError('txn_conflict', `${conflicts.length} of the transaction's checks failed (${conflicts.map(({ key }) => quote(key)).join(', ')}); nothing was applied`, {
        details: { conflicts },
      });
    }
    if (this.#txnRevision > 0) throw new TypeError('a transaction cannot run inside another');
    const journal = this.#journal;
    const mutations: KeyMutation[] = [];
    const states: KeyState[] = [];
    const revision = this.#revision + 1;
    const changes: Change[] = [];
    // The ops journal into these: one record for all, and the states to undo a failed op.
    this.#journal = (mutation, previous) => {
      mutations.push(mutation as KeyMutation);
      states.push(previous as KeyState);
    };
    this.#txnRevision = revision;
    this.#txnChanges = changes;
    const results: TxnOpResult[] = [];
    let index = 0;
    try {
      for (; index < ops.length; index++) results.push(this.#txnOp(ops[index]!));
      if (journal !== undefined && mutations.length > 0) journal({ type: 'txn', revision, key: '', mutations }, states);
    } catch (error) {
      this.#journal = journal;
      this.#txnRevision = 0;
      this.#txnChanges = undefined;
      this.restoreKeys(states);
      if (error instanceof MemkvError && index < ops.length) {
        throw new MemkvError(error.code, `op ${index} (${ops[index]!.op} ${quote(ops[index]!.key)}): ${error.message}; nothing was applied`, {
          details: { ...error.details, op: index },
        });
      }
      throw error;
    }
    this.#journal = journal;
    this.#txnRevision = 0;
    this.#txnChanges = undefined;
    if (mutations.length > 0) this.#revision = revision;
    const listener = this.#onChange;
    if (listener !== undefined) {
      for (let i = 0; i < changes.length; i++) listener({ ...changes[i]!, index: i, count: changes.length });
    }
    return { version: mutations.length > 0 ? revision : this.#revision, results };
  }

  #txnOp(op: TxnOp): TxnOpResult {
    const { key } = op;
    switch (op.op) {
      case 'set':
        return { op: 'set', key, version: this.set(key, op.value, { ttlMs: op.ttlMs }) };
      case 'update':
        return { op: 'update', key, version: this.update(key, op.value, { ttlMs: op.ttlMs }) };
      case 'push': {
        const summary = this.pushSummary(key, op.values, { ttlMs: op.ttlMs });
        return { op: 'push', key, version: summary.version, length: summary.length };
      }
      case 'pop': {
        const summary = this.popSummary(key);
        return { op: 'pop', key, version: summary.version, length: summary.length, popped: summary.popped };
      }
      case 'remove':
        if (this.remove(key) === 0) throw notFound(key);
        return { op: 'remove', key, version: null };
      case 'ttl': {
        const expiry = this.setTtl(key, op.ttlMs);
        if (expiry === undefined) throw notFound(key);
        return { op: 'ttl', key, version: expiry.version };
      }
    }
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
    let slot: number;
    if (this.#freeCount > 0) slot = this.#freeSlots[--this.#freeCount]!;
    else {
      slot = this.#nextSlot++;
      if (slot === this.#createdAt.length) this.#growColumns();
    }
    this.#index.add(key, slot);
    this.#bytes[slot] = 0;
    if (this.#trackAccess) this.#accessedAt[slot] = ++this.#accessTick;
    return slot;
  }

  #free(slot: number): void {
    this.#index.delete(slot);
    this.#values[slot] = undefined;
    this.#dataBytes -= this.#bytes[slot]!;
    this.#bytes[slot] = 0;
    if (this.#expiresAt[slot] !== 0) {
      this.#expiresAt[slot] = 0;
      this.#expiry.delete(slot);
    }
    this.#freeSlots[this.#freeCount++] = slot;
  }

  #growColumns(): void {
    const capacity = this.#createdAt.length * 2;
    this.#createdAt = grown(this.#createdAt, capacity);
    this.#updatedAt = grown(this.#updatedAt, capacity);
    this.#expiresAt = grown(this.#expiresAt, capacity);
    this.#bytes = grown(this.#bytes, capacity);
    this.#versions = grown(this.#versions, capacity);
    if (this.#trackAccess) this.#accessedAt = grown(this.#accessedAt, capacity);
    const freeSlots = new Int32Array(capacity);
    freeSlots.set(this.#freeSlots);
    this.#freeSlots = freeSlots;
  }

  /** A copy of the entry at `slot`, built as one object (this runs on every read). */
  #entry(slot: number): Entry {
    const value = this.#values[slot]!;
    const expiresAtMs = this.#expiresAt[slot]!;
    return typeof value === 'string'
      ? {
          key: this.#index.keyOf(slot)!,
          version: this.#versions[slot]!,
          expiresAtMs: expiresAtMs === 0 ? null : expiresAtMs,
          createdAtMs: this.#createdAt[slot]!,
          updatedAtMs: this.#updatedAt[slot]!,
          kind: 'string',
          value,
        }
      : {
          key: this.#index.keyOf(slot)!,
          version: this.#versions[slot]!,
          expiresAtMs: expiresAtMs === 0 ? null : expiresAtMs,
          createdAtMs: this.#createdAt[slot]!,
          updatedAtMs: this.#updatedAt[slot]!,
          kind: 'string_slice',
          value: value.slice(),
        };
  }

  /** The entry at `slot`, a list, with its length in place of a copy of its elements. */
  #summary(slot: number): ListSummary {
    const expiresAtMs = this.#expiresAt[slot]!;
    return {
      key: this.#index.keyOf(slot)!,
      version: this.#versions[slot]!,
      expiresAtMs: expiresAtMs === 0 ? null : expiresAtMs,
      createdAtMs: this.#createdAt[slot]!,
      updatedAtMs: this.#updatedAt[slot]!,
      kind: 'string_slice',
      length: (this.#values[slot] as string[]).length,
    };
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

function hasPreconditions(options: Preconditions): boolean {
  return options.ifVersion !== undefined || options.ifAbsent === true || options.ifExists === true;
}

function preconditionFailed(key: string, current: number | null, options: Preconditions): MemkvError {
  const wanted =
    options.ifAbsent === true || options.ifVersion === null
      ? 'to be missing'
      : options.ifExists === true && options.ifVersion === undefined
        ? 'to exist'
        : `at version ${options.ifVersion}`;
  const found = current === null ? 'it is missing' : `its version is ${current}`;
  return new MemkvError('precondition_failed', `the write needs key ${quote(key)} ${wanted}, but ${found}`, { details: { version: current } });
}

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
