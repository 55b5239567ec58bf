/**
 * The database-level routes under `/api/{version}/db/`: key listing (optionally grouped by a
 * delimiter), size, flush, removal by prefix, stats and log compaction. Each
 * path has two segments, so none of them can shadow a key: `GET /api/v1/db` still reads key "db".
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DeletePrefixJson, FlushJson, KeysPageJson, MessageJson, PersistenceStatsJson, SizeJson, StatsJson } from '@memkv/client/protocol';
import { DELETE_BATCH_KEYS, deletePrefix, groupByDelimiter } from '../../commands/prefix-ops.js';
import { MemkvError } from '../../errors.js';
import { totalMaxMemory, totalOf, type BackendStats, type Database, type NodeFigure, type Storage } from '../../storage/storage.js';
import { VERSION } from '../../version.js';
import { createCursorCodec, type CursorCodec } from '../cursor.js';
import {
  DeletePrefixBody,
  DeletePrefixResult,
  FlushResult,
  KeysPage,
  KeysQuery,
  Message,
  Size,
  Stats,
  errorResponses,
} from '../schemas.js';

/** Default and largest `limit` of a key listing page. */
export const KEYS_LIMIT = { default: 100, max: 1000 } as const;

/**
 * What the persistence layer reports for the stats, times in epoch ms (`null`: never happened).
 * Supplied through {@link DbRoutesOptions.persistenceStatus}.
 */
export interface PersistenceStats {
  /** Whether appends to the log succeed now. */
  writable: boolean;
  lastWriteAtMs: number | null;
  lastFsyncAtMs: number | null;
  /** Size of the log file in bytes. */
  logBytes: number;
  lastCompactionAtMs: number | null;
}

export interface DbRoutesOptions {
  /** The backend's database-level operations (storage/memory.ts or storage/redis.ts). */
  database: Database;
  /** The same backend's key operations: delete-prefix removes each key through its `remove`. */
  storage: Storage;
  /** Persistence status for the stats; absent or returning `null` reports `{"enabled": false}`. */
  persistenceStatus?: () => PersistenceStats | null;
  /** When the server started, in epoch ms; default when the routes are registered. */
  startedAtMs?: number;
  /** Starts a compaction of the log unless one runs; absent when persistence is off. */
  compact?: () => 'started' | 'running';
  /** See AppOptions.durable: awaited by the flush before it answers. */
  durable?: (() => Promise<void> | undefined) | undefined;
}

export const dbRoutes: FastifyPluginAsync<DbRoutesOptions> = async (fastify, options) => {
  const { database, storage, persistenceStatus, startedAtMs = Date.now(), compact, durable } = options;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  // A backend shared by several fronts gives the key cursors are signed with, so that any front
  // continues a listing another began; it is fetched on the first listing (the backend may be
  // unreachable at start). Otherwise the key lives in this process.
  let cursors: CursorCodec | Promise<CursorCodec> | undefined = database.sharedSecret === undefined ? createCursorCodec() : undefined;
  const cursorCodec = (): CursorCodec | Promise<CursorCodec> =>
    (cursors ??= database.sharedSecret!('cursor').then(
      (secret) => (cursors = createCursorCodec(secret)),
      (error: unknown) => {
        cursors = undefined;
        throw error;
      },
    ));

  // GET /api/v1/db/keys?prefix=user:&cursor=<from the previous page>&limit=100&delimiter=:
  app.get(
    '/keys',
    {
      config: { access: 'read' },
      schema: {
        summary: 'List keys, a page at a time',
        description:
          'Cursor-based listing of live keys, optionally by prefix. Start without `cursor`, then pass back each answer\'s ' +
          '`cursor` until it is null. A key present for the whole listing is returned exactly once; keys added or ' +
          'removed meanwhile may or may not be. A page may hold fewer than `limit` keys, even none, before the end. ' +
          'Cursors are valid only for the same `prefix`, on the server process that issued them (STORAGE=redis: on any ' +
          'front of the same Redis). ' +
          'With `delimiter`, the page\'s keys are grouped by the next delimiter after `prefix`, like S3\'s common ' +
          'prefixes: `prefixes` lists each next-level prefix with the number of the page\'s keys under it, and `keys` ' +
          'the rest. The work per call is the same as without: counts are per page, to be added up across pages, ' +
          'and complete once `cursor` is null.',
        tags: ['db'],
        querystring: KeysQuery,
        response: { 200: KeysPage, ...errorResponses(400) },
      },
    },
    async (request): Promise<KeysPageJson> => {
      const { prefix = '', cursor, limit, delimiter } = request.query;
      const pageLimit = parseLimit(limit);
      const codec = await cursorCodec();
      let position: string | null = null;
      if (cursor !== undefined) {
        position = codec.decode(cursor, prefix) ?? null;
        if (position === null) {
          throw new MemkvError(
            'invalid_request',
            'cursor was not issued by this server for this prefix (cursors do not survive a restart): start the listing again without cursor',
          );
        }
      }
      const page = await database.scanPage(position, prefix, pageLimit);
      // A user limited to key patterns lists only the keys they may read (pages may be short anyway).
      const allowed = request.identity?.keyMatcher;
      const keys = allowed === undefined || allowed === null ? page.keys : page.keys.filter(allowed);
      const next = page.cursor === null ? null : codec.encode(page.cursor, prefix);
      if (delimiter === undefined) return { keys, cursor: next };
      const grouped = groupByDelimiter(keys, prefix, delimiter);
      return { keys: grouped.keys, prefixes: grouped.prefixes, cursor: next };
    },
  );

  // GET /api/v1/db/size
  app.get(
    '/size',
    { config: { access: 'read' }, schema: { summary: 'Count the keys', tags: ['db'], response: { 200: Size } } },
    async (): Promise<SizeJson> => ({ keys: await database.size() }),
  );

  // POST /api/v1/db/flush   (admin only when auth is on)
  app.post(
    '/flush',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Remove every key',
        description: 'Removes every key (each logged as a remove when persistence is on). Administrators only.',
        tags: ['db'],
        response: { 200: FlushResult, ...errorResponses(500) },
      },
    },
    async (): Promise<FlushJson> => {
      const removed = await database.flush();
      await durable?.();
      return { removed };
    },
  );

  // POST /api/v1/db/delete-prefix  {prefix, dry_run?}   (admin only when auth is on)
  app.post(
    '/delete-prefix',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Remove every key under a prefix',
        description:
          'Removes every key that starts with `prefix` (each logged and counted as a remove), in batches of ' +
          `${DELETE_BATCH_KEYS} keys scanned per turn so that other requests are served meanwhile. With ` +
          '`dry_run`, only counts them (`matched`). Keys written under the prefix while it runs may or may not be ' +
          'removed. The prefix must not be empty: `POST /db/flush` removes every key. Administrators only.',
        tags: ['db'],
        body: DeletePrefixBody,
        response: { 200: DeletePrefixResult, ...errorResponses(400, 500) },
      },
    },
    async (request): Promise<DeletePrefixJson> => {
      const { prefix, dry_run: dryRun = false } = request.body;
      const allowed = request.identity?.keyMatcher ?? undefined;
      const count = await deletePrefix<string>({
        prefix,
        dryRun,
        scan: async (from, scanPrefix, limit) => {
          const page = await database.scanPage(from ?? null, scanPrefix, limit);
          return { keys: page.keys, next: page.cursor };
        },
        remove: (key) => storage.remove(key),
        allowed,
      });
      if (dryRun) return { matched: count };
      await durable?.();
      return { deleted: count };
    },
  );

  // GET /api/v1/db/stats
  app.get(
    '/stats',
    {
      config: { access: 'read' },
      schema: { summary: 'Server statistics', description: 'Like Redis INFO.', tags: ['db'], response: { 200: Stats } },
    },
    async (): Promise<StatsJson> => buildStats(await database.backendStats(), startedAtMs, persistenceStatus?.() ?? null),
  );

  // POST /api/v1/db/compact   (admin only when auth is on)
  app.post(
    '/compact',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Compact the append-only log now',
        description: 'Starts rewriting the log as a snapshot of the live keys, in the background. Answers 202 at once.',
        tags: ['db'],
        response: { 202: Message, ...errorResponses(409) },
      },
    },
    (_request, reply): MessageJson => {
      if (compact === undefined) throw new MemkvError('persistence_disabled');
      const message = compact() === 'started' ? 'compaction started' : 'a compaction is already running';
      reply.code(202);
      return { message };
    },
  );
};

