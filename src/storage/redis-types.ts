/**
 * The shapes of issue 13's interfaces (versions, preconditions, transactions, the change feed)
 * as the Redis backend uses them.
 */
import type { Entry, KeyExpiry, ListSummary, PopResult, PopSummary, RangeResult, WriteOptions } from '../engine/store.js';
import type { Value } from '@memkv/client/protocol';

export type VersionedEntry = Entry & { version: number };
export type VersionedListSummary = ListSummary & { version: number };
export type VersionedPopResult = PopResult & { version: number };
export type VersionedPopSummary = PopSummary & { version: number };
export type VersionedRangeResult = RangeResult & { version: number };
export type VersionedKeyExpiry = KeyExpiry & { version: number };

/** `ifVersion: null`: the key must be missing; `ifAbsent: true`: the same, for set. */
export interface Preconditions {
  ifVersion?: number | null;
  ifAbsent?: boolean;
}

export type PreconditionWriteOptions = WriteOptions & Preconditions;

export interface TxnCheck {
  key: string;
  /** null: the key must be missing. */
  version: number | null;
}

export type TxnOp =
  | { op: 'set'; key: string; value: Value; ttlMs?: number }
  | { op: 'update'; key: string; value: Value; ttlMs?: number }
  | { op: 'push'; key: string; values: string[]; ttlMs?: number }
  | { op: 'pop'; key: string }
  | { op: 'remove'; key: string }
  | { op: 'ttl'; key: string; ttlMs: number | null };

export interface TxnOpResult {
  op: TxnOp['op'];
  key: string;
  version: number | null;
  popped?: string;
  length?: number;
}

export interface TxnResult {
  version: number;
  results: TxnOpResult[];
}

export type ChangeOp = 'set' | 'update' | 'push' | 'pop' | 'ttl' | 'remove' | 'expire' | 'evict' | 'flush';

export interface Change {
  readonly revision: number;
  readonly index: number;
  readonly count: number;
  readonly op: ChangeOp;
  readonly key: string;
  readonly entry: VersionedEntry | VersionedListSummary | undefined;
  readonly values?: readonly string[];
  readonly popped?: string;
}

export type ChangeListener = (change: Change) => void;
