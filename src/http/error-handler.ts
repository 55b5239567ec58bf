/**
 * The one place where failures become HTTP answers: every error leaves as `{code, message}`
 * with the status from the error table. Anything that is not an expected error is a 500 and is
 * logged with its stack.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorJson } from '@memkv/client/protocol';
import { AuthError, BEARER_CHALLENGE } from '../auth/auth-error.js';
import { errorAnswer } from '../commands/execute.js';
import { ERRORS, MemkvError, type ErrorCode } from '../errors.js';

/** Fastify's own error codes, translated to memkv's. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_BAD_URL: 'invalid_request',
  FST_ERR_MAX_PARAM_LENGTH: 'invalid_request',
  FST_ERR_VALIDATION: 'invalid_request',
};

const FASTIFY_MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the request body is empty; send a JSON object',
  FST_ERR_CTP_INVALID_JSON_BODY: 'the request body is not valid JSON',
  FST_ERR_BAD_URL: 'the URL is not valid: check the percent-encoding of the key',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the Content-Length header does not match the body',
};

export interface Limits {
  maxBodyBytes: number;
  maxKeyBytes: number;
}

/** Fastify's `frameworkErrors` option: errors raised before routing (bad URL, overlong key). */
export function frameworkErrorHandler(limits: Limits) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
    const { status, body } = toErrorAnswer(error, limits);
    void reply.code(status).type('application/json').send(body);
  };
}

/** Installs the error and not-found handlers on `app`. */
export function installErrorHandling(app: FastifyInstance, limits: Limits): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toErrorAnswer(error, limits);
    // An unavailable backend is an outage to watch, not a bug: no stack per request.
    if (body.code === 'backend_unavailable') request.log.warn({ code: body.code }, body.message);
    else if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ code: body.code }, body.message);
    const challenge = challengeFor(error, status);
    if (challenge !== undefined) reply.header('www-authenticate', challenge);
    // The backend is reconnecting or failing over: a second is a fair first wait.
    if (body.code === 'backend_unavailable') reply.header('retry-after', '1');
    return reply.code(status).type('application/json').send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({
      code: 'route_not_found',
      message: `no route for ${request.method} ${request.url.split('?', 1)[0]}`,
    } satisfies ErrorJson);
  });
}

/**
 * The `WWW-Authenticate` header an error answer needs: every 401 carries the Bearer challenge
 * (RFC 9110 section 11.6.1), with RFC 6750's error code for a bad token. `undefined` otherwise.
 * Transports that answer outside Fastify's error handler set it too.
 */
export function challengeFor(error: unknown, status: number): string | undefined {
  if (status !== 401) return undefined;
  return error instanceof AuthError ? error.challenge : BEARER_CHALLENGE;
}

/**
 * Maps any thrown value to a status and an error body: a command's failure as every door maps
 * it (commands/execute.ts `errorAnswer`), and Fastify's and Node's own errors in memkv's terms.
 */
export function toErrorAnswer(error: unknown, limits: Limits): { status: number; body: ErrorJson } {
  if (error instanceof MemkvError) return errorAnswer(error);
  const fastifyError = error as Partial<FastifyError>;
  const code = fastifyError.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code];
  if (code !== undefined) {
    let message = FASTIFY_MESSAGES[fastifyError.code!] ?? fastifyError.message ?? ERRORS[code].message;
    if (code === 'payload_too_large') message = `the request body is larger than the limit of ${limits.maxBodyBytes} bytes`;
    if (code === 'unsupported_media_type') message = ERRORS.unsupported_media_type.message;
    if (fastifyError.code === 'FST_ERR_MAX_PARAM_LENGTH') message = `key is longer than ${limits.maxKeyBytes} bytes`;
    return { status: ERRORS[code].status, body: { code, message } };
  }
  // A client error from Node or Fastify that has no code of ours: keep its status, not its wording.
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { code: 'invalid_request', message: fastifyError.message ?? ERRORS.invalid_request.message } };
  }
  return errorAnswer(error);
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * Turns Ajv's errors into one sentence a user understands (Fastify `schemaErrorFormatter`).
 * `dataVar` is where the error is: `body`, `params` or `querystring`.
 */
export function formatSchemaErrors(errors: readonly SchemaError[], dataVar: string): Error {
  return new Error(describeSchemaError(errors, dataVar));
}

function describeSchemaError(errors: readonly SchemaError[], dataVar: string): string {
  const first = errors[0];
  if (first === undefined) return `the request ${dataVar} is not valid`;
  const field = first.instancePath.split('/')[1];
  if (first.instancePath === '') {
    if (first.keyword === 'required') return `${String(first.params.missingProperty)} is required`;
    if (first.keyword === 'additionalProperties') {
      return `unknown field ${JSON.stringify(first.params.additionalProperty)} in the request ${dataVar}`;
    }
    if (first.keyword === 'type') return `the request ${dataVar} must be a JSON object`;
  }
  if (dataVar === 'headers' && field === 'idempotency-key') {
    return 'the Idempotency-Key header must be 1 to 255 visible ASCII characters (no spaces), such as a UUID';
  }
  if (field === 'value') {
    if (errors.some((e) => e.keyword === 'minItems')) return 'value must not be an empty array';
    return 'value must be a string or an array of strings';
  }
  if (field === 'ttl') {
    if (first.keyword === 'maxLength') return 'ttl is too long to be a duration';
    return 'ttl must be a duration string such as "90s", "1h30m" or "500ms"';
  }
  if (field === 'username' && first.instancePath === '/username') return 'username must be 1 to 64 letters, digits, ".", "_", "@" or "-"';
  if (field === 'password' && first.instancePath === '/password') return 'password must be 8 to 1024 characters';
  if (field === 'role') return 'role must be one of admin, readwrite, readonly';
  if (field === 'key') {
    if (first.keyword === 'minLength') return 'key must not be empty';
    return 'key must be a string';
  }
  return `${dataVar}${first.instancePath.replaceAll('/', '.')} ${first.message ?? 'is not valid'}`;
}
