/** The types of a transaction (`Store.txn`): checks on versions, then ops applied together. */
import type { Value } from '@memkv/client/protocol';

/** The key's version must be `version`; `null`: the key must be missing. */
export interface TxnCheck {
  key: string;
  version: number | null;
}

/** One op of a transaction; TTLs in ms (`null` on `ttl`: never expire). */
export type TxnOp =
  | { op: 'set'; key: string; value: Value; ttlMs?: number | undefined }
  | { op: 'update'; key: string; value: Value; ttlMs?: number | undefined }
  | { op: 'push'; key: string; values: string | readonly string[]; ttlMs?: number | undefined }
  | { op: 'pop'; key: string }
  | { op: 'remove'; key: string }
  | { op: 'ttl'; key: string; ttlMs: number | null };

/** What an op did: the key's version after it (`null` once removed), and for lists the length and the popped element. */
export interface TxnOpResult {
  op: TxnOp['op'];
  key: string;
  version: number | null;
  length?: number;
  popped?: string;
}

export interface TxnResult {
  /** The transaction's revision: every key it wrote has it as its version. */
  version: number;
  results: TxnOpResult[];
}

