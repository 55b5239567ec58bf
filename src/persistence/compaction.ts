/**
 * Compaction: rewrites the log as a snapshot of the live keys, in the background, while the
 * server keeps serving and logging (as buntdb's Shrink and Redis's AOF rewrite do).
 *
 * The snapshot is written in chunks, between which writes go on; the writer meanwhile collects
 * the keys they touch. A key changed while the snapshot runs may be captured before or after the
 * change (a push would then count twice if the log's tail were replayed over it), so each
 * touched key is written again at the end with its current state (an idempotent whole-key record, or a
 * remove): replayed in order, snapshot + touched states give exactly the live data. Catch-up
 * rounds shrink the touched set; the last round, the fsync, the rename over the log, the
 * directory fsync and the switch of the writer to the new file run in one synchronous step, so
 * no write falls between the two files. A crash before the rename leaves the old log (the temp
 * file is ignored and removed at start); after it, the new one, complete and on disk.
 */
import fs from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { Store } from '../engine/store.js';
import type { MemoryIdempotency } from '../idempotency/memory.js';
import { RecordEncoder } from './aof-format.js';
import { LOG_FLAGS, type AofWriter } from './aof-writer.js';
import { fsyncDirectory } from './atomic-file.js';

const write = promisify(fs.write);
const fdatasync = promisify(fs.fdatasync);

/** Suffix of the temp file a rewrite writes next to the log. */
export const REWRITE_SUFFIX = '.rewrite';

/** Bytes encoded before they are written out and the event loop gets a turn, at most. */
const CHUNK_BYTES = 1024 * 1024;
/** Longest the encoding of one chunk may hold the event loop, in ms (checked every 256 keys). */
const SLICE_MS = 10;
/** Touched keys left for the final synchronous step, at most (catch-up rounds run until then). */
const FINAL_STEP_KEYS = 2048;
const MAX_CATCH_UP_ROUNDS = 8;

/** Outcome of the last compaction. Times are epoch ms. */
export interface CompactionStatus {
  startedAtMs: number;
  finishedAtMs: number;
  result: 'ok' | 'failed';
  beforeBytes: number;
  afterBytes: number;
  keys: number;
  error?: string;
}

export interface CompactorOptions {
  store: Store;
  writer: AofWriter;
  /**
   * Automatic compaction starts when the log exceeds `ratio` times its size after the last
   * compaction (or at start), and at least `minBytes`. `0` turns automatic compaction off.
   */
  ratio: number;
  /** Smallest log size in bytes that is compacted automatically. */
  minBytes: number;
  /** Estimate of the live data in the log at start, in bytes; default the log's size. */
  baseBytes?: number;
  /** Period of the automatic check, in ms; default 1000. */
  checkIntervalMs?: number;
  logger?: Logger;
  /** The kept answers of idempotent requests, rewritten with the keys (the live ones); default none. */
  idempotency?: MemoryIdempotency;
}

/** Starts compactions, one at a time, on demand and when the log has grown enough. */
export class Compactor {
  readonly #store: Store;
  readonly #writer: AofWriter;
  readonly #ratio: number;
  readonly #minBytes: number;
  readonly #logger: Logger | undefined;
  readonly #idempotency: MemoryIdempotency | undefined;
  #baseBytes: number;
  #running: Promise<CompactionStatus> | undefined;
  #last: CompactionStatus | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closing = false;

