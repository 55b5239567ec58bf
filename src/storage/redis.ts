/**
 * The Redis backend (STORAGE=redis): the storage interface over Redis or Valkey, standalone or
 * Cluster, through ioredis (slots, MOVED/ASK, reconnection). Every command is one Lua script
 * (redis-scripts.ts, sent with EVALSHA and loaded again on NOSCRIPT) on keys of one hash slot.
 *
 * Key layout, for memkv key K and REDIS_KEY_PREFIX P (default `memkv:`):
 *   P{E}      the metadata hash (kind, value of a string, created_ms, updated_ms, expires_ms)
 *   P{E}:l    the elements of a list (a Redis list; absent while the list is empty)
 * where E is K with `%`, `{` and `}` percent-encoded, so that the hash tag `{E}` is the whole key
 * whatever K holds: both keys land in one slot. Metadata keys are exactly those ending in `}`.
 * Beside them: P`secret:`name (shared secrets) and P`doc:`name (shared documents: `auth`).
 *
 * Failures: a Redis OOM refusal is `507 out_of_memory`; no connection, a failover in progress or
 * no answer within REDIS_COMMAND_TIMEOUT is `503 backend_unavailable`, and for a write that was
 * sent, the message says that its outcome is unknown. Nothing waits for a connection: commands
 * fail at once while there is none (no offline queue) and are never sent twice.
 */
import { randomBytes } from 'node:crypto';
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import type { Value } from '@memkv/client/protocol';
import { MemkvError, itemNotFound, quoteKey } from '../errors.js';
import { MAX_DURATION_MS } from '../units.js';
import {
  DOCUMENT_SAVE_SCRIPT,
  EXPIRY_SCRIPT,
  GET_SCRIPT,
  POP_SCRIPT,
  PUSH_SCRIPT,
  RANGE_SCRIPT,
  REMOVE_SCRIPT,
  SET_SCRIPT,
  SET_TTL_SCRIPT,
  UPDATE_SCRIPT,
} from './redis-scripts.js';
import type {
  BackendNodeStats,
  BackendStats,
  Database,
  Entry,
  KeyExpiry,
  KeyPage,
  ListSummary,
  PopResult,
  PopSummary,
  RangeResult,
  Storage,
  TxnResult,
  WriteOptions,
} from './storage.js';

export interface RedisStorageOptions {
  /** `redis://` or `rediss://` URL of one server, user and password in it; or give `clusterNodes`. */
  url?: string;
  /** `host:port` of some nodes of a Redis Cluster (the rest are discovered). */
  clusterNodes?: readonly string[];
  /** Prefix of every Redis key memkv writes; default `memkv:`. Must not hold `{` or `}`. */
  keyPrefix?: string;
  /** Longest wait for a Redis answer, in ms; default 2000. */
  commandTimeoutMs?: number;
  /** TTL of keys written without one (set, and push creating a list), in ms; 0 (default) = never. */
  defaultTtlMs?: number;
  /** Largest key in UTF-8 bytes; default 1024. */
  maxKeyBytes?: number;
  /** Told about connection errors (already throttled to one per state change). */
  onConnectionError?: (error: Error) => void;
}

export const REDIS_DEFAULTS = {
  keyPrefix: 'memkv:',
  commandTimeoutMs: 2000,
  defaultTtlMs: 0,
  maxKeyBytes: 1024,
} as const;

/** Keys a SCAN call is asked to visit (its COUNT hint). */
const SCAN_COUNT = 200;
/** SCAN calls a listing page may make before answering a short page. */
const SCAN_CALLS_PER_PAGE = 10;

/** A keyspace count, reused for a while (see RedisStorage's #keyspaceCounts). */
interface KeyspaceCount {
  pending: Promise<Map<string, { keys: number; keysWithTtl: number }>> | undefined;
  counts: Map<string, { keys: number; keysWithTtl: number }>;
  /** When the count finished, and how long it took (performance.now() ms). */
  finishedAt: number;
  tookMs: number;
}

/** A keyspace count serves the stats for this many times the time it took: Redis spends at most about 1/20 of its time counting. */
export const KEYSPACE_COUNT_REUSE = 20;

