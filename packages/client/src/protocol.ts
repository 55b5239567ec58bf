/**
 * The memkv wire protocol: the JSON shapes that travel over HTTP.
 *
 * This file is the single source of the types that the server, the client and the CLI share.
 * It has no runtime code beyond constant tables, so importing it never pulls in server code.
 */

/** Kind of a stored value, as the API names it (the seed design's names). */
export type Kind = 'string' | 'string_slice';

/** A stored value: a string or a list of strings. */
export type Value = string | string[];

/** A row as the API returns it. Times are RFC 3339 strings in UTC. */
export type RowJson =
  | (RowJsonBase & { kind: 'string'; value: string })
  | (RowJsonBase & { kind: 'string_slice'; value: string[] });

interface RowJsonBase {
  key: string;
  /** The revision of the key's last write; also the answer's `ETag` (`"N"`). */
  version: number;
  /** Absolute expiry time (RFC 3339), or `null` when the key never expires. */
  ttl: string | null;
  created_at: string;
  updated_at: string;
}

/** A row that holds a list: what push answers. */
export type ListRowJson = Extract<RowJson, { kind: 'string_slice' }>;

/** The row after a pop, with the removed element. */
export type PopRowJson = ListRowJson & { popped: string };

/**
 * The `Prefer` request header (RFC 7240) that asks push and pop to answer a {@link MinimalRowJson}
 * instead of the whole list; the server then sends `Preference-Applied: return=minimal`.
 */
export const PREFER_MINIMAL = 'return=minimal';

/**
 * A list row without its elements, as push and pop answer it to `Prefer: return=minimal`: the
 * row's fields in the same order, with `length` (the number of elements) in place of `value`.
 */
export interface MinimalRowJson {
  key: string;
  kind: 'string_slice';
  /** Number of elements in the list. */
  length: number;
  version: number;
  /** Absolute expiry time (RFC 3339), or `null` when the key never expires. */
  ttl: string | null;
  created_at: string;
  updated_at: string;
}

/** The minimal row after a pop, with the removed element. */
export type MinimalPopRowJson = MinimalRowJson & { popped: string };

/**
 * Preconditions in a write's body, for clients that cannot send `If-Match` / `If-None-Match`:
 * the write happens only if the key's version is `if_version` (`null`: the key must be missing),
 * else `412 precondition_failed`.
 */
export interface PreconditionFields {
  if_version?: number | null;
}

/** `POST /api/{version}/set` body. `ttl` is a duration such as `"1h30m"`. */
export interface SetBody extends PreconditionFields {
  key: string;
  value: Value;
  ttl?: string;
  /** Create only: `412` when the key exists (as `If-None-Match: *`). */
  if_absent?: boolean;
}

/** `PATCH /api/{version}/{key}` body. */
export interface UpdateBody extends PreconditionFields {
  value: Value;
  ttl?: string;
}

/** `PATCH /api/{version}/{key}/push` body: one string or several, pushed in order. */
export interface PushBody extends PreconditionFields {
  value: Value;
  ttl?: string;
}

/**
 * `GET /api/{version}/{key}/range?start=&stop=` answer: the elements from `start` to `stop`
 * (inclusive, negative indexes from the end, as Redis `LRANGE`) and the whole list's `length`.
 */
export interface RangeRowJson {
  key: string;
  kind: 'string_slice';
  /** The elements of the slice. */
  value: string[];
  /** Number of elements in the whole list. */
  length: number;
  version: number;
  /** Absolute expiry time (RFC 3339), or `null` when the key never expires. */
  ttl: string | null;
  created_at: string;
  updated_at: string;
}

/** `GET` and `PATCH /api/{version}/{key}/ttl` answer: the key's expiry. */
export interface TtlJson {
  key: string;
  /** Absolute expiry time (RFC 3339), or `null` when the key never expires. */
  ttl: string | null;
  version: number;
}

/** `PATCH /api/{version}/{key}/ttl` body: a duration such as `"1h"`, or `null` to never expire. */
export interface TtlBody extends PreconditionFields {
  ttl: string | null;
}

/** A check of a transaction: the key's version must be `version` (`null`: the key must be missing). */
export interface TxnCheckJson {
  key: string;
  version: number | null;
}

/** An op of a transaction (`ttl`: a duration such as `"1h"`; on the `ttl` op, `null` to never expire). */
export type TxnOpJson =
  | { op: 'set'; key: string; value: Value; ttl?: string }
  | { op: 'update'; key: string; value: Value; ttl?: string }
  | { op: 'push'; key: string; value: Value; ttl?: string }
  | { op: 'pop'; key: string }
  | { op: 'remove'; key: string }
  | { op: 'ttl'; key: string; ttl: string | null };

