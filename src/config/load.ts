/**
 * Loads the configuration: defaults ← environment ← overrides (CLI flags), each value validated
 * where it enters, the result frozen. The only module that reads `process.env`.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { ConfigError } from '../errors.js';
import { MAX_DURATION_MS, formatDurationMs, parseBytes, parseDurationMs } from '../units.js';
import { TXN_OPS_HARD_LIMIT } from '../commands/limits.js';
import {
  DEFAULTS,
  EVICTION_POLICIES,
  FSYNC_POLICIES,
  LOG_LEVELS,
  STORAGE_KINDS,
  TLS_CLIENT_AUTH_MODES,
  type Config,
  type LogLevel,
  type TrustProxy,
} from './defaults.js';

type Parser<T> = (text: string, name: string) => T;

/** Each option: its environment variable and the parser that validates it. */
const OPTIONS: { readonly [K in keyof Config]: { env: string; parse: Parser<Config[K]> } } = {
  verbose: { env: 'VERBOSE', parse: oneOf(LOG_LEVELS) },
  apiVersion: { env: 'API_VERSION', parse: pathSegment },
  host: { env: 'HOST', parse: host },
  port: { env: 'PORT', parse: port },
  healthPort: { env: 'HEALTH_PORT', parse: port },
  defaultTtlMs: { env: 'DEFAULT_TTL', parse: duration({ allowZero: true }) },
  cleanupIntervalMs: { env: 'DEFAULT_CLEANUP_INTERVAL', parse: duration({ allowZero: false }) },
  persistenceEnabled: { env: 'PERSISTENCE_ENABLED', parse: boolean },
  dbPath: { env: 'DB_PATH', parse: nonEmpty },
  persistenceFsync: { env: 'PERSISTENCE_FSYNC', parse: oneOf(FSYNC_POLICIES) },
  persistenceCompactRatio: { env: 'PERSISTENCE_COMPACT_RATIO', parse: ratio },
  persistenceCompactMinBytes: { env: 'PERSISTENCE_COMPACT_MIN_SIZE', parse: bytes(0, Number.MAX_SAFE_INTEGER) },
  persistenceLoadDamaged: { env: 'PERSISTENCE_LOAD_DAMAGED', parse: boolean },
  maxKeyBytes: { env: 'MAX_KEY_BYTES', parse: bytes(1, 64 * 1024) },
  maxBodyBytes: { env: 'MAX_BODY_BYTES', parse: bytes(64, 1024 ** 3) },
  maxTxnOps: { env: 'MAX_TXN_OPS', parse: integer(1, TXN_OPS_HARD_LIMIT) },
  requestTimeoutMs: { env: 'REQUEST_TIMEOUT', parse: duration({ allowZero: true }) },
  idempotencyTtlMs: { env: 'IDEMPOTENCY_TTL', parse: duration({ allowZero: false, minMs: 1000 }) },
  maxMemoryBytes: { env: 'MAX_MEMORY', parse: memoryLimit },
  evictionPolicy: { env: 'EVICTION_POLICY', parse: oneOf(EVICTION_POLICIES) },
  authEnabled: { env: 'AUTH_ENABLED', parse: boolean },
  adminUser: { env: 'ADMIN_USER', parse: username },
  adminPassword: { env: 'ADMIN_PASSWORD', parse: password },
  jwtSecret: { env: 'JWT_SECRET', parse: secret },
  accessTokenTtlMs: { env: 'ACCESS_TOKEN_TTL', parse: duration({ allowZero: false, minMs: 1000 }) },
  refreshTokenTtlMs: { env: 'REFRESH_TOKEN_TTL', parse: duration({ allowZero: false, minMs: 1000 }) },
  authProtectDocs: { env: 'AUTH_PROTECT_DOCS', parse: boolean },
  loginRateLimit: { env: 'LOGIN_RATE_LIMIT', parse: integer(1, 1_000_000) },
  loginRateWindowMs: { env: 'LOGIN_RATE_WINDOW', parse: duration({ allowZero: false, minMs: 1000 }) },
  passwordHashCost: { env: 'PASSWORD_HASH_COST', parse: powerOfTwo(2 ** 10, 2 ** 20) },
  uiEnabled: { env: 'UI_ENABLED', parse: boolean },
  tlsCertFile: { env: 'TLS_CERT_FILE', parse: nonEmpty },
  tlsKeyFile: { env: 'TLS_KEY_FILE', parse: nonEmpty },
  tlsCaFile: { env: 'TLS_CA_FILE', parse: nonEmpty },
  tlsClientAuth: { env: 'TLS_CLIENT_AUTH', parse: oneOf(TLS_CLIENT_AUTH_MODES) },
  healthTls: { env: 'HEALTH_TLS', parse: boolean },
  corsOrigins: { env: 'CORS_ORIGINS', parse: origins },
  trustProxy: { env: 'TRUST_PROXY', parse: trustProxy },
  storage: { env: 'STORAGE', parse: oneOf(STORAGE_KINDS) },
  redisUrl: { env: 'REDIS_URL', parse: redisUrl },
  redisClusterNodes: { env: 'REDIS_CLUSTER_NODES', parse: clusterNodes },
  redisKeyPrefix: { env: 'REDIS_KEY_PREFIX', parse: keyPrefix },
  redisCommandTimeoutMs: { env: 'REDIS_COMMAND_TIMEOUT', parse: duration({ allowZero: false, minMs: 10 }) },
  workers: { env: 'WORKERS', parse: workers },
  watchHistory: { env: 'WATCH_HISTORY', parse: integer(0, 10_000_000) },
  watchMaxBufferBytes: { env: 'WATCH_MAX_BUFFER', parse: bytes(1024, 1024 ** 3) },
};

