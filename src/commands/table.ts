/**
 * The command table: one entry per data command. The Fastify routes, the OpenAPI document, the
 * fast path and the raw front are all generated from or looked up in {@link COMMANDS}; adding a
 * command is one entry here (plus its storage method), see the README's Design section.
 */
import type {
  MessageJson,
  MinimalPopRowJson,
  MinimalRowJson,
  PopRowJson,
  PushBody as PushBodyJson,
  RangeRowJson,
  RowJson,
  SetBody as SetBodyJson,
  TtlBody as TtlBodyJson,
  TtlJson,
  UpdateBody as UpdateBodyJson,
} from '@memkv/client/protocol';
import { MemkvError, itemNotFound } from '../errors.js';
import type { Entry, KeyExpiry, Preconditions, WriteOptions } from '../storage/storage.js';
import { defineCommand, type Command } from './command.js';
import { toMinimalPopRow, toMinimalRow, toPopRow, toRangeRow, toRow, toTtl } from './row.js';
import {
  Message,
  PopAnswer,
  PushAnswer,
  PushBody,
  RangeQuery,
  RangeRow,
  Row,
  SetBody,
  TtlAnswer,
  TtlBody,
  UpdateBody,
} from './schemas.js';
import { isDuration, parseTtl } from './ttl.js';
import { txn } from './txn.js';


/**
 * Runs `then(value, key)` on `value`, or on the promise's result: no promise when the storage
 * answers at once, and no closure per call (`then` is a module-level function, `key` its argument).
 */
function map<T, R>(value: T | Promise<T>, then: (value: T, key: string) => R, key = ''): R | Promise<R> {
  return value instanceof Promise ? value.then((resolved) => then(resolved, key)) : then(value, key);
}

/** The answer of a write that answers no row: `ok` and the key's new version. */
const ok = (version: number): MessageJson => ({ message: 'ok', version });

function foundRow(entry: Entry | undefined, key: string): RowJson {
  if (entry === undefined) throw itemNotFound(key);
  return toRow(entry);
}

function removed(version: number, key: string): MessageJson {
  if (version === 0) throw itemNotFound(key);
  return { message: 'ok', version };
}

/** A write's options: its TTL (a duration, or absent) and preconditions. */
function writeOptions(ttl: string | undefined, preconditions: Preconditions | undefined): WriteOptions {
  const ttlMs = parseTtl(ttl);
  return preconditions === undefined ? { ttlMs } : { ttlMs, ...preconditions };
}

function foundTtl(expiry: KeyExpiry | undefined, key: string): TtlJson {
  if (expiry === undefined) throw itemNotFound(key);
  return toTtl(expiry);
}

// GET /api/v1/:key
export const get = defineCommand<undefined, undefined, RowJson>({
  name: 'get',
  method: 'GET',
  path: '/:key',
  access: 'read',
  keyFrom: 'params',
  writes: false,
  summary: 'Get a key',
  answer: Row,
  errors: [400, 404],
  run: (storage, { key }) => map(storage.get(key), foundRow, key),
});

// POST /api/v1/set  {key, value, ttl?}
export const set = defineCommand<SetBodyJson, undefined, MessageJson>({
  name: 'set',
  method: 'POST',
  path: '/set',
  access: 'write',
  keyFrom: 'body',
  writes: true,
  creates: true,
  summary: 'Create or replace a key',
  description: "Stores a string or a list of strings. Without `ttl`, the server's DEFAULT_TTL applies (0 = never expire).",
  body: SetBody,
  fastBody: (body) => hasOnly(body, SET_FIELDS) && isKey(body.key) && isValue(body.value, false) && isOptionalTtl(body.ttl),
  answer: Message,
  errors: [400, 412, 413, 415, 500, 507],
  run: (storage, { body, preconditions }) => map(storage.set(body.key, body.value, writeOptions(body.ttl, preconditions)), ok),
});

// PATCH /api/v1/:key  {value, ttl?}
export const update = defineCommand<UpdateBodyJson, undefined, MessageJson>({
  name: 'update',
  method: 'PATCH',
  path: '/:key',
  access: 'write',
  keyFrom: 'params',
  writes: true,
  summary: 'Update an existing key',
  description: 'Replaces the value (of either kind). The TTL is kept unless `ttl` is given.',
  body: UpdateBody,
  fastBody: (body) => hasOnly(body, VALUE_FIELDS) && isValue(body.value, false) && isOptionalTtl(body.ttl),
  answer: Message,
  errors: [400, 404, 412, 413, 415, 500, 507],
  run: (storage, { key, body, preconditions }) => map(storage.update(key, body.value, writeOptions(body.ttl, preconditions)), ok),
});

// DELETE /api/v1/:key
export const remove = defineCommand<undefined, undefined, MessageJson>({
  name: 'remove',
  method: 'DELETE',
  path: '/:key',
  access: 'write',
  keyFrom: 'params',
  writes: true,
  summary: 'Remove a key',
  answer: Message,
  errors: [400, 404, 412, 500],
  run: (storage, { key, preconditions }) => map(storage.remove(key, preconditions), removed, key),
});

