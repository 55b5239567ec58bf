/**
 * The change feed of the Redis backend (STORAGE=redis on a standalone Redis): every writing
 * script appends its changes to one stream key (`Pchanges`, XADD with the id `revision-index`,
 * MAXLEN ~ WATCH_HISTORY) atomically with the write, and every front tails that stream on a
 * connection of its own (XREAD BLOCK), handing each change to its listeners in stream order: the
 * same order on every front. Changes older than what a front saw since it started can be read
 * back from the stream ({@link RedisChangeFeed.history}) as long as the stream still holds them.
 *
 * What Redis does by itself is not in the stream: a key that expires or is evicted by Redis
 * leaves no change (no `expire` or `evict` events in redis mode).
 *
 * A stream entry has one field, `c`: JSON {o: op, k: metadata key ('' for flush), n: changes of
 * the revision, e: {kind, value | length, c: created ms, u: updated ms, x: expires ms (0 =
 * never)}, values: pushed, popped}.
 */
import type { Redis } from 'ioredis';
import type { Change, ChangeListener, ChangeOp } from '../engine/change.js';
import type { Entry, ListSummary } from '../engine/store.js';

export interface RedisChangeFeedOptions {
  /** A connection of the feed's own: XREAD BLOCK holds it. */
  client: Redis;
  /** The connection that reads the history (not the feed's own, which XREAD BLOCK holds). */
  reader: Pick<Redis, 'xrange' | 'get'>;
  /** The stream key. */
  streamKey: string;
  /** The revision counter key (its value: the last revision made). */
  revisionKey: string;
  /** The memkv key of a metadata key. */
  userKey: (meta: string) => string;
  /** Longest wait of one XREAD, in ms; default 5000. */
  blockMs?: number;
  /** Told about a failed read (the feed retries by itself, from where it was). */
  onError?: (error: Error) => void;
}

/** A position in the change history: after change `index` of `revision` (after the whole revision when undefined). */
export interface FeedPosition {
  revision: number;
  index?: number;
}

/** The highest sequence part of a stream id: "after the whole revision". */
const LAST_INDEX = '18446744073709551615';

export class RedisChangeFeed {
  readonly #client: Redis;
  readonly #reader: Pick<Redis, 'xrange' | 'get'>;
  readonly #streamKey: string;
  readonly #revisionKey: string;
  readonly #userKey: (meta: string) => string;
  readonly #blockMs: number;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #listeners = new Set<ChangeListener>();
  readonly #gapListeners = new Set<ChangeListener>();
  /** The id of the last entry handed out; undefined before start. */
  #lastId: string | undefined;
  /** How many changes the revision of the last change handed out has. */
  #lastCount = 1;
  #running: Promise<void> | undefined;
  #stopped = false;
  #started: Promise<{ floor: { revision: number; index: number }; backlog: Change[] }> | undefined;

  constructor(options: RedisChangeFeedOptions) {
    this.#client = options.client;
    this.#reader = options.reader;
    this.#streamKey = options.streamKey;
    this.#revisionKey = options.revisionKey;
    this.#userKey = options.userKey;
    this.#blockMs = options.blockMs ?? 5000;
    this.#onError = options.onError;
  }

  /**
   * Calls `listener` with a change that does not follow the last one handed out (see
   * #checkContinuity), before the change's own listeners; answers a function that stops it.
   */
  onGap(listener: ChangeListener): () => void {
    this.#gapListeners.add(listener);
    return () => void this.#gapListeners.delete(listener);
  }

