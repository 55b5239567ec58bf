/**
 * The in-memory idempotency store, beside the embedded engine: kept answers in one Map, counted
 * toward MAX_MEMORY through the store's `holdBytes`, dropped once their TTL has passed (lazily on
 * access, and by a periodic sweep bounded per tick), and journaled to the log when persistence is
 * on (see `setJournal`; replay hands them back through `load`, compaction reads `records()`).
 */
import { systemClock, type Clock } from '../engine/clock.js';
import {
  CLAIM_TTL_MS,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  answerBytes,
  claimBytes,
  type BeginResult,
  type IdempotencyStats,
  type IdempotencyStore,
  type KeptAnswer,
  type KeptRecord,
} from './idempotency-store.js';

/**
 * Counts bytes toward the memory limit (the store's `holdBytes`): a positive `deltaBytes` makes
 * room by evicting keys per the policy, or throws `out_of_memory` (nothing counted) unless
 * `force`, which counts it anyway; a negative one releases.
 */
export type HoldBytes = (deltaBytes: number, force?: boolean) => void;

/** Receives each answer as it is kept, for the log (the AOF writer's `appendKept`). */
export type KeptJournal = (record: KeptRecord) => void;

export interface MemoryIdempotencyOptions {
  /** How long an answer is kept, in ms; default 24 h (IDEMPOTENCY_TTL). */
  ttlMs?: number;
  /** Time source, epoch ms; default the system clock. */
  clock?: Clock;
  /** Memory accounting (the store's `holdBytes`); default none: answers are not counted. */
  holdBytes?: HoldBytes;
  /** Period of the sweep of expired answers, in ms; 0 = no timer (lazy expiry only). Default 1000. */
  sweepIntervalMs?: number;
  /** Most entries a sweep tick looks at; default 1000. */
  sweepBatch?: number;
}

const DONE = 1;
const IN_FLIGHT = 0;

interface Entry {
  state: typeof DONE | typeof IN_FLIGHT;
  readonly scope: string;
  readonly key: string;
  readonly fingerprint: string;
  answer: KeptAnswer | undefined;
  /** Epoch ms: the claim's end while in flight, the answer's once kept. */
  expiresAtMs: number;
  /** Bytes held for it. */
  bytes: number;
}

/** Creates the in-memory idempotency store. */
export function createMemoryIdempotency(options: MemoryIdempotencyOptions = {}): MemoryIdempotency {
  return new MemoryIdempotency(options);
}

