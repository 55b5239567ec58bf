/**
 * The client's errors: one base class carrying the server's `status`, `code` and `message`, and
 * subclasses a caller can test with `instanceof`. Also the mapping from an HTTP error answer to
 * the right class.
 */
import type { ErrorCode, ErrorJson } from './protocol.js';

/** Codes the client itself produces when no usable answer came back from the server. */
export type ClientErrorCode = 'connection_failed' | 'timeout' | 'unexpected_response';

/** Options shared by every error constructor. */
export interface MemkvClientErrorOptions {
  /** HTTP status of the answer; `undefined` when no answer came back (or the check was local). */
  status?: number | undefined;
  /** The underlying error, such as the network error behind a connection failure. */
  cause?: unknown;
  /** A transaction's op that failed: its index in `ops`. */
  op?: number | undefined;
}

/**
 * Base class of every error the client throws (except the caller's own abort reason).
 *
 * `code` is the server's stable error code (`item_not_found`, `wrong_type`, …) or one of the
 * client's own ({@link ClientErrorCode}); `status` is the HTTP status, or `undefined` when the
 * failure happened before an answer arrived.
 */
export class MemkvClientError extends Error {
  override name = 'MemkvClientError';
  readonly code: ErrorCode | ClientErrorCode | (string & {});
  readonly status: number | undefined;
  /** For the error of a transaction's op: the op's index in `ops`; otherwise undefined. */
  readonly op: number | undefined;

  constructor(code: MemkvClientError['code'], message: string, options: MemkvClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.op = options.op;
  }
}

/**
 * The key does not exist or has expired (`item_not_found`, 404). `get`, `range` and `getTtl`
 * answer `null` instead, and `remove` answers `false`.
 */
export class NotFoundError extends MemkvClientError {
  override name = 'NotFoundError';
}

/** The operation does not apply to the kind of value at the key, such as a push onto a string (`wrong_type`, 409). */
export class WrongTypeError extends MemkvClientError {
  override name = 'WrongTypeError';
}

/** A pop found the list already empty (`list_empty`, 409). */
export class ListEmptyError extends MemkvClientError {
  override name = 'ListEmptyError';
}

/**
 * The request was refused as invalid: by the server (`invalid_request`, `invalid_json`,
 * `payload_too_large`, `unsupported_media_type`), or by the client before sending it (then
 * `status` is `undefined` and `code` is `invalid_request`).
 */
export class ValidationError extends MemkvClientError {
  override name = 'ValidationError';
}

/** The server refused the credentials (HTTP 401): no token, or a token that is invalid or expired. */
export class UnauthorizedError extends MemkvClientError {
  override name = 'UnauthorizedError';
}

/** The token is valid but does not allow the operation: its role or key patterns (HTTP 403, `forbidden`). */
export class ForbiddenError extends MemkvClientError {
  override name = 'ForbiddenError';
}

/** The server could not be reached, or the connection broke before an answer arrived (`connection_failed`). */
export class ConnectionError extends MemkvClientError {
  override name = 'ConnectionError';
}

/** No complete answer arrived within the timeout (`timeout`). */
export class TimeoutError extends MemkvClientError {
  override name = 'TimeoutError';
}

/** The answer was not what memkv sends: not JSON, or JSON of the wrong shape, such as a proxy's error page (`unexpected_response`). */
export class UnexpectedResponseError extends MemkvClientError {
  override name = 'UnexpectedResponseError';
}

/** A write's precondition failed (`412 precondition_failed`): `version` is the key's current one, `null` when it is missing. */
export class PreconditionFailedError extends MemkvClientError {
  override name = 'PreconditionFailedError';
  /** The key's current version; `null` when it is missing. */
  readonly version: number | null;

  constructor(code: string, message: string, options?: MemkvClientErrorOptions & { version?: number | null }) {
    super(code, message, options);
    this.version = options?.version ?? null;
  }
}

/** A transaction's check failed (`409 txn_conflict`): nothing was applied. */
export class TxnConflictError extends MemkvClientError {
  override name = 'TxnConflictError';
  /** The checks that failed, with each key's current version (`null`: missing). */
  readonly conflicts: readonly { key: string; version: number | null }[];

  constructor(code: string, message: string, options?: MemkvClientErrorOptions & { conflicts?: { key: string; version: number | null }[] }) {
    super(code, message, options);
    this.conflicts = options?.conflicts ?? [];
  }
}

/**
 * A watch asked to resume from an event id the server's history no longer reaches (`history_compacted`,
 * 410): list the keys again, then watch from the current revision.
 */
export class HistoryCompactedError extends MemkvClientError {
  override name = 'HistoryCompactedError';
}

type ErrorClass = new (code: string, message: string, options?: MemkvClientErrorOptions) => MemkvClientError;

/** The server's error codes that have a class of their own. */
const CLASS_BY_CODE: Readonly<Record<string, ErrorClass>> = {
  item_not_found: NotFoundError,
  wrong_type: WrongTypeError,
  list_empty: ListEmptyError,
  invalid_request: ValidationError,
  invalid_json: ValidationError,
  payload_too_large: ValidationError,
  unsupported_media_type: ValidationError,
  forbidden: ForbiddenError,
  precondition_failed: PreconditionFailedError,
  txn_conflict: TxnConflictError,
  history_compacted: HistoryCompactedError,
};

/**
 * The error for an HTTP error answer (status >= 400). `body` is the parsed JSON, or `undefined`
 * when the answer was not JSON.
 */
export function errorFromAnswer(status: number, body: unknown, bodyText: string): MemkvClientError {
  const json = isErrorJson(body) ? body : undefined;
  if (status === 401) {
    return new UnauthorizedError(json?.code ?? 'unauthorized', json?.message ?? 'the server refused the credentials', { status });
  }
  if (json === undefined) {
    return new UnexpectedResponseError('unexpected_response', `expected a memkv error answer, got HTTP ${status}: ${snippet(bodyText)}`, {
      status,
    });
  }
  const ErrorClass = Object.hasOwn(CLASS_BY_CODE, json.code) ? CLASS_BY_CODE[json.code]! : MemkvClientError;
  return new ErrorClass(json.code, json.message, {
    status,
    ...(json.version === undefined ? {} : { version: json.version }),
    ...(Array.isArray(json.conflicts) ? { conflicts: json.conflicts } : {}),
    ...(Number.isSafeInteger(json.op) ? { op: json.op } : {}),
  });
}

function isErrorJson(body: unknown): body is ErrorJson {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ErrorJson).code === 'string' &&
    typeof (body as ErrorJson).message === 'string'
  );
}

/** The start of an answer body for an error message: one line, at most 120 characters. */
export function snippet(text: string): string {
  if (text.length === 0) return '(empty body)';
  const line = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line);
}
