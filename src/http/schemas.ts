/**
 * The HTTP schemas: the commands' own (src/commands/schemas.ts) and those of the database and
 * auth routes. One TypeBox definition per shape gives request validation, the handler's
 * TypeScript types and the OpenAPI document, so the three cannot drift apart.
 */
import { Type } from 'typebox';
import { Timestamp } from '../commands/schemas.js';

export * from '../commands/schemas.js';

// ---- Database-level routes (`/db/...`) ----

export const KeysQuery = Type.Object(
  {
    prefix: Type.Optional(Type.String({ description: 'Only keys that start with this text.' })),
    cursor: Type.Optional(
      Type.String({ maxLength: 600, description: 'The `cursor` of the previous page; omit to start a listing.' }),
    ),
    limit: Type.Optional(
      Type.String({ maxLength: 16, description: 'Most keys in this page, from 1 to 1000; default 100.', examples: ['100'] }),
    ),
    delimiter: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 16,
        description:
          'Group the page\'s keys by the first occurrence of this text after `prefix` (such as `:`): `prefixes` then ' +
          'counts the page\'s keys under each next-level prefix, and `keys` holds only those with no delimiter after `prefix`.',
        examples: [':'],
      }),
    ),
  },
  { additionalProperties: false },
);

export const KeyPrefix = Type.Object(
  {
    prefix: Type.String({ description: 'A next-level prefix, ending with the delimiter.' }),
    keys: Type.Integer({ minimum: 1, description: 'Number of this page\'s keys under it.' }),
  },
  { additionalProperties: false },
);

export const KeysPage = Type.Object(
  {
    keys: Type.Array(Type.String()),
    prefixes: Type.Optional(
      Type.Array(KeyPrefix, {
        description:
          'With `delimiter` only. Counts are this page\'s: add them up across pages; they are complete once `cursor` is null.',
      }),
    ),
    cursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass back as `cursor` for the next page; null when the listing is complete.',
    }),
  },
  { additionalProperties: false, description: 'One page of keys. A page may be short, even empty, while `cursor` is not null.' },
);

export const Size = Type.Object({ keys: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });

export const FlushResult = Type.Object(
  { removed: Type.Integer({ minimum: 0, description: 'Number of keys removed.' }) },
  { additionalProperties: false },
);

export const DeletePrefixBody = Type.Object(
  {
    prefix: Type.String({ minLength: 1, description: 'Every key that starts with this text. Not empty: `POST /db/flush` removes every key.' }),
    dry_run: Type.Optional(Type.Boolean({ description: 'Only count the keys that would be removed; default false.' })),
  },
  { additionalProperties: false },
);

export const DeletePrefixResult = Type.Union(
  [
    Type.Object({ deleted: Type.Integer({ minimum: 0, description: 'Number of keys removed.' }) }, { additionalProperties: false }),
    Type.Object(
      { matched: Type.Integer({ minimum: 0, description: 'Dry run: number of keys that would be removed.' }) },
      { additionalProperties: false },
    ),
  ],
);

const Time = Type.Union([Timestamp, Type.Null()]);
const Count = Type.Integer({ minimum: 0 });

export const Stats = Type.Object(
  {
    server: Type.Object({ version: Type.String(), started_at: Timestamp, uptime_seconds: Count }),
    keyspace: Type.Object({ keys: Count, keys_with_ttl: Count }),
    memory: Type.Object({
      data_bytes: Type.Integer({
        description: "Bytes of data as memkv accounts them: keys, values, per-key overhead (STORAGE=redis: the masters' used_memory).",
      }),
      max_memory_bytes: Type.Union([Count, Type.Null()], { description: 'MAX_MEMORY, or null when unlimited.' }),
      eviction_policy: Type.String(),
      rss_bytes: Type.Integer({ description: 'Resident memory of the whole process.' }),
    }),
    stats: Type.Object({
      hits: Count,
      misses: Count,
      expired: Count,
      evicted: Count,
      commands: Type.Record(Type.String(), Count, { description: 'Calls per store operation since start.' }),
    }),
    persistence: Type.Union([
      Type.Object({ enabled: Type.Literal(false) }),
      Type.Object({
        enabled: Type.Literal(true),
        writable: Type.Boolean(),
        last_write_at: Time,
        last_fsync_at: Time,
        log_bytes: Count,
        last_compaction_at: Time,
      }),
    ]),
    backend: Type.Object({
      kind: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
      mode: Type.Union([Type.Literal('embedded'), Type.Literal('standalone'), Type.Literal('cluster')]),
      nodes: Type.Array(
        Type.Object({
          address: Type.String(),
          version: Type.String(),
          used_memory_bytes: Count,
          max_memory_bytes: Type.Union([Count, Type.Null()]),
          eviction_policy: Type.String(),
          keys: Count,
        }),
        { description: 'One entry per node: the embedded engine, or each Redis master.' },
      ),
    }),
  },
  { description: 'What the server is doing, in the spirit of Redis INFO.' },
);


// ---- Watch (`GET /db/watch`) ----

export const WatchQuery = Type.Object(
  {
    prefix: Type.Optional(Type.String({ maxLength: 4096, description: 'Only changes to keys that start with this text; default every key.' })),
    from: Type.Optional(
      Type.String({
        maxLength: 40,
        description:
          'Resume after this event id: a revision `N` (after all of it) or `N.i` (after change i of revision N). ' +
          'The `Last-Event-ID` header, when sent, wins. Default: the current revision (only changes from now on).',
        examples: ['42', '42.1'],
      }),
    ),
  },
  { additionalProperties: false },
);

/** The 200 answer of `GET /db/watch`: a stream of server-sent events, documented as text. */
export const WatchStream = {
  description:
    'A `text/event-stream` that begins with `retry: 1000`, an `id:` without data (the position the stream starts ' +
    'after, to resume from if it drops before its first event) and a comment, then one event per change to a matching key: ' +
    '`id:` the revision (`N`; in a revision of k > 1 changes, a transaction, `N.0` … `N.(k-2)` then `N`), ' +
    '`data:` JSON `{"revision":N,"op":"set","key":"a","row":{...}}` (push: the minimal row and `values`; pop: the ' +
    'minimal row and `popped`; remove, expire, evict: no row; flush: `{"revision":N,"op":"flush"}`). A comment ' +
    '`: heartbeat` comes every 15 s. A watcher that does not read fast enough gets `event: error` with ' +
    '`{"code":"watch_overflow",...}` and the stream ends: resume from the last id.',
  content: { 'text/event-stream': { schema: { type: 'string' } } },
} as const;
