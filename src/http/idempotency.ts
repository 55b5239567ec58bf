/**
 * The `Idempotency-Key` header over HTTP: a Fastify plugin that gives every route declaring
 * `config: { idempotent: true }` (the writing commands of the table, the transaction) its hooks.
 *
 * - `preHandler` (after the auth hooks, so 401 and 403 are never kept, and after validation, so
 *   a 400 is not either): checks the key, claims it in the caller's scope (the user name with
 *   auth on, '' otherwise) with the request's fingerprint, and answers a retry of an answered
 *   request with the kept answer and `Idempotent-Replayed: true` (once the log has it), a reuse
 *   for another request `422 idempotency_key_reused`, a retry while the first runs
 *   `409 idempotency_in_flight` with `Retry-After: 1`.
 * - `onSend`: keeps the answer of the claimed request (status, body, ETag, Preference-Applied),
 *   or releases the claim when the answer is not kept (see `isKeptStatus`), then waits for the
 *   log. A route whose handler answers a claimed request without waiting for the log itself
 *   ({@link answersBeforeLog}) has its write and the kept answer in the same write to the log,
 *   covered by one fsync: a crash can never keep one without the other.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { Type, type TSchema } from 'typebox';
import { MemkvError } from '../errors.js';
import {
  KEPT_HEADERS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  checkIdempotencyKey,
  fingerprintOf,
  isKeptStatus,
  type IdempotencyStore,
} from '../idempotency/idempotency-store.js';
import { toErrorAnswer, type Limits } from './error-handler.js';
import { errorResponses } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route honours `Idempotency-Key` (see idempotency.ts); default false. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    /** The idempotency key this request claimed, until its answer is kept or the claim released. */
    idempotency: IdempotencyClaim | undefined;
  }
}

/** A claimed key. */
export interface IdempotencyClaim {
  readonly scope: string;
  readonly key: string;
}

export interface IdempotencyPluginOptions {
  store: IdempotencyStore;
  /** A promise that settles once the log has every write so far (persistence's `durable`); undefined when none waits. */
  waitForLog: () => Promise<void> | undefined;
  /** For the error answer of a write the log refused. */
  limits: Limits;
}

/** The answer header that marks a kept answer sent again. */
export const REPLAYED_HEADER = 'idempotent-replayed';

const JSON_TYPE = 'application/json; charset=utf-8';

const IdempotencyKeyHeader = Type.String({
  minLength: 1,
  maxLength: MAX_IDEMPOTENCY_KEY_LENGTH,
  pattern: '^[\\x21-\\x7E]+$',
  description:
    'Makes a retry safe: the first answer to this key (status, body, ETag) is kept for IDEMPOTENCY_TTL (default 24h) ' +
    'and a retry of the same request (method, path, body) gets it back with `Idempotent-Replayed: true` instead of ' +
    'applying again. The same key for another request is `422 idempotency_key_reused`; a retry while the first is ' +
    'still running is `409 idempotency_in_flight` with `Retry-After`. Keys are per user with auth on. Validation ' +
    'failures (400, 401, 403, 413, 415) and server errors (5xx) are not kept. 1 to 255 visible ASCII characters, ' +
    'such as a UUID.',
  examples: ['6f1c2a7e-2b8f-4a44-9a57-3c1f1e0b9d21'],
});

const ReplayedHeader = Type.String({ enum: ['true'], description: 'Present on a kept answer sent again for a retry with the same `Idempotency-Key`.' });

/**
 * Whether the handler should answer `request` without waiting for the log: true for a request
 * that claimed an idempotency key, whose `onSend` hook waits for the log once the kept answer is
 * journaled beside the write. A handler that waits anyway stays correct, with a second log write.
 */
export function answersBeforeLog(request: FastifyRequest): boolean {
  return request.idempotency !== undefined;
}

const idempotencyPlugin: FastifyPluginAsync<IdempotencyPluginOptions> = async (app, { store, waitForLog, limits }) => {
  if (!app.hasRequestDecorator('idempotency')) app.decorateRequest('idempotency', undefined);

  async function claim(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const header = request.headers['idempotency-key'];
    if (header === undefined) return undefined;
    const key = checkIdempotencyKey(Array.isArray(header) ? header.join(', ') : header);
    const scope = request.identity?.username ?? '';
    const begun = await store.begin(scope, key, fingerprintOf(request.method, request.url, request.body));
    switch (begun.outcome) {
      case 'new':
        request.idempotency = { scope, key };
        return undefined;
      case 'mismatch':
        throw new MemkvError(
          'idempotency_key_reused',
          `the Idempotency-Key ${JSON.stringify(key)} was used for a different request (another method, path or body): use a new key for a new request`,
        );
      case 'in_flight':
        reply.header('retry-after', '1');
        throw new MemkvError('idempotency_in_flight');
      case 'replay': {
        // Never ahead of the log: the first answer is only sent once the log has it, too.
        await waitForLog();
        const { status, body, headers } = begun.answer;
        reply.code(status);
        for (const name in headers) reply.header(name, headers[name]!);
        reply.header(REPLAYED_HEADER, 'true');
        return reply.type(JSON_TYPE).send(body);
      }
    }
  }

  async function keep(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const claimed = request.idempotency;
    if (claimed === undefined) return payload;
    request.idempotency = undefined;
    const status = reply.statusCode;
    if (!isKeptStatus(status) || typeof payload !== 'string') {
      await store.abandon(claimed.scope, claimed.key);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = reply.getHeader(name);
      if (value !== undefined) headers[name] = String(value);
    }
    // Called in the turn of the write (with the embedded engine): the same write to the log.
    await store.finish(claimed.scope, claimed.key, { status, body: payload, headers });
    try {
      await waitForLog();
    } catch (error) {
      // The disk refused the write and the kept answer with it: neither happened.
      await store.abandon(claimed.scope, claimed.key);
      const answer = toErrorAnswer(error, limits);
      for (const name of KEPT_HEADERS) reply.removeHeader(name);
      reply.code(answer.status);
      return JSON.stringify(answer.body);
    }
    return payload;
  }

  app.addHook('onRoute', (route) => {
    if (route.config?.idempotent !== true) return;
    route.preHandler = [...toArray(route.preHandler), claim];
    route.onSend = [...toArray(route.onSend), keep];
    documentIdempotency(route);
  });
};

function toArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Adds the request header (validated by its schema), the replay's answer header and the 409 and 422 answers to the route's schema. */
function documentIdempotency(route: RouteOptions): void {
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  const headers = schema.headers as { properties?: Record<string, TSchema> } | undefined;
  const response = (schema.response ?? {}) as Record<string, unknown>;
  const ok = response[200] as Record<string, unknown> | undefined;
  route.schema = {
    ...schema,
    headers: Type.Object({ ...headers?.properties, 'idempotency-key': Type.Optional(IdempotencyKeyHeader) }),
    response: {
      ...errorResponses(409, 422),
      ...response,
      ...(ok === undefined ? {} : { 200: { ...ok, headers: { ...(ok.headers as object | undefined), 'Idempotent-Replayed': ReplayedHeader } } }),
    },
  };
}

/** The idempotency hooks, applied to the scope that registers this plugin (not encapsulated): register it before the routes. */
export default fp(idempotencyPlugin, { fastify: '5.x', name: 'memkv-idempotency' });
