/** The health server: a separate, tiny HTTP app on HEALTH_PORT that never needs a token. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ErrorJson, MessageJson } from '@memkv/client/protocol';

export interface HealthOptions {
  /** True once the database can serve requests. */
  isReady: () => boolean;
}

/** Builds the health app: `GET /health` answers 200 `{"message":"ok"}` when ready, 503 before. */
export async function buildHealthApp({ isReady }: HealthOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  // GET /health
  app.get('/health', (_request, reply) => {
    if (isReady()) return { message: 'ok' } satisfies MessageJson;
    return reply.code(503).send({ code: 'service_unavailable', message: 'memkv is starting' } satisfies ErrorJson);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ code: 'route_not_found', message: `no route for ${request.method} ${request.url}` } satisfies ErrorJson),
  );
  await app.ready();
  return app;
}