  constructor(options: CompactorOptions) {
    const { store, writer, ratio, minBytes, baseBytes = writer.sizeBytes, checkIntervalMs = 1000, logger, idempotency } = options;
    if (!(ratio === 0 || ratio > 1)) throw new TypeError('ratio must be 0 (off) or a number > 1');
    if (!Number.isSafeInteger(minBytes) || minBytes < 0) throw new TypeError('minBytes must be an integer >= 0');
    this.#store = store;
    this.#writer = writer;
    this.#ratio = ratio;
    this.#minBytes = minBytes;
    this.#logger = logger;
    this.#idempotency = idempotency;
    this.#baseBytes = baseBytes;
    if (ratio > 0) {
      this.#timer = setInterval(() => {
        const size = this.#writer.sizeBytes;
        if (this.#running === undefined && size >= this.#minBytes && size > this.#ratio * this.#baseBytes) this.start('auto');
      }, checkIntervalMs);
      this.#timer.unref();
    }
  }

  /** Starts a compaction unless one is running. @returns which of the two happened. */
  start(reason: 'manual' | 'auto' = 'manual'): 'started' | 'running' {
    if (this.#running !== undefined || this.#closing) return 'running';
    this.#running = this.#run(reason).finally(() => {
      this.#running = undefined;
    });
    return 'started';
  }

  /** The compaction in progress, if any. */
  get running(): Promise<CompactionStatus> | undefined {
    return this.#running;
  }

  /** The last finished compaction, or `null`. */
  get last(): CompactionStatus | null {
    return this.#last;
  }

  /** Stops automatic compaction, and a compaction in progress at its next chunk (the log stays as it is). */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #run(reason: 'manual' | 'auto'): Promise<CompactionStatus> {
    const startedAtMs = Date.now();
    const beforeBytes = this.#writer.sizeBytes;
    this.#logger?.info({ reason, beforeBytes }, 'persistence: compaction started');
    let status: CompactionStatus;
    try {
      const { keys, afterBytes } = await rewriteLog(this.#store, this.#writer, () => this.#closing, this.#idempotency);
      this.#baseBytes = afterBytes;
      status = { startedAtMs, finishedAtMs: Date.now(), result: 'ok', beforeBytes, afterBytes, keys };
      this.#logger?.info({ ...status, ms: status.finishedAtMs - startedAtMs }, `persistence: compacted the log from ${beforeBytes} to ${afterBytes} bytes`);
    } catch (error) {
      const message = (error as Error).message;
      status = { startedAtMs, finishedAtMs: Date.now(), result: 'failed', beforeBytes, afterBytes: this.#writer.sizeBytes, keys: 0, error: message };
      if (this.#closing) this.#logger?.info('persistence: compaction stopped, as the server is stopping; the current log stays in use');
      else {
        this.#writer.noteError(`compaction failed: ${message}`);
        this.#logger?.error({ err: error }, 'persistence: compaction failed; the current log stays in use');
      }
    }
    this.#last = status;
    return status;
  }
}

/**
 * Rewrites the writer's log as a snapshot of `store`, then switches the writer to it.
 * On failure, or when `cancelled()` turns true between two chunks, the temp file is removed
 * and the writer keeps its log.
 */
export async function rewriteLog(
  store: Store,
  writer: AofWriter,
  cancelled: () => boolean = () => false,
  idempotency?: MemoryIdempotency,
): Promise<{ keys: number; afterBytes: number }> {
  const tempPath = writer.path + REWRITE_SUFFIX;
  const fd = fs.openSync(tempPath, LOG_FLAGS | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o644);
  const encoder = new RecordEncoder(CHUNK_BYTES + 64 * 1024);
  let size = 0;
  let keys = 0;
  let sliceStartedAt = performance.now();
  const flush = async (): Promise<void> => {
    for (let at = 0; at < encoder.length; ) at += (await write(fd, encoder.buffer, at, encoder.length - at)).bytesWritten;
    size += encoder.length;
    encoder.reset();
    sliceStartedAt = performance.now();
    if (cancelled()) throw new Error('cancelled: the server is stopping');
  };
  /** True when the chunk should be written out (yielding to the event loop): big enough or slow enough. */
  const chunkDone = (count: number): boolean =>
    (count & 255) === 0 && (encoder.length >= CHUNK_BYTES || performance.now() - sliceStartedAt >= SLICE_MS);
  const encodeCurrent = (key: string): void => {
    const entry = store.peek(key);
    if (entry === undefined) encoder.mutation({ type: 'remove', revision: store.revision, key });
    else encoder.entry(entry);
  };

  writer.startTracking();
  try {
    encoder.header();
    for (const entry of store.entries()) {
      encoder.entry(entry);
      if (chunkDone(++keys)) await flush();
    }
    await flush();
    // The live kept answers after the keys (each record is whole: replay keeps the last of a key).
    if (idempotency !== undefined) {
      let count = 0;
      for (const record of idempotency.records()) {
        encoder.kept(record);
        if (chunkDone(++count)) await flush();
      }
      await flush();
    }
    for (let round = 0; round < MAX_CATCH_UP_ROUNDS && writer.touchedCount > FINAL_STEP_KEYS; round++) {
      let count = 0;
      for (const key of writer.takeTouched()) {
        encodeCurrent(key);
        if (chunkDone(++count)) await flush();
      }
      await flush();
    }
    await fdatasync(fd);

    // ---- Final step: synchronous, so that no write comes between the last state and the switch ----
    // Writes of this turn go to the old log first (their keys are among the touched ones).
    writer.writePending();
    for (const key of writer.takeTouched()) encodeCurrent(key);
    // Answers kept while the snapshot ran, still kept now (an answer whose write failed was dropped).
    for (const { scope, key } of writer.takeTouchedKept()) {
      const record = idempotency?.record(scope, key);
      if (record !== undefined) encoder.kept(record);
    }
    // The revision goes on even when its last change removed a key.
    encoder.mutation({ type: 'revision', revision: store.revision, key: '' });
    for (let at = 0; at < encoder.length; ) at += fs.writeSync(fd, encoder.buffer, at, encoder.length - at);
    size += encoder.length;
    fs.fdatasyncSync(fd);
    fs.renameSync(tempPath, writer.path);
  } catch (error) {
    writer.stopTracking();
    fs.closeSync(fd);
    fs.rmSync(tempPath, { force: true });
    throw error;
  }
  // The new file is the log now: the writer must follow it even if the directory fsync fails.
  try {
    fsyncDirectory(dirname(writer.path));
  } finally {
    writer.switchTo(fd, size);
  }
  return { keys, afterBytes: size };
}

/**
 * Writes a snapshot of `store` as the log at `path` at once (through a temp file and a rename),
 * for a start that must rewrite the log before appending to it (a log of an older format).
 */
export function writeSnapshot(store: Store, path: string): void {
  const tempPath = path + REWRITE_SUFFIX;
  const encoder = new RecordEncoder(CHUNK_BYTES + 64 * 1024);
  const fd = fs.openSync(tempPath, LOG_FLAGS | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o644);
  try {
    const flush = (): void => {
      for (let at = 0; at < encoder.length; ) at += fs.writeSync(fd, encoder.buffer, at, encoder.length - at);
      encoder.reset();
    };
    encoder.header();
    for (const entry of store.entries()) {
      encoder.entry(entry);
      if (encoder.length >= CHUNK_BYTES) flush();
    }
    encoder.mutation({ type: 'revision', revision: store.revision, key: '' });
    flush();
    fs.fdatasyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(tempPath, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(tempPath, path);
}
