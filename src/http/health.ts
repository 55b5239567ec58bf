/** The health server: a separate, tiny HTTP app on HEALTH_PORT that never needs a token. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ErrorJson, MessageJson } from '@memkv/client/protocol';

export interface HealthOptions {
  /** True once the database can serve requests (after the replay of the log). */
  isReady: () => boolean;
  /** A failure that makes the server unable to do its job (the disk refuses writes), or `undefined`. */
  problem?: () => ErrorJson | undefined;
}

/**
 * Builds the health app: `GET /health` answers 200 `{"message":"ok"}` when ready, 503 while
 * starting, and 503 with the problem's `{code, message}` while one is reported.
 */
export async function buildHealthApp({ isReady, problem }: HealthOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  // GET /health
  app.get('/health', (_request, reply) => {
    if (!isReady()) return reply.code(503).send({ code: 'service_unavailable', message: 'memkv is starting' } satisfies ErrorJson);
    const failure = problem?.();
    if (failure !== undefined) return reply.code(503).send(failure);
    return { message: 'ok' } satisfies MessageJson;
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ code: 'route_not_found', message: `no route for ${request.method} ${request.url}` } satisfies ErrorJson),
  );
  await app.ready();
  return app;
}
