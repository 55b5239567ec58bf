/**
 * The HTTP schemas: one TypeBox definition per shape gives request validation, the handler's
 * TypeScript types and the OpenAPI document, so the three cannot drift apart.
 */
import { Type } from 'typebox';
import { ERROR_CODES } from '@memkv/client/protocol';

/** Go-style duration: one or more `<number><unit>` terms, unit one of ns, us, µs, ms, s, m, h. */
export const DURATION_PATTERN = '^(?:(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$';

export const Ttl = Type.String({
  pattern: DURATION_PATTERN,
  maxLength: 64,
  description: 'Time to live as a Go-style duration ("90s", "1h30m", "500ms"); must be positive.',
  examples: ['1h'],
});

export const Value = Type.Union([Type.String(), Type.Array(Type.String())], {
  description: 'A string, or a list of strings.',
  examples: ['hello', ['a', 'b']],
});

export const KeyParams = Type.Object(
  {
    key: Type.String({ minLength: 1, description: 'The key, percent-encoded as one path segment.' }),
  },
  { additionalProperties: false },
);

export const SetBody = Type.Object(
  {
    key: Type.String({ minLength: 1, description: 'The key to create or replace.' }),
    value: Value,
    ttl: Type.Optional(Ttl),
  },
  { additionalProperties: false },
);

export const UpdateBody = Type.Object(
  {
    value: Value,
    ttl: Type.Optional(Ttl),
  },
  { additionalProperties: false },
);

export const PushBody = Type.Object(
  {
    value: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], {
      description: 'One string, or several pushed in order.',
    }),
    ttl: Type.Optional(Ttl),
  },
  { additionalProperties: false },
);

const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 time (UTC).' });

const RowFields = {
  key: Type.String(),
  ttl: Type.Union([Timestamp, Type.Null()], { description: 'Absolute expiry time, or null when the key never expires.' }),
  created_at: Timestamp,
  updated_at: Timestamp,
};

const ListRow = Type.Object(
  { ...RowFields, kind: Type.Literal('string_slice'), value: Type.Array(Type.String()) },
  { additionalProperties: false, description: 'The list after the push: the key with all its elements and times.' },
);

export const Row = Type.Union(
  [
    Type.Object({ ...RowFields, kind: Type.Literal('string'), value: Type.String() }, { additionalProperties: false }),
    Type.Object(
      { ...RowFields, kind: Type.Literal('string_slice'), value: Type.Array(Type.String()) },
      { additionalProperties: false },
    ),
  ],
  { description: 'A key with its value and times.' },
);

const Popped = Type.String({ description: 'The element that was removed.' });

const FullPopRow = Type.Object(
  { ...RowFields, kind: Type.Literal('string_slice'), value: Type.Array(Type.String()), popped: Popped },
  { additionalProperties: false, description: 'The list after the pop, with the removed element.' },
);

const Length = Type.Integer({ minimum: 0, description: 'Number of elements in the list.' });

const MinimalRow = Type.Object(
  { ...RowFields, kind: Type.Literal('string_slice'), length: Length },
  {
    additionalProperties: false,
    description: 'With `Prefer: return=minimal`: the list after the push without its elements, `length` in place of `value`.',
  },
);

const MinimalPopRow = Type.Object(
  { ...RowFields, kind: Type.Literal('string_slice'), length: Length, popped: Popped },
  {
    additionalProperties: false,
    description: 'With `Prefer: return=minimal`: the list after the pop without its elements, `length` in place of `value`.',
  },
);

/** The `Preference-Applied` response header of push and pop, for the OpenAPI document. */
const PreferenceApplied = {
  'Preference-Applied': {
    type: 'string',
    enum: ['return=minimal'],
    description: 'Sent when the request asked for `Prefer: return=minimal` and the answer is the minimal row.',
  },
};

/** Answer of push: the whole list, or with `Prefer: return=minimal` its length only. */
export const PushAnswer = Type.Union([ListRow, MinimalRow], {
  description: 'The list after the push; with `Prefer: return=minimal`, its `length` instead of its elements.',
  headers: PreferenceApplied,
});

/** Answer of pop: the whole list and the removed element, or with `Prefer: return=minimal` the length and the element. */
export const PopAnswer = Type.Union([FullPopRow, MinimalPopRow], {
  description: 'The list after the pop and the removed element; with `Prefer: return=minimal`, its `length` instead of its elements.',
  headers: PreferenceApplied,
});

/** The `Prefer` request header (RFC 7240) of push and pop, for validation and the OpenAPI document. */
export const PreferHeaders = Type.Object({
  prefer: Type.Optional(
    Type.String({
      description:
        'RFC 7240 preferences. `return=minimal` answers the list\'s `length` instead of its elements ' +
        '(and `Preference-Applied: return=minimal`); the full answer copies and sends the whole list, ' +
        'O(list length) per call. Other preferences are ignored.',
      examples: ['return=minimal'],
    }),
  ),
});

export const Message = Type.Object({ message: Type.String({ examples: ['ok'] }) }, { additionalProperties: false });

export const ErrorBody = Type.Object(
  {
    code: Type.Union(
      ERROR_CODES.map((code) => Type.Literal(code)),
      { description: 'Stable machine-readable error code.' },
    ),
    message: Type.String({ description: 'What went wrong, for people.' }),
  },
  { additionalProperties: false },
);

/** Error responses shared by the data routes, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorBody> {
  const out: Record<number, typeof ErrorBody> = {};
  for (const status of statuses) out[status] = ErrorBody;
  return out;
}

// ---- Database-level routes (`/db/...`) ----

export const KeysQuery = Type.Object(
  {
    prefix: Type.Optional(Type.String({ description: 'Only keys that start with this text.' })),
    cursor: Type.Optional(
      Type.String({ maxLength: 64, description: 'The `cursor` of the previous page; omit to start a listing.' }),
    ),
    limit: Type.Optional(
      Type.String({ maxLength: 16, description: 'Most keys in this page, from 1 to 1000; default 100.', examples: ['100'] }),
    ),
  },
  { additionalProperties: false },
);

export const KeysPage = Type.Object(
  {
    keys: Type.Array(Type.String()),
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

const Time = Type.Union([Timestamp, Type.Null()]);
const Count = Type.Integer({ minimum: 0 });

export const Stats = Type.Object(
  {
    server: Type.Object({ version: Type.String(), started_at: Timestamp, uptime_seconds: Count }),
    keyspace: Type.Object({ keys: Count, keys_with_ttl: Count }),
    memory: Type.Object({
      data_bytes: Type.Integer({ description: 'Bytes of data as memkv accounts them: keys, values, per-key overhead.' }),
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
  },
  { description: 'What the server is doing, in the spirit of Redis INFO.' },
);

