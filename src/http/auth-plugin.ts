/**
 * The HTTP adapter of the auth service. Register it inside the scope of the routes it protects;
 * each route there declares what it needs with `config: { access }` (see {@link Access}), and
 * gets a hook that calls `auth.authorize` before the body is read. Routes that declare nothing
 * need the admin role, so a forgotten declaration fails closed.
 */
import type {
  FastifyContextConfig,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteOptions,
  onRequestHookHandler,
  preHandlerHookHandler,
} from 'fastify';
import fp from 'fastify-plugin';
import { AuthError } from '../auth/auth-error.js';
import { ACCESS_LEVELS, type Access, type AuthService, type Identity } from '../auth/auth-service.js';
import { errorResponses } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs when auth is on; default `admin` inside a protected scope. */
    access?: Access;
    /**
     * Where the route's key is: `params` (default: `:key`, checked before the body is read) or
     * `body` (the `key` field, checked once the body is validated).
     */
    keyFrom?: 'params' | 'body' | 'none';
    /** A route of several keys: the keys its body names, with the right each needs (checked once the body is valid). */
    keys?: (body: any) => readonly { key: string; access: 'read' | 'write' }[];
  }
  interface FastifyRequest {
    /** Who the bearer token speaks for; `undefined` on public routes or with auth off. */
    identity: Identity | undefined;
  }
}

export interface AuthPluginOptions {
  auth: AuthService;
  /** Access of routes that declare none; default `admin`. */
  defaultAccess?: Access;
}

/** Name of the bearer scheme in the OpenAPI document. */
export const BEARER_SCHEME = 'bearerAuth';

const authPlugin: FastifyPluginAsync<AuthPluginOptions> = async (app, { auth, defaultAccess = 'admin' }) => {
  if (!app.hasRequestDecorator('identity')) app.decorateRequest('identity', undefined);

  // One preset hook per access level: no closure per route, none at all per request.
  const authenticate = perAccess((access) => authenticateFor(auth, access));
  const checkBodyKey = perAccess((access) => checkBodyKeyFor(auth, access));

  app.addHook('onRoute', (route) => {
    const access = route.config?.access ?? defaultAccess;
    if (!ACCESS_LEVELS.includes(access)) {
      throw new TypeError(`route ${route.method} ${route.url}: config.access must be one of ${ACCESS_LEVELS.join(', ')}; got ${String(access)}`);
    }
    if (access === 'public') return;
    route.onRequest = [authenticate[access], ...toArray(route.onRequest)];
    if (route.config?.keyFrom === 'body') route.preHandler = [...toArray(route.preHandler), checkBodyKey[access]];
    const keys = route.config?.keys;
    if (keys !== undefined) route.preHandler = [...toArray(route.preHandler), checkBodyKeysFor(auth, keys)];
    documentSecurity(route);
  });
};

function perAccess<T>(make: (access: Access) => T): Record<Access, T> {
  return Object.fromEntries(ACCESS_LEVELS.map((access) => [access, make(access)])) as Record<Access, T>;
}

function authenticateFor(auth: AuthService, access: Access): onRequestHookHandler {
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply) {
    try {
      request.identity = await auth.authorize(request.headers.authorization, access, (request.params as { key?: string } | undefined)?.key);
    } catch (error) {
      if (error instanceof AuthError) request.log.info({ reason: error.reason, ip: request.ip }, 'authentication failed');
      throw error;
    }
  };
}

function checkBodyKeyFor(auth: AuthService, access: Access): preHandlerHookHandler {
  return async function checkBodyKey(request: FastifyRequest, _reply: FastifyReply) {
    const key = (request.body as { key?: unknown } | undefined)?.key;
    if (typeof key === 'string') auth.checkKey(request.identity!, access, key);
  };
}

function checkBodyKeysFor(auth: AuthService, keys: NonNullable<FastifyContextConfig['keys']>): preHandlerHookHandler {
  return async function checkBodyKeys(request: FastifyRequest, _reply: FastifyReply) {
    for (const { key, access } of keys(request.body)) auth.checkKey(request.identity!, access, key);
  };
}

function toArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Marks the route as needing the bearer token in the OpenAPI document, with its 401 and 403. */
function documentSecurity(route: RouteOptions): void {
  const schema = route.schema as Record<string, unknown> | undefined;
  if (schema === undefined || schema.hide === true) return;
  route.schema = {
    ...schema,
    security: [{ [BEARER_SCHEME]: [] }],
    response: { ...errorResponses(401, 403), ...(schema.response as object | undefined) },
  };
}

/**
 * The auth hooks, applied to the scope that registers this plugin (it is not encapsulated).
 * Register it before the routes it protects.
 */
export default fp(authPlugin, { fastify: '5.x', name: 'memkv-auth' });
