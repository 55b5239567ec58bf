/**
 * `GET /api/{version}/db/watch`: the change feed as server-sent events, over the watch hub
 * (src/watch/). The answer is written straight to the response (`reply.hijack()`), one shared
 * text per event; the hub bounds what each watcher may leave unsent.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MemkvError, quoteKey } from '../../errors.js';
import { formatPosition, parsePosition } from '../../watch/position.js';
import type { WatchHub, WatchSink } from '../../watch/watch-hub.js';
import { WatchQuery, WatchStream, errorResponses } from '../schemas.js';

/** The reconnection delay the stream asks of EventSource clients, in ms. */
export const WATCH_RETRY_MS = 1000;
/** How long a stream the server ended (overflow, closing) may take to send its last bytes before its connection is cut, in ms. */
const END_GRACE_MS = 2000;

export interface WatchRoutesOptions {
  /** The hub to serve; absent: watch is off and the route answers 404 with `offReason`. */
  hub: WatchHub | undefined;
  /** Why watch is off, for the 404's message; default: WATCH_HISTORY=0. */
  offReason?: string;
}

export const watchRoutes: FastifyPluginAsync<WatchRoutesOptions> = async (fastify, { hub, offReason }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  /** This app's open streams: closing the app ends them (they would hold the server open). */
  const open = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    for (const response of open) endStream(response);
    done();
  });

  // GET /api/v1/db/watch?prefix=user:&from=42   [Last-Event-ID: 42.1]
  app.get(
    '/watch',
    {
      config: { access: 'read' },
      // A HEAD would open a stream with no body that never ends.
      exposeHeadRoute: false,
      schema: {
        summary: 'Watch changes as server-sent events',
        description:
          'Streams every change to the keys under `prefix` (`text/event-stream`). Resume with `from`, or the ' +
          '`Last-Event-ID` header, set to the last event id received: no change is missed or repeated. The history ' +
          'kept for resuming is bounded (WATCH_HISTORY events): a `from` it no longer reaches is `410 history_compacted` ' +
          '(list the keys again, then watch from now), one after the current revision `400`. With auth on, the token ' +
          'must be allowed to read every key under the prefix (one of its key patterns ending in `*` matches the prefix). ' +
          '`404` when watch is off (WATCH_HISTORY=0, or STORAGE=redis).',
        tags: ['db'],
        querystring: WatchQuery,
        headers: {
          type: 'object',
          properties: { 'last-event-id': { type: 'string', maxLength: 40, description: 'The last event id received; wins over `from`.' } },
        },
        response: { 200: WatchStream, ...errorResponses(400, 404, 410) },
      },
    },
    (request, reply) => {
      if (hub === undefined) throw new MemkvError('route_not_found', offReason ?? 'watch is off on this server (WATCH_HISTORY=0)');
      const prefix = request.query.prefix ?? '';
      const allowed = request.identity?.keyMatcher;
      if (allowed !== undefined && allowed !== null && !allowed.coversPrefix(prefix)) {
        throw new MemkvError(
          'forbidden',
          `this token does not grant reading every key under prefix ${quoteKey(prefix)}: a watch needs a key pattern such as ${quoteKey(`${prefix}*`)}`,
        );
      }
      const lastEventId = request.headers['last-event-id'];
      const resumeAt = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : undefined;
      const fromText = resumeAt ?? request.query.from;
      const from = fromText === undefined ? undefined : parsePosition(fromText, resumeAt === undefined ? 'from' : 'Last-Event-ID');
      // Nothing is published between resolve and subscribe: both run in this turn.
      const cursor = hub.resolve(from);
      const startId = formatPosition(from ?? { revision: hub.revision, index: Infinity });
      void reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        // Proxies such as nginx would otherwise hold events back in their buffers.
        'x-accel-buffering': 'no',
      });
      // The `id:` without data fires no event, but sets the id a client resumes from: a stream that
      // drops before its first event resumes where it began, not at a later "now".
      response.write(`retry: ${WATCH_RETRY_MS}\nid: ${startId}\n: ok\n\n`);
      const subscription = hub.subscribe({
        prefix,
        cursor,
        sink: responseSink(response),
        onEnd: (reason) => {
          if (reason === 'overflow') request.log.info({ prefix, ip: request.ip }, 'watch: a watcher that did not keep up was cut off (watch_overflow)');
        },
      });
      open.add(response);
      response.once('close', () => {
        open.delete(response);
        subscription.close();
        request.raw.socket.removeListener('end', clientGone);
      });
      // The server keeps half-open connections for answers still owed (api-server.ts); a watch is
      // never done, so a client that ends its side has left: end the stream now, not at the next write.
      const clientGone = (): void => {
        response.destroy();
      };
      request.raw.socket.once('end', clientGone);
    },
  );
};

/** A response as the hub's sink: ending it (overflow) cuts the connection if its last bytes do not leave in time. */
function responseSink(response: ServerResponse): WatchSink {
  return {
    write: (chunk) => (response.destroyed || response.writableEnded ? false : response.write(chunk)),
    get writableLength() {
      return response.writableLength;
    },
    once: (event, listener) => response.once(event, listener),
    removeListener: (event, listener) => response.removeListener(event, listener),
    end: (text) => endStream(response, text),
  };
}

/** Ends a stream (after `text`), and destroys its connection if that has not gone out after a grace period. */
function endStream(response: ServerResponse, text?: string): void {
  if (!response.writableEnded && !response.destroyed) response.end(text);
  if (response.destroyed) return;
  const timer = setTimeout(() => response.destroy(), END_GRACE_MS);
  timer.unref();
  response.once('close', () => clearTimeout(timer));
}
