/**
 * The schemas of the commands' requests and answers: one TypeBox definition per shape gives
 * request validation, the TypeScript types and the OpenAPI document, so the three cannot drift.
 */
import { Type, type TSchema } from 'typebox';
import { ERROR_CODES } from '@memkv/client/protocol';
import { DURATION_PATTERN } from '../units.js';
import { MAX_TTL_CHARS } from './ttl.js';

export { DURATION_PATTERN };

export const Ttl = Type.String({
  pattern: DURATION_PATTERN,
  maxLength: MAX_TTL_CHARS,
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

/** A version, as rows, ETags and preconditions carry it. */
export const Version = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "The revision of the key's last write; the answer's ETag is it in quotes." });

/** The JSON form of `If-Match` (for clients that cannot set headers). */
const IfVersion = Type.Optional(
  Type.Union([Version, Type.Null()], {
    description: "Write only if the key's version is this (`null`: only if the key is missing), else 412 precondition_failed. As `If-Match: \"N\"`.",
  }),
);

export const SetBody = Type.Object(
  {
    key: Type.String({ minLength: 1, description: 'The key to create or replace.' }),
    value: Value,
    ttl: Type.Optional(Ttl),
    if_version: IfVersion,
    if_absent: Type.Optional(Type.Boolean({ description: 'Create only: 412 precondition_failed when the key exists. As `If-None-Match: *`.' })),
  },
  { additionalProperties: false },
);

export const UpdateBody = Type.Object(
  {
    value: Value,
    ttl: Type.Optional(Ttl),
    if_version: IfVersion,
  },
  { additionalProperties: false },
);

export const PushBody = Type.Object(
  {
    value: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], {
      description: 'One string, or several pushed in order.',
    }),
    ttl: Type.Optional(Ttl),
    if_version: IfVersion,
  },
  { additionalProperties: false },
);

export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 time (UTC).' });

const TimeFields = {
  ttl: Type.Union([Timestamp, Type.Null()], { description: 'Absolute expiry time, or null when the key never expires.' }),
  created_at: Timestamp,
  updated_at: Timestamp,
};

const RowFields = { key: Type.String(), version: Version, ...TimeFields };

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

export const Message = Type.Object(
  { message: Type.String({ examples: ['ok'] }), version: Type.Optional({ ...Version, description: "The key's version after the write (the revision of a removal)." }) },
  { additionalProperties: false },
);

export const ErrorBody = Type.Object(
  {
    code: Type.Union(
      ERROR_CODES.map((code) => Type.Literal(code)),
      { description: 'Stable machine-readable error code.' },
    ),
    message: Type.String({ description: 'What went wrong, for people.' }),
    version: Type.Optional(Type.Union([Version, Type.Null()], { description: "precondition_failed: the key's current version (null: missing)." })),
    conflicts: Type.Optional(
      Type.Array(Type.Object({ key: Type.String(), version: Type.Union([Version, Type.Null()]) }, { additionalProperties: false }), {
        description: 'txn_conflict: the checks that failed, with each key\'s current version.',
      }),
    ),
    op: Type.Optional(Type.Integer({ minimum: 0, description: "A transaction's op that failed: its index in `ops`." })),
  },
  { additionalProperties: false },
);

/** Error responses shared by the data routes, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorBody> {
  const out: Record<number, typeof ErrorBody> = {};
  for (const status of statuses) out[status] = ErrorBody;
  return out;
}


// ---- Ranges and TTLs ----

/** A list index as the query string carries it: a whole number, negative from the end. */
const Index = Type.String({ pattern: '^-?[0-9]{1,15}$', description: 'An index: 0 is the first element, -1 the last.' });

export const RangeQuery = Type.Object(
  {
    start: Type.Optional({ ...Index, description: 'First index of the slice (inclusive); default 0.', examples: ['0'] }),
    stop: Type.Optional({ ...Index, description: 'Last index of the slice (inclusive); default -1, the last element.', examples: ['-1'] }),
  },
  { additionalProperties: false },
);

export const RangeRow = Type.Object(
  { key: Type.String(), kind: Type.Literal('string_slice'), value: Type.Array(Type.String()), length: Length, version: Version, ...TimeFields },
  { additionalProperties: false, description: 'The elements from `start` to `stop`, and the whole list\'s `length`.' },
);

export const TtlBody = Type.Object(
  {
    ttl: Type.Union([Type.String({ pattern: DURATION_PATTERN, maxLength: MAX_TTL_CHARS }), Type.Null()], {
      description: 'A positive Go-style duration from now ("90s", "1h30m"), or null to never expire.',
    }),
    if_version: IfVersion,
  },
  { additionalProperties: false },
);

export const TtlAnswer = Type.Object(
  {
    key: Type.String(),
    ttl: Type.Union([Timestamp, Type.Null()], { description: 'Absolute expiry time, or null when the key never expires.' }),
    version: Version,
  },
  { additionalProperties: false, description: 'The key\'s expiry.' },
);

// ---- Versions: ETag, preconditions, conditional reads ----

const IfMatch = Type.Optional(
  Type.String({
    description:
      "Write only if the key's version is this ETag (`\"N\"`), or with `*` only if the key exists; else 412 precondition_failed " +
      'with the current `version`. A malformed value is 400.',
    examples: ['"42"'],
  }),
);

const IfNoneMatchWrite = Type.Optional(
  Type.String({ description: 'On set, `*`: create only (412 precondition_failed when the key exists). Other values are 400.', examples: ['*'] }),
);

/** The precondition headers of the writes. */
export const PreconditionHeaders = Type.Object({ 'if-match': IfMatch, 'if-none-match': IfNoneMatchWrite });

/** Push and pop: preconditions and `Prefer`. */
export const PreferAndPreconditionHeaders = Type.Object({ ...PreferHeaders.properties, ...PreconditionHeaders.properties });

/** The conditional read header: `If-None-Match` with the ETag a client holds answers 304 while the key is unchanged. */
export const ReadHeaders = Type.Object({
  'if-none-match': Type.Optional(
    Type.String({ description: 'ETags the client holds (`"N"`, a list, or `*`): 304 Not Modified, without a body, while one matches.', examples: ['"42"'] }),
  ),
});

/** The 304 answer of a conditional read. */
export const NotModified = Type.Null({ description: "Not Modified: the key's version is the one `If-None-Match` names." });

const ETAG_HEADER = {
  ETag: { type: 'string', description: "The key's version in double quotes (`\"N\"`), for If-Match and If-None-Match." },
};

/** `answer` with the `ETag` response header documented beside its own headers. */
export function withEtag<T extends TSchema>(answer: T): T {
  const headers = (answer as { headers?: Record<string, unknown> }).headers;
  return { ...answer, headers: { ...headers, ...ETAG_HEADER } };
}