export class MemoryIdempotency implements IdempotencyStore {
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #hold: HoldBytes | undefined;
  readonly #sweepBatch: number;
  /**
   * By scope and key. Kept answers are (re)inserted when kept, so with one TTL the Map is in
   * expiry order and a sweep stops at the first live answer.
   */
  readonly #entries = new Map<string, Entry>();
  #journal: KeptJournal | undefined;
  #kept = 0;
  #bytes = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: MemoryIdempotencyOptions = {}) {
    const { ttlMs = DEFAULT_IDEMPOTENCY_TTL_MS, clock = systemClock, holdBytes, sweepIntervalMs = 1000, sweepBatch = 1000 } = options;
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new TypeError('ttlMs must be a whole number of ms >= 1');
    if (typeof clock?.now !== 'function') throw new TypeError('clock must have a now() method');
    if (holdBytes !== undefined && typeof holdBytes !== 'function') throw new TypeError('holdBytes must be a function');
    if (!Number.isSafeInteger(sweepIntervalMs) || sweepIntervalMs < 0) throw new TypeError('sweepIntervalMs must be a whole number of ms >= 0');
    if (!Number.isSafeInteger(sweepBatch) || sweepBatch < 1) throw new TypeError('sweepBatch must be a whole number >= 1');
    this.#ttlMs = ttlMs;
    this.#clock = clock;
    this.#hold = holdBytes;
    this.#sweepBatch = sweepBatch;
    if (sweepIntervalMs > 0) {
      this.#timer = setInterval(() => this.sweep(), sweepIntervalMs);
      this.#timer.unref();
    }
  }

  /** How long an answer is kept, in ms. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  begin(scope: string, key: string, fingerprint: string): BeginResult {
    const id = idOf(scope, key);
    const now = this.#clock.now();
    let entry = this.#entries.get(id);
    if (entry !== undefined && entry.expiresAtMs <= now) {
      this.#drop(id, entry);
      entry = undefined;
    }
    if (entry !== undefined) {
      if (entry.fingerprint !== fingerprint) return MISMATCH;
      return entry.state === IN_FLIGHT ? IN_FLIGHT_RESULT : { outcome: 'replay', answer: entry.answer! };
    }
    const bytes = claimBytes(scope, key, fingerprint);
    this.#hold?.(bytes); // out_of_memory: nothing claimed
    this.#bytes += bytes;
    this.#entries.set(id, { state: IN_FLIGHT, scope, key, fingerprint, answer: undefined, expiresAtMs: now + CLAIM_TTL_MS, bytes });
    return NEW;
  }

  finish(scope: string, key: string, answer: KeptAnswer): void {
    const id = idOf(scope, key);
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.state !== IN_FLIGHT) return;
    // The write has happened: its answer is kept even when no room can be made for it (the
    // database may then pass the limit by this answer, and growing writes are refused).
    const extra = answerBytes(answer);
    this.#hold?.(extra, true);
    this.#bytes += extra;
    entry.bytes += extra;
    entry.state = DONE;
    entry.answer = answer;
    entry.expiresAtMs = this.#clock.now() + this.#ttlMs;
    this.#kept++;
    // To the end of the Map: expiry order.
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    this.#journal?.({ scope, key, fingerprint: entry.fingerprint, answer, expiresAtMs: entry.expiresAtMs });
  }

  abandon(scope: string, key: string): void {
    const id = idOf(scope, key);
    const entry = this.#entries.get(id);
    if (entry !== undefined) this.#drop(id, entry);
  }

  stats(): IdempotencyStats {
    return { kept: this.#kept, bytes: this.#bytes };
  }

  // ---- Persistence ----

  /** Sets (or with `undefined` removes) where kept answers are journaled; see {@link KeptJournal}. */
  setJournal(journal: KeptJournal | undefined): void {
    this.#journal = journal;
  }

  /**
   * Keeps an answer read back from the log (replay): a later record of the same key replaces
   * an earlier one; one already expired is skipped. Not journaled.
   */
  load(record: KeptRecord): void {
    if (record.expiresAtMs <= this.#clock.now()) return;
    const id = idOf(record.scope, record.key);
    const previous = this.#entries.get(id);
    if (previous !== undefined) this.#drop(id, previous);
    const bytes = claimBytes(record.scope, record.key, record.fingerprint) + answerBytes(record.answer);
    this.#hold?.(bytes, true);
    this.#bytes += bytes;
    this.#kept++;
    this.#entries.set(id, { state: DONE, ...record, bytes });
  }

  /** The live kept answers, for compaction's snapshot. */
  *records(): IterableIterator<KeptRecord> {
    const now = this.#clock.now();
    for (const entry of this.#entries.values()) {
      if (entry.state !== DONE || entry.expiresAtMs <= now) continue;
      yield { scope: entry.scope, key: entry.key, fingerprint: entry.fingerprint, answer: entry.answer!, expiresAtMs: entry.expiresAtMs };
    }
  }

  /** Whether an answer is kept for `key` in `scope` now (for compaction's catch-up). */
  record(scope: string, key: string): KeptRecord | undefined {
    const entry = this.#entries.get(idOf(scope, key));
    if (entry === undefined || entry.state !== DONE || entry.expiresAtMs <= this.#clock.now()) return undefined;
    return { scope, key, fingerprint: entry.fingerprint, answer: entry.answer!, expiresAtMs: entry.expiresAtMs };
  }

  // ---- Expiry ----

  /**
   * Drops expired answers (and lapsed claims), looking at most at `sweepBatch` entries.
   * @returns the number dropped
   */
  sweep(): number {
    const now = this.#clock.now();
    let looked = 0;
    let dropped = 0;
    for (const [id, entry] of this.#entries) {
      if (++looked > this.#sweepBatch) break;
      if (entry.expiresAtMs <= now) {
        this.#drop(id, entry);
        dropped++;
      } else if (entry.state === DONE) break; // answers after it expire later
    }
    return dropped;
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #drop(id: string, entry: Entry): void {
    this.#entries.delete(id);
    this.#bytes -= entry.bytes;
    if (entry.state === DONE) this.#kept--;
    this.#hold?.(-entry.bytes);
  }
}

const NEW: BeginResult = { outcome: 'new' };
const MISMATCH: BeginResult = { outcome: 'mismatch' };
const IN_FLIGHT_RESULT: BeginResult = { outcome: 'in_flight' };

/** One Map key for a scope and a key: the scope's length first, so no two pairs meet. */
function idOf(scope: string, key: string): string {
  return `${scope.length}:${scope}${key}`;
}
