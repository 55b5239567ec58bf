/**
 * The memkv client: typed calls over the REST API with the platform `fetch`, timeouts through
 * `AbortSignal`, and retries with backoff where a retry cannot apply a write twice.
 */
import {
  ConnectionError,
  MemkvClientError,
  UnauthorizedError,
  NotFoundError,
  TimeoutError,
  UnexpectedResponseError,
  ValidationError,
  errorFromAnswer,
  snippet,
} from './errors.js';
import {
  PREFER_MINIMAL,
  type DeletePrefixBody,
  type DeletePrefixJson,
  type FlushJson,
  type KeysPageJson,
  type ListRowJson,
  type LoginBody,
  type LogoutBody,
  type MessageJson,
  type MinimalPopRowJson,
  type MinimalRowJson,
  type PopRowJson,
  type PushBody,
  type RangeRowJson,
  type RefreshBody,
  type RowJson,
  type SetBody,
  type SizeJson,
  type StatsJson,
  type TokenPairJson,
  type TtlBody,
  type TtlJson,
  type TxnBody,
  type TxnCheckJson,
  type TxnJson,
  type TxnOpJson,
  type UpdateBody,
  type Value,
} from './protocol.js';
import {
  checkListRow,
  checkMinimalPopRow,
  checkMinimalRow,
  checkPopRow,
  checkRangeRow,
  checkRow,
  checkTtl,
  isVersion,
  toExpiry,
  toListRow,
  toMinimalListRow,
  toMinimalPopRow,
  toPopRow,
  toRangeRow,
  toRow,
  type Expiry,
  type ListRow,
  type MinimalListRow,
  type MinimalPopRow,
  type PopRow,
  type RangeRow,
  type Row,
} from './row.js';
import { watchEvents, type WatchOptions } from './watch.js';
import type { WatchEvent } from './protocol.js';

/** A time to live: a Go-style duration string (`"90s"`, `"1h30m"`) or a whole number of milliseconds (> 0). */
export type Ttl = string | number;

/** The `fetch` the client calls: the platform's, or one with the same signature. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Where the server listens, such as `http://127.0.0.1:8080` (a path prefix is kept). Required. */
  url: string | URL;
  /** Version segment of the API base path `/api/{apiVersion}`; default `v1`. */
  apiVersion?: string;
  /** Bearer token sent as `Authorization: Bearer <token>`; default none. See {@link MemkvClient.setToken}. */
  token?: string | undefined;
  /**
   * Refresh token, from an earlier {@link MemkvClient.login}: when the server answers 401 to a
   * call, the client trades it for a new pair and repeats the call once. Default none.
   */
  refreshToken?: string | undefined;
  /** Called with each new token pair (after `login` and after every automatic refresh), to keep it. */
  onTokens?: ((tokens: TokenPairJson) => void) | undefined;
  /** Longest wait for one attempt (connect, send, whole answer), in ms; default 10 000. */
  timeoutMs?: number;
  /**
   * Further attempts after a failure that is safe to retry; default 2 (three attempts in all).
   * Retried: a connection refused (the request never left) for every call but `login`; for the
   * idempotent calls (`get`, `set`, `update`, `remove`, `range`, `getTtl`, `setTtl`, `listKeys`,
   * `size`, `stats`, `flush`, `deletePrefix`, `logout`, and `push`, `pop` and `txn` sent with an
   * idempotency key, see {@link idempotencyKeys}) also a connection broken before the answer and
   * an HTTP 502/503/504 (such as `503 loading` while the server replays its log at start), and a
   * `409 idempotency_in_flight` (the first attempt still runs). Never retried: timeouts, other
   * answers, and a `push`, `pop` or `txn` without an idempotency key whose request may have
   * reached the server. An answer's `Retry-After` (`1` from a loading server) lengthens the wait before the
   * next attempt to what it asks, up to the longest backoff (5 s); an answer asking for longer
   * is not retried, but reported at once.
   */
  retries?: number;
  /**
   * Send an `Idempotency-Key` (a new random UUID per call, the same for each of its attempts) with
   * every `push`, `pop` and `txn`, so that they are retried like the idempotent calls: the server keeps
   * the first attempt's answer (IDEMPOTENCY_TTL, default 24 h) and answers a retry with it
   * instead of applying the call again, so a lost answer never loses or doubles an element.
   * Default true; false sends none unless a call gives its own ({@link IdempotentOptions.idempotencyKey}).
   */
  idempotencyKeys?: boolean;
  /** Backoff before the first retry, in ms; doubled for each further one (with jitter, at most 5 s); default 100. */
  retryDelayMs?: number;
  /** The `fetch` to use; default `globalThis.fetch`. */
  fetch?: FetchFunction;
  /**
   * Further fields of every `fetch` call's options, for what a platform's fetch takes beyond the
   * standard, such as the certificates of an `https://` URL (the standard fields the client sets,
   * `method`, `headers`, `body` and `signal`, win). Default none. For a private CA or a client
   * certificate (mutual TLS):
   * - Node: `{ dispatcher: new Agent({ connect: { ca, cert, key } }) }`, `Agent` from the
   *   `undici` package (Node's fetch is undici; its `NODE_EXTRA_CA_CERTS` variable adds a CA too);
   * - Deno: `{ client: Deno.createHttpClient({ caCerts: [ca], cert, key }) }`;
   * - Bun: `{ tls: { ca, cert, key } }`;
   * - browsers: none; they use the system's trust store and ask the user for client certificates.
   */
  fetchOptions?: Readonly<Record<string, unknown>>;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Timeout of each attempt of this call, in ms; default the client's `timeoutMs`. */
  timeoutMs?: number;
}

/**
 * A precondition on the key's version (optimistic concurrency): the write happens only if the
 * key's version is `ifVersion` (a row's `version`), else it fails with a
 * {@link PreconditionFailedError} that carries the current version. Such a write is never retried
 * (a retry after a lost answer would find the version it wrote).
 */
export interface ConditionalOptions extends CallOptions {
  /** The key's version must be this; `null`: the key must be missing (on set, update, push and setTtl). */
  ifVersion?: number | null;
}

