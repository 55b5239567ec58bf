/**
 * The append side of the log. Each mutation is encoded into a buffer as the store journals it;
 * the buffer is written to the file with one write() at the end of the event-loop turn (as
 * Redis writes its AOF buffer before it sleeps), and callers answer a write only once that
 * write() is done (`durable()`), so an acknowledged write is in the kernel even if the process
 * dies the next instant. It is then made durable according to the fsync policy, with one shared
 * fsync for all the writes waiting on it under `always` (group commit).
 *
 * When the disk refuses the write (disk full…), the file is cut back to its last whole record,
 * the keys those mutations changed are put back (`restore`, with the prior states the store
 * journaled along with them), and every caller waiting on them gets `persistence_failed`: memory
 * stays what the disk holds.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';
import { MemkvError } from '../errors.js';
import type { KeyState, Mutation } from '../engine/mutation.js';
import type { KeptRecord } from '../idempotency/idempotency-store.js';
import { FSYNC_POLICIES, type FsyncPolicy } from '../fsync-policy.js';
import { RecordEncoder } from './aof-format.js';

/**
 * Open flags of a log file. Not O_APPEND: records are written at the log's logical end, which
 * under `always` lies before zeros written in advance (see PREALLOCATE_BYTES).
 */
export const LOG_FLAGS = fs.constants.O_WRONLY;

export interface AofWriterOptions {
  /** Path of the log file, which must exist, start with a header and end on a whole record. */
  path: string;
  /** Default `everysec`. */
  fsync?: FsyncPolicy;
  /** Period of the `everysec` fsync, in ms; default 1000. */
  fsyncIntervalMs?: number;
  /** Receives failures and recoveries; default none. */
  logger?: Logger;
  /**
   * Puts memory back after a failed write: called with the prior states (`append`'s `previous`)
   * of the refused mutations, in journal order, to be restored latest first (the store's
   * `restoreKeys`). Without it the writer keeps no states, and a failed write leaves memory
   * ahead of the disk.
   */
  restore?: (states: readonly KeyState[]) => void;
}

/** Observable state of the writer. Times are epoch ms, `null` when it never happened. */
export interface AofWriterStatus {
  fsync: FsyncPolicy;
  /** Size of the log file in bytes. */
  sizeBytes: number;
  lastWriteAtMs: number | null;
  lastFsyncAtMs: number | null;
  /** True from a failed write or fsync until the next one succeeds. */
  failing: boolean;
  lastError: { atMs: number; message: string } | null;
}

/** Size above which the append buffer is not kept for the next write, in bytes. */
const MAX_RETAINED_ENCODER_BYTES = 1024 * 1024;

/**
 * Under `always`, zeros written ahead of the records, in bytes. An fdatasync after an append
 * that grows the file must also commit the new size (a journal commit on ext4, about 40% of its
 * time here); over blocks already written it only flushes data. Replay reads zeros after the
 * last record as unused space. PostgreSQL zero-fills its WAL segments for the same reason.
 */
const PREALLOCATE_BYTES = 1024 * 1024;
const ZEROS = Buffer.alloc(64 * 1024);

/** fsyncs of successive batches that may overlap. */
const MAX_FSYNCS_IN_FLIGHT = 2;

interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** Sequence number of the last write this fsync covers. */
  upTo: number;
}

/** Opens the writer over an existing, valid log file. */
export function openAofWriter(options: AofWriterOptions): AofWriter {
  return new AofWriter(options);
}

/** Appends to one log file; see the module comment. Its `append` is the store's journal. */
export class AofWriter {
  readonly #path: string;
  readonly #policy: FsyncPolicy;
  readonly #logger: Logger | undefined;
  readonly #restore: ((states: readonly KeyState[]) => void) | undefined;
  /** Records journaled this turn and not yet written (`#pending` of them), and their undo states. */
  #encoder = new RecordEncoder();
  #pending = 0;
  #undoStates: KeyState[] = [];
  /** Settled when the buffered records are written (or refused); created for the first caller who waits. */
  #written: Batch | undefined;
  /** With `always`: the promise of both the pending write and the fsync after it, for this turn's callers. */
  #both: { written: Batch; synced: Batch; promise: Promise<void> } | undefined;
  #fd: number;
  /** Logical size (the end of the last record) and physical size (zeros after it under `always`). */
  #size: number;
  #allocated: number;
  /** Sequence number of the last record written to the file, and of the last one known to be on disk. */
  #writtenSeq = 0;
  #syncedSeq = 0;
  /** Batches whose fsync is in flight, oldest first, and the batch that the next fsync will settle. */
  readonly #inflight: Batch[] = [];
  #next: Batch | undefined;
  /** Descriptors replaced by a rewrite, closed once no fsync uses them. */
  readonly #retired: number[] = [];
  /** Set after a failed write: the file must be cut back to `#size` before the next one. */
  #needsRepair = false;
  /** Keys written while a rewrite runs (see compaction.ts); undefined otherwise. */
  #touched: Set<string> | undefined;
  /** Kept answers (scope and key) written while a rewrite runs; undefined otherwise. */
  #touchedKept: { scope: string; key: string }[] | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #lastWriteAtMs: number | null = null;
  #lastFsyncAtMs: number | null = null;
  /** What is failing: set by a failed write or fsync, cleared by the next success of the same kind. */
  #failing: 'write' | 'fsync' | undefined;
  #lastError: AofWriterStatus['lastError'] = null;

