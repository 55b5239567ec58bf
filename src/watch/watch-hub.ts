/**
 * The watch hub: a bounded history of the database's changes and the watchers reading it.
 *
 * Every change published goes into a ring of the last `historyEvents` events (and at most
 * `historyBytes` of them); a watcher is a cursor into that ring, filtered by key prefix. The
 * watchers that keep up are written at the end of each event-loop turn: the turn's events under
 * their prefix, as one buffer built once and written to every watcher of that prefix (one socket
 * write per watcher per turn, however many changes the turn made). A watcher that is behind (a
 * resume, or a socket that stopped taking data) is fed from the ring whenever its stream drains,
 * so the hub holds nothing per watcher beyond its stream's own buffer. Each event is serialized
 * once, on first need, and its text shared by every watcher (and every later resume).
 *
 * The hub knows no transport beyond the text of server-sent events; it takes changes from anyone
 * who calls `publish`: the embedded store's change listener (server.ts), or another source of the
 * same `Change`s (a Redis backend's feed).
 */
import { MemkvError } from '../errors.js';
import type { Change } from '../engine/change.js';
import { errorFrame, eventFrame } from './event-text.js';
import { comparePositions, formatPosition, type Position } from './position.js';

/** What the hub writes a watcher's events to: a writable stream of text (an HTTP response). */
export interface WatchSink {
  /** Writes `chunk`; `false` when the stream's buffer is full (then wait for `'drain'`). */
  write(chunk: string | Uint8Array): boolean;
  /** Bytes written and not yet sent. */
  readonly writableLength: number;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
  /** Ends the stream after `text` (the hub has dropped the watcher). */
  end(text?: string): void;
}

export interface WatchHubOptions {
  /** Most events kept for resuming (WATCH_HISTORY); default 10 000; at least 1. */
  historyEvents?: number;
  /** Most bytes of event text kept for resuming (about: text not yet built is estimated); default 64 MiB. */
  historyBytes?: number;
  /**
   * A watcher whose unsent bytes (its stream's buffer plus the events published for it since it
   * fell behind) pass this is sent a final `watch_overflow` error and dropped (WATCH_MAX_BUFFER);
   * default 1 MiB.
   */
  maxBufferBytes?: number;
  /** Period of the `: heartbeat` comment written to every watcher, in ms; default 15 000; 0 = none. */
  heartbeatMs?: number;
  /**
   * The database's current revision (the store's `revision`); default the last one published,
   * starting at `startRevision`.
   */
  revision?: () => number;
  /** The revision the history starts after: resuming from before it is `history_compacted`; default `revision()` or 0. */
  startRevision?: number;
}

export const WATCH_DEFAULTS = {
  historyEvents: 10_000,
  historyBytes: 64 * 1024 * 1024,
  maxBufferBytes: 1024 * 1024,
  heartbeatMs: 15_000,
} as const;

/** The comment every stream begins with after `retry:`, and the heartbeat. */
export const HEARTBEAT_FRAME = ': heartbeat\n\n';

/** A behind watcher is written from the ring until its stream holds this much, then waits for `'drain'`. */
const PUMP_CHUNK_BYTES = 64 * 1024;
/** Bytes counted for an event whose text is not built yet, besides its key and value. */
const EVENT_OVERHEAD_BYTES = 160;

/** One change in the history. */
interface HistoryEvent {
  /** Its position in the feed; `index` is `Infinity` for the last change of its revision. */
  readonly position: Position;
  readonly key: string;
  /** The change, until its text is built. */
  change: Change | undefined;
  /** The SSE frame, once built. */
  text: string | undefined;
  /** Its text's length, or an estimate until it is built. */
  bytes: number;
}

/** A subscriber: a prefix, a stream, and where it is in the ring. */
interface Watcher {
  readonly prefix: string;
  readonly sink: WatchSink;
  /** Sequence number of the next event it has not been written (or skipped, for another prefix). */
  cursor: number;
  /** Whether it is written at the end of each turn (else fed from the ring on drain). */
  live: boolean;
  /** Bytes of matching events published since it fell behind and not yet written. */
  pendingBytes: number;
  /** Events from this sequence number on count in `pendingBytes`. */
  countFrom: number;
  /** The drain listener while one is registered. */
  onDrain: (() => void) | undefined;
  readonly onEnd: ((reason: WatchEndReason) => void) | undefined;
}

