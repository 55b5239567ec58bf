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
  /** Absolute expiry time (RFC 3339), or `null` when the key never expires. */
  ttl: string | null;
  created_at: string;
  updated_at: string;
}

/** The row after a pop, with the removed element. */
export type PopRowJson = Extract<RowJson, { kind: 'string_slice' }> & { popped: string };

/** `POST /api/{version}/set` body. `ttl` is a duration such as `"1h30m"`. */
export interface SetBody {
  key: string;
  value: Value;
  ttl?: string;
}

/** `PATCH /api/{version}/{key}` body. */
export interface UpdateBody {
  value: Value;
  ttl?: string;
}

/** `PATCH /api/{version}/{key}/push` body: one string or several, pushed in order. */
export interface PushBody {
  value: Value;
  ttl?: string;
}

/** Body of answers that carry no row. */
export interface MessageJson {
  message: string;
}

/** Every error code the API returns, stable across versions. */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'unsupported_media_type',
  'payload_too_large',
  'route_not_found',
  'item_not_found',
  'wrong_type',
  'list_empty',
  'internal_server_error',
  'service_unavailable',
  'persistence_failed',
  'persistence_disabled',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The body of every error answer. */
export interface ErrorJson {
  code: ErrorCode | (string & {});
  message: string;
}