// PATCH /api/v1/:key/push  {value, ttl?}  [Prefer: return=minimal]
export const push = defineCommand<PushBodyJson, undefined, RowJson | MinimalRowJson>({
  name: 'push',
  method: 'PATCH',
  path: '/:key/push',
  access: 'write',
  keyFrom: 'params',
  writes: true,
  minimal: true,
  summary: 'Append to a list',
  description:
    'Appends one string, or several in order, to the end of the list; creates the list when the key is missing. ' +
    'The TTL of an existing list is kept unless `ttl` is given. Answers the whole list, which costs ' +
    'O(list length) per call; with `Prefer: return=minimal`, answers its `length` instead, in O(1).',
  body: PushBody,
  fastBody: (body) => hasOnly(body, VALUE_FIELDS) && isValue(body.value, true) && isOptionalTtl(body.ttl),
  answer: PushAnswer,
  errors: [400, 409, 412, 413, 415, 500, 507],
  run: (storage, { key, body, minimal, preconditions }) => {
    const options = writeOptions(body.ttl, preconditions);
    return minimal ? map(storage.pushSummary(key, body.value, options), toMinimalRow) : map(storage.push(key, body.value, options), toRow);
  },
});

// PATCH /api/v1/:key/pop  [Prefer: return=minimal]
export const pop = defineCommand<undefined, undefined, PopRowJson | MinimalPopRowJson>({
  name: 'pop',
  method: 'PATCH',
  path: '/:key/pop',
  access: 'write',
  keyFrom: 'params',
  writes: true,
  minimal: true,
  summary: 'Remove the last element of a list',
  description:
    'Answers the list after the pop and the removed element. A list popped empty stays as `[]`. ' +
    'The whole list costs O(list length) per call; with `Prefer: return=minimal`, the answer has its `length` ' +
    'instead, in O(1).',
  answer: PopAnswer,
  errors: [400, 404, 409, 412, 500],
  run: (storage, { key, minimal, preconditions }) =>
    minimal ? map(storage.popSummary(key, preconditions), toMinimalPopRow) : map(storage.pop(key, preconditions), toPopRow),
});

// GET /api/v1/:key/range?start=0&stop=-1
export const range = defineCommand<undefined, { start?: string; stop?: string }, RangeRowJson>({
  name: 'range',
  method: 'GET',
  path: '/:key/range',
  access: 'read',
  keyFrom: 'params',
  writes: false,
  summary: 'Read a slice of a list',
  description:
    'The elements from `start` to `stop`, both inclusive, as Redis LRANGE: negative indexes count from the end ' +
    '(-1 is the last element), indexes past either end are clamped, and `start` after `stop` gives none. ' +
    '`length` is the whole list\'s. Costs O(elements answered): page through a long list instead of reading it whole.',
  query: RangeQuery,
  answer: RangeRow,
  errors: [400, 404, 409],
  run: (storage, { key, query }) => map(storage.range(key, index(query.start, 'start', 0), index(query.stop, 'stop', -1)), toRangeRow),
});

// GET /api/v1/:key/ttl
export const getTtl = defineCommand<undefined, undefined, TtlJson>({
  name: 'getTtl',
  method: 'GET',
  path: '/:key/ttl',
  access: 'read',
  keyFrom: 'params',
  writes: false,
  summary: "Read a key's expiry",
  description: 'The absolute expiry time of the key, or null when it never expires.',
  answer: TtlAnswer,
  errors: [400, 404],
  run: (storage, { key }) => map(storage.expiry(key), foundTtl, key),
});

// PATCH /api/v1/:key/ttl  {ttl: "1h" | null}
export const setTtl = defineCommand<TtlBodyJson, undefined, TtlJson>({
  name: 'setTtl',
  method: 'PATCH',
  path: '/:key/ttl',
  access: 'write',
  keyFrom: 'params',
  writes: true,
  summary: "Change a key's expiry",
  description: 'Sets the TTL of an existing key to a duration from now, or removes it (`null`: never expire), without resending the value.',
  body: TtlBody,
  fastBody: (body) => hasOnly(body, TTL_FIELDS) && (body.ttl === null || isDuration(body.ttl)),
  answer: TtlAnswer,
  errors: [400, 404, 412, 413, 415, 500],
  run: (storage, { key, body, preconditions }) =>
    map(storage.setTtl(key, body.ttl === null ? null : parseTtl(body.ttl)!, preconditions), foundTtl, key),
});

/** Every data command; each door serves them all. */
export const COMMANDS: readonly Command<any, any, unknown>[] = [get, set, update, remove, push, pop, range, getTtl, setTtl, txn];

// ---- Fast checks: a subset of what the schemas accept ----

const SET_FIELDS = ['key', 'value', 'ttl'];
const VALUE_FIELDS = ['value', 'ttl'];
const TTL_FIELDS = ['ttl'];

/** Whether `body` has no fields but `names` (each may be absent). */
function hasOnly(body: Record<string, unknown>, names: readonly string[]): boolean {
  for (const name in body) if (!names.includes(name)) return false;
  return true;
}

function isKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0;
}

/** A string, or an array of strings (non-empty when `nonEmpty`). */
function isValue(value: unknown, nonEmpty: boolean): value is string | string[] {
  if (typeof value === 'string') return true;
  if (!Array.isArray(value) || (nonEmpty && value.length === 0)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}

function isOptionalTtl(ttl: unknown): boolean {
  return ttl === undefined || isDuration(ttl);
}

/** A list index from the query string (validated by the schema's pattern), or `fallback` when absent. */
function index(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new MemkvError('invalid_request', `${name} must be a whole number, not ${JSON.stringify(text)}`);
  return value;
}
