/** Public exports of the memkv server package: the engine for embedded use, and the server. */
export { createStore, Store, STORE_DEFAULTS, kindOf } from './engine/store.js';
export type { Entry, PopResult, StoreOptions, WriteOptions } from './engine/store.js';
export { createManualClock, systemClock } from './engine/clock.js';
export type { Clock, ManualClock } from './engine/clock.js';
export type { Mutation, Journal } from './engine/mutation.js';
export { MemkvError, ConfigError, PersistenceError, ERRORS } from './errors.js';
export type { ErrorCode } from './errors.js';
export { buildApp } from './http/app.js';
export type { AppOptions } from './http/app.js';
export { loadConfig } from './config/load.js';
export type { Config } from './config/defaults.js';
export { startServer } from './server.js';
export { openPersistence, PERSISTENCE_DEFAULTS } from './persistence/persistence.js';
export type { Persistence, PersistenceOptions, PersistenceStatus } from './persistence/persistence.js';
export type { CompactionStatus } from './persistence/compaction.js';
export type { RunningServer } from './server.js';
export { parseDurationMs, formatDurationMs, parseBytes } from './units.js';
export type { Kind, Value, RowJson, PopRowJson, ErrorJson } from '@memkv/client/protocol';
