/**
 * The API documentation: the OpenAPI 3 document generated from the route schemas, served as JSON
 * and YAML, and Swagger UI. Registered before the routes so that it sees all of them.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { VERSION } from '../../version.js';
import { BEARER_SCHEME } from '../auth-plugin.js';

/**
 * Starts collecting route schemas into the OpenAPI document. Call before registering routes.
 * With `bearerAuth`, the document declares the bearer token scheme that protected routes name.
 */
export async function registerOpenApi(app: FastifyInstance, { bearerAuth = false }: { bearerAuth?: boolean } = {}): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'memkv',
        version: VERSION,
        description:
          'An in-memory key-value database: strings and lists of strings with per-key TTL. ' +
          'Keys are single path segments; percent-encode `/`, `?`, `#`, `%` and spaces.',
      },
      tags: [
        { name: 'data', description: 'Reading and writing keys' },
        { name: 'db', description: 'The database as a whole: listing, size, flush, stats, log compaction' },
        ...(bearerAuth ? [{ name: 'auth', description: 'Logging in, tokens and users' }] : []),
      ],
      ...(bearerAuth
        ? {
            components: {
              securitySchemes: {
                [BEARER_SCHEME]: {
                  type: 'http' as const,
                  scheme: 'bearer',
                  bearerFormat: 'JWT',
                  description: 'An access token from POST /auth/login or /auth/refresh.',
                },
              },
            },
          }
        : {}),
    },
  });
}

/** Serves the document at `{base}/docs/swagger.json` and `.yaml`, and Swagger UI at `{base}/docs/swagger/`. */
export async function registerDocsRoutes(app: FastifyInstance, basePath: string): Promise<void> {
  const docs = `${basePath}/docs`;
  // GET /api/v1/docs/swagger.json
  app.get(`${docs}/swagger.json`, { schema: { hide: true } }, () => app.swagger());
  // GET /api/v1/docs/swagger.yaml
  app.get(`${docs}/swagger.yaml`, { schema: { hide: true } }, (_request, reply) =>
    reply.type('application/yaml; charset=utf-8').send(app.swagger({ yaml: true })),
  );
  await app.register(swaggerUi, { routePrefix: `${docs}/swagger` });
  // GET /api/v1/docs/swagger/index.html: the address the seed design published.
  app.get(`${docs}/swagger/index.html`, { schema: { hide: true } }, (_request, reply) =>
    reply.redirect(`${docs}/swagger/`),
  );
}