/** The script commands defineCommand adds to a connection. */
interface ScriptCommands {
  memkvGet(meta: string, list: string): Promise<unknown[]>;
  memkvSet(meta: string, list: string, ...args: string[]): Promise<unknown[]>;
  memkvUpdate(meta: string, list: string, ...args: string[]): Promise<unknown[]>;
  memkvRemove(meta: string, list: string): Promise<unknown[]>;
  memkvPush(meta: string, list: string, ...args: string[]): Promise<unknown[]>;
  memkvPop(meta: string, list: string, mode: string): Promise<unknown[]>;
  memkvRange(meta: string, list: string, start: string, stop: string): Promise<unknown[]>;
  memkvExpiry(meta: string, list: string): Promise<unknown[]>;
  memkvSetTtl(meta: string, list: string, ttl: string): Promise<unknown[]>;
  memkvDocumentSave(key: string, expectedVersion: string, text: string): Promise<number>;
}

type Client = (Redis | Cluster) & ScriptCommands;

/** Opens the Redis backend; it connects in the background (see {@link RedisStorage.ready}). */
export function createRedisStorage(options: RedisStorageOptions): RedisStorage {
  return new RedisStorage(options);
}

export class RedisStorage implements Storage, Database {
  readonly #client: Client;
  readonly #prefix: string;
  readonly #defaultTtlMs: number;
  readonly #maxKeyBytes: number;
  readonly #commandTimeoutMs: number;
  /** The last count of the keyspace (see #keyspaceCounts), or the one in progress. */
  #lastCount: KeyspaceCount | undefined;
  readonly #cluster: boolean;
  /** What the unavailable answers name: the URL without credentials, or the cluster's nodes. */
  readonly #where: string;
  #lastError: Error | undefined;