/** `POST /api/{version}/db/txn` body. */
export interface TxnBody {
  checks?: TxnCheckJson[];
  ops: TxnOpJson[];
}

/** What one op of a transaction did: the key's version after it (`null` once removed). */
export interface TxnOpResultJson {
  op: TxnOpJson['op'];
  key: string;
  version: number | null;
  /** push and pop: the list's length after the op. */
  length?: number;
  /** pop: the element removed. */
  popped?: string;
}

/** `POST /api/{version}/db/txn` answer. */
export interface TxnJson {
  ok: true;
  /** The transaction's revision, which every key it wrote has as its version. */
  version: number;
  results: TxnOpResultJson[];
}

/** Body of answers that carry no row; a write's answer has the `version` it gave the key. */
export interface MessageJson {
  message: string;
  /** The revision of the write (set, update, remove). */
  version?: number;
}

/** Every error code the API returns, stable across versions. */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'unsupported_media_type',
  'payload_too_large',
  'request_timeout',
  'route_not_found',
  'item_not_found',
  'wrong_type',
  'list_empty',
  'unauthorized',
  'forbidden',
  'too_many_requests',
  'user_exists',
  'user_not_found',
  'internal_server_error',
  'service_unavailable',
  'loading',
  'out_of_memory',
  'persistence_failed',
  'persistence_disabled',
  'backend_unavailable',
  'precondition_failed',
  'txn_conflict',
  'history_compacted',
  'idempotency_key_reused',
  'idempotency_in_flight',
  'watch_overflow',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The body of every error answer. Some codes add fields (see {@link PreconditionFailedJson}, {@link TxnConflictJson}). */
export interface ErrorJson {
  code: ErrorCode | (string & {});
  message: string;
  /** precondition_failed: the key's current version, `null` when it is missing. */
  version?: number | null;
  /** txn_conflict: the checks that failed, with each key's current version. */
  conflicts?: { key: string; version: number | null }[];
  /** An error of a transaction's op: the op's index in `ops`. */
  op?: number;
}

// ---- Database-level answers (`/api/{version}/db/...`) ----

/** What happens when a write would pass the memory limit (MAX_MEMORY), with Redis's meanings. */
export const EVICTION_POLICIES = ['noeviction', 'allkeys-lru', 'volatile-lru', 'allkeys-random', 'volatile-ttl'] as const;

export type EvictionPolicy = (typeof EVICTION_POLICIES)[number];

/** `GET /api/{version}/db/keys`: one page of a key listing. */
export interface KeysPageJson {
  /** The page's keys; with `delimiter`, only those with no delimiter after the prefix. */
  keys: string[];
  /**
   * With `delimiter` only: the next level's prefixes among this page's keys (each ending with
   * the delimiter) and how many of this page's keys each holds. Counts are per page: add them up
   * across pages; they are complete once `cursor` is `null`.
   */
  prefixes?: KeyPrefixJson[];
  /** Pass back as `cursor` to get the next page; `null` when the listing is complete. */
  cursor: string | null;
}

/** A next-level prefix of a key listing with `delimiter`, and its number of keys in that page. */
export interface KeyPrefixJson {
  prefix: string;
  keys: number;
}

/** `POST /api/{version}/db/delete-prefix` body. */
export interface DeletePrefixBody {
  /** Every key that starts with this text; must not be empty (the flush removes every key). */
  prefix: string;
  /** Only count the keys that would be removed; default false. */
  dry_run?: boolean;
}

/** `POST /api/{version}/db/delete-prefix` answer: `matched` for a dry run, else `deleted`. */
export type DeletePrefixJson = { deleted: number } | { matched: number };

/** `GET /api/{version}/db/size`. */
export interface SizeJson {
  keys: number;
}

/** `POST /api/{version}/db/flush`. */
export interface FlushJson {
  /** Number of keys removed. */
  removed: number;
}

/** Persistence section of the stats: `{ enabled: false }` when the server keeps data in memory only. */
export type PersistenceStatsJson =
  | { enabled: false }
  | {
      enabled: true;
      /** Whether the log can be written now. */
      writable: boolean;
      /** Last append to the log (RFC 3339), or `null` when none yet. */
      last_write_at: string | null;
      /** Last fsync of the log (RFC 3339), or `null` when none yet. */
      last_fsync_at: string | null;
      /** Size of the log file in bytes. */
      log_bytes: number;
      /** End of the last compaction (RFC 3339), or `null` when none yet. */
      last_compaction_at: string | null;
    };

