/**
 * The health server: a separate, tiny HTTP app on HEALTH_PORT that never needs a token.
 * `/health` is liveness, `/ready` readiness, `/metrics` the Prometheus metrics.
 */
import type { TlsOptions } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ErrorJson, MessageJson } from '@memkv/client/protocol';
import type { Metrics } from './metrics.js';

export interface HealthOptions {
  /** True once the database can serve requests (false while starting, loading or stopping). */
  isReady: () => boolean;
  /** Why it is not ready yet (for example how far the load is); read only while not ready. */
  notReadyReason?: () => string;
  /**
   * Why memkv cannot serve even though it has started, or `null` when it can: for example that
   * persistence cannot write its log. Read on every `GET /ready`; default always `null`.
   */
  unavailableReason?: () => string | null;
  /** Metrics to expose at `GET /metrics`; without them the route is absent. */
  metrics?: Metrics;
  /** Serve HTTPS with these options (HEALTH_TLS: the API's certificate); default plain HTTP. */
  https?: TlsOptions | undefined;
}

/** Builds the health app. */
export async function buildHealthApp({ isReady, notReadyReason, unavailableReason, metrics, https }: HealthOptions): Promise<FastifyInstance> {
  // Typed as the HTTP instance either way: memkv only listens, routes and closes it.
  const app = (https === undefined ? Fastify({ logger: false }) : Fastify({ logger: false, https })) as unknown as FastifyInstance;

  // GET /health: liveness, 200 whenever the process answers at all.
  app.get('/health', () => ({ message: 'ok' }) satisfies MessageJson);

  // GET /ready: 200 when requests can be served, 503 while starting or while persistence cannot write.
  app.get('/ready', (_request, reply) => {
    if (!isReady()) {
      return reply.code(503).send({ code: 'service_unavailable', message: notReadyReason?.() ?? 'memkv is starting' } satisfies ErrorJson);
    }
    const reason = unavailableReason?.() ?? null;
    if (reason === null) return { message: 'ready' } satisfies MessageJson;
    return reply.code(503).send({ code: 'service_unavailable', message: reason } satisfies ErrorJson);
  });

  if (metrics !== undefined) {
    // GET /metrics: Prometheus text exposition format.
    app.get('/metrics', async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    });
  }

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ code: 'route_not_found', message: `no route for ${request.method} ${request.url}` } satisfies ErrorJson),
  );
  await app.ready();
  return app;
}
