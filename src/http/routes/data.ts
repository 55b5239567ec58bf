/** The data routes: get, set, update, remove, push and pop, under `/api/{version}`. */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PREFER_MINIMAL, type ListRowJson, type MessageJson } from '@memkv/client/protocol';
import { MemkvError, itemNotFound } from '../../errors.js';
import type { Store } from '../../engine/store.js';
import { parseDurationMs } from '../../units.js';
import { prefersMinimal } from '../prefer.js';
import { toMinimalPopRow, toMinimalRow, toPopRow, toRow } from '../row.js';
import {
  KeyParams,
  Message,
  PopAnswer,
  PreferHeaders,
  PushAnswer,
  PushBody,
  Row,
  SetBody,
  UpdateBody,
  errorResponses,
} from '../schemas.js';

export interface DataRoutesOptions {
  store: Store;
  /** See AppOptions.durable: awaited by the write handlers when present. */
  durable?: (() => Promise<void> | undefined) | undefined;
}

const OK: MessageJson = { message: 'ok' };

/** Paths of the data routes, relative to the base path (the fast path leaves other routes alone). */
export const DATA_ROUTE_PATHS = ['/set', '/:key', '/:key/push', '/:key/pop'] as const;

/** Parses an optional API duration into a TTL in ms; a zero duration is refused. */
export function parseTtl(ttl: string | undefined): number | undefined {
  if (ttl === undefined) return undefined;
  const ms = parseDurationMs(ttl);
  if (ms === undefined || ms <= 0) {
    throw new MemkvError('invalid_request', `ttl must be a positive duration such as "90s" or "1h30m", not ${JSON.stringify(ttl)}`);
  }
  return ms;
}

export const dataRoutes: FastifyPluginAsync<DataRoutesOptions> = async (fastify, { store, durable }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  /** The answer to a write: at once, or once the log has it (on disk under PERSISTENCE_FSYNC=always). */
  const answer = <T>(result: T): T | Promise<T> => {
    const logged = durable?.();
    return logged === undefined ? result : logged.then(() => result);
  };

  /**
   * `answer` for a request that asked for `Prefer: return=minimal`: `Preference-Applied` is set
   * once the write succeeded, so that an error answer never carries it.
   */
  const answerMinimal = <T>(reply: FastifyReply, result: T): T | Promise<T> => {
    const logged = durable?.();
    if (logged === undefined) {
      reply.header('preference-applied', PREFER_MINIMAL);
      return result;
    }
    return logged.then(() => {
      reply.header('preference-applied', PREFER_MINIMAL);
      return result;
    });
  };

  // POST /api/v1/set  {key, value, ttl?}
  app.post(
    '/set',
    {
      config: { access: 'write', keyFrom: 'body' },
      schema: {
        summary: 'Create or replace a key',
        description: 'Stores a string or a list of strings. Without `ttl`, the server\'s DEFAULT_TTL applies (0 = never expire).',
        tags: ['data'],
        body: SetBody,
        response: { 200: Message, ...errorResponses(400, 413, 415, 500, 507) },
      },
    },
    (request) => {
      const { key, value, ttl } = request.body;
      store.set(key, value, { ttlMs: parseTtl(ttl) });
      return answer(OK);
    },
  );

  // GET /api/v1/:key
  app.get(
    '/:key',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Get a key',
        tags: ['data'],
        params: KeyParams,
        response: { 200: Row, ...errorResponses(400, 404) },
      },
    },
    (request) => {
      const { key } = request.params;
      const entry = store.get(key);
      if (entry === undefined) throw itemNotFound(key);
      return toRow(entry);
    },
  );

  // DELETE /api/v1/:key
  app.delete(
    '/:key',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Remove a key',
        tags: ['data'],
        params: KeyParams,
        response: { 200: Message, ...errorResponses(400, 404, 500) },
      },
    },
    (request) => {
      const { key } = request.params;
      if (!store.remove(key)) throw itemNotFound(key);
      return answer(OK);
    },
  );

  // PATCH /api/v1/:key  {value, ttl?}
  app.patch(
    '/:key',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Update an existing key',
        description: 'Replaces the value (of either kind). The TTL is kept unless `ttl` is given.',
        tags: ['data'],
        params: KeyParams,
        body: UpdateBody,
        response: { 200: Message, ...errorResponses(400, 404, 413, 415, 500, 507) },
      },
    },
    (request) => {
      const { value, ttl } = request.body;
      store.update(request.params.key, value, { ttlMs: parseTtl(ttl) });
      return answer(OK);
    },
  );

  // PATCH /api/v1/:key/push  {value, ttl?}  [Prefer: return=minimal]
  app.patch(
    '/:key/push',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Append to a list',
        description:
          'Appends one string, or several in order, to the end of the list; creates the list when the key is missing. ' +
          'The TTL of an existing list is kept unless `ttl` is given. Answers the whole list, which costs ' +
          'O(list length) per call; with `Prefer: return=minimal`, answers its `length` instead, in O(1).',
        tags: ['data'],
        params: KeyParams,
        headers: PreferHeaders,
        body: PushBody,
        response: { 200: PushAnswer, ...errorResponses(400, 409, 413, 415, 500, 507) },
      },
    },
    (request, reply) => {
      const { value, ttl } = request.body;
      const { key } = request.params;
      const options = { ttlMs: parseTtl(ttl) };
      if (prefersMinimal(request.headers.prefer)) return answerMinimal(reply, toMinimalRow(store.pushSummary(key, value, options)));
      return answer(toRow(store.push(key, value, options)) as ListRowJson); // a push always answers a list
    },
  );

  // PATCH /api/v1/:key/pop  [Prefer: return=minimal]
  app.patch(
    '/:key/pop',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Remove the last element of a list',
        description:
          'Answers the list after the pop and the removed element. A list popped empty stays as `[]`. ' +
          'The whole list costs O(list length) per call; with `Prefer: return=minimal`, the answer has its `length` ' +
          'instead, in O(1).',
        tags: ['data'],
        params: KeyParams,
        headers: PreferHeaders,
        response: { 200: PopAnswer, ...errorResponses(400, 404, 409, 500) },
      },
    },
    (request, reply) => {
      const { key } = request.params;
      if (prefersMinimal(request.headers.prefer)) return answerMinimal(reply, toMinimalPopRow(store.popSummary(key)));
      return answer(toPopRow(store.pop(key)));
    },
  );
};