/** Per-call options of the calls that send an idempotency key (`push`, `pop`, `txn`). */
export interface IdempotentOptions {
  /**
   * The `Idempotency-Key` of this call (1 to 255 visible ASCII characters), for a caller that
   * retries across processes or restarts: the same key and the same request get the first
   * answer back. Default a new random UUID when the client's `idempotencyKeys` is on (the
   * default), none when it is off.
   */
  idempotencyKey?: string;
}

/** Per-call options of the writing calls. */
export interface WriteOptions extends ConditionalOptions {
  /**
   * Time to live, from now. Omitted: `set` applies the server's DEFAULT_TTL; `update` and a push
   * onto an existing list keep the current expiry.
   */
  ttl?: Ttl;
  /** `set` only: create the key, or fail with {@link PreconditionFailedError} when it exists (`If-None-Match: *`). */
  ifAbsent?: boolean;
}

/** Options of {@link MemkvClient.txn}. */
export interface TxnOptions extends CallOptions, IdempotentOptions {
  /** Versions the keys must have (`null`: missing); if one does not hold, nothing applies ({@link TxnConflictError}). */
  checks?: TxnCheckJson[];
}

/** Options of {@link MemkvClient.push}. */
export interface PushOptions extends WriteOptions, IdempotentOptions {
  /**
   * Answer the list's `length` instead of its elements (a {@link MinimalListRow}); sent as
   * `Prefer: return=minimal`. The whole list costs O(list length) per call on the server and on
   * the wire; the minimal answer costs the same for any length. Default false.
   */
  minimal?: boolean;
}

/** Options of {@link MemkvClient.pop}. */
export interface PopOptions extends ConditionalOptions, IdempotentOptions {
  /** Answer the list's `length` and `popped`, not its elements (a {@link MinimalPopRow}); see {@link PushOptions.minimal}. Default false. */
  minimal?: boolean;
}

/**
 * The client's calls, answering each JSON body exactly as the server sent it (snake_case fields,
 * RFC 3339 times, `{"message": "ok"}`), for programs that pass the API's answers on as they are,
 * such as the memkv command's `--json`. Each call sends the same request as the client's call of
 * the same name, with the same timeouts, retries, token refresh and shape checks; nothing is
 * converted, and every error answer is an error: a missing key is a `NotFoundError` (where the
 * client's `get`, `range` and `getTtl` answer `null` and `remove` answers `false`).
 */
export interface WireCalls {
  // GET /api/v1/:key
  get(key: string, options?: CallOptions): Promise<RowJson>;
  // POST /api/v1/set  {key, value, ttl?}
  set(key: string, value: Value, options?: WriteOptions): Promise<MessageJson>;
  // PATCH /api/v1/:key  {value, ttl?}
  update(key: string, value: Value, options?: WriteOptions): Promise<MessageJson>;
  // DELETE /api/v1/:key
  remove(key: string, options?: ConditionalOptions): Promise<MessageJson>;
  /**
   * With `minimal`, the answer is a whole list row only when the server (or a proxy) did not
   * apply the preference.
   */
  // PATCH /api/v1/:key/push  {value, ttl?}  [Prefer: return=minimal]
  push(key: string, value: string | string[], options: PushOptions & { minimal: true }): Promise<MinimalRowJson | ListRowJson>;
  push(key: string, value: string | string[], options?: PushOptions & { minimal?: false }): Promise<ListRowJson>;
  push(key: string, value: string | string[], options?: PushOptions): Promise<ListRowJson | MinimalRowJson>;
  // PATCH /api/v1/:key/pop  [Prefer: return=minimal]
  pop(key: string, options: PopOptions & { minimal: true }): Promise<MinimalPopRowJson | PopRowJson>;
  pop(key: string, options?: PopOptions & { minimal?: false }): Promise<PopRowJson>;
  pop(key: string, options?: PopOptions): Promise<PopRowJson | MinimalPopRowJson>;
  // GET /api/v1/:key/range?start=&stop=
  range(key: string, start: number, stop: number, options?: CallOptions): Promise<RangeRowJson>;
  // GET /api/v1/:key/ttl
  getTtl(key: string, options?: CallOptions): Promise<TtlJson>;
  // PATCH /api/v1/:key/ttl  {ttl}
  setTtl(key: string, ttl: Ttl | null, options?: ConditionalOptions): Promise<TtlJson>;
  // POST /api/v1/db/txn  {checks?, ops}
  txn(ops: TxnOpJson[], options?: TxnOptions): Promise<TxnJson>;
  // GET /api/v1/db/keys?prefix=&cursor=&limit=
  listKeys(options?: KeysPageOptions): Promise<KeysPageJson>;
  // GET /api/v1/db/size
  size(options?: CallOptions): Promise<SizeJson>;
  // POST /api/v1/db/flush
  flush(options?: CallOptions): Promise<FlushJson>;
  // POST /api/v1/db/delete-prefix  {prefix, dry_run?}
  deletePrefix(prefix: string, options?: DeletePrefixOptions): Promise<DeletePrefixJson>;
  // GET /api/v1/db/stats
  stats(options?: CallOptions): Promise<StatsJson>;
  /** Also starts using the tokens, as the client's `login` does. */
  // POST /api/v1/auth/login  {username, password}
  login(username: string, password: string, options?: CallOptions): Promise<TokenPairJson>;
  /** Also forgets the tokens, as the client's `logout` does. */
  // POST /api/v1/auth/logout  {refresh_token?}
  logout(options?: CallOptions): Promise<MessageJson>;
}

/** Options of {@link MemkvClient.listKeys} and {@link MemkvClient.keys}. */
export interface KeysOptions extends CallOptions {
  /** Only keys that start with this text; default every key. */
  prefix?: string;
  /** Most keys per page, 1 to 1000; default the server's (100). */
  limit?: number;
}

