/**
 * The persistence of one database directory, put together: the lock, replay into the store at
 * start, the writer as the store's journal, compaction, and one status for stats and health.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../engine/store.js';
import type { MemoryIdempotency } from '../idempotency/memory.js';
import { MemkvError, PersistenceError } from '../errors.js';
import type { FsyncPolicy } from '../fsync-policy.js';
import { RecordEncoder } from './aof-format.js';
import { replayAof } from './aof-replay.js';
import { openAofWriter, type AofWriter, type AofWriterStatus } from './aof-writer.js';
import { fsyncDirectory } from './atomic-file.js';
import { Compactor, REWRITE_SUFFIX, writeSnapshot, type CompactionStatus } from './compaction.js';
import { acquireDirLock, type DirLock } from './lock.js';

/** Name of the log file inside the database directory. */
export const AOF_FILE = 'memkv.aof';

export interface PersistenceOptions {
  /** Database directory (DB_PATH), created when missing. */
  dir: string;
  /** fsync policy (PERSISTENCE_FSYNC); default `everysec`. */
  fsync?: FsyncPolicy;
  /** Automatic compaction when the log exceeds this multiple of its size after the last one; 0 = off. Default 2. */
  compactRatio?: number;
  /** Smallest log compacted automatically, in bytes; default 64 MiB. */
  compactMinBytes?: number;
  /** Load up to damage in the middle of the log instead of refusing to start; default false. */
  loadDamaged?: boolean;
  /**
   * Progress of the replay of the log: called with the bytes read so far and the log's size,
   * once the size is known and then after each chunk (about 1 MiB). Default none.
   */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  logger?: Logger;
  /**
   * The kept answers of idempotent requests: replayed from the log into it, journaled to the log
   * from it (in the same write as the change each answers), rewritten by compaction. Default none.
   */
  idempotency?: MemoryIdempotency;
}

export const PERSISTENCE_DEFAULTS = {
  fsync: 'everysec',
  compactRatio: 2,
  compactMinBytes: 64 * 1024 * 1024,
  loadDamaged: false,
} as const;

/** What `status()` reports: the writer's state (times in epoch ms, `null` when it never happened) and compaction's. */
export interface PersistenceStatus extends AofWriterStatus {
  /** Path of the log file. */
  path: string;
  compacting: boolean;
  lastCompaction: CompactionStatus | null;
}

/** Open persistence: see {@link openPersistence}. */
export interface Persistence {
  /**
   * Resolves once every write made so far is written to the log (on disk with
   * PERSISTENCE_FSYNC=always), or `undefined` when nothing waits; rejects when the disk refused
   * it (see AofWriter.durable). Callers await it before answering a write.
   */
  readonly durable: () => Promise<void> | undefined;
  /** Starts a compaction now unless one runs. */
  compact(): 'started' | 'running';
  /** The compaction in progress, if any (tests and shutdown wait on it). */
  readonly compacting: Promise<CompactionStatus> | undefined;
  status(): PersistenceStatus;
  /** Waits for a compaction in progress, fsyncs and closes the log, releases the lock. */
  close(): Promise<void>;
}

/**
 * Takes the directory's lock, replays its log into `store` (which must be empty and have no
 * journal), then journals the store's writes to the log. Keys whose TTL passed are dropped
 * before the store is handed back.
 * @throws PersistenceError when the directory is locked by a live server, the log is damaged
 *   (unless `loadDamaged`) or a file cannot be read or written.
 */
