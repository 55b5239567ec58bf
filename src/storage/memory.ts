/**
 * The embedded backend: the engine's Store is the storage itself, with no adapter in between, so
 * the commands call its synchronous methods directly and the hot path allocates no promise. The
 * database-level operations (/db routes, off the hot path) go through a thin adapter.
 */
import type { Store } from '../engine/store.js';
import { VERSION } from '../version.js';
import type { Database, KeyPage, Storage } from './storage.js';

/** `store` as the commands' storage (the type checker proves that the Store implements Storage). */
export function memoryStorage(store: Store): Storage {
  return store;
}

/** A listing cursor of the embedded engine: the slot to continue from, in base 36. */
const SLOT_CURSOR = /^[0-9a-z]{1,11}$/;

/** `store` as the /db routes' database: its scan, size, flush and stats. */
export function memoryDatabase(store: Store): Database {
  return {
    scanPage(cursor, prefix, limit): KeyPage {
      const fromSlot = cursor === null ? 0 : SLOT_CURSOR.test(cursor) ? parseInt(cursor, 36) : NaN;
      if (!Number.isSafeInteger(fromSlot)) throw new TypeError(`not a listing cursor of this backend: ${JSON.stringify(cursor)}`);
      const page = store.scan(fromSlot, { prefix, limit });
      return { keys: page.keys, cursor: page.nextSlot === null ? null : page.nextSlot.toString(36) };
    },
    size: () => store.size,
    flush: () => store.flush(),
    backendStats() {
      const stats = store.stats();
      return {
        kind: 'memory',
        mode: 'embedded',
        commands: stats.commands,
        nodes: [
          {
            address: 'memkv',
            version: VERSION,
            // What MAX_MEMORY limits: the data and the kept answers of idempotent requests.
            usedMemoryBytes: stats.dataBytes + store.heldBytes,
            maxMemoryBytes: stats.maxMemoryBytes,
            evictionPolicy: stats.evictionPolicy,
            keys: stats.keys,
            keysWithTtl: stats.volatileKeys,
            hits: stats.hits,
            misses: stats.misses,
            expired: stats.expired,
            evicted: stats.evicted,
          },
        ],
      };
    },
  };
}
