/**
 * The data routes, generated from the command table (src/commands/table.ts): one Fastify route
 * per command, with its method, path, access, schemas (hence validation and the OpenAPI document)
 * and a handler that hands the request's parts to the command through the executor.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { PREFER_MINIMAL } from '@memkv/client/protocol';
import type { Command, CommandArgs } from '../../commands/command.js';
import type { Executor } from '../../commands/execute.js';
import { COMMANDS } from '../../commands/table.js';
import { etagOf, notModified, writePreconditions, type PreconditionFields } from '../../commands/preconditions.js';
import { answersBeforeLog } from '../idempotency.js';
import { prefersMinimal } from '../prefer.js';
import {
  KeyParams,
  NotModified,
  PreconditionHeaders,
  PreferAndPreconditionHeaders,
  PreferHeaders,
  ReadHeaders,
  errorResponses,
  withEtag,
} from '../schemas.js';

export interface CommandRoutesOptions {
  executor: Executor;
  /** The commands to serve; default every command of the table. */
  commands?: readonly Command<any, any, unknown>[];
}

type Request = FastifyRequest<{ Params: { key?: string }; Body: { key?: string } | undefined; Querystring: unknown }>;

export const commandRoutes: FastifyPluginAsync<CommandRoutesOptions> = async (app, { executor, commands = COMMANDS }) => {
  for (const command of commands) {
    const headers = command.minimal === true ? (command.writes ? PreferAndPreconditionHeaders : PreferHeaders) : command.writes ? PreconditionHeaders : ReadHeaders;
    app.route({
      method: command.method,
      url: command.path,
      // Writes honour Idempotency-Key (idempotency.ts).
      config: {
        access: command.access,
        keyFrom: command.keyFrom,
        idempotent: command.writes,
        ...(command.keys === undefined ? {} : { keys: command.keys }),
      },
      schema: {
        summary: command.summary,
        ...(command.description === undefined ? {} : { description: command.description }),
        tags: ['data'],
        ...(command.path.includes(':key') ? { params: KeyParams } : {}),
        ...(command.query === undefined ? {} : { querystring: command.query }),
        headers,
        ...(command.body === undefined ? {} : { body: command.body }),
        // Every route can also meet the API server's own answers: 408 (REQUEST_TIMEOUT) and 503 loading.
        response: {
          200: withEtag(command.answer),
          ...(command.writes ? {} : { 304: NotModified }),
          ...errorResponses(...command.errors, 408, 503),
        },
      },
      handler: handlerOf(executor, command),
    });
  }
};

/** The command's inputs from a validated request. */
function argsOf(command: Command<any, any, unknown>, request: Request, minimal: boolean): CommandArgs<any, any> {
  const body = request.body;
  const headers = request.headers;
  return {
    key: command.keyFrom === 'body' ? body!.key! : command.keyFrom === 'params' ? request.params.key! : '',
    body,
    query: request.query,
    minimal,
    preconditions:
      command.writes && command.keyFrom !== 'none'
      ? writePreconditions(
          { ifMatch: headers['if-match'], ifNoneMatch: headers['if-none-match'] },
          body as PreconditionFields | undefined,
          command.creates === true,
        )
      : undefined,
  };
}

/**
 * The route's handler: runs the command, then answers its result with the `ETag` of the version
 * it carries, `Preference-Applied` when the minimal answer was asked for (set once the command
 * succeeded and the log has it, so that an error answer never carries it), or 304 to a read whose
 * `If-None-Match` names the current version.
 */
function handlerOf(executor: Executor, command: Command<any, any, unknown>) {
  return (request: Request, reply: FastifyReply) => {
    const minimal = command.minimal === true && prefersMinimal(request.headers.prefer);
    const args = argsOf(command, request, minimal);
    // A request that claimed an idempotency key is answered at once: the idempotency hook journals
    // the kept answer beside the write, then waits for the log (one write, one fsync for both).
    const result = answersBeforeLog(request) ? executor.run(command, args) : executor.execute(command, args);
    const answer = (value: unknown): FastifyReply => {
      if (minimal) reply.header('preference-applied', PREFER_MINIMAL);
      const version = (value as { version?: unknown }).version;
      if (typeof version === 'number') {
        reply.header('etag', etagOf(version));
        if (!command.writes && notModified(request.headers['if-none-match'], version)) return reply.code(304).send();
      }
      return reply.send(value);
    };
    return result instanceof Promise ? result.then(answer) : answer(result);
  };
}