  constructor(options: AofWriterOptions) {
    const { path, fsync = 'everysec', fsyncIntervalMs = 1000, logger, restore } = options;
    if (!FSYNC_POLICIES.includes(fsync)) throw new TypeError(`fsync must be one of ${FSYNC_POLICIES.join(', ')}`);
    if (!(fsyncIntervalMs > 0)) throw new TypeError('fsyncIntervalMs must be a number of ms > 0');
    this.#path = path;
    this.#policy = fsync;
    this.#logger = logger;
    if (restore !== undefined && typeof restore !== 'function') throw new TypeError('restore must be a function');
    this.#restore = restore;
    this.#fd = fs.openSync(path, LOG_FLAGS);
    this.#size = fs.fstatSync(this.#fd).size;
    this.#allocated = this.#size;
    if (fsync === 'everysec') {
      this.#timer = setInterval(() => {
        if (this.#syncedSeq !== this.#writtenSeq) this.#requestFlush();
      }, fsyncIntervalMs);
      this.#timer.unref();
    }
  }

  /**
   * The store's journal: buffers `mutation`, before the store applies it, for the write at the
   * end of this turn of the event loop, and keeps `previous` (its key's prior state) for
   * `restore` should that write fail.
   * @throws MemkvError `persistence_failed` when the log is closed.
   */
  readonly append = (mutation: Mutation, previous: KeyState | readonly KeyState[]): void => {
    if (this.#closed) throw new MemkvError('persistence_failed', 'the log is closed');
    this.#encoder.mutation(mutation);
    this.#pending++;
    // A transaction or a flush: one state per key it changed.
    if (isStates(previous)) {
      if (this.#restore !== undefined) for (const state of previous) this.#undoStates.push(state);
      if (this.#touched !== undefined) for (const state of previous) this.#touched.add(state.key);
    } else {
      if (this.#restore !== undefined) this.#undoStates.push(previous);
      if (this.#touched !== undefined) this.#touched.add(mutation.key);
    }
    // Never written in the middle of a turn, even for a flush of a million keys: an undo must
    // come after the store's operation has finished, not in the middle of it.
    if (this.#pending === 1) setImmediate(this.#endOfTurn);
  };

  /**
   * The idempotency store's journal: buffers the kept answer `record` for the write at the end of
   * this turn, the same write as the change it answers (journaled just before it), so one fsync
   * covers both. A failed write is the change's failure; the caller then drops the answer.
   * @throws MemkvError `persistence_failed` when the log is closed.
   */
  readonly appendKept = (record: KeptRecord): void => {
    if (this.#closed) throw new MemkvError('persistence_failed', 'the log is closed');
    this.#encoder.kept(record);
    this.#pending++;
    this.#touchedKept?.push({ scope: record.scope, key: record.key });
    if (this.#pending === 1) setImmediate(this.#endOfTurn);
  };

  /**
   * A promise that settles once every write journaled so far is written to the file and, with
   * the `always` policy, on disk; it rejects with `persistence_failed` when the disk refused them
   * (their mutations are then undone). `undefined` when there is nothing to wait for. Callers
   * await it before answering a write; concurrent callers share one write() and one fsync.
   */
  readonly durable = (): Promise<void> | undefined => {
    if (this.#policy !== 'always') return this.#pending > 0 ? (this.#written ??= newBatch()).promise : undefined;
    if (this.#pending === 0) return this.#synced();
    // Both the write at the end of this turn and the fsync that starts right after it (the fsync
    // writes whatever is still buffered before it starts), shared by every caller of the turn.
    const written = (this.#written ??= newBatch());
    const synced = this.#requestFlush();
    if (this.#both?.written !== written || this.#both.synced !== synced) {
      this.#both = { written, synced, promise: Promise.all([written.promise, synced.promise]).then(() => undefined) };
    }
    return this.#both.promise;
  };

  /** Writes the buffered records now, as the end of the turn would. */
  writePending(): void {
    if (this.#pending === 0) return;
    const encoder = this.#encoder;
    const batch = this.#written;
    const states = this.#undoStates;
    const records = this.#pending;
    this.#written = undefined;
    this.#undoStates = [];
    this.#pending = 0;
    try {
      if (this.#needsRepair) this.#repair();
      if (this.#policy === 'always' && this.#size + encoder.length > this.#allocated) this.#preallocate(encoder.length);
      this.#writeSync(encoder.buffer, encoder.length);
    } catch (error) {
      // Memory goes back to what the file holds, then the callers hear of it.
      if (this.#restore !== undefined) this.#restore(states);
      batch?.reject(error);
      return;
    } finally {
      encoder.reset();
      if (encoder.buffer.length > MAX_RETAINED_ENCODER_BYTES) this.#encoder = new RecordEncoder(); // after a huge value
    }
    this.#writtenSeq += records;
    batch?.resolve();
  }

  readonly #endOfTurn = (): void => this.writePending();

  /** With `always`: a promise that settles once every record written so far is on disk, or undefined. */
  #synced(): Promise<void> | undefined {
    const seq = this.#writtenSeq;
    if (seq === this.#syncedSeq) return undefined;
    const latest = this.#inflight[this.#inflight.length - 1];
    if (latest !== undefined && seq <= latest.upTo) return latest.promise;
    return this.#requestFlush().promise;
  }

  /** Path of the log file. */
  get path(): string {
    return this.#path;
  }

  /** Size of the log file in bytes. */
  get sizeBytes(): number {
    return this.#size;
  }

  /** A snapshot of the writer's state, for stats and health. */
  status(): AofWriterStatus {
    return {
      fsync: this.#policy,
      sizeBytes: this.#size,
      lastWriteAtMs: this.#lastWriteAtMs,
      lastFsyncAtMs: this.#lastFsyncAtMs,
      failing: this.#failing !== undefined,
      lastError: this.#lastError,
    };
  }

  /** Records a failure that did not come from the writer itself (for example a failed rewrite). */
  noteError(message: string): void {
    this.#lastError = { atMs: Date.now(), message };
  }

  // ---- Rewrite support (used by compaction.ts) ----

  /** Starts collecting the keys of every write, until `takeTouched()`/`stopTracking()`. */
  startTracking(): void {
    this.#touched = new Set();
    this.#touchedKept = [];
  }

  /** Returns the kept answers written since tracking started or since the last call, and starts a new list. */
  takeTouchedKept(): { scope: string; key: string }[] {
    const touched = this.#touchedKept ?? [];
    this.#touchedKept = [];
    return touched;
  }

  /** Returns the keys written since tracking started or since the last call, and starts a new set. */
  takeTouched(): Set<string> {
    const touched = this.#touched ?? new Set<string>();
    this.#touched = new Set();
    return touched;
  }

  /** Number of keys collected since the last `takeTouched()`. */
  get touchedCount(): number {
    return this.#touched?.size ?? 0;
  }

  stopTracking(): void {
    this.#touched = undefined;
    this.#touchedKept = undefined;
  }

  /**
   * Continues the log in a rewritten file, which must already be fsynced and renamed over the
   * log with its directory fsynced. `fd` must be open with {@link LOG_FLAGS}. Nothing may be
   * buffered: the rewrite calls `writePending()` before it takes its last touched keys.
   */
  switchTo(fd: number, sizeBytes: number): void {
    if (this.#pending > 0) throw new Error('switchTo with buffered records: writePending() first');
    this.#retired.push(this.#fd);
    this.#fd = fd;
    this.#size = sizeBytes;
    this.#allocated = sizeBytes;
    this.#needsRepair = false;
    this.#touched = undefined;
    this.#touchedKept = undefined;
    // Everything written so far is in the new file, which is on disk.
    this.#syncedSeq = this.#writtenSeq;
    this.#lastFsyncAtMs = Date.now();
    this.#recovered();
    if (this.#inflight.length === 0) this.#closeRetired();
  }

  // ---- Lifecycle ----

  /** Waits for an fsync in flight, fsyncs what remains and closes the file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.writePending();
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (let batch = this.#next ?? this.#inflight[0]; batch !== undefined; batch = this.#next ?? this.#inflight[0]) {
      await batch.promise.catch(() => undefined);
    }
    try {
      if (this.#syncedSeq !== this.#writtenSeq) fs.fdatasyncSync(this.#fd);
      // A log closed cleanly ends with its last record.
      if (this.#allocated > this.#size) fs.ftruncateSync(this.#fd, this.#size);
    } finally {
      fs.closeSync(this.#fd);
      this.#closeRetired();
    }
  }

  // ---- Internals ----

  #writeSync(buffer: Buffer, length: number): void {
    try {
      for (let written = 0; written < length; ) written += fs.writeSync(this.#fd, buffer, written, length - written, this.#size + written);
    } catch (error) {
      this.#needsRepair = true;
      this.#fail('write', error);
      try {
        this.#repair();
      } catch {
        // Retried before the next write.
      }
      throw new MemkvError('persistence_failed', `the write could not be saved to disk (${describe(error)}); it was not applied`, {
        cause: error,
      });
    }
    this.#size += length;
    if (this.#size > this.#allocated) this.#allocated = this.#size;
    this.#lastWriteAtMs = Date.now();
    if (this.#failing === 'write') this.#recovered();
  }

  /**
   * Writes zeros after the allocated end, so that the next writes of `length` bytes and
   * PREALLOCATE_BYTES more land on written blocks. Best effort: when the disk has no room for
   * them, the records extend the file as they go.
   */
  #preallocate(length: number): void {
    const target = this.#size + length + PREALLOCATE_BYTES;
    try {
      while (this.#allocated < target) {
        this.#allocated += fs.writeSync(this.#fd, ZEROS, 0, Math.min(ZEROS.length, target - this.#allocated), this.#allocated);
      }
    } catch {
      // Zeros that reached the file are harmless; the write of the records reports a full disk.
    }
  }

  /** Cuts off the bytes of a failed write, so that the next record follows the last whole one. */
  #repair(): void {
    try {
      fs.ftruncateSync(this.#fd, this.#size);
      this.#allocated = this.#size;
      this.#needsRepair = false;
    } catch (error) {
      this.#fail('truncate', error);
      throw new MemkvError('persistence_failed', `the log cannot be repaired after a failed write (${describe(error)})`, { cause: error });
    }
  }

  /** Returns the batch that the next fsync will settle, scheduling that fsync. */
  #requestFlush(): Batch {
    let next = this.#next;
    if (next === undefined) {
      next = this.#next = newBatch();
      // Gather the writes of this turn of the event loop into the same fsync.
      if (this.#inflight.length < MAX_FSYNCS_IN_FLIGHT) setImmediate(this.#startFlush);
    }
    return next;
  }

  readonly #startFlush = (): void => {
    const batch = this.#next;
    if (batch === undefined || this.#inflight.length >= MAX_FSYNCS_IN_FLIGHT) return;
    this.#next = undefined;
    // The fsync covers every record journaled so far: those still buffered are written first.
    this.writePending();
    batch.upTo = this.#writtenSeq;
    this.#inflight.push(batch);
    // Off the event loop (libuv's thread pool): requests keep being read and written meanwhile,
    // and join the next batch, whose fsync may start before this one ends (the disk merges them).
    fs.fdatasync(this.#fd, (error) => {
      this.#inflight.splice(this.#inflight.indexOf(batch), 1);
      if (this.#inflight.length === 0) this.#closeRetired();
      this.#settle(batch, error);
      if (this.#next !== undefined) this.#startFlush();
    });
  };

  #settle(batch: Batch, error: unknown): void {
    if (error === null || error === undefined) {
      if (batch.upTo > this.#syncedSeq) this.#syncedSeq = batch.upTo;
      this.#lastFsyncAtMs = Date.now();
      if (this.#failing === 'fsync') this.#recovered();
      batch.resolve();
    } else {
      this.#fail('fsync', error);
      batch.reject(new MemkvError('persistence_failed', `the write may not be on disk: fsync failed (${describe(error)})`, { cause: error }));
    }
  }

  #closeRetired(): void {
    while (this.#retired.length > 0) {
      try {
        fs.closeSync(this.#retired.pop()!);
      } catch {
        // Already closed: nothing to release.
      }
    }
  }

  #fail(action: 'write' | 'truncate' | 'fsync', error: unknown): void {
    const message = `${action} of ${this.#path} failed: ${describe(error)}`;
    this.#lastError = { atMs: Date.now(), message };
    // Logged once per outage, not once per refused request.
    const kind = action === 'fsync' ? 'fsync' : 'write';
    if (this.#failing === undefined) this.#logger?.error({ err: error, path: this.#path }, `persistence: ${message}; failing until a ${kind} succeeds`);
    this.#failing = kind;
  }

  #recovered(): void {
    if (this.#failing !== undefined) this.#logger?.info({ path: this.#path }, 'persistence: the log works again');
    this.#failing = undefined;
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The everysec timer creates batches nobody awaits: their failure is already logged.
  promise.catch(() => undefined);
  return { promise, resolve, reject, upTo: 0 };
}

function describe(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code ?? message ?? String(error);
}

function isStates(previous: KeyState | readonly KeyState[]): previous is readonly KeyState[] {
  return Array.isArray(previous);
}
