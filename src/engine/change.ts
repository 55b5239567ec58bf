/**
 * The change feed of the embedded engine: one Change per applied change to the keyspace, handed
 * synchronously to the store's change listener (the watch hub, src/watch/).
 */
import type { Entry, ListSummary } from './store.js';

export type ChangeOp = 'set' | 'update' | 'push' | 'pop' | 'ttl' | 'remove' | 'expire' | 'evict' | 'flush';
export interface Change {
  readonly revision: number;
  /** Position of this change within its revision (a txn has several; 0 otherwise), and how many the revision has. */
  readonly index: number;
  readonly count: number;
  readonly op: ChangeOp;
  /** '' for flush. */
  readonly key: string;
  /** The key after the change: a full Entry for set/update/ttl; a ListSummary (length, no elements) for push/pop; undefined for remove/expire/evict/flush. */
  readonly entry: Entry | ListSummary | undefined;
  /** push: the values pushed. */
  readonly values?: readonly string[];
  /** pop: the element removed. */
  readonly popped?: string;
}
export type ChangeListener = (change: Change) => void;
