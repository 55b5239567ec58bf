/**
 * The auth routes under `/api/{version}/auth/`: login, refresh, logout, and user management for
 * admins. Every path has at least two segments, so a key named `auth` stays at `GET /api/v1/auth`.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import rateLimit from '@fastify/rate-limit';
import type { MessageJson, UserJson } from '@memkv/client/protocol';
import type { AuthService } from '../../auth/auth-service.js';
import type { UserRecord } from '../../auth/users.js';
import { MemkvError } from '../../errors.js';
import {
  ChangePasswordBody,
  LoginBody,
  LogoutBody,
  RefreshBody,
  RegisterBody,
  TokenPair,
  User,
  UsernameParams,
  Users,
} from '../auth-schemas.js';
import { Message, errorResponses } from '../schemas.js';

/** Login attempts allowed per client address, and separately per user name, per window. */
export interface LoginRateLimit {
  max: number;
  windowMs: number;
  /**
   * Where the counters live when several processes serve the API: an ioredis connection and the
   * prefix of the counter keys (@fastify/rate-limit's Redis store). Default: in this process.
   */
  redis?: { client: unknown; keyPrefix: string };
}

export interface AuthRoutesOptions {
  auth: AuthService;
  loginRateLimit: LoginRateLimit;
}

const OK: MessageJson = { message: 'ok' };
/** Auth bodies are small: a tight limit keeps password hashing the most a request can cost. */
const AUTH_BODY_LIMIT_BYTES = 16 * 1024;

/** A user as the API shows it: never the password hash. */
function toUserJson(user: UserRecord): UserJson {
  return { username: user.username, role: user.role, keys: [...user.keys], created_at: new Date(user.createdAtMs).toISOString() };
}

export const authRoutes: FastifyPluginAsync<AuthRoutesOptions> = async (fastify, { auth, loginRateLimit }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  // Two counters per attempt: one per client address (IPv6 by /64), one per user name.
  await app.register(rateLimit, {
    global: false,
    ...(loginRateLimit.redis === undefined ? {} : { redis: loginRateLimit.redis.client, nameSpace: loginRateLimit.redis.keyPrefix }),
  });
  const limitOptions = { max: loginRateLimit.max, timeWindow: loginRateLimit.windowMs };
  const byAddress = app.createRateLimit(limitOptions);
  const byUser = app.createRateLimit({
    ...limitOptions,
    keyGenerator: (request) => `user:${(request.body as { username: string }).username}`,
  });
  async function limitLoginAttempts(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const results = await Promise.all([byAddress(request), byUser(request)]);
    let retryAfterS = 0;
    for (const result of results) {
      if (!result.isAllowed && result.isExceeded) retryAfterS = Math.max(retryAfterS, result.ttlInSeconds);
    }
    if (retryAfterS > 0) {
      reply.header('retry-after', String(retryAfterS));
      throw new MemkvError('too_many_requests', `too many login attempts; retry in ${retryAfterS} s`);
    }
  }

  // POST /api/v1/auth/login  {username, password}
  app.post(
    '/auth/login',
    {
      config: { access: 'public' },
      bodyLimit: AUTH_BODY_LIMIT_BYTES,
      preHandler: limitLoginAttempts,
      schema: {
        summary: 'Log in',
        description:
          'Answers an access token and a refresh token. Attempts are limited per client address and per user name ' +
          '(429 with Retry-After beyond the limit).',
        tags: ['auth'],
        body: LoginBody,
        response: { 200: TokenPair, ...errorResponses(400, 401, 413, 415, 429) },
      },
    },
    (request) => auth.login(request.body.username, request.body.password),
  );

  // POST /api/v1/auth/refresh  {refresh_token}
  app.post(
    '/auth/refresh',
    {
      config: { access: 'public' },
      bodyLimit: AUTH_BODY_LIMIT_BYTES,
      schema: {
        summary: 'Trade a refresh token for a new pair',
        description: 'The refresh token works once: using it again ends the login session.',
        tags: ['auth'],
        body: RefreshBody,
        response: { 200: TokenPair, ...errorResponses(400, 401, 413, 415) },
      },
    },
    (request) => auth.refresh(request.body.refresh_token),
  );

  // POST /api/v1/auth/logout  {refresh_token?}   (Authorization: Bearer <access_token>)
  app.post(
    '/auth/logout',
    {
      config: { access: 'authenticated' },
      bodyLimit: AUTH_BODY_LIMIT_BYTES,
      // The body is optional: no body reads as {}.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
      schema: {
        summary: 'Log out',
        description: 'Ends the login session of the bearer token: its access and refresh tokens stop working.',
        tags: ['auth'],
        body: LogoutBody,
        response: { 200: Message, ...errorResponses(400, 413, 415) },
      },
    },
    async (request) => {
      await auth.logout(request.identity!, request.body.refresh_token);
      return OK;
    },
  );

  // POST /api/v1/auth/register  {username, password, role, keys?}
  app.post(
    '/auth/register',
    {
      config: { access: 'admin' },
      bodyLimit: AUTH_BODY_LIMIT_BYTES,
      schema: {
        summary: 'Create a user',
        tags: ['auth'],
        body: RegisterBody,
        response: { 201: User, ...errorResponses(400, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const user = await auth.register(request.body);
      return reply.code(201).send(toUserJson(user));
    },
  );

  // GET /api/v1/auth/users
  app.get(
    '/auth/users',
    {
      config: { access: 'admin' },
      schema: { summary: 'List users', tags: ['auth'], response: { 200: Users } },
    },
    () => ({ users: auth.listUsers().map(toUserJson) }),
  );

  // DELETE /api/v1/auth/users/:username
  app.delete(
    '/auth/users/:username',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Delete a user',
        description: 'Ends the user\'s sessions. An admin cannot delete their own account.',
        tags: ['auth'],
        params: UsernameParams,
        response: { 200: Message, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      await auth.deleteUser(request.params.username, request.identity!);
      return OK;
    },
  );

  // POST /api/v1/auth/users/:username/password  {password}
  app.post(
    '/auth/users/:username/password',
    {
      config: { access: 'admin' },
      bodyLimit: AUTH_BODY_LIMIT_BYTES,
      schema: {
        summary: 'Set a user\'s password',
        description: 'Ends the user\'s sessions: their tokens stop working.',
        tags: ['auth'],
        params: UsernameParams,
        body: ChangePasswordBody,
        response: { 200: Message, ...errorResponses(400, 404, 413, 415) },
      },
    },
    async (request) => {
      await auth.changePassword(request.params.username, request.body.password);
      return OK;
    },
  );
};
