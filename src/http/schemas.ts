/**
 * The HTTP schemas: one TypeBox definition per shape gives request validation, the handler's
 * TypeScript types and the OpenAPI document, so the three cannot drift apart.
 */
import { Type, type Static } from 'typebox';
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

export const PopRow = Type.Object(
  {
    ...RowFields,
    kind: Type.Literal('string_slice'),
    value: Type.Array(Type.String()),
    popped: Type.String({ description: 'The element that was removed.' }),
  },
  { additionalProperties: false, description: 'The list after the pop, with the removed element.' },
);

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

export type SetBodyType = Static<typeof SetBody>;
export type UpdateBodyType = Static<typeof UpdateBody>;
export type PushBodyType = Static<typeof PushBody>;

/** Error responses shared by the data routes, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorBody> {
  const out: Record<number, typeof ErrorBody> = {};
  for (const status of statuses) out[status] = ErrorBody;
  return out;
}