/** What Redis owns in redis mode, and what to configure there instead. */
const OWNED_BY_REDIS: readonly [keyof Config, string][] = [
  ['maxMemoryBytes', "Redis's maxmemory"],
  ['evictionPolicy', "Redis's maxmemory-policy"],
  ['persistenceEnabled', "Redis's persistence (appendonly yes, or RDB snapshots with save)"],
];

/** Environment variable name of each option, for messages and docs. */
export const ENV_NAMES: { readonly [K in keyof Config]: string } = Object.freeze(
  Object.fromEntries(Object.entries(OPTIONS).map(([key, option]) => [key, option.env])) as { [K in keyof Config]: string },
);

export interface LoadOptions {
  /** Environment to read; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Values that win over the environment (command-line flags), as text in the environment's format. */
  overrides?: Partial<Record<keyof Config, string>>;
}

/**
 * Builds the configuration.
 * @throws ConfigError naming the variable and what it accepts, at the first bad value.
 */
export function loadConfig({ env = process.env, overrides = {} }: LoadOptions = {}): Config {
  const config: Record<string, unknown> = { ...DEFAULTS };
  const given = new Set<keyof Config>();
  for (const [key, option] of Object.entries(OPTIONS) as [keyof Config, (typeof OPTIONS)[keyof Config]][]) {
    const text = overrides[key] ?? env[option.env];
    if (text === undefined || text === '') continue;
    given.add(key);
    // Secrets are taken as given: spaces may be part of them.
    const value = key === 'adminPassword' || key === 'jwtSecret' ? text : text.trim();
    config[key] = (option.parse as Parser<unknown>)(value, option.env);
  }
  const result = config as unknown as Config;
  if (result.port !== 0 && result.port === result.healthPort) {
    throw new ConfigError('HEALTH_PORT', `must differ from PORT (both are ${result.port})`);
  }
  if (result.authEnabled && (result.adminUser === undefined || result.adminPassword === undefined)) {
    throw new ConfigError(
      result.adminUser === undefined ? 'ADMIN_USER' : 'ADMIN_PASSWORD',
      'AUTH_ENABLED=true needs ADMIN_USER and ADMIN_PASSWORD to create the admin account (memkv has no default password)',
    );
  }
  checkTls(result);
  if (result.authEnabled && result.corsOrigins.includes('*')) {
    throw new ConfigError(
      'CORS_ORIGINS',
      'accepts * only with AUTH_ENABLED=false: with auth on, name the origins allowed to call memkv (https://app.example.com)',
    );
  }
  checkStorage(result, given);
  if (result.refreshTokenTtlMs < result.accessTokenTtlMs) {
    throw new ConfigError('REFRESH_TOKEN_TTL', `must be at least ACCESS_TOKEN_TTL (${result.accessTokenTtlMs} ms); got ${result.refreshTokenTtlMs} ms`);
  }
  return Object.freeze(result);
}

/** The TLS settings that only make sense together. Whether the files are usable is checked at start (http/tls.ts). */
function checkTls(config: Config): void {
  const { tlsCertFile, tlsKeyFile, tlsCaFile, tlsClientAuth, healthTls } = config;
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new ConfigError(tlsCertFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE', 'HTTPS needs both TLS_CERT_FILE and TLS_KEY_FILE');
  }
  const tls = tlsCertFile !== undefined;
  if (tlsClientAuth !== 'none' && !tls) throw new ConfigError('TLS_CLIENT_AUTH', 'needs HTTPS: set TLS_CERT_FILE and TLS_KEY_FILE');
  if (tlsClientAuth !== 'none' && tlsCaFile === undefined) {
    throw new ConfigError('TLS_CA_FILE', `TLS_CLIENT_AUTH=${tlsClientAuth} needs the CA certificates that sign the client certificates`);
  }
  if (tlsCaFile !== undefined && tlsClientAuth === 'none') {
    throw new ConfigError('TLS_CA_FILE', 'is only used to check client certificates: set TLS_CLIENT_AUTH=require or optional, or unset it');
  }
  if (healthTls && !tls) throw new ConfigError('HEALTH_TLS', 'needs HTTPS on the API: set TLS_CERT_FILE and TLS_KEY_FILE');
}

