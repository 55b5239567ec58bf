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
import { answersBeforeLog } from '../idempotency.js';
import { prefersMinimal } from '../prefer.js';
import { KeyParams, PreferHeaders, errorResponses } from '../schemas.js';

export interface CommandRoutesOptions {
  executor: Executor;
  /** The commands to serve; default every command of the table. */
  commands?: readonly Command<any, any, unknown>[];
}

type Request = FastifyRequest<{ Params: { key?: string }; Body: { key?: string } | undefined; Querystring: unknown }>;

export const commandRoutes: FastifyPluginAsync<CommandRoutesOptions> = async (app, { executor, commands = COMMANDS }) => {
  for (const command of commands) {
    app.route({
      method: command.method,
      url: command.path,
      // Writes honour Idempotency-Key (idempotency.ts).
      config: { access: command.access, keyFrom: command.keyFrom, idempotent: command.writes },
      schema: {
        summary: command.summary,
        ...(command.description === undefined ? {} : { description: command.description }),
        tags: ['data'],
        ...(command.path.includes(':key') ? { params: KeyParams } : {}),
        ...(command.query === undefined ? {} : { querystring: command.query }),
        ...(command.minimal === true ? { headers: PreferHeaders } : {}),
        ...(command.body === undefined ? {} : { body: command.body }),
        // Every route can also meet the API server's own answers: 408 (REQUEST_TIMEOUT) and 503 loading.
        response: { 200: command.answer, ...errorResponses(...command.errors, 408, 503) },
      },
      handler: command.minimal === true ? minimalHandler(executor, command) : plainHandler(executor, command),
    });
  }
};

/** The command's inputs from a validated request. */
function argsOf(command: Command<any, any, unknown>, request: Request, minimal: boolean): CommandArgs<any, any> {
  const body = request.body;
  return {
    key: command.keyFrom === 'body' ? body!.key! : request.params.key!,
    body,
    query: request.query,
    minimal,
  };
}

/**
 * Runs the command: through the executor, which answers a write once the log has it; or, for a
 * request that claimed an idempotency key, at once, since the idempotency hook journals the kept
 * answer beside the write and then waits for the log (one write, one fsync for both).
 */
function run(executor: Executor, command: Command<any, any, unknown>, request: Request, minimal: boolean) {
  const args = argsOf(command, request, minimal);
  return answersBeforeLog(request) ? executor.run(command, args) : executor.execute(command, args);
}

function plainHandler(executor: Executor, command: Command<any, any, unknown>) {
  return (request: Request) => run(executor, command, request, false);
}

/**
 * For commands that honour `Prefer: return=minimal`: `Preference-Applied` is set once the command
 * succeeded (and the log has it), so that an error answer never carries it.
 */
function minimalHandler(executor: Executor, command: Command<any, any, unknown>) {
  return (request: Request, reply: FastifyReply) => {
    const minimal = prefersMinimal(request.headers.prefer);
    const result = run(executor, command, request, minimal);
    if (!minimal) return result;
    const applied = <T>(value: T): T => {
      reply.header('preference-applied', PREFER_MINIMAL);
      return value;
    };
    return result instanceof Promise ? result.then(applied) : applied(result);
  };
}
