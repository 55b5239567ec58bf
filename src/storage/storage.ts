/**
 * The storage interface the commands run against (src/commands/). Every method may answer a
 * value or a promise of it: the embedded store (the engine, storage/memory.ts) answers values,
 * synchronously, and pays nothing for the promise; a backend in another process answers promises.
 * Absence is a value (`undefined`); misuse is a thrown (or rejected) MemkvError.
 */
import type { Entry, KeyExpiry, ListSummary, PopResult, PopSummary, Preconditions, RangeResult, WriteOptions } from '../engine/store.js';
import type { TxnCheck, TxnOp, TxnOpResult, TxnResult } from '../engine/txn.js';
import type { Value } from '@memkv/client/protocol';

export type { Entry, KeyExpiry, ListSummary, PopResult, PopSummary, Preconditions, RangeResult, TxnCheck, TxnOp, TxnOpResult, TxnResult, Value, WriteOptions };

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** What a storage backend offers the commands; see the store's methods for each one's contract. */
export interface Storage {
  /** The entry at `key`, or undefined when it is missing or expired. */
  get(key: string): MaybePromise<Entry | undefined>;
  /**
   * Creates or replaces `key`. @returns its new version. Every write checks `options`'
   * preconditions first, and fails with `precondition_failed` (details: the current version).
   */
  set(key: string, value: Value, options?: WriteOptions): MaybePromise<number>;
  /** Replaces the value of an existing key; `item_not_found` otherwise. The TTL is kept unless given. @returns its new version. */
  update(key: string, value: Value, options?: WriteOptions): MaybePromise<number>;
  /** Removes `key`. @returns the revision of the removal; 0 when it was missing. */
  remove(key: string, options?: Preconditions): MaybePromise<number>;
  /** Appends to the list at `key` (created when missing); answers the whole list. */
  push(key: string, values: string | readonly string[], options?: WriteOptions): MaybePromise<Entry>;
  /** `push`, answering the list's length instead of its elements. */
  pushSummary(key: string, values: string | readonly string[], options?: WriteOptions): MaybePromise<ListSummary>;
  /** Removes the last element of the list at `key`; answers the list and the element. */
  pop(key: string, options?: Preconditions): MaybePromise<PopResult>;
  /** `pop`, answering the list's length instead of its elements. */
  popSummary(key: string, options?: Preconditions): MaybePromise<PopSummary>;
  /** Elements `start` to `stop` of the list at `key` (Redis LRANGE semantics). */
  range(key: string, start: number, stop: number): MaybePromise<RangeResult>;
  /** The expiry of `key`, or undefined when it is missing or expired. */
  expiry(key: string): MaybePromise<KeyExpiry | undefined>;
  /** Sets (ms from now) or removes (`null`) the TTL of an existing key; undefined when it is missing. */
  setTtl(key: string, ttlMs: number | null, options?: Preconditions): MaybePromise<KeyExpiry | undefined>;
  /**
   * If every check holds, applies `ops` together under one revision (all or nothing).
   * @throws MemkvError `txn_conflict` (details: `conflicts`), or an op's error (details: `op`, its index).
   */
  txn(checks: readonly TxnCheck[], ops: readonly TxnOp[]): MaybePromise<TxnResult>;
}

// ---- The database as a whole (the /db routes) ----

/**
 * One page of a key listing. `cursor` continues it, or is `null` once every key has been visited;
 * it is plain text of `A-Z a-z 0-9 _ -`, which the HTTP layer signs before handing it out.
 */
export interface KeyPage {
  keys: string[];
  cursor: string | null;
}

/** What a backend reports about itself for `GET /db/stats` beside the front's counters. */
export interface BackendStats {
  kind: 'memory' | 'redis';
  /** `standalone` or `cluster` for redis; `embedded` for memory. */
  mode: 'embedded' | 'standalone' | 'cluster';
  /** One entry per master (one for the embedded engine). */
  nodes: BackendNodeStats[];
  /** Calls per operation, where the backend counts them (the embedded engine). */
  commands?: Record<string, number>;
}

export interface BackendNodeStats {
  /** `host:port` of a Redis master; `memkv` for the embedded engine. */
  address: string;
  /** Server version (Redis's `redis_version`, or memkv's). */
  version: string;
  /** Memory the node uses, in bytes (Redis's `used_memory`; memkv's accounted data bytes). */
  usedMemoryBytes: number;
  /** Its memory limit in bytes; 0 = none. */
  maxMemoryBytes: number;
  /** Its eviction policy (Redis's `maxmemory-policy`). */
  evictionPolicy: string;
  /** memkv's keys held by this node. */
  keys: number;
  /** Of those, the keys with a TTL. */
  keysWithTtl: number;
  /** The node's own counters (for Redis: of every key it holds, memkv's or not). */
  hits: number;
  misses: number;
  expired: number;
  evicted: number;
}

/** The numeric figures of a node's report. */
export type NodeFigure = 'keys' | 'keysWithTtl' | 'usedMemoryBytes' | 'hits' | 'misses' | 'expired' | 'evicted';

/** `figure` for the whole backend: its sum over the nodes (a cluster's masters). */
export function totalOf(stats: BackendStats, figure: NodeFigure): number {
  return stats.nodes.reduce((total, node) => total + node[figure], 0);
}

/** The backend's memory limit in bytes: the sum of the nodes' limits, or 0 (none) unless every node has one. */
export function totalMaxMemory(stats: BackendStats): number {
  const limited = stats.nodes.length > 0 && stats.nodes.every((node) => node.maxMemoryBytes > 0);
  return limited ? stats.nodes.reduce((total, node) => total + node.maxMemoryBytes, 0) : 0;
}

/**
 * The database-level operations the /db routes need, beside the commands. Each may answer a
 * value or a promise, as {@link Storage}'s methods do.
 */
export interface Database {
  /**
   * Up to `limit` (≥ 1) live keys that start with `prefix` ('' = all), continuing the listing at
   * `cursor` (`null` starts it). A page may hold fewer keys than `limit`, even none, before the
   * end. A function of its arguments only: any front can continue a listing another began.
   */
  scanPage(cursor: string | null, prefix: string, limit: number): MaybePromise<KeyPage>;
  /** The exact number of memkv's keys. */
  size(): MaybePromise<number>;
  /** Removes every memkv key (and nothing else); answers how many. */
  flush(): MaybePromise<number>;
  /** The backend's own report: version, memory and keys per node. */
  backendStats(): MaybePromise<BackendStats>;
  /**
   * A random secret shared by every front on this backend, created on first use under `name`
   * (signs listing cursors, so that any front continues a listing another began). Absent on a
   * backend that only one process uses.
   */
  sharedSecret?(name: string): Promise<string>;
}