/** The rules between STORAGE and the settings that depend on it. */
function checkStorage(config: Config, given: ReadonlySet<keyof Config>): void {
  if (config.storage === 'memory') {
    if (config.workers > 1) {
      throw new ConfigError(
        'WORKERS',
        `WORKERS=${config.workers} needs STORAGE=redis: with STORAGE=memory the data lives in one process, which the other ` +
          'front processes could not see; run one process (WORKERS=1), or move the data to Redis',
      );
    }
    for (const key of ['redisUrl', 'redisClusterNodes'] as const) {
      if (given.has(key)) throw new ConfigError(ENV_NAMES[key], 'is only used with STORAGE=redis: set STORAGE=redis, or unset it');
    }
    return;
  }
  if ((config.redisUrl === undefined) === (config.redisClusterNodes === undefined)) {
    throw new ConfigError(
      config.redisUrl === undefined ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES',
      'STORAGE=redis needs exactly one of REDIS_URL (one server, such as redis://localhost:6379) and REDIS_CLUSTER_NODES (host:port,... of a cluster)',
    );
  }
  for (const [key, instead] of OWNED_BY_REDIS) {
    if (given.has(key)) {
      throw new ConfigError(ENV_NAMES[key], `is not used with STORAGE=redis, where Redis owns it: unset it and configure ${instead} instead`);
    }
  }
  if (config.authEnabled && config.jwtSecret === undefined) {
    throw new ConfigError(
      'JWT_SECRET',
      'STORAGE=redis with AUTH_ENABLED=true needs JWT_SECRET, the same on every front, so that a token one front issued is accepted by all (for example: openssl rand -base64 32)',
    );
  }
}

// ---- Parsers: each throws a ConfigError that says what the variable accepts ----

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (text, name) => {
    const value = text.toLowerCase() as T;
    if (!values.includes(value)) throw new ConfigError(name, `accepts ${values.join(', ')}; got ${JSON.stringify(text)}`);
    return value;
  };
}

function pathSegment(text: string, name: string): string {
  if (!/^[A-Za-z0-9._-]{1,32}$/.test(text)) {
    throw new ConfigError(name, `accepts a path segment of letters, digits, ".", "_" or "-" such as v1; got ${JSON.stringify(text)}`);
  }
  return text;
}

function host(text: string, name: string): string {
  if (isIP(text) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(text)) return text;
  throw new ConfigError(name, `accepts an IP address or host name such as 127.0.0.1 or 0.0.0.0; got ${JSON.stringify(text)}`);
}

function port(text: string, name: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65535) throw new ConfigError(name, `accepts a port number from 0 to 65535; got ${JSON.stringify(text)}`);
  return value;
}

function duration({ allowZero, minMs = 1 }: { allowZero: boolean; minMs?: number }): Parser<number> {
  return (text, name) => {
    const ms = parseDurationMs(text);
    if (ms === undefined || (!allowZero && ms < minMs)) {
      const accepts = allowZero ? '0 (never) or a duration' : `a duration of at least ${formatDurationMs(minMs)}`;
      throw new ConfigError(name, `accepts ${accepts} such as 500ms, 90s, 5m or 1h30m (at most ${MAX_DURATION_MS} ms); got ${JSON.stringify(text)}`);
    }
    return Math.ceil(ms);
  };
}

function ratio(text: string, name: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(value === 0 || (value > 1 && value <= 1000))) {
    throw new ConfigError(name, `accepts 0 (no automatic compaction) or a number above 1 and at most 1000 such as 2; got ${JSON.stringify(text)}`);
  }
  return value;
}

function boolean(text: string, name: string): boolean {
  const value = text.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(name, `accepts true or false; got ${JSON.stringify(text)}`);
}

function nonEmpty(text: string, name: string): string {
  if (text.length === 0) throw new ConfigError(name, 'must not be empty');
  return text;
}

function bytes(min: number, max: number): Parser<number> {
  return (text, name) => {
    const value = parseBytes(text);
    if (value === undefined || value < min || value > max) {
      throw new ConfigError(name, `accepts a size from ${min} to ${max} bytes, as bytes or with a unit (64kb, 1mb); got ${JSON.stringify(text)}`);
    }
    return value;
  };
}

