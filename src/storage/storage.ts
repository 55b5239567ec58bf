/**
 * The storage interface the commands run against (src/commands/). Every method may answer a
 * value or a promise of it: the embedded store (the engine, storage/memory.ts) answers values,
 * synchronously, and pays nothing for the promise; a backend in another process answers promises.
 * Absence is a value (`undefined`); misuse is a thrown (or rejected) MemkvError.
 */
import type { Entry, KeyExpiry, ListSummary, PopResult, PopSummary, RangeResult, WriteOptions } from '../engine/store.js';
import type { Value } from '@memkv/client/protocol';

export type { Entry, KeyExpiry, ListSummary, PopResult, PopSummary, RangeResult, Value, WriteOptions };

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** What a storage backend offers the commands; see the store's methods for each one's contract. */
export interface Storage {
  /** The entry at `key`, or undefined when it is missing or expired. */
  get(key: string): MaybePromise<Entry | undefined>;
  /** Creates or replaces `key`. */
  set(key: string, value: Value, options?: WriteOptions): MaybePromise<void>;
  /** Replaces the value of an existing key; `item_not_found` otherwise. The TTL is kept unless given. */
  update(key: string, value: Value, options?: WriteOptions): MaybePromise<void>;
  /** Removes `key`. @returns false when it was missing. */
  remove(key: string): MaybePromise<boolean>;
  /** Appends to the list at `key` (created when missing); answers the whole list. */
  push(key: string, values: string | readonly string[], options?: WriteOptions): MaybePromise<Entry>;
  /** `push`, answering the list's length instead of its elements. */
  pushSummary(key: string, values: string | readonly string[], options?: WriteOptions): MaybePromise<ListSummary>;
  /** Removes the last element of the list at `key`; answers the list and the element. */
  pop(key: string): MaybePromise<PopResult>;
  /** `pop`, answering the list's length instead of its elements. */
  popSummary(key: string): MaybePromise<PopSummary>;
  /** Elements `start` to `stop` of the list at `key` (Redis LRANGE semantics). */
  range(key: string, start: number, stop: number): MaybePromise<RangeResult>;
  /** The expiry of `key`, or undefined when it is missing or expired. */
  expiry(key: string): MaybePromise<KeyExpiry | undefined>;
  /** Sets (ms from now) or removes (`null`) the TTL of an existing key; undefined when it is missing. */
  setTtl(key: string, ttlMs: number | null): MaybePromise<KeyExpiry | undefined>;
}