/** Why the hub dropped a watcher. */
export type WatchEndReason = 'overflow' | 'closed';

/** A watcher's handle: `close()` drops it (its stream ended); safe to call twice. */
export interface Subscription {
  close(): void;
}

export interface SubscribeOptions {
  /** Only keys that start with this text (`''`: every key; a flush is sent to every watcher). */
  prefix: string;
  /** Where to start, from {@link WatchHub.resolve}. */
  cursor: number;
  sink: WatchSink;
  /** Called once if the hub drops the watcher itself (overflow, or the hub closing). */
  onEnd?: (reason: WatchEndReason) => void;
}

/** The hub's counters, for tests and the stats. */
export interface WatchHubStats {
  /** Watchers subscribed now. */
  watchers: number;
  /** Of those, the ones behind (fed from the ring). */
  behind: number;
  /** Events in the history, and their bytes (text or estimate). */
  historyEvents: number;
  historyBytes: number;
  /** Changes published since the hub was created. */
  published: number;
  /** Watchers dropped for not keeping up. */
  overflows: number;
  /** The oldest position the history can resume from. */
  oldest: string;
}

/** Creates a hub. See {@link WatchHubOptions} for defaults. @throws TypeError naming a bad option */
export function createWatchHub(options: WatchHubOptions = {}): WatchHub {
  return new WatchHub(options);
}

export class WatchHub {
  readonly #capacity: number;
  readonly #maxHistoryBytes: number;
  readonly #maxBufferBytes: number;
  readonly #heartbeatMs: number;
  readonly #revision: () => number;

  // ---- The ring: sequence numbers firstSeq .. nextSeq-1 live at seq % capacity ----
  readonly #ring: (HistoryEvent | undefined)[];
  #firstSeq = 0;
  #nextSeq = 0;
  #historyBytes = 0;
  /** Every change after this position is in the ring. */
  #floor: Position;
  #lastRevision: number;

  readonly #watchers = new Set<Watcher>();
  readonly #behind = new Set<Watcher>();
  /** Whether a flush of this turn's events to the live watchers is scheduled. */
  #flushing = false;
  /** Where the last flush ended: live watchers have been written every event before it. */
  #flushedTo = 0;
  readonly #flushTurn = (): void => this.#flush();
  #heartbeat: NodeJS.Timeout | undefined;
  #published = 0;
  #overflows = 0;
  #closed = false;