  constructor(options: RedisStorageOptions) {
    const {
      url,
      clusterNodes,
      keyPrefix = REDIS_DEFAULTS.keyPrefix,
      commandTimeoutMs = REDIS_DEFAULTS.commandTimeoutMs,
      defaultTtlMs = REDIS_DEFAULTS.defaultTtlMs,
      maxKeyBytes = REDIS_DEFAULTS.maxKeyBytes,
      onConnectionError,
    } = options;
    if ((url === undefined) === (clusterNodes === undefined || clusterNodes.length === 0)) {
      throw new TypeError('give exactly one of url (one server) and clusterNodes (a cluster)');
    }
    if (url !== undefined && !/^rediss?:\/\//.test(url)) throw new TypeError('url must start with redis:// or rediss://');
    if (/[{}]/.test(keyPrefix)) throw new TypeError('keyPrefix must not hold "{" or "}" (they would change the hash slot)');
    if (!Number.isSafeInteger(commandTimeoutMs) || commandTimeoutMs < 1) throw new TypeError('commandTimeoutMs must be an integer >= 1');
    if (!(defaultTtlMs >= 0 && defaultTtlMs <= MAX_DURATION_MS)) throw new TypeError('defaultTtlMs must be a number of ms >= 0');
    if (!Number.isSafeInteger(maxKeyBytes) || maxKeyBytes < 1) throw new TypeError('maxKeyBytes must be an integer >= 1');
    this.#prefix = keyPrefix;
    this.#defaultTtlMs = Math.ceil(defaultTtlMs);
    this.#maxKeyBytes = maxKeyBytes;
    this.#commandTimeoutMs = commandTimeoutMs;

    const common: RedisOptions = {
      commandTimeout: commandTimeoutMs,
      connectTimeout: Math.max(commandTimeoutMs, 1000),
      // Fail at once while disconnected, instead of queueing until REDIS_COMMAND_TIMEOUT.
      enableOfflineQueue: false,
      // A command whose connection dropped is failed, never sent again: a write must not run twice.
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      // No auto-pipelining: ioredis's NOSCRIPT fallback (EVAL after EVALSHA) does not apply in
      // a pipeline, and a replica promoted in a failover has no scripts loaded.
      // Reconnect for ever, backing off to one attempt a second.
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    };
    if (url !== undefined) {
      this.#cluster = false;
      const parsed = new URL(url);
      this.#where = `${parsed.protocol}//${parsed.host}`;
      this.#client = new Redis(url, common) as Client;
    } else {
      this.#cluster = true;
      this.#where = `cluster ${clusterNodes!.join(',')}`;
      this.#client = new Cluster(clusterNodes!.map(parseNode), {
        redisOptions: common,
        enableOfflineQueue: false,
        maxRedirections: 16,
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 1000),
        slotsRefreshTimeout: Math.max(commandTimeoutMs, 1000),
      }) as Client;
    }
    let reported = false;
    this.#client.on('error', (error: Error) => {
      this.#lastError = error;
      // One report per outage: ioredis repeats the error at every reconnection attempt.
      if (!reported) onConnectionError?.(error);
      reported = true;
    });
    this.#client.on('ready', () => {
      reported = false;
      this.#lastError = undefined;
    });
    const define = (name: keyof ScriptCommands, lua: string): void => this.#client.defineCommand(name, { numberOfKeys: 2, lua });
    define('memkvGet', GET_SCRIPT);
    define('memkvSet', SET_SCRIPT);
    define('memkvUpdate', UPDATE_SCRIPT);
    define('memkvRemove', REMOVE_SCRIPT);
    define('memkvPush', PUSH_SCRIPT);
    define('memkvPop', POP_SCRIPT);
    define('memkvRange', RANGE_SCRIPT);
    define('memkvExpiry', EXPIRY_SCRIPT);
    define('memkvSetTtl', SET_TTL_SCRIPT);
    this.#client.defineCommand('memkvDocumentSave', { numberOfKeys: 1, lua: DOCUMENT_SAVE_SCRIPT });
  }

  /** The ioredis connection, for libraries that keep their state in Redis too (the login rate limit). */
  get client(): Redis | Cluster {
    return this.#client;
  }

  /** The prefix of memkv's Redis keys (REDIS_KEY_PREFIX). */
  get keyPrefix(): string {
    return this.#prefix;
  }

  // ---- Connection ----

  /** Whether the connection (every slot, for a cluster) is up now. */
  get ready(): boolean {
    return this.#client.status === 'ready';
  }

  /** Why the backend cannot serve, for `/ready`; `null` when it can. */
  unavailableReason(): string | null {
    if (this.ready) return null;
    const cause = this.#lastError === undefined ? 'connecting' : this.#lastError.message;
    return `backend_unavailable: Redis (${this.#where}) is not reachable (${cause})`;
  }

  /** Closes the connections; commands after it fail. */
  async close(): Promise<void> {
    try {
      await this.#client.quit();
    } catch {
      this.#client.disconnect();
    }
  }

  // ---- Key layout ----

  /** The metadata key of memkv key `key`. */
  metaKey(key: string): string {
    return `${this.#prefix}{${encodeKey(key)}}`;
  }

  #keys(key: string): [string, string] {
    this.#checkKey(key);
    const meta = this.metaKey(key);
    return [meta, `${meta}:l`];
  }

  // ---- Commands ----

  get(key: string): Promise<Entry | undefined> {
    const [meta, list] = this.#keys(key);
    return this.#call(false, this.#client.memkvGet(meta, list)).then((r) => {
      if (r[0] === 0) return undefined;
      return r[1] === 'string'
        ? { key, version: 0, kind: 'string', value: r[2] as string, createdAtMs: Number(r[3]), updatedAtMs: Number(r[4]), expiresAtMs: expires(r[5]) }
        : { key, version: 0, kind: 'string_slice', value: r[2] as string[], createdAtMs: Number(r[3]), updatedAtMs: Number(r[4]), expiresAtMs: expires(r[5]) };
    });
  }

  set(key: string, value: Value, options?: WriteOptions): Promise<number> {
    const [meta, list] = this.#keys(key);
    const ttl = ttlArg(options?.ttlMs);
    if (typeof value !== 'string' && !Array.isArray(value)) throw badValue();
    const args = typeof value === 'string' ? ['string', ttl, String(this.#defaultTtlMs), value] : ['string_slice', ttl, String(this.#defaultTtlMs), ...strings(value)];
    return this.#call(true, this.#client.memkvSet(meta, list, ...args)).then(() => 0);
  }

  update(key: string, value: Value, options?: WriteOptions): Promise<number> {
    const [meta, list] = this.#keys(key);
    const ttl = ttlArg(options?.ttlMs);
    if (typeof value !== 'string' && !Array.isArray(value)) throw badValue();
    const args = typeof value === 'string' ? ['string', ttl, value] : ['string_slice', ttl, ...strings(value)];
    return this.#call(true, this.#client.memkvUpdate(meta, list, ...args)).then((r) => {
      if (r[0] === 0) throw itemNotFound(key);
      return 0;
    });
  }

  remove(key: string): Promise<number> {
    const [meta, list] = this.#keys(key);
    return this.#call(true, this.#client.memkvRemove(meta, list)).then((r) => (r[0] === 1 ? 1 : 0));
  }

  txn(): Promise<TxnResult> {
    return Promise.reject(new MemkvError('invalid_request', 'transactions are not available with STORAGE=redis'));
  }

  push(key: string, values: string | readonly string[], options?: WriteOptions): Promise<Entry> {
    return this.#push(key, values, options, true).then((r) => ({ ...listTimes(key, r), kind: 'string_slice', value: r[5] as string[] }));
  }

  pushSummary(key: string, values: string | readonly string[], options?: WriteOptions): Promise<ListSummary> {
    return this.#push(key, values, options, false).then((r) => summary(key, r));
  }

  #push(key: string, values: string | readonly string[], options: WriteOptions | undefined, full: boolean): Promise<unknown[]> {
    const [meta, list] = this.#keys(key);
    const items = typeof values === 'string' ? [values] : Array.isArray(values) ? strings(values) : undefined;
    if (items === undefined) throw badValue();
    if (items.length === 0) throw new MemkvError('invalid_request', 'value must hold at least one string to push');
    const args = [ttlArg(options?.ttlMs), String(this.#defaultTtlMs), full ? 'full' : 'summary', ...items];
    return this.#call(true, this.#client.memkvPush(meta, list, ...args)).then((r) => {
      if (r[0] === -1) throw wrongType(key, 'push onto');
      return r;
    });
  }

  pop(key: string): Promise<PopResult> {
    return this.#pop(key, true).then((r) => ({ ...listTimes(key, r), kind: 'string_slice', value: r[6] as string[], popped: r[5] as string }));
  }

  popSummary(key: string): Promise<PopSummary> {
    return this.#pop(key, false).then((r) => ({ ...summary(key, r), popped: r[5] as string }));
  }

  #pop(key: string, full: boolean): Promise<unknown[]> {
    const [meta, list] = this.#keys(key);
    return this.#call(true, this.#client.memkvPop(meta, list, full ? 'full' : 'summary')).then((r) => {
      if (r[0] === 0) throw itemNotFound(key);
      if (r[0] === -1) throw wrongType(key, 'pop from');
      if (r[0] === -2) throw new MemkvError('list_empty', `the list at key ${quoteKey(key)} is empty`);
      return r;
    });
  }

  range(key: string, start: number, stop: number): Promise<RangeResult> {
    const [meta, list] = this.#keys(key);
    return this.#call(false, this.#client.memkvRange(meta, list, String(start), String(stop))).then((r) => {
      if (r[0] === 0) throw itemNotFound(key);
      if (r[0] === -1) throw wrongType(key, 'read a range of');
      return { ...summary(key, r), value: r[5] as string[] };
    });
  }

  expiry(key: string): Promise<KeyExpiry | undefined> {
    const [meta, list] = this.#keys(key);
    return this.#call(false, this.#client.memkvExpiry(meta, list)).then((r) => (r[0] === 0 ? undefined : { key, expiresAtMs: expires(r[1]), version: 0 }));
  }

  setTtl(key: string, ttlMs: number | null): Promise<KeyExpiry | undefined> {
    const [meta, list] = this.#keys(key);
    const ttl = ttlMs === null ? '' : ttlArg(ttlMs);
    return this.#call(true, this.#client.memkvSetTtl(meta, list, ttl)).then((r) => (r[0] === 0 ? undefined : { key, expiresAtMs: expires(r[1]), version: 0 }));
  }

  // ---- The database as a whole ----

  /**
   * A page of keys: SCAN over each master in turn (in address order), MATCH on the metadata keys
   * of `prefix`. SCAN's guarantee holds: a key present for the whole listing is returned; during
   * a rehash it may be returned twice.
   *
   * A SCAN batch that does not fit in the page is not split, since the keys of a batch change
   * between two calls (delete-prefix removes the keys of each page it gets): the page ends before
   * it, and the next page starts with it; batches are asked for at about half a page (COUNT), and
   * one that does not fit an empty page is asked for again one hash bucket at a time. Only a
   * bucket with more keys of the prefix than a whole page is split, and not by position but by
   * the order of a hash of its keys: the cursor holds the last hash answered, and the next call
   * skips the keys whose hash is not above it, whichever keys were removed meanwhile. (If Redis
   * is rehashing its table between those two calls, the batch at that cursor can gain keys of
   * another bucket, and those of them that hash below the cursor are skipped: only pages of a
   * key or two ever split a bucket.)
   */
  async scanPage(cursor: string | null, prefix: string, limit: number): Promise<KeyPage> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('limit must be an integer >= 1');
    const nodes = this.#masters();
    if (nodes.length === 0) throw new MemkvError('backend_unavailable', `the storage backend is unavailable: Redis (${this.#where}) is not reachable; retry later`);
    const position = cursor === null ? { node: nodes[0]!.address, scan: '0', after: -1 } : decodeCursor(cursor);
    if (position === undefined) throw new TypeError(`not a listing cursor of this backend: ${JSON.stringify(cursor)}`);
    let index = nodes.findIndex((node) => node.address === position.node);
    if (index < 0) {
      // A failover or a resharding since the listing began: its SCAN cursor means nothing elsewhere.
      throw new MemkvError('invalid_request', `the Redis node ${position.node} of this listing is no longer a master: start the listing again without cursor`);
    }
    const pattern = this.#matchPattern(prefix);
    const keys: string[] = [];
    let { scan, after } = position;
    // Batches of about half a page, so that most fit whole.
    let count = Math.max(1, Math.min(SCAN_COUNT, Math.floor(limit / 2)));
    for (let calls = 0; calls < SCAN_CALLS_PER_PAGE; calls++) {
      const [next, batch] = await this.#call(false, nodes[index]!.client.scan(scan, 'MATCH', pattern, 'COUNT', count));
      const found = hashOrdered(batch, after);
      const room = limit - keys.length;
      if (found.length > room) {
        // The batch whole, in the next page.
        if (keys.length > 0) return { keys, cursor: encodeCursor(nodes[index]!.address, scan, after) };
        // The same cursor again, one hash bucket at a time: a smaller batch may fit.
        if (count > 1) {
          count = 1;
          continue;
        }
        const end = splitPoint(found, room);
        for (let i = 0; i < end; i++) keys.push(this.#userKey(found[i]!.meta));
        return { keys, cursor: encodeCursor(nodes[index]!.address, scan, found[end - 1]!.hash) };
      }
      for (const { meta } of found) keys.push(this.#userKey(meta));
      after = -1;
      scan = next;
      if (scan === '0') {
        if (++index === nodes.length) return { keys, cursor: null };
      }
      if (keys.length === limit) break;
    }
    return { keys, cursor: encodeCursor(nodes[index]!.address, scan, -1) };
  }

  async size(): Promise<number> {
    let count = 0;
    for (const { client } of this.#masters()) await this.#scanAll(client, (keys) => void (count += keys.length));
    return count;
  }

  async flush(): Promise<number> {
    let removed = 0;
    for (const { client } of this.#masters()) {
      await this.#scanAll(client, async (keys) => {
        if (keys.length === 0) return;
        const pipeline = client.pipeline();
        for (const meta of keys) pipeline.del(meta, `${meta}:l`);
        const results = (await this.#call(true, pipeline.exec())) ?? [];
        for (const [error, count] of results) if (error === null && (count as number) > 0) removed++;
      });
    }
    return removed;
  }

  async backendStats(): Promise<BackendStats> {
    const counts = await this.#keyspaceCounts();
    const nodes: BackendNodeStats[] = [];
    for (const { address, client } of this.#masters()) {
      const info = parseInfo(await this.#call(false, client.info('server', 'memory', 'stats')));
      const counted = counts.get(address) ?? { keys: 0, keysWithTtl: 0 };
      nodes.push({
        address,
        version: info.valkey_version ?? info.redis_version ?? 'unknown',
        usedMemoryBytes: Number(info.used_memory ?? 0),
        maxMemoryBytes: Number(info.maxmemory ?? 0),
        evictionPolicy: info.maxmemory_policy ?? 'unknown',
        keys: counted.keys,
        keysWithTtl: counted.keysWithTtl,
        hits: Number(info.keyspace_hits ?? 0),
        misses: Number(info.keyspace_misses ?? 0),
        expired: Number(info.expired_keys ?? 0),
        evicted: Number(info.evicted_keys ?? 0),
      });
    }
    return { kind: 'redis', mode: this.#cluster ? 'cluster' : 'standalone', nodes };
  }

  /**
   * memkv's keys, and those with a TTL, per master. Counting them is a SCAN of every key and a
   * PTTL of each: O(keys) of Redis's time. So that a dashboard polling the stats every second
   * cannot keep Redis busy counting, a count is reused while it is younger than
   * {@link KEYSPACE_COUNT_REUSE} times what it took (a count of 1M keys that took 2 s serves for
   * 40 s; one of a few keys, a few ms), and callers arriving during a count share it.
   */
  #keyspaceCounts(): Promise<Map<string, { keys: number; keysWithTtl: number }>> {
    const last = this.#lastCount;
    if (last !== undefined && (last.pending !== undefined || performance.now() - last.finishedAt < last.tookMs * KEYSPACE_COUNT_REUSE)) {
      return last.pending ?? Promise.resolve(last.counts);
    }
    const startedAt = performance.now();
    const pending = (async () => {
      const counts = new Map<string, { keys: number; keysWithTtl: number }>();
      for (const { address, client } of this.#masters()) {
        let keys = 0;
        let keysWithTtl = 0;
        await this.#scanAll(client, async (batch) => {
          keys += batch.length;
          if (batch.length === 0) return;
          const pipeline = client.pipeline();
          for (const meta of batch) pipeline.pttl(meta);
          for (const [error, ttl] of (await this.#call(false, pipeline.exec())) ?? []) if (error === null && (ttl as number) > 0) keysWithTtl++;
        });
        counts.set(address, { keys, keysWithTtl });
      }
      return counts;
    })();
    const entry: KeyspaceCount = { pending, counts: new Map(), finishedAt: 0, tookMs: 0 };
    this.#lastCount = entry;
    pending.then(
      (counts) => {
        entry.pending = undefined;
        entry.counts = counts;
        entry.finishedAt = performance.now();
        entry.tookMs = entry.finishedAt - startedAt;
      },
      () => {
        if (this.#lastCount === entry) this.#lastCount = undefined; // the next caller counts again
      },
    );
    return pending;
  }

  async sharedSecret(name: string): Promise<string> {
    const key = `${this.#prefix}secret:${name}`;
    const candidate = randomBytes(32).toString('base64url');
    // SET NX then GET: the first front to ask creates it, every other one reads the same.
    await this.#call(true, this.#client.set(key, candidate, 'NX'));
    const secret = await this.#call(false, this.#client.get(key));
    if (secret === null) throw new MemkvError('backend_unavailable', `the shared secret ${key} vanished from Redis; retry`);
    return secret;
  }

  // ---- Shared documents (state that every front shares, such as users and sessions) ----

  /** The version of document `name`: 0 while it does not exist; each save adds one. */
  async documentVersion(name: string): Promise<number> {
    return Number((await this.#call(false, this.#client.hget(this.#documentKey(name), 'version'))) ?? 0);
  }

  /** Document `name`: its text (null while it does not exist) and version. */
  async readDocument(name: string): Promise<{ text: string | null; version: number }> {
    const [text, version] = await this.#call(false, this.#client.hmget(this.#documentKey(name), 'text', 'version'));
    return { text: text ?? null, version: Number(version ?? 0) };
  }

  /** Replaces document `name` if its version is still `expectedVersion`: the new version, or undefined. */
  async writeDocument(name: string, text: string, expectedVersion: number): Promise<number | undefined> {
    const version = await this.#call(true, this.#client.memkvDocumentSave(this.#documentKey(name), String(expectedVersion), text));
    return version < 0 ? undefined : version;
  }

  #documentKey(name: string): string {
    return `${this.#prefix}doc:${name}`;
  }

  /** The masters, in address order: one connection for a server, each master's for a cluster. */
  #masters(): { address: string; client: Redis }[] {
    if (!this.#cluster) {
      const client = this.#client as Redis;
      return [{ address: `${client.options.host}:${client.options.port}`, client }];
    }
    return (this.#client as Cluster)
      .nodes('master')
      .map((client) => ({ address: `${client.options.host}:${client.options.port}`, client }))
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }

  /** Calls `each` with every batch of metadata keys of one node (all of memkv's keys there). */
  async #scanAll(client: Redis, each: (keys: string[]) => void | Promise<void>): Promise<void> {
    const pattern = this.#matchPattern('');
    let cursor = '0';
    do {
      const [next, keys] = await this.#call(false, client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
      await each(keys);
      cursor = next;
    } while (cursor !== '0');
  }

  /** The SCAN MATCH pattern of the metadata keys of memkv keys that start with `prefix`. */
  #matchPattern(prefix: string): string {
    return `${globEscape(this.#prefix)}\\{${globEscape(encodeKey(prefix))}*\\}`;
  }

  /** The memkv key of metadata key `meta`. */
  #userKey(meta: string): string {
    return decodeKey(meta.slice(this.#prefix.length + 1, -1));
  }

  // ---- Errors ----

  /** `reply`, with Redis's and the connection's failures as memkv's errors. */
  #call<T>(writes: boolean, reply: Promise<T>): Promise<T> {
    return reply.catch((error: unknown) => {
      throw this.#mapError(error, writes);
    });
  }

  #mapError(error: unknown, writes: boolean): unknown {
    if (error instanceof MemkvError || !(error instanceof Error)) return error;
    const message = error.message;
    if (message.startsWith('OOM ')) {
      return new MemkvError('out_of_memory', `out of memory: Redis refused the write (${message}); remove keys, or raise Redis's maxmemory or choose an evicting maxmemory-policy`, { cause: error });
    }
    // Not sent at all: no connection (no offline queue), or the cluster is not ready yet.
    if (/enableOfflineQueue|isn't ready|Connection is closed\.$|None of startup nodes/i.test(message) && !/max retries/i.test(message)) {
      if (message.includes('Connection is closed') && writes) return this.#unknown(error);
      return new MemkvError('backend_unavailable', `the storage backend is unavailable: Redis (${this.#where}) is not reachable; retry later`, { cause: error });
    }
    if (message === 'Command timed out' || /max retries|Connection is closed|ECONNRESET|EPIPE/i.test(message)) {
      return writes ? this.#unknown(error) : new MemkvError('backend_unavailable', `Redis (${this.#where}) did not answer within REDIS_COMMAND_TIMEOUT (${this.#commandTimeoutMs} ms); retry later`, { cause: error });
    }
    // Redis's own answers during a failover or a start: retry later, nothing was done.
    if (/^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|BUSY)\b/.test(message) || /Failed to refresh slots cache/.test(message)) {
      return new MemkvError('backend_unavailable', `the storage backend is unavailable (${message.split('\n', 1)[0]}); retry later`, { cause: error });
    }
    return error;
  }

  #unknown(error: Error): MemkvError {
    return new MemkvError(
      'backend_unavailable',
      `the outcome of this write is unknown: it was sent to Redis (${this.#where}), which did not answer within REDIS_COMMAND_TIMEOUT ` +
        `(${this.#commandTimeoutMs} ms) or lost the connection; read the key before retrying`,
      { cause: error },
    );
  }

  #checkKey(key: string): void {
    if (typeof key !== 'string' || key.length === 0) throw new MemkvError('invalid_request', 'key must be a non-empty string');
    if (key.length * 3 > this.#maxKeyBytes && Buffer.byteLength(key, 'utf8') > this.#maxKeyBytes) {
      throw new MemkvError('invalid_request', `key is longer than ${this.#maxKeyBytes} bytes`);
    }
  }
}

