/**
 * Idempotency keys: what a backend that keeps first answers offers (the in-memory one beside the
 * embedded engine, memory.ts; one in Redis, redis.ts), and the small rules every door shares:
 * which keys are valid, what makes two requests the same, which answers are kept.
 *
 * A request with an `Idempotency-Key` header first claims the key (`begin`). The first claim runs
 * the request and ends with `finish` (its answer is kept for the TTL) or `abandon` (not kept: the
 * request failed validation or never ran, so a retry may run it). A later request with the same
 * key and the same fingerprint gets the kept answer instead of running again; with another
 * fingerprint it is refused (`idempotency_key_reused`); while the first is still running it is
 * told to retry (`idempotency_in_flight`). Keys are scoped (per user with auth on).
 */
import { createHash } from 'node:crypto';
import { MemkvError } from '../errors.js';

/** A value, or a promise of it (an in-process backend answers at once, a remote one later). */
export type MaybePromise<T> = T | Promise<T>;

/** A kept answer: enough to send the same bytes again. */
export interface KeptAnswer {
  readonly status: number;
  /** The body as sent (JSON text). */
  readonly body: string;
  /** The headers that belong to the answer (lowercase names: `etag`, `preference-applied`). */
  readonly headers: Readonly<Record<string, string>>;
}

/** What `begin` found. */
export type BeginResult =
  /** The key is now claimed for this request: run it, then `finish` or `abandon`. */
  | { readonly outcome: 'new' }
  /** The same request was answered before: send this answer again and do not run it. */
  | { readonly outcome: 'replay'; readonly answer: KeptAnswer }
  /** The key was used for a different request (method, path or body). */
  | { readonly outcome: 'mismatch' }
  /** The first request with this key is still running. */
  | { readonly outcome: 'in_flight' };

/** One kept answer with everything needed to keep it again (in a log record or another backend). */
export interface KeptRecord {
  readonly scope: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly answer: KeptAnswer;
  /** When it is dropped, epoch ms. */
  readonly expiresAtMs: number;
}

/** Counts for the stats. */
export interface IdempotencyStats {
  /** Answers kept now (claims in flight not included). */
  kept: number;
  /** Bytes they are accounted for (toward MAX_MEMORY with the embedded engine). */
  bytes: number;
}

/** A backend that keeps first answers; see the module comment. */
export interface IdempotencyStore {
  /**
   * Claims `key` in `scope` for a request with `fingerprint`, or says why not.
   * @throws MemkvError `out_of_memory` when the claim finds no room (nothing was claimed)
   */
  begin(scope: string, key: string, fingerprint: string): MaybePromise<BeginResult>;
  /** Keeps `answer` for the claim of `key` (made by `begin`) for the TTL. */
  finish(scope: string, key: string, answer: KeptAnswer): MaybePromise<void>;
  /** Releases the claim of `key` without keeping an answer (also drops an answer kept by a `finish` whose log write failed). */
  abandon(scope: string, key: string): MaybePromise<void>;
  /** The kept answers' count and bytes, when the backend knows them cheaply. */
  stats?(): IdempotencyStats;
  /** Stops background work. */
  close(): MaybePromise<void>;
}

/** How long answers are kept by default: 24 hours, in ms (IDEMPOTENCY_TTL). */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/**
 * How long a claim lasts without `finish` or `abandon`, in ms: far longer than any request runs
 * (a write waits for Redis at most REDIS_COMMAND_TIMEOUT, for the disk an fsync), so it only
 * frees a key whose request was lost (a process that died while it ran, in Redis mode).
 */
export const CLAIM_TTL_MS = 60_000;

/** Longest idempotency key, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * Checks an `Idempotency-Key` header value: 1 to 255 visible ASCII characters (0x21–0x7E).
 * @throws MemkvError `invalid_request` otherwise (several headers arrive joined by ", ": refused too)
 */
export function checkIdempotencyKey(value: string): string {
  const length = value.length;
  let valid = length >= 1 && length <= MAX_IDEMPOTENCY_KEY_LENGTH;
  for (let i = 0; valid && i < length; i++) {
    const c = value.charCodeAt(i);
    valid = c >= 0x21 && c <= 0x7e;
  }
  if (!valid) {
    throw new MemkvError(
      'invalid_request',
      `the Idempotency-Key header must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters (no spaces), such as a UUID`,
    );
  }
  return value;
}

/**
 * What makes two requests the same: the method, the path with its query string, and a SHA-256
 * of the body (its JSON as parsed, so a retry that spaces or escapes it differently is still the
 * same request; `undefined` when there is none).
 */
export function fingerprintOf(method: string, url: string, body: unknown): string {
  const hash = createHash('sha256')
    .update(body === undefined ? '' : JSON.stringify(body))
    .digest('base64url');
  return `${method} ${url} ${hash}`;
}

/**
 * Whether an answer with `status` is kept. Not kept: validation failures (400, 401, 403, 413,
 * 415: the request did not run, and a corrected retry with the same key must be able to), and
 * server failures (5xx: the write was refused or undone, `out_of_memory`, `persistence_failed`,
 * `backend_unavailable`, so that the client's retry can succeed). Everything else is kept:
 * successes and refusals of the data (404, 409, 412, …), which a retry would only repeat.
 */
export function isKeptStatus(status: number): boolean {
  return status < 500 && status !== 400 && status !== 401 && status !== 403 && status !== 413 && status !== 415;
}

/** The headers of an answer that are kept with it, lowercase. */
export const KEPT_HEADERS = ['etag', 'preference-applied'] as const;

/** Accounted bytes of a kept answer or a claim beside its strings: the map entry, the record object, the answer. */
export const ENTRY_OVERHEAD_BYTES = 160;

/** Accounted bytes of a claim (and of the kept answer's part other than the answer itself). */
export function claimBytes(scope: string, key: string, fingerprint: string): number {
  return ENTRY_OVERHEAD_BYTES + 2 * (scope.length + key.length) + fingerprint.length;
}

/** Accounted bytes of an answer's body and headers. */
export function answerBytes(answer: KeptAnswer): number {
  let bytes = answer.body.length;
  for (const name in answer.headers) bytes += name.length + answer.headers[name]!.length + 16;
  return bytes;
}
