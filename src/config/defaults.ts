/** Every configuration default, with its unit. The environment variable names are in load.ts. */
import { EVICTION_POLICIES, type EvictionPolicy } from '@memkv/client/protocol';
import { FSYNC_POLICIES, type FsyncPolicy } from '../fsync-policy.js';

export { EVICTION_POLICIES, FSYNC_POLICIES, type EvictionPolicy, type FsyncPolicy };

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Where the data lives: the embedded engine, or Redis/Valkey (standalone or Cluster). */
export const STORAGE_KINDS = ['memory', 'redis'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Whether the API asks for client certificates (mutual TLS), and whether it needs one. */
export const TLS_CLIENT_AUTH_MODES = ['none', 'optional', 'require'] as const;
export type TlsClientAuth = (typeof TLS_CLIENT_AUTH_MODES)[number];

/**
 * Which `X-Forwarded-*` headers to believe (Fastify's `trustProxy`): none (`false`), every proxy
 * (`true`), the nearest N hops, or the proxies at these addresses and CIDR ranges.
 */
export type TrustProxy = boolean | number | readonly string[];

export interface Config {
  /** Log level (VERBOSE). */
  readonly verbose: LogLevel;
  /** Version segment of the API base path `/api/{apiVersion}` (API_VERSION). */
  readonly apiVersion: string;
  /** Interface both servers listen on (HOST). */
  readonly host: string;
  /** Port of the API (PORT); 0 picks a free port. */
  readonly port: number;
  /** Port of the health server (HEALTH_PORT); 0 picks a free port. */
  readonly healthPort: number;
  /** TTL of keys written without one, in ms; 0 = never expire (DEFAULT_TTL). */
  readonly defaultTtlMs: number;
  /** Period of the active-expiry tick, in ms (DEFAULT_CLEANUP_INTERVAL). */
  readonly cleanupIntervalMs: number;
  /** Whether writes are logged to disk and replayed at start (PERSISTENCE_ENABLED). */
  readonly persistenceEnabled: boolean;
  /** Directory of the database files (DB_PATH). */
  readonly dbPath: string;
  /** When the log is fsynced (PERSISTENCE_FSYNC). */
  readonly persistenceFsync: FsyncPolicy;
  /** Compact the log when it exceeds this multiple of its live data (its size after the last compaction); 0 = never automatically (PERSISTENCE_COMPACT_RATIO). */
  readonly persistenceCompactRatio: number;
  /** Smallest log compacted automatically, in bytes (PERSISTENCE_COMPACT_MIN_SIZE). */
  readonly persistenceCompactMinBytes: number;
  /** Load a log damaged in the middle up to the damage instead of refusing to start (PERSISTENCE_LOAD_DAMAGED). */
  readonly persistenceLoadDamaged: boolean;
  /** Largest key, in UTF-8 bytes (MAX_KEY_BYTES). */
  readonly maxKeyBytes: number;
  /** Largest request body, in bytes (MAX_BODY_BYTES). */
  readonly maxBodyBytes: number;
  /** Most ops, and most checks, in one transaction (MAX_TXN_OPS). */
  readonly maxTxnOps: number;
  /** Longest time to receive a whole request, head and body, in ms; 0 = no limit (REQUEST_TIMEOUT). */
  readonly requestTimeoutMs: number;
  /** How long the answer to a request with an `Idempotency-Key` is kept for its retries, in ms (IDEMPOTENCY_TTL). */
  readonly idempotencyTtlMs: number;
  /** Limit on the accounted data bytes; 0 = unlimited (MAX_MEMORY). */
  readonly maxMemoryBytes: number;
  /** What to evict when a write would pass MAX_MEMORY (EVICTION_POLICY). */
  readonly evictionPolicy: EvictionPolicy;
  /** Whether data and admin routes need a bearer token (AUTH_ENABLED). */
  readonly authEnabled: boolean;
  /** Name of the admin account made or updated at start (ADMIN_USER); required with auth on. */
  readonly adminUser: string | undefined;
  /** Password of that account (ADMIN_PASSWORD), at least 8 characters; required with auth on. */
  readonly adminPassword: string | undefined;
  /** HMAC key of the tokens, at least 32 bytes (JWT_SECRET); unset = generated. */
  readonly jwtSecret: string | undefined;
  /** Lifetime of access tokens, in ms (ACCESS_TOKEN_TTL). */
  readonly accessTokenTtlMs: number;
  /** Lifetime of refresh tokens (and of an idle login session), in ms (REFRESH_TOKEN_TTL). */
  readonly refreshTokenTtlMs: number;
  /** Whether the API documentation also needs a token, with auth on (AUTH_PROTECT_DOCS). */
  readonly authProtectDocs: boolean;
  /** Login attempts allowed per client address and, separately, per user name, per window (LOGIN_RATE_LIMIT). */
  readonly loginRateLimit: number;
  /** The login rate-limit window, in ms (LOGIN_RATE_WINDOW). */
  readonly loginRateWindowMs: number;
  /** scrypt cost N of new password hashes, a power of two (PASSWORD_HASH_COST). */
  readonly passwordHashCost: number;
  /** Whether the API port serves the web dashboard at `/ui` (UI_ENABLED). */
  readonly uiEnabled: boolean;
  /** PEM certificate chain the API serves HTTPS with (TLS_CERT_FILE); unset = plain HTTP. Needs TLS_KEY_FILE. */
  readonly tlsCertFile: string | undefined;
  /** PEM private key of that certificate (TLS_KEY_FILE). */
  readonly tlsKeyFile: string | undefined;
  /** PEM certificates of the CAs that sign client certificates (TLS_CA_FILE); needs TLS_CLIENT_AUTH. */
  readonly tlsCaFile: string | undefined;
  /** Client certificates: not asked for, checked when sent, or required (TLS_CLIENT_AUTH). */
  readonly tlsClientAuth: TlsClientAuth;
  /** Whether the health port serves HTTPS too, with the same certificate (HEALTH_TLS). */
  readonly healthTls: boolean;
  /** Origins allowed to call the API from a browser; `*` = any (only with auth off); empty = none (CORS_ORIGINS). */
  readonly corsOrigins: readonly string[];
  /** Which proxies' X-Forwarded-For / X-Forwarded-Proto to believe (TRUST_PROXY). */
  readonly trustProxy: TrustProxy;
  /** Where the data lives (STORAGE): `memory` (the embedded engine) or `redis`. */
  readonly storage: StorageKind;
  /** URL of one Redis or Valkey server, `redis://` or `rediss://`, credentials in it (REDIS_URL). */
  readonly redisUrl: string | undefined;
  /** `host:port` of some nodes of a Redis Cluster (REDIS_CLUSTER_NODES, comma-separated). */
  readonly redisClusterNodes: readonly string[] | undefined;
  /** Prefix of every Redis key memkv writes (REDIS_KEY_PREFIX). */
  readonly redisKeyPrefix: string;
  /** Longest wait for a Redis answer, in ms (REDIS_COMMAND_TIMEOUT). */
  readonly redisCommandTimeoutMs: number;
  /** Front processes serving the API port (WORKERS; `auto` = the number of cores); above 1 only with STORAGE=redis. */
  readonly workers: number;
  /** Changes kept for resuming a watch, in events; 0 = watch off (WATCH_HISTORY). */
  readonly watchHistory: number;
  /** Unsent bytes after which a watcher that does not read is cut off (WATCH_MAX_BUFFER). */
  readonly watchMaxBufferBytes: number;
}

export const DEFAULTS: Config = Object.freeze({
  verbose: 'info',
  apiVersion: 'v1',
  host: '127.0.0.1', // loopback only, as Redis protects itself by default; 0.0.0.0 to listen everywhere
  port: 8080,
  healthPort: 8081,
  defaultTtlMs: 0, // never expire (the seed design used 5 minutes: DEFAULT_TTL=5m)
  cleanupIntervalMs: 100, // ten active-expiry cycles a second, as Redis
  persistenceEnabled: false,
  dbPath: './memkv-data',
  persistenceFsync: 'everysec', // at most about one second of writes lost on a power cut, as Redis's default
  persistenceCompactRatio: 2, // compact once the log has doubled since the last compaction (Redis: 100% growth)
  persistenceCompactMinBytes: 64 * 1024 * 1024, // 64 MiB, as Redis's auto-aof-rewrite-min-size
  persistenceLoadDamaged: false, // refuse to start on damage before the end of the log
  maxKeyBytes: 1024, // 1 KiB
  maxBodyBytes: 1024 * 1024, // 1 MiB
  maxTxnOps: 128, // ops (and checks) in one transaction: DEFAULT_MAX_TXN_OPS
  requestTimeoutMs: 30_000, // 30 s: a body announced and never sent, or sent a byte at a time, is answered 408
  idempotencyTtlMs: 24 * 3_600_000, // 24 hours, as Stripe keeps idempotency keys
  maxMemoryBytes: 0, // unlimited, as Redis on 64-bit systems
  evictionPolicy: 'noeviction', // as Redis: refuse writes rather than lose keys
  authEnabled: false, // off, so the quick start stays one command
  adminUser: undefined, // no default: never a default password either
  adminPassword: undefined,
  jwtSecret: undefined, // generated: kept in DB_PATH with persistence, else in memory
  accessTokenTtlMs: 15 * 60_000, // 15 minutes
  refreshTokenTtlMs: 7 * 24 * 3_600_000, // 7 days
  authProtectDocs: false, // the document holds no data; Swagger UI in a browser cannot send a token
  loginRateLimit: 10, // attempts per window
  loginRateWindowMs: 60_000, // 1 minute
  passwordHashCost: 2 ** 15, // scrypt N (with r = 8, p = 3: 32 MiB per hash, an OWASP setting)
  uiEnabled: true, // static files only; it logs in and reads through the API like any client
  tlsCertFile: undefined, // plain HTTP: put memkv behind a TLS proxy, or give a certificate and key
  tlsKeyFile: undefined,
  tlsCaFile: undefined,
  tlsClientAuth: 'none', // no client certificates asked for
  healthTls: false, // probes on the health port usually speak plain HTTP
  corsOrigins: [], // no cross-origin access from browsers
  trustProxy: false, // X-Forwarded-* ignored: a client cannot choose the address it is limited by
  storage: 'memory', // the embedded engine: nothing to install
  redisUrl: undefined, // no default: STORAGE=redis needs REDIS_URL or REDIS_CLUSTER_NODES
  redisClusterNodes: undefined,
  redisKeyPrefix: 'memkv:', // memkv's keys never collide with other applications' in the same Redis
  redisCommandTimeoutMs: 2_000, // 2 s: no request waits longer on Redis
  workers: 1, // one front process
  watchHistory: 10_000, // events (also bounded to 64 MiB of event text)
  watchMaxBufferBytes: 1024 * 1024, // 1 MiB unsent per watcher
});
