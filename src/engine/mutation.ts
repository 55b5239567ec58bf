/**
 * The Mutation union: every change to the keyspace, fully resolved (absolute times, no defaults
 * left to apply), as the store hands it to its journal and as replay feeds it back to `apply()`.
 */
import type { Value } from '@memkv/client/protocol';

/** Creates or replaces `key`. `expiresAtMs` is epoch ms, `0` for never. */
export interface SetMutation {
  /** The revision the change gets (see Store.revision); 0 in a record of a log of format 1 (counted at replay). */
  readonly revision: number;
  readonly type: 'set';
  readonly key: string;
  readonly value: Value;
  readonly expiresAtMs: number;
  readonly atMs: number;
}

/** Replaces the value of an existing `key`; `expiresAtMs` is the resolved expiry (`0` = never). */
export interface UpdateMutation {
  /** The revision the change gets (see Store.revision); 0 in a record of a log of format 1 (counted at replay). */
  readonly revision: number;
  readonly type: 'update';
  readonly key: string;
  readonly value: Value;
  readonly expiresAtMs: number;
  readonly atMs: number;
}

/** Appends `values` to the list at `key`, creating it when missing. */
export interface PushMutation {
  /** The revision the change gets (see Store.revision); 0 in a record of a log of format 1 (counted at replay). */
  readonly revision: number;
  readonly type: 'push';
  readonly key: string;
  readonly values: readonly string[];
  readonly expiresAtMs: number;
  readonly atMs: number;
}

/** Removes the last element of the list at `key`. */
export interface PopMutation {
  /** The revision the change gets (see Store.revision); 0 in a record of a log of format 1 (counted at replay). */
  readonly revision: number;
  readonly type: 'pop';
  readonly key: string;
  readonly atMs: number;
}

/** Deletes `key` on request. */
export interface RemoveMutation {
  /** The revision the change gets (see Store.revision); 0 in a record of a log of format 1 (counted at replay). */
  readonly revision: number;
  readonly type: 'remove';
  readonly key: string;
}

/** Deletes `key` because its TTL passed (logged so that replay stays exact). */
export interface ExpiredMutation {
  /** The revision the change gets (see Store.revision); 0 in a record of a log of format 1 (counted at replay). */
  readonly revision: number;
  readonly type: 'expired';
  readonly key: string;
}

/** Sets (`expiresAtMs` > 0) or clears (`0`) the expiry of an existing `key`. */
export interface TtlMutation {
  /** The revision the change gets (see Store.revision); 0 in a record of a log of format 1 (counted at replay). */
  readonly revision: number;
  readonly type: 'ttl';
  readonly key: string;
  readonly expiresAtMs: number;
  readonly atMs: number;
}

/** The changes of one key, as a transaction's ops and the keys' own mutations are. */
export type KeyMutation = SetMutation | UpdateMutation | PushMutation | PopMutation | RemoveMutation | ExpiredMutation | TtlMutation;

/** A transaction: its mutations apply together, under one revision (their own `revision` is ignored). */
export interface TxnMutation {
  readonly type: 'txn';
  readonly revision: number;
  /** '' (a transaction has no one key). */
  readonly key: '';
  readonly mutations: readonly KeyMutation[];
}

/** Removes every key, under one revision. */
export interface FlushMutation {
  readonly type: 'flush';
  readonly revision: number;
  readonly key: '';
}

/**
 * The database's revision at least `revision`: compaction's record of the revision, which the
 * keys it writes do not all carry (the last write may have removed a key).
 */
export interface RevisionMutation {
  readonly type: 'revision';
  readonly revision: number;
  readonly key: '';
}

export type Mutation = KeyMutation | TxnMutation | FlushMutation | RevisionMutation;

/**
 * The state of a key just before a mutation, as the store hands it to its journal, so that
 * `Store.restoreKeys()` can put it back if the mutation cannot be saved. References, not copies:
 * a list's array is kept with its length and last element, which undo cuts back and pushes
 * back. An expired key not yet reclaimed is taken as it is.
 */
export interface KeyState {
  readonly key: string;
  /** `undefined` when the key did not exist. */
  readonly value: Value | undefined;
  /** Length of a list value; 0 otherwise. */
  readonly length: number;
  /** Last element of a list value; `undefined` otherwise. */
  readonly last: string | undefined;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** Epoch ms, `0` for never. */
  readonly expiresAtMs: number;
  /** Accounted bytes (accounting.ts). */
  readonly bytes: number;
  /** The key's version (0 when it did not exist). */
  readonly version: number;
}

/**
 * Receives every mutation after it has been validated and before it is applied to memory, with
 * `previous`, the state of the mutation's key at that moment (taken only when a journal is set;
 * one state per key, in order, for a transaction or a flush).
 * Throwing aborts the write: memory stays as it was and the error reaches the caller.
 * The mutation's arrays are shared with the store: consume (serialize) it before returning.
 * `previous` may be kept until `restoreKeys()` has used it or it is dropped.
 */
export type Journal = (mutation: Mutation, previous: KeyState | readonly KeyState[]) => void;
