/** The database administration routes under `/api/{version}/db`. */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { MessageJson } from '@memkv/client/protocol';
import { MemkvError } from '../../errors.js';
import { Message, errorResponses } from '../schemas.js';

export interface DbRoutesOptions {
  /** Starts a compaction of the log unless one runs; absent when persistence is off. */
  compact?: () => 'started' | 'running';
}

export const dbRoutes: FastifyPluginAsync<DbRoutesOptions> = async (fastify, { compact }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  // POST /api/v1/db/compact
  // Admin only once authentication exists: register this route inside the admin-protected scope.
  app.post(
    '/db/compact',
    {
      schema: {
        summary: 'Compact the append-only log now',
        description: 'Starts rewriting the log as a snapshot of the live keys, in the background. Answers 202 at once.',
        tags: ['db'],
        response: { 202: Message, ...errorResponses(409) },
      },
    },
    (_request, reply) => {
      if (compact === undefined) throw new MemkvError('persistence_disabled');
      const message = compact() === 'started' ? 'compaction started' : 'a compaction is already running';
      reply.code(202);
      return { message } satisfies MessageJson;
    },
  );
};
