/**
 * One request at a time per connection: the requests of a keep-alive connection are handled in
 * the order received, each once the answer to the one before has been written.
 *
 * Why: node:http parses pipelined requests as they arrive and emits each at once, while their
 * answers leave in order. A request whose handling waits (for its body, for the log) would let
 * the next one, say a DELETE without a body, run first: its effect would precede the earlier
 * write's. RFC 9112 §9.3.2 allows parallel processing of pipelined requests only when all are
 * safe; memkv's are writes, so it serves them one by one (the raw front, raw-front.ts, keeps the
 * same order for the connections it serves).
 *
 * When an answer ends the connection, the requests pipelined behind it are dropped unprocessed.
 * A request held back keeps its body in its stream (node:http stops reading the socket when that
 * buffer is full), so holding costs no more memory than node:http's own pipelining.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Node's request listener signature. */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The requests of a socket waiting for the one in progress: absent while the socket is idle,
 * `null` while a request is in progress and none waits (no array for the common case).
 */
const WAITING = Symbol('memkv.waitingRequests');

type OrderedSocket = Socket & { [WAITING]?: Array<IncomingMessage | ServerResponse> | null };

/** Wraps `handler` so that each connection's requests are handled one at a time, in order. */
export function oneAtATime(handler: RequestHandler): RequestHandler {
  // 'close' follows the end of the answer, or the end of the connection: either frees the next.
  // One listener for every response (no closure per request): `this` is the response.
  function answered(this: ServerResponse): void {
    next(this.req.socket as OrderedSocket);
  }
  const start = (request: IncomingMessage, response: ServerResponse): void => {
    response.once('close', answered);
    handler(request, response);
  };
  const next = (socket: OrderedSocket): void => {
    const waiting = socket[WAITING];
    if (waiting === undefined) return;
    if (waiting === null || waiting.length === 0) {
      socket[WAITING] = undefined;
      return;
    }
    if (socket.destroyed || !socket.writable) {
      // The answer before ended the connection (`Connection: close`, as after a body that could
      // not be read): the requests behind it are not processed (RFC 9112 §9.6), nor answered.
      socket[WAITING] = undefined;
      return;
    }
    const request = waiting.shift() as IncomingMessage;
    const response = waiting.shift() as ServerResponse;
    start(request, response);
  };
  return (request, response) => {
    const socket = request.socket as OrderedSocket;
    const waiting = socket[WAITING];
    if (waiting === undefined) {
      socket[WAITING] = null;
      start(request, response);
    } else if (waiting === null) socket[WAITING] = [request, response];
    else waiting.push(request, response);
  };
}