/** `GET /api/{version}/db/stats`: what the server is doing, in the spirit of Redis `INFO`. */
export interface StatsJson {
  server: {
    version: string;
    /** RFC 3339 time the server started. */
    started_at: string;
    uptime_seconds: number;
  };
  keyspace: {
    keys: number;
    keys_with_ttl: number;
  };
  memory: {
    /** Bytes of data as memkv accounts them (keys, values and a fixed per-key overhead). */
    data_bytes: number;
    /** MAX_MEMORY in bytes, or `null` when unlimited. */
    max_memory_bytes: number | null;
    /** The policy (EVICTION_POLICY; with STORAGE=redis, the first master's maxmemory-policy). */
    eviction_policy: EvictionPolicy | (string & {});
    /** Resident set size of the whole process, for comparison. */
    rss_bytes: number;
  };
  stats: {
    /** Reads that found their key. */
    hits: number;
    /** Reads that found nothing. */
    misses: number;
    /** Keys removed because their TTL passed. */
    expired: number;
    /** Keys removed by the eviction policy. */
    evicted: number;
    /** Calls per store operation since start (get, set, update, remove, push, pop, …). */
    commands: Record<string, number>;
  };
  persistence: PersistenceStatsJson;
  /** The storage backend: the embedded engine, or the Redis masters (STORAGE=redis). */
  backend: BackendStatsJson;
}

/** `GET /db/stats`'s `backend`: what holds the data, one entry per node (per master for Redis). */
export interface BackendStatsJson {
  kind: 'memory' | 'redis';
  mode: 'embedded' | 'standalone' | 'cluster';
  nodes: {
    /** `host:port` of a Redis master; `memkv` for the embedded engine. */
    address: string;
    version: string;
    used_memory_bytes: number;
    /** The node's memory limit (Redis maxmemory, or MAX_MEMORY), or `null` when unlimited. */
    max_memory_bytes: number | null;
    eviction_policy: string;
    /** memkv's keys on this node. */
    keys: number;
  }[];
}

// ---- Watch (`GET /api/{version}/db/watch`, server-sent events) ----

/** The operations a watch reports, one event per change to a matching key. */
export type WatchOp = 'set' | 'update' | 'push' | 'pop' | 'ttl' | 'remove' | 'expire' | 'evict' | 'flush';

/**
 * The `data:` of one watch event. `revision` is the database revision of the change (several
 * changes of one transaction share it). set, update and ttl carry the key's whole row; push and
 * pop its minimal row (`length`, no elements) with the values pushed or the element popped;
 * remove, expire and evict no row; flush no key either (every key is gone).
 */
export type WatchEventJson =
  | { revision: number; op: 'set' | 'update' | 'ttl'; key: string; row: RowJson }
  | { revision: number; op: 'push'; key: string; row: MinimalRowJson; values: string[] }
  | { revision: number; op: 'pop'; key: string; row: MinimalRowJson; popped: string }
  | { revision: number; op: 'remove' | 'expire' | 'evict'; key: string }
  | { revision: number; op: 'flush' };

/**
 * A watch event with its SSE `id:`: `N` for a revision with one change; for a revision with k > 1
 * changes `N.0` … `N.(k-2)`, then `N` for the last. Resuming from an id (`from`, or the
 * `Last-Event-ID` header) continues right after that event.
 */
export type WatchEvent = WatchEventJson & { id: string };

/** The `data:` of the `event: error` that ends a watch stream (`watch_overflow`: the watcher did not keep up). */
export interface WatchErrorJson {
  code: ErrorCode | (string & {});
  message: string;
}

// ---- Authentication ----

/** A user's role: `readonly` reads, `readwrite` also writes, `admin` also manages users and the database. */
export type Role = 'admin' | 'readwrite' | 'readonly';

/** Every role, from most to least privileged. */
export const ROLES = ['admin', 'readwrite', 'readonly'] as const satisfies readonly Role[];

/** `POST /api/{version}/auth/login` body. */
export interface LoginBody {
  username: string;
  password: string;
}

/** Answer of login and refresh: a new access token and a new refresh token. */
export interface TokenPairJson {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  /** Lifetime of the access token, in seconds. */
  expires_in: number;
}

/** `POST /api/{version}/auth/refresh` body. */
export interface RefreshBody {
  refresh_token: string;
}

/** `POST /api/{version}/auth/logout` body (optional): the refresh token to revoke with the access token. */
export interface LogoutBody {
  refresh_token?: string;
}

/** `POST /api/{version}/auth/register` body. `keys` are glob patterns (`*`, `?`); default `["*"]`. */
export interface RegisterBody {
  username: string;
  password: string;
  role: Role;
  keys?: string[];
}

/** `POST /api/{version}/auth/users/{username}/password` body. */
export interface ChangePasswordBody {
  password: string;
}

/** A user as the API shows it (never with a password or its hash). */
export interface UserJson {
  username: string;
  role: Role;
  /** Key patterns the user may read or write (`*` = every key). Admin routes ignore them. */
  keys: string[];
  created_at: string;
}

/** `GET /api/{version}/auth/users` answer. */
export interface UsersJson {
  users: UserJson[];
}