function memoryLimit(text: string, name: string): number {
  const value = parseBytes(text);
  if (value === undefined) {
    throw new ConfigError(name, `accepts 0 (unlimited) or a size such as 512mb, 2gb or 1048576 (bytes); got ${JSON.stringify(text)}`);
  }
  return value;
}

// The same rule as auth/users.ts (config imports nothing but errors).
function username(text: string, name: string): string {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(text)) {
    throw new ConfigError(name, `accepts 1 to 64 letters, digits, ".", "_", "@" or "-"; got ${JSON.stringify(text)}`);
  }
  return text;
}

// Never echo a secret in a message.
function password(text: string, name: string): string {
  const length = [...text].length;
  if (length < 8 || length > 1024) throw new ConfigError(name, `must be 8 to 1024 characters long; got ${length}`);
  return text;
}

function secret(text: string, name: string): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes < 32) {
    throw new ConfigError(name, `must be at least 32 bytes (for example: openssl rand -base64 32); got ${bytes}`);
  }
  return text;
}

function redisUrl(text: string, name: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    // Never echo the URL: it may hold a password.
    throw new ConfigError(name, 'accepts a redis:// or rediss:// URL such as redis://localhost:6379 or rediss://user:password@host:6380/0');
  }
  return text;
}

function clusterNodes(text: string, name: string): readonly string[] {
  const nodes = text.split(',').map((node) => node.trim());
  for (const node of nodes) {
    const match = /^(.+):(\d{1,5})$/.exec(node);
    if (match === null || Number(match[2]) < 1 || Number(match[2]) > 65535 || host(match[1]!.replace(/^\[|\]$/g, ''), name) === undefined) {
      throw new ConfigError(name, `accepts host:port pairs separated by commas such as 10.0.0.1:7000,10.0.0.2:7000; got ${JSON.stringify(node)}`);
    }
  }
  return Object.freeze(nodes);
}

function keyPrefix(text: string, name: string): string {
  if (/[{}\s]/.test(text) || text.length > 64) {
    throw new ConfigError(name, `accepts up to 64 characters without "{", "}" or spaces (braces would change the hash slot) such as memkv:; got ${JSON.stringify(text)}`);
  }
  return text;
}

function workers(text: string, name: string): number {
  if (text.toLowerCase() === 'auto') return availableParallelism();
  return integer(1, 1024)(text, name);
}

function integer(min: number, max: number): Parser<number> {
  return (text, name) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new ConfigError(name, `accepts a whole number from ${min} to ${max}; got ${JSON.stringify(text)}`);
    }
    return value;
  };
}

function powerOfTwo(min: number, max: number): Parser<number> {
  return (text, name) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max || (value & (value - 1)) !== 0) {
      throw new ConfigError(name, `accepts a power of two from ${min} to ${max} (such as 16384 or 32768); got ${JSON.stringify(text)}`);
    }
    return value;
  };
}

/** A comma-separated list of origins (`https://app.example.com`, `http://localhost:3000`), or `*`. */
function origins(text: string, name: string): readonly string[] {
  const list = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  for (const origin of list) {
    if (origin === '*') {
      if (list.length > 1) throw new ConfigError(name, 'accepts * alone, not beside other origins');
      continue;
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== origin) {
      throw new ConfigError(
        name,
        `accepts origins as browsers send them (scheme://host[:port], no path or trailing slash), comma-separated, or *; got ${JSON.stringify(origin)}`,
      );
    }
  }
  return Object.freeze(list);
}

/** Names proxy-addr (Fastify's trustProxy) gives to address ranges. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** `true`/`false`, a hop count, or a comma-separated list of addresses, CIDR ranges and range names. */
function trustProxy(text: string, name: string): TrustProxy {
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops < 1 || hops > 100) throw new ConfigError(name, `accepts a hop count from 1 to 100; got ${JSON.stringify(text)}`);
    return hops;
  }
  const list = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  for (const item of list) {
    const [address, bits, extra] = item.split('/');
    const family = isIP(address ?? '');
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!PROXY_RANGE_NAMES.includes(item) && (family === 0 || !validBits || extra !== undefined)) {
      throw new ConfigError(
        name,
        `accepts true, false, a hop count, or a comma-separated list of proxy addresses and CIDR ranges (10.0.0.1, 10.0.0.0/8, loopback); got ${JSON.stringify(item)}`,
      );
    }
  }
  if (list.length === 0) throw new ConfigError(name, 'accepts true, false, a hop count, or a list of proxy addresses');
  return Object.freeze(list);
}

export type { Config, LogLevel };