export async function openPersistence(store: Store, options: PersistenceOptions): Promise<Persistence> {
  const {
    dir,
    fsync = PERSISTENCE_DEFAULTS.fsync,
    compactRatio = PERSISTENCE_DEFAULTS.compactRatio,
    compactMinBytes = PERSISTENCE_DEFAULTS.compactMinBytes,
    loadDamaged = PERSISTENCE_DEFAULTS.loadDamaged,
    onProgress,
    logger,
    idempotency,
  } = options;
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new PersistenceError(dir, `cannot create DB_PATH ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const lock = acquireDirLock(dir);
  if (lock.staleReason !== undefined) {
    const owner = lock.staleOwnerPid === undefined ? 'a lock' : `the lock left by process ${lock.staleOwnerPid}`;
    logger?.warn({ lock: lock.path, pid: lock.staleOwnerPid, reason: lock.staleReason }, `persistence: took over ${owner}: ${lock.staleReason}`);
  }
  try {
    const path = join(dir, AOF_FILE);
    fs.rmSync(path + REWRITE_SUFFIX, { force: true }); // an unfinished compaction: the log itself is whole
    const startedAt = performance.now();
    // Replay yields to the event loop between chunks. The store's active expiry must not remove a
    // key meanwhile, since a later record may extend its TTL: a journal that refuses every write
    // stops it (replay's apply() does not go through the journal).
    store.setJournal(refuseDuringReplay);
    const replay = await replayAof(path, (mutation) => store.apply(mutation), {
      loadUpToDamage: loadDamaged,
      onProgress,
      onKept: idempotency === undefined ? undefined : (record) => idempotency.load(record),
    });
    store.setJournal(undefined);
    if (replay.outcome === 'damaged') {
      const copy = `${path}.damaged-${new Date().toISOString().replaceAll(':', '-')}`;
      fs.copyFileSync(path, copy);
      logger?.error(
        { path, copy, offset: replay.validBytes, droppedBytes: replay.droppedBytes },
        `persistence: the log is damaged at byte offset ${replay.validBytes}; loaded the ${replay.records} records before it ` +
          `and dropped ${replay.droppedBytes} bytes (PERSISTENCE_LOAD_DAMAGED=true); the damaged file is kept as ${copy}`,
      );
    } else if (replay.outcome === 'torn') {
      logger?.warn(
        { path, offset: replay.validBytes, droppedBytes: replay.droppedBytes },
        `persistence: the last record of the log is incomplete (a crash during a write): dropped ${replay.droppedBytes} bytes at offset ${replay.validBytes}`,
      );
    }
    if (replay.formatVersion === 1) {
      // Records of format 2 carry revisions: they cannot follow records of format 1 in one file.
      writeSnapshot(store, path);
      fsyncDirectory(dir);
      logger?.info({ path }, 'persistence: rewrote the log in the current format (with revisions)');
    } else prepareLogFile(path, dir, replay.outcome === 'missing' ? 0 : replay.validBytes, replay.fileBytes);
    // The log holds absolute expiry times: keys that expired while the server was down go now.
    const expired = store.expireDue();
    const ms = Math.round(performance.now() - startedAt);
    logger?.info(
      { path, keys: store.size, bytes: replay.validBytes, records: replay.records, expired, unusedBytes: replay.unusedBytes, ms },
      `persistence: loaded ${store.size} keys from ${replay.validBytes} bytes in ${ms} ms`,
    );

    const writer = openAofWriter({
      path,
      fsync,
      logger,
      restore: (states) => store.restoreKeys(states),
    });
    store.setJournal(writer.append);
    idempotency?.setJournal(writer.appendKept);
    // Live data is estimated as the share of the log that the surviving keys' records take.
    const baseBytes = replay.records === 0 ? writer.sizeBytes : Math.ceil((writer.sizeBytes * Math.min(store.size, replay.records)) / replay.records);
    const compactor = new Compactor({ store, writer, ratio: compactRatio, minBytes: compactMinBytes, baseBytes, logger, idempotency });
    return createHandle(store, writer, compactor, lock, idempotency);
  } catch (error) {
    store.setJournal(undefined);
    idempotency?.setJournal(undefined);
    lock.release();
    throw error;
  }
}

function refuseDuringReplay(): never {
  throw new MemkvError('service_unavailable', 'the log is being replayed');
}

function createHandle(store: Store, writer: AofWriter, compactor: Compactor, lock: DirLock, idempotency: MemoryIdempotency | undefined): Persistence {
  let closing: Promise<void> | undefined;
  return {
    durable: writer.durable,
    compact: () => compactor.start('manual'),
    get compacting() {
      return compactor.running;
    },
    status: () => ({
      path: writer.path,
      ...writer.status(),
      compacting: compactor.running !== undefined,
      lastCompaction: compactor.last,
    }),
    close: () =>
      (closing ??= (async () => {
        try {
          await compactor.close();
          store.setJournal(undefined);
          idempotency?.setJournal(undefined);
          await writer.close();
        } finally {
          lock.release();
        }
      })()),
  };
}

/**
 * Leaves the log ready for appends: a header when it is new (or its header was torn), and no
 * bytes after the last good record.
 */
function prepareLogFile(path: string, dir: string, validBytes: number, fileBytes: number): void {
  try {
    if (validBytes === 0) {
      const encoder = new RecordEncoder(64);
      encoder.header();
      fs.writeFileSync(path, encoder.bytes, { flush: true });
      fsyncDirectory(dir);
    } else if (validBytes < fileBytes) {
      const fd = fs.openSync(path, 'r+');
      try {
        fs.ftruncateSync(fd, validBytes);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch (error) {
    throw new PersistenceError(path, `cannot prepare the log ${path} for writing: ${(error as Error).message}`, { cause: error });
  }
}