  constructor(options: WatchHubOptions = {}) {
    const {
      historyEvents = WATCH_DEFAULTS.historyEvents,
      historyBytes = WATCH_DEFAULTS.historyBytes,
      maxBufferBytes = WATCH_DEFAULTS.maxBufferBytes,
      heartbeatMs = WATCH_DEFAULTS.heartbeatMs,
      revision,
    } = options;
    if (!Number.isSafeInteger(historyEvents) || historyEvents < 1) throw new TypeError(`historyEvents must be a whole number >= 1; got ${String(historyEvents)}`);
    if (!Number.isSafeInteger(historyBytes) || historyBytes < 1) throw new TypeError(`historyBytes must be a whole number >= 1; got ${String(historyBytes)}`);
    if (!Number.isSafeInteger(maxBufferBytes) || maxBufferBytes < 1) throw new TypeError(`maxBufferBytes must be a whole number >= 1; got ${String(maxBufferBytes)}`);
    if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 0) throw new TypeError(`heartbeatMs must be a whole number >= 0; got ${String(heartbeatMs)}`);
    if (revision !== undefined && typeof revision !== 'function') throw new TypeError('revision must be a function answering the current revision');
    const startRevision = options.startRevision ?? revision?.() ?? 0;
    if (!Number.isSafeInteger(startRevision) || startRevision < 0) throw new TypeError(`startRevision must be a whole number >= 0; got ${String(startRevision)}`);
    this.#capacity = historyEvents;
    this.#maxHistoryBytes = historyBytes;
    this.#maxBufferBytes = maxBufferBytes;
    this.#heartbeatMs = heartbeatMs;
    this.#ring = new Array<HistoryEvent | undefined>(historyEvents);
    this.#floor = { revision: startRevision, index: Infinity };
    this.#lastRevision = startRevision;
    this.#revision = revision ?? (() => this.#lastRevision);
  }

  // ---- Publishing ----

  /** Adds a change to the history and sends it to the watchers of its key. Call in feed order. */
  publish(change: Change): void {
    if (this.#closed) return;
    const seq = this.#nextSeq;
    const event: HistoryEvent = {
      position: { revision: change.revision, index: change.index >= change.count - 1 ? Infinity : change.index },
      key: change.key,
      change,
      text: undefined,
      bytes: estimateBytes(change),
    };
    while (this.#nextSeq - this.#firstSeq >= this.#capacity || (this.#nextSeq > this.#firstSeq && this.#historyBytes + event.bytes > this.#maxHistoryBytes)) {
      this.#evictOldest();
    }
    this.#ring[seq % this.#capacity] = event;
    this.#nextSeq = seq + 1;
    this.#historyBytes += event.bytes;
    this.#lastRevision = change.revision;
    this.#published++;
    if (this.#watchers.size === 0) return;
    // The watchers that keep up get it at the end of the turn; those behind count what they owe.
    for (const watcher of this.#behind) {
      if (!matches(watcher.prefix, event.key)) continue;
      // Checked before the event is added: a watcher already that far behind is cut off.
      if (!this.#overflowed(watcher)) watcher.pendingBytes += this.#textOf(event).length;
    }
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(this.#flushTurn);
    }
  }

  // ---- Subscribing ----

  /**
   * Where a watch from `from` starts (after it; `undefined`: now), as a cursor for `subscribe`.
   * Call `subscribe` in the same turn, before anything else is published.
   * @throws MemkvError `invalid_request` for a position after the current revision;
   *   `history_compacted` for one the history no longer reaches back to
   */
  resolve(from: Position | undefined): number {
    if (from === undefined) return this.#nextSeq;
    const current = this.revision;
    if (from.revision > current) {
      throw new MemkvError('invalid_request', `from ${formatPosition(from)} is ahead of the current revision ${current}`);
    }
    if (comparePositions(from, this.#floor) < 0) {
      throw new MemkvError(
        'history_compacted',
        `the watch history no longer reaches back to ${formatPosition(from)} (it starts after ${formatPosition(this.#floor)}): ` +
          'list the keys again, then watch from the current revision',
      );
    }
    // The first event after `from`: positions grow with sequence numbers.
    let low = this.#firstSeq;
    let high = this.#nextSeq;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (comparePositions(this.#eventAt(middle).position, from) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Adds a watcher; the events from `cursor` on that match its prefix are written to its sink. */
  subscribe({ prefix, cursor, sink, onEnd }: SubscribeOptions): Subscription {
    if (this.#closed) throw new MemkvError('service_unavailable', 'the server is closing');
    if (!(cursor >= this.#firstSeq && cursor <= this.#nextSeq)) {
      throw new MemkvError('history_compacted', 'the watch history moved on while the watch started: watch again from the last event id');
    }
    const watcher: Watcher = {
      prefix,
      sink,
      cursor,
      live: true,
      pendingBytes: 0,
      countFrom: this.#nextSeq,
      onDrain: undefined,
      onEnd,
    };
    this.#watchers.add(watcher);
    this.#startHeartbeat();
    if (cursor < this.#nextSeq) {
      watcher.live = false;
      this.#behind.add(watcher);
      this.#pump(watcher);
    }
    return { close: () => this.#drop(watcher) };
  }

  /** The database's current revision, as far as the hub knows it. */
  get revision(): number {
    return Math.max(this.#revision(), this.#lastRevision);
  }

  /** The hub's counters. */
  stats(): WatchHubStats {
    return {
      watchers: this.#watchers.size,
      behind: this.#behind.size,
      historyEvents: this.#nextSeq - this.#firstSeq,
      historyBytes: this.#historyBytes,
      published: this.#published,
      overflows: this.#overflows,
      oldest: formatPosition(this.#floor),
    };
  }

  /** Ends every watcher's stream and stops taking changes. */
  close(): void {
    this.#closed = true;
    for (const watcher of [...this.#watchers]) this.#end(watcher, 'closed');
    this.#stopHeartbeat();
  }

  // ---- Internals ----

  #eventAt(seq: number): HistoryEvent {
    return this.#ring[seq % this.#capacity]!;
  }

  #textOf(event: HistoryEvent): string {
    if (event.text !== undefined) return event.text;
    const text = eventFrame(event.change!);
    this.#historyBytes += text.length - event.bytes;
    event.text = text;
    event.bytes = text.length;
    event.change = undefined;
    return text;
  }

  /**
   * Writes the events the live watchers have not been written yet: per prefix (and cursor), the
   * matching events' texts as one buffer, the same buffer to each watcher. Runs at the end of
   * each turn that published, and before an event not yet written leaves the ring.
   */
  #flush(): void {
    this.#flushing = false;
    const end = this.#nextSeq;
    this.#flushedTo = end;
    let batches: Map<string, Buffer | null> | undefined;
    for (const watcher of this.#watchers) {
      if (!watcher.live || watcher.cursor >= end) continue;
      // Checked before the batch is added: one batch larger than the bound still reaches a
      // watcher that has kept up; a watcher already that far behind is cut off.
      if (this.#overflowed(watcher)) continue;
      const batchKey = `${watcher.cursor}\u0000${watcher.prefix}`;
      batches ??= new Map();
      let batch = batches.get(batchKey);
      if (batch === undefined) {
        batch = this.#batch(watcher.prefix, watcher.cursor, end);
        batches.set(batchKey, batch);
      }
      watcher.cursor = end;
      if (batch !== null && !watcher.sink.write(batch)) this.#fallBehind(watcher);
    }
  }

  /** The texts of the events from `from` to `end` under `prefix`, as one buffer; `null` when none. */
  #batch(prefix: string, from: number, end: number): Buffer | null {
    let single: string | undefined;
    let texts: string[] | undefined;
    for (let seq = from; seq < end; seq++) {
      const event = this.#eventAt(seq);
      if (!matches(prefix, event.key)) continue;
      const text = this.#textOf(event);
      if (single === undefined) single = text;
      else (texts ??= [single]).push(text);
    }
    if (single === undefined) return null;
    return Buffer.from(texts === undefined ? single : texts.join(''), 'utf8');
  }

  #evictOldest(): void {
    const seq = this.#firstSeq;
    // An event still owed to the live watchers is written to them before it goes.
    if (this.#flushing && seq >= this.#flushedTo) this.#flush();
    const index = seq % this.#capacity;
    const event = this.#ring[index]!;
    this.#ring[index] = undefined;
    this.#firstSeq = seq + 1;
    this.#historyBytes -= event.bytes;
    this.#floor = event.position;
    // A watcher still to be sent this event can no longer be: it did not keep up.
    if (this.#behind.size === 0) return;
    // (Cursors never point before the ring: each eviction moves or drops the ones at its event.)
    for (const watcher of this.#behind) {
      if (watcher.cursor !== seq) continue;
      if (matches(watcher.prefix, event.key)) {
        this.#overflow(watcher, 'the watcher fell further behind than the watch history (WATCH_HISTORY) reaches');
      } else {
        watcher.cursor = seq + 1;
      }
    }
  }

  /** The watcher's stream is full: it waits for `'drain'`, then is fed from the ring. */
  #fallBehind(watcher: Watcher): void {
    watcher.live = false;
    watcher.countFrom = watcher.cursor;
    watcher.pendingBytes = 0;
    this.#behind.add(watcher);
    this.#waitDrain(watcher);
  }

  #waitDrain(watcher: Watcher): void {
    if (watcher.onDrain !== undefined) return;
    const onDrain = (): void => {
      watcher.onDrain = undefined;
      if (this.#watchers.has(watcher)) this.#pump(watcher);
    };
    watcher.onDrain = onDrain;
    watcher.sink.once('drain', onDrain);
  }

  /**
   * Writes a behind watcher's events from the ring, in chunks of about {@link PUMP_CHUNK_BYTES},
   * until its stream is full (then it waits for `'drain'`) or it has caught up (then it is live).
   */
  #pump(watcher: Watcher): void {
    const { sink, prefix } = watcher;
    while (watcher.cursor < this.#nextSeq) {
      const texts: string[] = [];
      let bytes = 0;
      while (watcher.cursor < this.#nextSeq && bytes < PUMP_CHUNK_BYTES) {
        const seq = watcher.cursor++;
        const event = this.#eventAt(seq);
        if (!matches(prefix, event.key)) continue;
        const text = this.#textOf(event);
        if (seq >= watcher.countFrom) watcher.pendingBytes -= text.length;
        texts.push(text);
        bytes += text.length;
      }
      if (texts.length > 0 && !sink.write(texts.length === 1 ? texts[0]! : texts.join(''))) {
        this.#waitDrain(watcher);
        return;
      }
    }
    watcher.live = true;
    watcher.pendingBytes = 0;
    this.#behind.delete(watcher);
  }

  /**
   * Cuts the watcher off when its unsent bytes (its stream's buffer, and the events published for
   * it since it fell behind) pass the bound. @returns whether it did
   */
  #overflowed(watcher: Watcher): boolean {
    const unsent = watcher.sink.writableLength + watcher.pendingBytes;
    if (unsent <= this.#maxBufferBytes) return false;
    this.#overflow(watcher, `the watcher did not read its events fast enough: ${unsent} bytes unsent, more than WATCH_MAX_BUFFER (${this.#maxBufferBytes})`);
    return true;
  }

  #overflow(watcher: Watcher, message: string): void {
    this.#overflows++;
    this.#end(watcher, 'overflow', errorFrame({ code: 'watch_overflow', message: `${message}; resume from the last event id` }));
  }

  #end(watcher: Watcher, reason: WatchEndReason, finalText?: string): void {
    if (!this.#drop(watcher)) return;
    watcher.sink.end(finalText);
    watcher.onEnd?.(reason);
  }

  /** @returns whether the watcher was subscribed */
  #drop(watcher: Watcher): boolean {
    if (!this.#watchers.delete(watcher)) return false;
    this.#behind.delete(watcher);
    if (watcher.onDrain !== undefined) {
      watcher.sink.removeListener('drain', watcher.onDrain);
      watcher.onDrain = undefined;
    }
    if (this.#watchers.size === 0) this.#stopHeartbeat();
    return true;
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined || this.#heartbeatMs === 0) return;
    this.#heartbeat = setInterval(() => {
      for (const watcher of [...this.#watchers]) if (!this.#overflowed(watcher)) watcher.sink.write(HEARTBEAT_FRAME);
    }, this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat === undefined) return;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

/** Whether a change of `key` goes to a watcher of `prefix`: a flush (key '') goes to all. */
function matches(prefix: string, key: string): boolean {
  return key === '' || key.startsWith(prefix);
}

/** About the length of a change's text before it is built: its key, its value or values, and the row's fields. */
function estimateBytes(change: Change): number {
  let bytes = EVENT_OVERHEAD_BYTES + change.key.length;
  const entry = change.entry;
  if (entry !== undefined && 'value' in entry) {
    const value = entry.value;
    if (typeof value === 'string') bytes += value.length;
    else for (let i = 0; i < value.length; i++) bytes += value[i]!.length + 3;
  }
  if (change.values !== undefined) for (let i = 0; i < change.values.length; i++) bytes += change.values[i]!.length + 3;
  if (change.popped !== undefined) bytes += change.popped.length;
  return bytes;
}
