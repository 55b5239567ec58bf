/**
 * The embedded backend: the engine's Store is the storage itself, with no adapter in between, so
 * the commands call its synchronous methods directly and the hot path allocates no promise.
 */
import type { Store } from '../engine/store.js';
import type { Storage } from './storage.js';

/** `store` as the commands' storage (the type checker proves that the Store implements Storage). */
export function memoryStorage(store: Store): Storage {
  return store;
}