/** Options of {@link MemkvClient.listKeys}: one page. */
export interface KeysPageOptions extends KeysOptions {
  /** The `cursor` of the previous page; omitted for the first page. */
  cursor?: string;
  /**
   * Group the page's keys by the first occurrence of this text after `prefix` (such as `":"`):
   * the page's `prefixes` then count them per next-level prefix, and `keys` holds the rest.
   */
  delimiter?: string;
}

/** Options of {@link MemkvClient.deletePrefix}. */
export interface DeletePrefixOptions extends CallOptions {
  /** Only count the keys that would be removed; default false. */
  dryRun?: boolean;
}

export const CLIENT_DEFAULTS = {
  apiVersion: 'v1',
  timeoutMs: 10_000,
  retries: 2,
  retryDelayMs: 100,
  idempotencyKeys: true,
} as const;

/** Longest backoff between two attempts, in ms. */
const MAX_RETRY_DELAY_MS = 5_000;

/** The wait an error answer asked for with `Retry-After`, in ms. */
const retryAfterMsOf = new WeakMap<MemkvClientError, number>();

/** Abort reason the client uses for its own timeout, to tell it from the caller's abort. */
const TIMED_OUT = Symbol('memkv.timeout');

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One call as the internal request function receives it. */
interface RequestSpec {
  method: Method;
  /** Path below the API base, already percent-encoded, starting with `/`. */
  path: string;
  /** JSON body, if any. */
  body?: unknown;
  /** True when sending the request twice has the effect of sending it once. */
  idempotent: boolean;
  options: CallOptions | undefined;
  /** `Prefer` request header (RFC 7240), if any. */
  prefer?: string;
  /** `Idempotency-Key` request header, if any: the same for every attempt, which makes the call safe to retry. */
  idempotencyKey?: string;
  /** `If-Match` request header (a version in quotes), if any. */
  ifMatch?: string | undefined;
}

/** A successful answer: its status and parsed JSON body. */
interface Answer {
  status: number;
  body: unknown;
}

/** Creates a client. @throws TypeError naming the option when an option is not valid. */
export function createClient(options: ClientOptions): MemkvClient {
  return new MemkvClient(options);
}

/**
 * A memkv client. Every call goes through one internal request function, which adds the
 * `Authorization` header, the timeout and the retries; see the package README ("Extending").
 */
export class MemkvClient {
  readonly #baseUrl: string;
  readonly #fetch: FetchFunction;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #idempotencyKeys: boolean;
  #authorization: string | undefined;
  #refreshToken: string | undefined;
  readonly #onTokens: ((tokens: TokenPairJson) => void) | undefined;
  readonly #fetchOptions: Readonly<Record<string, unknown>> | undefined;
  /** The refresh in flight: calls that meet a 401 meanwhile wait for it instead of starting another. */
  #refreshing: Promise<void> | undefined;

  /** The same calls, answering the server's JSON bodies as they came: see {@link WireCalls}. */
  readonly wire: WireCalls;