/** Parses the `limit` query parameter: a whole number from 1 to {@link KEYS_LIMIT}.max. */
function parseLimit(text: string | undefined): number {
  if (text === undefined) return KEYS_LIMIT.default;
  const limit = /^[0-9]{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(limit >= 1 && limit <= KEYS_LIMIT.max)) {
    throw new MemkvError('invalid_request', `limit must be a whole number from 1 to ${KEYS_LIMIT.max}, not ${JSON.stringify(text)}`);
  }
  return limit;
}

/**
 * The stats answer from the backend's report and the persistence status. With several nodes
 * (a Redis Cluster) the sizes and counters are their sums, and `backend` lists each one.
 */
export function buildStats(backend: BackendStats, startedAtMs: number, persistence: PersistenceStats | null): StatsJson {
  const nowMs = Date.now();
  const sum = (figure: NodeFigure): number => totalOf(backend, figure);
  const maxMemoryBytes = totalMaxMemory(backend);
  return {
    server: {
      version: VERSION,
      started_at: new Date(startedAtMs).toISOString(),
      uptime_seconds: Math.max(0, Math.floor((nowMs - startedAtMs) / 1000)),
    },
    keyspace: { keys: sum('keys'), keys_with_ttl: sum('keysWithTtl') },
    memory: {
      data_bytes: sum('usedMemoryBytes'),
      max_memory_bytes: maxMemoryBytes === 0 ? null : maxMemoryBytes,
      eviction_policy: (backend.nodes[0]?.evictionPolicy ?? 'noeviction') as StatsJson['memory']['eviction_policy'],
      rss_bytes: process.memoryUsage.rss(),
    },
    stats: {
      hits: sum('hits'),
      misses: sum('misses'),
      expired: sum('expired'),
      evicted: sum('evicted'),
      commands: backend.commands ?? {},
    },
    persistence: persistenceJson(persistence),
    backend: {
      kind: backend.kind,
      mode: backend.mode,
      nodes: backend.nodes.map((node) => ({
        address: node.address,
        version: node.version,
        used_memory_bytes: node.usedMemoryBytes,
        max_memory_bytes: node.maxMemoryBytes === 0 ? null : node.maxMemoryBytes,
        eviction_policy: node.evictionPolicy,
        keys: node.keys,
      })),
    },
  };
}

function persistenceJson(status: PersistenceStats | null): PersistenceStatsJson {
  if (status === null) return { enabled: false };
  const time = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    enabled: true,
    writable: status.writable,
    last_write_at: time(status.lastWriteAtMs),
    last_fsync_at: time(status.lastFsyncAtMs),
    log_bytes: status.logBytes,
    last_compaction_at: time(status.lastCompactionAtMs),
  };
}
