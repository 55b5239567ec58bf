/** MemkvError and the one table of error codes: status and default message per code. */
import type { ErrorCode } from '@memkv/client/protocol';

export type { ErrorCode };

interface ErrorSpec {
  /** HTTP status the code maps to. */
  status: number;
  /** Message used when the thrower gives none. */
  message: string;
}

/** The one table: every error code memkv can return, with its HTTP status. */
export const ERRORS: { readonly [C in ErrorCode]: ErrorSpec } = {
  invalid_json: { status: 400, message: 'the request body is not valid JSON' },
  invalid_request: { status: 400, message: 'the request is not valid' },
  unsupported_media_type: { status: 415, message: 'the request body must be JSON (Content-Type: application/json)' },
  payload_too_large: { status: 413, message: 'the request body is too large' },
  request_timeout: { status: 408, message: 'the request was not received in time (REQUEST_TIMEOUT)' },
  route_not_found: { status: 404, message: 'no such route' },
  item_not_found: { status: 404, message: 'no such key' },
  wrong_type: { status: 409, message: 'the operation does not apply to the kind of value stored at this key' },
  list_empty: { status: 409, message: 'the list is empty' },
  unauthorized: { status: 401, message: 'a valid bearer token is required' },
  forbidden: { status: 403, message: 'the token does not grant this operation' },
  too_many_requests: { status: 429, message: 'too many requests; retry later' },
  user_exists: { status: 409, message: 'a user with this name already exists' },
  user_not_found: { status: 404, message: 'no such user' },
  internal_server_error: { status: 500, message: 'internal server error' },
  service_unavailable: { status: 503, message: 'the service is not ready' },
  loading: { status: 503, message: 'memkv is loading the dataset' },
  out_of_memory: { status: 507, message: 'the memory limit is reached and the eviction policy frees nothing' },
  persistence_failed: { status: 500, message: 'the write could not be saved to disk; it was not applied' },
  persistence_disabled: { status: 409, message: 'persistence is not enabled (PERSISTENCE_ENABLED=false)' },
  // STORAGE=redis: Redis is unreachable, failing over or too slow; answered with Retry-After.
  backend_unavailable: { status: 503, message: 'the storage backend (Redis) is unavailable; retry later' },
  precondition_failed: { status: 412, message: "the key's version does not match the precondition" },
  txn_conflict: { status: 409, message: 'a check of the transaction failed; nothing was applied' },
  history_compacted: { status: 410, message: 'the watch history no longer reaches back to this revision; list the keys again' },
  idempotency_key_reused: { status: 422, message: 'this Idempotency-Key was used for a different request' },
  idempotency_in_flight: { status: 409, message: 'a request with this Idempotency-Key is still in progress; retry later' },
  // Sent as the last event of a watch stream, never as an HTTP status.
  watch_overflow: { status: 503, message: 'the watcher did not read its events fast enough; reconnect and resume' },
};

/** An expected failure with a stable code. Anything that is not a MemkvError is a bug. */
export class MemkvError extends Error {
  override readonly name = 'MemkvError';
  readonly code: ErrorCode;
  /** Fields added to the error's answer body beside `code` and `message` (say, a key's current `version`). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string = ERRORS[code].message, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    // An expected failure needs no stack trace, and capturing one cost more than the rest of a
    // failed request (13% of CPU time under a load of misses).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = stackTraceLimit;
    this.code = code;
    this.details = options?.details;
  }

  /** HTTP status for this error's code. */
  get status(): number {
    return ERRORS[this.code].status;
  }
}

/** Thrown for a bad configuration value; names the option and what it accepts. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly option: string;

  constructor(option: string, message: string) {
    super(`${option}: ${message}`);
    this.option = option;
  }
}

/**
 * A database file that cannot be used (held by another server, damaged, unreadable): the server
 * must not start. main.ts logs the message, which names the file and, for damage, the offset.
 */
export class PersistenceError extends Error {
  override readonly name = 'PersistenceError';
  /** The file or directory concerned. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

/** Quotes a key for an error message, shortening very long keys. */
export function quoteKey(key: string): string {
  return JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
}

/** The error for a missing or expired key. */
export function itemNotFound(key: string): MemkvError {
  return new MemkvError('item_not_found', `key ${quoteKey(key)} does not exist`);
}