// ---- Helpers ----

/** `K` with `%`, `{` and `}` percent-encoded: a hash tag that is the whole key, whatever it holds. */
export function encodeKey(key: string): string {
  return /[%{}]/.test(key) ? key.replace(/[%{}]/g, (c) => (c === '%' ? '%25' : c === '{' ? '%7B' : '%7D')) : key;
}

export function decodeKey(encoded: string): string {
  return encoded.includes('%') ? encoded.replace(/%(25|7B|7D)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : encoded;
}

/** `text` with the glob characters of SCAN MATCH escaped. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The listing cursor of the backend: the master, its SCAN cursor, and the last key hash answered of that batch (-1: none). */
function encodeCursor(node: string, scan: string, after: number): string {
  return Buffer.from(`${node} ${scan} ${after}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { node: string; scan: string; after: number } | undefined {
  const match = /^(\S+) (\d{1,20}) (-1|\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match === null ? undefined : { node: match[1]!, scan: match[2]!, after: Number(match[3]) };
}

/** FNV-1a, 32 bits, of `text`'s UTF-16 code units: a stable order for the keys of one SCAN batch. */
function keyHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The metadata keys of a batch whose hash is above `after`, in the order of their hash (then of the key). */
function hashOrdered(batch: readonly string[], after: number): { meta: string; hash: number }[] {
  const entries: { meta: string; hash: number }[] = [];
  for (const meta of batch) {
    const hash = keyHash(meta);
    if (hash > after) entries.push({ meta, hash });
  }
  return entries.sort((a, b) => a.hash - b.hash || (a.meta < b.meta ? -1 : a.meta > b.meta ? 1 : 0));
}

/**
 * How many of `found` (hash-ordered, longer than `room`) a page of `room` keys takes: `room`,
 * or fewer so that keys of equal hash are never split between pages (the cursor resumes after a
 * hash); a run of equal hashes that starts the page is taken whole.
 */
function splitPoint(found: readonly { hash: number }[], room: number): number {
  const boundary = found[room - 1]!.hash;
  if (found[room]!.hash !== boundary) return room;
  let start = room - 1;
  while (start > 0 && found[start - 1]!.hash === boundary) start--;
  if (start > 0) return start;
  let end = room;
  while (end < found.length && found[end]!.hash === boundary) end++;
  return end;
}

function parseNode(text: string): ClusterNode {
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

/** The TTL argument of a script: '' when none, else whole ms (checked as the engine checks it). */
function ttlArg(ttlMs: number | undefined): string {
  if (ttlMs === undefined) return '';
  if (typeof ttlMs !== 'number' || !(ttlMs > 0) || ttlMs > MAX_DURATION_MS) {
    throw new MemkvError('invalid_request', `ttl must be a positive duration of at most ${MAX_DURATION_MS} ms`);
  }
  return String(Math.ceil(ttlMs));
}

function expires(text: unknown): number | null {
  const ms = Number(text);
  return ms > 0 ? ms : null;
}

/** The times of a push or pop answer ({status, created, updated, expires, length, …}). */
function listTimes(key: string, r: unknown[]): { key: string; version: number; createdAtMs: number; updatedAtMs: number; expiresAtMs: number | null } {
  return { key, version: 0, createdAtMs: Number(r[1]), updatedAtMs: Number(r[2]), expiresAtMs: expires(r[3]) };
}

function summary(key: string, r: unknown[]): ListSummary {
  return { ...listTimes(key, r), kind: 'string_slice', length: Number(r[4]) };
}

/** `values` checked to be strings (the engine's rule). */
function strings(values: readonly unknown[]): string[] {
  for (const value of values) if (typeof value !== 'string') throw badValue();
  return values as string[];
}

function badValue(): MemkvError {
  return new MemkvError('invalid_request', 'value must be a string or an array of strings');
}

function wrongType(key: string, action: string): MemkvError {
  return new MemkvError('wrong_type', `cannot ${action} key ${quoteKey(key)}: it holds a string, not a list`);
}