  /** Calls `listener` with every change from now on, in revision order; answers a function that stops it. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Starts tailing the stream after the current revision (the counter's value), and answers the
   * changes the stream holds up to that revision (at most `backlog` of the last ones, whole
   * revisions only) and the position just before them: a watch hub published those first has the
   * same history as the stream. Listeners get every change after that revision.
   */
  start(backlog = 0): Promise<{ floor: { revision: number; index: number }; backlog: Change[] }> {
    this.#started ??= (async () => {
      const current = Number((await this.#client.get(this.#revisionKey)) ?? 0);
      const end = positionId({ revision: current });
      const entries = backlog > 0 ? ((await this.#client.xrevrange(this.#streamKey, end, '-', 'COUNT', backlog)) as [string, string[]][]) : [];
      const changes = entries.reverse().map(([id, fields]) => this.#change(id, fields));
      // A revision whose first changes were trimmed away is left out whole.
      while (changes.length > 0 && changes[0]!.index > 0) changes.shift();
      this.#lastId = end;
      this.#running = this.#loop();
      const first = changes[0];
      return { floor: { revision: first === undefined ? current : first.revision - 1, index: Infinity }, backlog: changes };
    })();
    return this.#started;
  }

  /**
   * Resolves once this feed has handed out every change made before the call (the revision
   * Redis's counter has now), so that a watch begun after a write on another front sees that
   * write's revision as past; rejects after `timeoutMs`.
   */
  async caughtUp(timeoutMs = 2000): Promise<void> {
    const current = Number((await this.#reader.get(this.#revisionKey)) ?? 0);
    const deadline = Date.now() + timeoutMs;
    while ((this.position?.revision ?? -1) < current) {
      if (Date.now() > deadline) throw new Error(`the change feed did not reach revision ${current} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** The position of the last change handed out (revision and index); undefined before start. */
  get position(): { revision: number; index: number } | undefined {
    return this.#lastId === undefined ? undefined : parseId(this.#lastId);
  }

  /**
   * The changes after `after`, at most `limit`, read from the stream; undefined when the stream
   * no longer holds the change right after `after` (the history was trimmed past it).
   */
  async history(after: FeedPosition, limit: number): Promise<Change[] | undefined> {
    const first = (await this.#reader.xrange(this.#streamKey, '-', '+', 'COUNT', 1)) as [string, string[]][];
    const firstId = first[0]?.[0];
    if (firstId === undefined) {
      // Empty: nothing after `after` unless revisions were made since (then trimmed away).
      const current = Number((await this.#reader.get(this.#revisionKey)) ?? 0);
      return after.revision >= current ? [] : undefined;
    }
    const next = after.index === undefined ? `${after.revision + 1}-0` : `${after.revision}-${after.index + 1}`;
    if (compareIds(firstId, positionId(after)) > 0 && compareIds(firstId, next) !== 0) return undefined;
    const entries = (await this.#reader.xrange(this.#streamKey, `(${positionId(after)}`, '+', 'COUNT', limit)) as [string, string[]][];
    return entries.map(([id, fields]) => this.#change(id, fields));
  }

  /** Stops tailing; the connection is closed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#client.disconnect();
    await this.#running;
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      try {
        const reply = (await this.#client.xread('COUNT', 1000, 'BLOCK', this.#blockMs, 'STREAMS', this.#streamKey, this.#lastId!)) as
          | [string, [string, string[]][]][]
          | null;
        failures = 0;
        if (reply === null) continue;
        for (const [id, fields] of reply[0]![1]) {
          const change = this.#change(id, fields);
          this.#checkContinuity(change);
          this.#lastId = id;
          this.#lastCount = change.count;
          for (const listener of this.#listeners) listener(change);
        }
      } catch (error) {
        if (this.#stopped) break;
        // Once per outage: the read is tried again every second meanwhile.
        if (failures === 0) this.#onError?.(error as Error);
        failures++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * failures, 1000)));
      }
    }
  }

  /**
   * Reports a change that does not follow the last one handed out: the stream was trimmed past
   * this feed's position while it could not read (a long outage), or a front that writes without
   * the stream (WATCH_HISTORY=0) shares this Redis. Watchers of this front miss those changes.
   */
  #checkContinuity(change: Change): void {
    const last = this.position;
    if (last === undefined) return;
    const inRevision = last.index !== Infinity && last.index < this.#lastCount - 1;
    const follows = inRevision
      ? change.revision === last.revision && change.index === last.index + 1
      : change.revision === last.revision + 1 && change.index === 0;
    if (!follows) {
      for (const listener of this.#gapListeners) listener(change);
      this.#onError?.(
        new Error(
          `the change stream went from revision ${last.revision}${last.index === Infinity ? '' : `.${last.index}`} to ${change.revision}.${change.index}: ` +
            'changes between them were trimmed before this front read them, or written without the stream (every front must have WATCH_HISTORY > 0)',
        ),
      );
    }
  }

  #change(id: string, fields: string[]): Change {
    const { revision, index } = parseId(id);
    const json = JSON.parse(fields[fields.indexOf('c') + 1]!) as StreamChange;
    const key = json.k === '' ? '' : this.#userKey(json.k);
    return {
      revision,
      index,
      count: Number(json.n),
      op: json.o,
      key,
      entry: json.e === undefined ? undefined : toEntry(key, revision, json.e),
      ...(json.values === undefined ? {} : { values: asArray(json.values) }),
      ...(json.popped === undefined ? {} : { popped: json.popped }),
    };
  }
}

interface StreamChange {
  o: ChangeOp;
  k: string;
  n: number;
  e?: { kind: 'string' | 'string_slice'; value?: string | string[] | Record<string, never>; length?: number; c: string; u: string; x: string };
  values?: string[] | Record<string, never>;
  popped?: string;
}

/** cjson encodes an empty Lua table as `{}`. */
function asArray(value: string[] | Record<string, never>): string[] {
  return Array.isArray(value) ? value : [];
}

function toEntry(key: string, version: number, e: NonNullable<StreamChange['e']>): Entry | ListSummary {
  const times = { key, createdAtMs: Number(e.c), updatedAtMs: Number(e.u), expiresAtMs: Number(e.x) > 0 ? Number(e.x) : null, version };
  if (e.kind === 'string') return { ...times, kind: 'string', value: e.value as string };
  if (e.length !== undefined) return { ...times, kind: 'string_slice', length: Number(e.length) };
  return { ...times, kind: 'string_slice', value: asArray(e.value as string[]) };
}

function positionId(position: FeedPosition): string {
  return `${position.revision}-${position.index ?? LAST_INDEX}`;
}

/** The position of a stream id: an index of {@link LAST_INDEX} is the whole revision (Infinity). */
function parseId(id: string): { revision: number; index: number } {
  const dash = id.indexOf('-');
  const index = id.slice(dash + 1);
  return { revision: Number(id.slice(0, dash)), index: index === LAST_INDEX ? Infinity : Number(index) };
}

/** Orders two stream ids `ms-seq` (each part a decimal of up to 20 digits). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-') as [string, string];
  const [bm, bs] = b.split('-') as [string, string];
  return compareDecimal(am, bm) || compareDecimal(as, bs);
}

function compareDecimal(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