  constructor(options: ClientOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('createClient: options must be an object with a url');
    const {
      url,
      apiVersion = CLIENT_DEFAULTS.apiVersion,
      token,
      refreshToken,
      onTokens,
      timeoutMs = CLIENT_DEFAULTS.timeoutMs,
      retries = CLIENT_DEFAULTS.retries,
      retryDelayMs = CLIENT_DEFAULTS.retryDelayMs,
      fetch = globalThis.fetch,
      fetchOptions,
      idempotencyKeys = CLIENT_DEFAULTS.idempotencyKeys,
    } = options;
    const base = parseBaseUrl(url);
    if (typeof apiVersion !== 'string' || !/^[A-Za-z0-9._-]+$/.test(apiVersion)) {
      throw new TypeError(`apiVersion must be a path segment such as "v1"; got ${String(apiVersion)}`);
    }
    checkTimeout(timeoutMs, 'timeoutMs');
    if (!Number.isSafeInteger(retries) || retries < 0) throw new TypeError(`retries must be a whole number >= 0; got ${String(retries)}`);
    if (typeof retryDelayMs !== 'number' || !(retryDelayMs >= 0) || !Number.isFinite(retryDelayMs)) {
      throw new TypeError(`retryDelayMs must be a number of milliseconds >= 0; got ${String(retryDelayMs)}`);
    }
    if (typeof fetch !== 'function') throw new TypeError('fetch must be a function; this platform has no global fetch, so pass one');
    if (onTokens !== undefined && typeof onTokens !== 'function') throw new TypeError('onTokens must be a function');
    if (fetchOptions !== undefined && (typeof fetchOptions !== 'object' || fetchOptions === null || Array.isArray(fetchOptions))) {
      throw new TypeError('fetchOptions must be an object of further fetch options, such as { dispatcher }');
    }
    this.#fetchOptions = fetchOptions;
    if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken.length === 0)) {
      throw new TypeError('refreshToken must be a non-empty string');
    }
    this.#baseUrl = `${base}/api/${apiVersion}`;
    this.#fetch = fetch === globalThis.fetch ? fetch.bind(globalThis) : fetch;
    this.#timeoutMs = timeoutMs;
    this.#retries = retries;
    this.#retryDelayMs = retryDelayMs;
    if (typeof idempotencyKeys !== 'boolean') throw new TypeError(`idempotencyKeys must be true or false; got ${String(idempotencyKeys)}`);
    this.#idempotencyKeys = idempotencyKeys;
    this.setToken(token);
    this.#refreshToken = refreshToken;
    this.#onTokens = onTokens;
    this.wire = this.#wireCalls();
  }

  /** The API base URL every path is appended to, such as `http://127.0.0.1:8080/api/v1`. */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  /**
   * Sets the bearer token sent with every later call (`Authorization: Bearer <token>`);
   * `undefined` stops sending one. @throws TypeError when the token cannot be a header value.
   */
  setToken(token: string | undefined): void {
    if (token === undefined) {
      this.#authorization = undefined;
      return;
    }
    if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) {
      throw new TypeError('token must be a non-empty string of visible ASCII characters');
    }
    this.#authorization = `Bearer ${token}`;
  }

  // ---- Data calls ----
  // Each converts the answer of the wire call of the same name (#wireCalls, below).

  /** Reads a key. @returns the row, or `null` when the key does not exist or has expired. */
  // GET /api/v1/:key
  async get(key: string, options?: CallOptions): Promise<Row | null> {
    try {
      return toRow(await this.wire.get(key, options));
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /**
   * Creates or replaces a key with a string or a list of strings. @returns the key's new version.
   * @throws PreconditionFailedError when `ifVersion` or `ifAbsent` does not hold.
   */
  // POST /api/v1/set  {key, value, ttl?, if_version?, if_absent?}
  async set(key: string, value: Value, options?: WriteOptions): Promise<number> {
    return versionOf(await this.wire.set(key, value, options));
  }

  /**
   * Replaces the value of an existing key (of either kind). @returns the key's new version.
   * @throws NotFoundError when the key does not exist; PreconditionFailedError when `ifVersion` does not hold.
   */
  // PATCH /api/v1/:key  {value, ttl?, if_version?}
  async update(key: string, value: Value, options?: WriteOptions): Promise<number> {
    return versionOf(await this.wire.update(key, value, options));
  }

  /**
   * Removes a key. @returns `true` when it existed, `false` when it did not. (If a retry follows a
   * lost answer, a removal that did happen reads as `false`.)
   */
  // DELETE /api/v1/:key
  async remove(key: string, options?: ConditionalOptions): Promise<boolean> {
    try {
      await this.wire.remove(key, options);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  /**
   * Appends one string, or several in order, to a list; creates the list when the key is missing.
   * @returns the list after the push; with `{ minimal: true }`, its `length` instead of its
   *   elements, which costs the same for any length (the whole list is O(list length) per call).
   * @throws WrongTypeError when the key holds a string.
   */
  // PATCH /api/v1/:key/push  {value, ttl?}  [Prefer: return=minimal]
  async push(key: string, value: string | string[], options: PushOptions & { minimal: true }): Promise<MinimalListRow>;
  async push(key: string, value: string | string[], options?: PushOptions & { minimal?: false }): Promise<ListRow>;
  async push(key: string, value: string | string[], options?: PushOptions): Promise<ListRow | MinimalListRow>;
  async push(key: string, value: string | string[], options?: PushOptions): Promise<ListRow | MinimalListRow> {
    if (options?.minimal === true) return toMinimalListRow(await this.wire.push(key, value, { ...options, minimal: true }));
    return toListRow(await this.wire.push(key, value, { ...options, minimal: false }));
  }

  /**
   * Removes the last element of a list. @returns the list after the pop, with `popped`; with
   * `{ minimal: true }`, its `length` instead of its elements (see {@link push}).
   * @throws NotFoundError, ListEmptyError, WrongTypeError.
   */
  // PATCH /api/v1/:key/pop  [Prefer: return=minimal]
  async pop(key: string, options: PopOptions & { minimal: true }): Promise<MinimalPopRow>;
  async pop(key: string, options?: PopOptions & { minimal?: false }): Promise<PopRow>;
  async pop(key: string, options?: PopOptions): Promise<PopRow | MinimalPopRow>;
  async pop(key: string, options?: PopOptions): Promise<PopRow | MinimalPopRow> {
    if (options?.minimal === true) return toMinimalPopRow(await this.wire.pop(key, { ...options, minimal: true }));
    return toPopRow(await this.wire.pop(key, { ...options, minimal: false }));
  }

  /**
   * Reads the elements of a list from index `start` to index `stop`, both included, as Redis
   * `LRANGE` does: negative indexes count from the end (`-1` is the last element), indexes past
   * either end are clamped, and a `start` after `stop` gives no element. `range(key, 0, -1)` is
   * the whole list. Costs O(elements answered), not O(list length).
   * @param start index of the first element, a whole number (negative: from the end).
   * @param stop index of the last element, a whole number (negative: from the end).
   * @returns the row with the slice as `value` and the whole list's `length`, or `null` when the
   *   key does not exist or has expired (as `get`).
   * @throws WrongTypeError when the key holds a string; ValidationError when an index is not a
   *   whole number (before sending anything).
   */
  // GET /api/v1/:key/range?start=&stop=
  async range(key: string, start: number, stop: number, options?: CallOptions): Promise<RangeRow | null> {
    try {
      return toRangeRow(await this.wire.range(key, start, stop, options));
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /**
   * Reads the expiry of a key.
   * @returns `{ key, expiresAt }`, where `expiresAt` is `null` when the key never expires; or
   *   `null` when the key does not exist or has expired (as `get`).
   */
  // GET /api/v1/:key/ttl
  async getTtl(key: string, options?: CallOptions): Promise<Expiry | null> {
    try {
      return toExpiry(await this.wire.getTtl(key, options));
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /**
   * Changes only the expiry of an existing key (of either kind): `ttl` from now, or `null` to
   * make it never expire. The value stays as it is.
   * Retried like `update` (see {@link ClientOptions.retries}): a retry after a lost answer sets
   * the expiry again, from the time of the retry, so the key can end up expiring up to the
   * retry delay later than after the first attempt; with `null` the outcome is the same.
   * @returns `{ key, expiresAt }` after the change. @throws NotFoundError when the key does not
   *   exist or has expired; ValidationError for a TTL the server refuses.
   */
  // PATCH /api/v1/:key/ttl  {ttl}
  async setTtl(key: string, ttl: Ttl | null, options?: ConditionalOptions): Promise<Expiry> {
    return toExpiry(await this.wire.setTtl(key, ttl, options));
  }

  /**
   * Applies `ops` together, if every check of `options.checks` holds: all of them or none, under
   * one new version. @returns `{ ok, version, results }`, one result per op.
   * @throws TxnConflictError (with the failed checks) when a check does not hold; the error of
   *   the op that failed (NotFoundError, WrongTypeError, ListEmptyError …) otherwise, nothing applied.
   */
  // POST /api/v1/db/txn  {checks?, ops}
  txn(ops: TxnOpJson[], options?: TxnOptions): Promise<TxnJson> {
    return this.wire.txn(ops, options);
  }

  // ---- Database calls ----

  /**
   * One page of a key listing. Pass each page's `cursor` back until it is `null`; a page may be
   * short, even empty, before the end. A key present for the whole listing is returned exactly once.
   */
  // GET /api/v1/db/keys?prefix=&cursor=&limit=
  listKeys(options: KeysPageOptions = {}): Promise<KeysPageJson> {
    return this.wire.listKeys(options);
  }

  /** Every key (with `prefix`, if given), fetched a page at a time: `for await (const key of client.keys())`. */
  async *keys(options: KeysOptions = {}): AsyncGenerator<string, void, undefined> {
    let cursor: string | undefined;
    do {
      const page: KeysPageJson = await this.listKeys({ ...options, cursor });
      yield* page.keys;
      cursor = page.cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** Number of keys the server holds. */
  // GET /api/v1/db/size
  async size(options?: CallOptions): Promise<number> {
    return (await this.wire.size(options)).keys;
  }

  /**
   * Removes every key (admin role only, when the server has auth on). @returns the
   * number removed (after a retry that follows a lost answer, the keys the retry found: 0).
   */
  // POST /api/v1/db/flush
  async flush(options?: CallOptions): Promise<number> {
    return (await this.wire.flush(options)).removed;
  }

  /**
   * Removes every key that starts with `prefix` (admin role only, when the server has auth on),
   * in batches on the server; with `dryRun`, only counts them. @returns the number removed (after
   * a retry that follows a lost answer, those the retry found), or with `dryRun` the number that would be.
   */
  // POST /api/v1/db/delete-prefix  {prefix, dry_run?}
  async deletePrefix(prefix: string, options: DeletePrefixOptions = {}): Promise<number> {
    const result = await this.wire.deletePrefix(prefix, options);
    return 'deleted' in result ? result.deleted : result.matched;
  }

  /** The server's statistics (like Redis INFO): keyspace, memory, counters, persistence. */
  // GET /api/v1/db/stats
  stats(options?: CallOptions): Promise<StatsJson> {
    return this.wire.stats(options);
  }

  // ---- Authentication ----

  /**
   * Logs in: later calls send the new access token, and when it expires the client refreshes it
   * by itself (one refresh at a time, then the call is repeated once).
   * @returns the token pair (also passed to `onTokens`). @throws UnauthorizedError for a wrong
   *   name or password; a MemkvClientError with code `too_many_requests` after too many attempts.
   */
  // POST /api/v1/auth/login  {username, password}
  async login(username: string, password: string, options?: CallOptions): Promise<TokenPairJson> {
    return tokenPair(await this.wire.login(username, password, options));
  }

  /**
   * Logs out: the server ends the session of the access token (and of the refresh token), and the
   * client forgets both, even when the server could not be reached.
   */
  // POST /api/v1/auth/logout  {refresh_token?}
  async logout(options?: CallOptions): Promise<void> {
    await this.wire.logout(options);
  }

  /**
   * Watches the changes to the keys under `prefix`: an async iterator of {@link WatchEvent}s (the
   * server's event JSON, with its `id`), one per change, in order. It reconnects by itself (with
   * backoff, and after the server cut a watcher that fell behind) and resumes after the last id
   * received, so no change is missed or repeated. Ends when `signal` aborts or the loop breaks.
   * @throws HistoryCompactedError when the server's history no longer reaches back to the id to
   *   resume from (`from`, or the last one after a long disconnection): list the keys again, then watch anew;
   *   ForbiddenError without the read right on every key under the prefix; a MemkvClientError
   *   `route_not_found` (404) from a server with watch off.
   */
  // GET /api/v1/db/watch?prefix=&from=   (text/event-stream)
  watch(options: WatchOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    return watchEvents(
      {
        baseUrl: this.#baseUrl,
        fetch: this.#fetch,
        fetchOptions: this.#fetchOptions,
        authorization: () => this.#authorization,
        refresh: async () => {
          if (this.#refreshToken === undefined) return false;
          await this.#refresh();
          return true;
        },
        timeoutMs: this.#timeoutMs,
        retryDelayMs: this.#retryDelayMs,
      },
      options,
    );
  }

  /** Trades the refresh token for a new pair; concurrent callers share one exchange. */
  #refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const body: RefreshBody = { refresh_token: this.#refreshToken! };
        // No caller's signal: other calls wait for this exchange too.
        this.#useTokens(await this.#send({ method: 'POST', path: '/auth/refresh', body, idempotent: false, options: undefined }));
      } catch (error) {
        // The session is over (logged out, password changed, refresh token expired): stop trying.
        if (error instanceof UnauthorizedError) this.#refreshToken = undefined;
        throw error;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Checks a token answer, starts using it and reports it. @returns the answer's body, unchanged. */
  #useTokens(answer: Answer): TokenPairJson {
    const pair = answer.body as Partial<TokenPairJson> | null;
    if (typeof pair?.access_token !== 'string' || typeof pair.refresh_token !== 'string' || typeof pair.expires_in !== 'number') {
      throw unexpected(answer, 'a token pair');
    }
    const tokens = tokenPair(pair as TokenPairJson);
    this.setToken(tokens.access_token);
    this.#refreshToken = tokens.refresh_token;
    this.#onTokens?.(tokens);
    return pair as TokenPairJson;
  }

  // ---- The wire calls: each request, its checks, and the answer's body as it came ----

  #wireCalls(): WireCalls {
    const request = (spec: RequestSpec): Promise<Answer> => this.#request(spec);
    return {
      get: async (key, options) => {
        const answer = await request({ method: 'GET', path: keyPath(key), idempotent: true, options });
        return checkRow(answer.body, answer.status);
      },
      set: async (key, value, options) => {
        const body: SetBody = { key: checkKey(key), value, ttl: ttlText(options?.ttl), ...preconditionFields(options) };
        if (options?.ifAbsent === true) body.if_absent = true;
        const idempotent = !isConditional(options);
        return expectMessage(await request({ method: 'POST', path: '/set', body, idempotent, options }));
      },
      update: async (key, value, options) => {
        const body: UpdateBody = { value, ttl: ttlText(options?.ttl), ...preconditionFields(options) };
        return expectMessage(await request({ method: 'PATCH', path: keyPath(key), body, idempotent: !isConditional(options), options }));
      },
      remove: async (key, options) =>
        expectMessage(await request({ method: 'DELETE', path: keyPath(key), idempotent: !isConditional(options), options, ifMatch: ifMatchOf(options) })),
      // One implementation for the overloads: the check follows what was asked.
      push: (async (key: string, value: string | string[], options?: PushOptions) => {
        const body: PushBody = { value, ttl: ttlText(options?.ttl), ...preconditionFields(options) };
        const minimal = options?.minimal === true;
        const answer = await request({
          method: 'PATCH',
          path: keyPath(key, '/push'),
          body,
          idempotent: false,
          options,
          prefer: minimal ? PREFER_MINIMAL : undefined,
          idempotencyKey: this.#idempotencyKeyFor(options),
        });
        return minimal ? checkMinimalRow(answer.body, answer.status) : checkListRow(answer.body, answer.status);
      }) as WireCalls['push'],
      pop: (async (key: string, options?: PopOptions) => {
        const minimal = options?.minimal === true;
        const answer = await request({
          method: 'PATCH',
          path: keyPath(key, '/pop'),
          idempotent: false,
          options,
          ifMatch: ifMatchOf(options),
          prefer: minimal ? PREFER_MINIMAL : undefined,
          idempotencyKey: this.#idempotencyKeyFor(options),
        });
        return minimal ? checkMinimalPopRow(answer.body, answer.status) : checkPopRow(answer.body, answer.status);
      }) as WireCalls['pop'],
      range: async (key, start, stop, options) => {
        const query = `?start=${indexText(start, 'start')}&stop=${indexText(stop, 'stop')}`;
        const answer = await request({ method: 'GET', path: keyPath(key, `/range${query}`), idempotent: true, options });
        return checkRangeRow(answer.body, answer.status);
      },
      getTtl: async (key, options) => {
        const answer = await request({ method: 'GET', path: keyPath(key, '/ttl'), idempotent: true, options });
        return checkTtl(answer.body, answer.status);
      },
      setTtl: async (key, ttl, options) => {
        if (ttl === undefined) throw invalid('ttl must be a duration string, a whole number of milliseconds > 0, or null (never expire)');
        const body: TtlBody = { ttl: ttl === null ? null : ttlText(ttl)!, ...preconditionFields(options) };
        // Idempotent as `update` with a ttl: a repeat sets the same relative TTL again (see setTtl).
        const answer = await request({ method: 'PATCH', path: keyPath(key, '/ttl'), body, idempotent: !isConditional(options), options });
        return checkTtl(answer.body, answer.status);
      },
      txn: async (ops, options) => {
        if (!Array.isArray(ops) || ops.length === 0) throw invalid('a transaction needs at least one op');
        const body: TxnBody = options?.checks === undefined ? { ops } : { checks: options.checks, ops };
        // Not idempotent by itself (a retry after a lost answer would apply the ops again): safe to
        // retry with its idempotency key, whose first answer the server sends again.
        const answer = await request({ method: 'POST', path: '/db/txn', body, idempotent: false, options, idempotencyKey: this.#idempotencyKeyFor(options) });
        return checkTxn(answer);
      },
      listKeys: async (options = {}) => {
        const query = new URLSearchParams();
        if (options.prefix !== undefined && options.prefix !== '') query.set('prefix', options.prefix);
        if (options.cursor !== undefined) query.set('cursor', options.cursor);
        if (options.delimiter !== undefined) query.set('delimiter', options.delimiter);
        if (options.limit !== undefined) {
          if (!Number.isSafeInteger(options.limit) || options.limit < 1 || options.limit > 1000) {
            throw invalid(`limit must be a whole number from 1 to 1000; got ${String(options.limit)}`);
          }
          query.set('limit', String(options.limit));
        }
        const text = query.toString();
        const answer = await request({ method: 'GET', path: `/db/keys${text === '' ? '' : `?${text}`}`, idempotent: true, options });
        const page = answer.body as KeysPageJson;
        if (!Array.isArray(page?.keys) || !(typeof page.cursor === 'string' || page.cursor === null)) {
          throw unexpected(answer, '{"keys": [...], "cursor": ...}');
        }
        return page;
      },
      size: async (options) => {
        const answer = await request({ method: 'GET', path: '/db/size', idempotent: true, options });
        const size = answer.body as SizeJson | null;
        if (typeof size?.keys !== 'number') throw unexpected(answer, '{"keys": N}');
        return size;
      },
      flush: async (options) => {
        const answer = await request({ method: 'POST', path: '/db/flush', idempotent: true, options });
        const flushed = answer.body as FlushJson | null;
        if (typeof flushed?.removed !== 'number') throw unexpected(answer, '{"removed": N}');
        return flushed;
      },
      deletePrefix: async (prefix, options = {}) => {
        if (typeof prefix !== 'string' || prefix === '') throw invalid('prefix must be a non-empty string (flush removes every key)');
        const body: DeletePrefixBody = { prefix, dry_run: options.dryRun === true };
        // Safe to repeat, like the flush: a retry after a lost answer removes (and counts) what is left.
        const answer = await request({ method: 'POST', path: '/db/delete-prefix', body, idempotent: true, options });
        const result = answer.body as Partial<{ deleted: number; matched: number }> | null;
        if (typeof result?.deleted !== 'number' && typeof result?.matched !== 'number') throw unexpected(answer, '{"deleted": N} or {"matched": N}');
        return result as DeletePrefixJson;
      },
      stats: async (options) => {
        const answer = await request({ method: 'GET', path: '/db/stats', idempotent: true, options });
        const stats = answer.body as StatsJson | null;
        if (typeof stats?.keyspace?.keys !== 'number' || typeof stats.memory !== 'object') throw unexpected(answer, 'the stats object');
        return stats;
      },
      login: async (username, password, options) => {
        const body: LoginBody = { username, password };
        // Not #request: a login is never retried, and a 401 is the answer, not a reason to refresh.
        return this.#useTokens(await this.#send({ method: 'POST', path: '/auth/login', body, idempotent: false, options }));
      },
      logout: async (options) => {
        const body: LogoutBody = this.#refreshToken === undefined ? {} : { refresh_token: this.#refreshToken };
        try {
          return expectMessage(await request({ method: 'POST', path: '/auth/logout', body, idempotent: true, options }));
        } finally {
          this.#authorization = undefined;
          this.#refreshToken = undefined;
        }
      },
    };
  }

  /**
   * The idempotency key of a call: its own, else a new one when the client sends them.
   * @throws ValidationError when the call's own is not 1 to 255 visible ASCII characters
   */
  #idempotencyKeyFor(options: IdempotentOptions | undefined): string | undefined {
    const given = options?.idempotencyKey;
    if (given !== undefined) {
      if (typeof given !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(given)) {
        throw new ValidationError('invalid_request', 'idempotencyKey must be 1 to 255 visible ASCII characters (no spaces)');
      }
      return given;
    }
    return this.#idempotencyKeys ? newIdempotencyKey() : undefined;
  }

  // ---- The one request path ----

  /**
   * Every call passes here: one attempt after another until one answers or a failure is not safe
   * to retry. Authentication hooks in here (a refresh on an expired token, then one more attempt)
   * without changing any call's signature.
   */
  async #request(spec: RequestSpec): Promise<Answer> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      // #send reads the token before its first await: this is the token the attempt sends.
      const sentAuthorization = this.#authorization;
      try {
        return await this.#send(spec);
      } catch (error) {
        // An expired (or otherwise refused) access token: refresh once, then repeat the call once.
        if (error instanceof UnauthorizedError && !refreshed && this.#refreshToken !== undefined) {
          refreshed = true;
          // Another call may have refreshed while this one was in flight: then just repeat it.
          if (this.#authorization === sentAuthorization) await this.#refresh();
          attempt--;
          continue;
        }
        // An idempotency key makes any call safe to repeat: the server answers a repeat with the first answer.
        if (attempt >= this.#retries || !isRetryable(error, spec.idempotent || spec.idempotencyKey !== undefined)) throw error;
        // The server's Retry-After is a least wait; one past the longest backoff is not waited for.
        const retryAfterMs = error instanceof MemkvClientError ? (retryAfterMsOf.get(error) ?? 0) : 0;
        if (retryAfterMs > MAX_RETRY_DELAY_MS) throw error;
        const delayMs = Math.min(this.#retryDelayMs * 2 ** attempt, MAX_RETRY_DELAY_MS);
        await sleep(Math.max(delayMs * (0.5 + Math.random() / 2), retryAfterMs), spec.options?.signal);
      }
    }
  }

  /** One attempt: sends the request, reads the whole answer under the timeout, parses it. */
  async #send({ method, path, body, options, prefer, ifMatch, idempotencyKey }: RequestSpec): Promise<Answer> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    const timeoutMs = options?.timeoutMs ?? this.#timeoutMs;
    checkTimeout(timeoutMs, 'timeoutMs');

    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#authorization !== undefined) headers.authorization = this.#authorization;
    if (prefer !== undefined) headers.prefer = prefer;
    if (ifMatch !== undefined) headers['if-match'] = ifMatch;
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;

    const controller = new AbortController();
    const timer = setTimeout(abortTimedOut, timeoutMs, controller);
    let forwardAbort: (() => void) | undefined;
    if (signal !== undefined) {
      forwardAbort = () => controller.abort(signal.reason);
      signal.addEventListener('abort', forwardAbort, { once: true });
    }
    let response: Response;
    let text: string;
    try {
      const fetch = this.#fetch;
      response = await fetch(this.#baseUrl + path, {
        ...this.#fetchOptions,
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      text = await response.text();
    } catch (error) {
      if (controller.signal.reason === TIMED_OUT) {
        throw new TimeoutError('timeout', `no answer from ${this.#baseUrl} within ${timeoutMs} ms (${method} ${path})`, { cause: error });
      }
      if (signal?.aborted === true) throw signal.reason;
      throw new ConnectionError('connection_failed', `cannot reach memkv at ${this.#baseUrl}: ${describeNetworkError(error)}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      if (forwardAbort !== undefined) signal?.removeEventListener('abort', forwardAbort);
    }

    const status = response.status;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status >= 400) {
      const error = errorFromAnswer(status, json, text);
      const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'));
      if (retryAfterMs !== undefined) retryAfterMsOf.set(error, retryAfterMs);
      throw error;
    }
    if (json === undefined || status < 200 || status > 299) {
      const type = response.headers.get('content-type') ?? 'no content type';
      throw new UnexpectedResponseError('unexpected_response', `expected a JSON answer from memkv, got HTTP ${status} (${type}): ${snippet(text)}`, {
        status,
      });
    }
    return { status, body: json };
  }
}

// ---- Helpers ----

function abortTimedOut(controller: AbortController): void {
  controller.abort(TIMED_OUT);
}

/** Whether a failed attempt may be repeated without risk of applying a write twice. */
function isRetryable(error: unknown, idempotent: boolean): boolean {
  // A refused certificate is refused again: no retry.
  if (error instanceof ConnectionError) return !certificateRefused(error.cause) && (idempotent || neverSent(error.cause));
  if (error instanceof MemkvClientError && idempotent) {
    return error.status === 502 || error.status === 503 || error.status === 504 || error.code === 'idempotency_in_flight';
  }
  return false;
}

/**
 * A new idempotency key: a random UUID (`crypto.randomUUID`, or the same format from
 * `crypto.getRandomValues` where only that exists, as in a browser page served over plain HTTP).
 */
export function newIdempotencyKey(): string {
  const webCrypto = (globalThis as { crypto?: Crypto }).crypto;
  if (typeof webCrypto?.randomUUID === 'function') return webCrypto.randomUUID();
  if (typeof webCrypto?.getRandomValues !== 'function') throw new TypeError('no crypto.getRandomValues on this platform: give each call its idempotencyKey');
  const bytes = webCrypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A `Retry-After` header (RFC 9110 §10.2.3) as a wait in ms: delay-seconds, or an HTTP date
 * (0 when it has passed); `undefined` when absent or not understood.
 */
function parseRetryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const atMs = Date.parse(text);
  return Number.isNaN(atMs) ? undefined : Math.max(0, atMs - Date.now());
}

/** Network error codes that prove the request never reached a server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN']);

/**
 * True when the failure happened before a connection existed, so the server cannot have seen the
 * request. Node's fetch reports the socket error as `cause` (an AggregateError when several
 * addresses were tried); other platforms say nothing, which counts as "may have been sent".
 */
function neverSent(fetchError: unknown): boolean {
  const cause = (fetchError as { cause?: unknown } | undefined)?.cause as { code?: unknown; errors?: unknown } | undefined;
  if (cause === undefined || cause === null) return false;
  if (typeof cause.code === 'string' && NOT_SENT_CODES.has(cause.code)) return true;
  return (
    Array.isArray(cause.errors) &&
    cause.errors.length > 0 &&
    cause.errors.every((inner: { code?: unknown }) => typeof inner?.code === 'string' && NOT_SENT_CODES.has(inner.code))
  );
}

/**
 * Whether the server's TLS certificate was refused (expired, for another host, self-signed, from
 * an unknown CA): Node's fetch reports OpenSSL's verification code, or Node's for the host check.
 */
function certificateRefused(fetchError: unknown): boolean {
  const code = (fetchError as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' && CERTIFICATE_CODES.has(code);
}

const CERTIFICATE_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (certificateRefused(error)) return `the server's TLS certificate is refused: ${String(cause?.message)} (${String(cause?.code)})`;
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function parseBaseUrl(url: unknown): string {
  let parsed: URL;
  try {
    parsed = new URL(url as string | URL);
  } catch {
    throw new TypeError(`url must be an absolute http or https URL such as http://127.0.0.1:8080; got ${JSON.stringify(String(url))}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`url must use http or https; got ${JSON.stringify(parsed.protocol)}`);
  }
  if (parsed.search !== '' || parsed.hash !== '') throw new TypeError('url must not have a query string or fragment');
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

function checkTimeout(timeoutMs: unknown, name: string): asserts timeoutMs is number {
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > 2_147_483_647) {
    throw new TypeError(`${name} must be a number of milliseconds from 1 to 2147483647; got ${String(timeoutMs)}`);
  }
}

function invalid(message: string): ValidationError {
  return new ValidationError('invalid_request', message);
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw invalid('key must be a non-empty string');
  return key;
}

/**
 * The path of a key: one percent-encoded segment, plus `suffix`. The keys "." and ".." cannot be
 * a URL path segment (URL parsers resolve them, encoded or not), so they are refused here.
 */
function keyPath(key: string, suffix = ''): string {
  checkKey(key);
  if (key === '.' || key === '..') throw invalid(`the key ${JSON.stringify(key)} cannot be addressed in a URL path`);
  try {
    return `/${encodeURIComponent(key)}${suffix}`;
  } catch {
    throw invalid('key must be valid Unicode (it contains a lone surrogate)');
  }
}

/** The API text of a TTL: strings go as they are (the server checks them), milliseconds become `"<n>ms"`. */
function ttlText(ttl: Ttl | undefined): string | undefined {
  if (ttl === undefined || typeof ttl === 'string') return ttl;
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1) {
    throw invalid(`ttl must be a duration string such as "1h" or a whole number of milliseconds > 0; got ${String(ttl)}`);
  }
  return `${ttl}ms`;
}

/** The query text of a list index: a whole number, negative from the end. */
function indexText(index: number, name: string): string {
  if (typeof index !== 'number' || !Number.isSafeInteger(index)) {
    throw invalid(`${name} must be a whole number (negative counts from the end); got ${String(index)}`);
  }
  return String(index);
}

/** Checks the `{message}` answer of the calls that return no row. @returns the body, unchanged. */
/** The body fields of a write's precondition (`if_version`), none when it has none. */
function preconditionFields(options: ConditionalOptions | undefined): { if_version?: number | null } {
  return options?.ifVersion === undefined ? {} : { if_version: options.ifVersion };
}

/** `If-Match` for a write without a body (pop, remove): a version in quotes. */
function ifMatchOf(options: ConditionalOptions | undefined): string | undefined {
  const version = options?.ifVersion;
  if (version === undefined) return undefined;
  if (!Number.isSafeInteger(version) || version! < 0) throw invalid('ifVersion of pop and remove must be a version (a whole number >= 0)');
  return `"${version}"`;
}

function isConditional(options: WriteOptions | ConditionalOptions | undefined): boolean {
  return options?.ifVersion !== undefined || (options as WriteOptions | undefined)?.ifAbsent === true;
}

/** The version a write's `{message, version}` answer carries. */
function versionOf(message: MessageJson): number {
  if (!isVersion(message.version)) throw new UnexpectedResponseError('unexpected_response', 'the server\'s answer has no "version"');
  return message.version;
}

function checkTxn(answer: Answer): TxnJson {
  const body = answer.body as TxnJson | null;
  if (body?.ok !== true || !isVersion(body.version) || !Array.isArray(body.results)) throw unexpected(answer, '{"ok": true, "version", "results"}');
  return body;
}

function expectMessage(answer: Answer): MessageJson {
  const body = answer.body as MessageJson | null;
  if (typeof body?.message !== 'string') throw unexpected(answer, '{"message": ...}');
  return body;
}

/** The token pair of a checked login or refresh answer, without any other field the server may add. */
function tokenPair(body: TokenPairJson): TokenPairJson {
  return { access_token: body.access_token, refresh_token: body.refresh_token, token_type: 'Bearer', expires_in: body.expires_in };
}

/** The error for a successful answer whose body is not the shape the call expects. */
function unexpected({ status, body }: Answer, expected: string): UnexpectedResponseError {
  return new UnexpectedResponseError('unexpected_response', `expected ${expected} from memkv, got ${snippet(JSON.stringify(body))}`, { status });
}
