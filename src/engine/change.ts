/**
 * The change feed: what the store reports after each change it applies (not during replay), for
 * the watch stream (src/watch/). A transaction's changes share one revision: `index` and `count`
 * place each one in it.
 */
import type { Entry, ListSummary } from './store.js';

export type ChangeOp = 'set' | 'update' | 'push' | 'pop' | 'ttl' | 'remove' | 'expire' | 'evict' | 'flush';

export interface Change {
  readonly revision: number;
  /** Position of this change within its revision (0 unless the revision is a transaction's), and how many it has. */
  readonly index: number;
  readonly count: number;
  readonly op: ChangeOp;
  /** The key changed; '' for flush. */
  readonly key: string;
  /**
   * The key after the change: the whole entry for set, update and ttl; a list summary (its
   * length, no elements) for push and pop; undefined for remove, expire, evict and flush.
   */
  readonly entry: Entry | ListSummary | undefined;
  /** push: the values pushed (undefined otherwise). */
  readonly values?: readonly string[] | undefined;
  /** pop: the element removed (undefined otherwise). */
  readonly popped?: string | undefined;
}

export type ChangeListener = (change: Change) => void;
