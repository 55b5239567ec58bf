/**
 * The client's watch: `GET /db/watch` read as server-sent events over `fetch`'s body stream (a
 * small parser of our own: the package keeps no dependency), reconnecting with backoff and
 * resuming after the last event id received, so that no change is missed or repeated.
 */
import { ConnectionError, MemkvClientError, UnauthorizedError, errorFromAnswer } from './errors.js';
import type { WatchErrorJson, WatchEvent, WatchEventJson } from './protocol.js';

/** Options of {@link MemkvClient.watch}. */
export interface WatchOptions {
  /** Only changes to keys that start with this text; default every key. */
  prefix?: string;
  /**
   * Resume after this event id (a `WatchEvent`'s `id`, or a revision such as `42`); default: from
   * now on. An id the server's history no longer reaches is a {@link HistoryCompactedError}.
   */
  from?: string | number;
  /** Ends the iteration (quietly: the loop just stops). */
  signal?: AbortSignal;
  /**
   * A connection that brings nothing, not even the server's heartbeat (every 15 s), for this
   * long is dropped and opened again; in ms, default 45 000.
   */
  idleTimeoutMs?: number;
}

/** What the watch needs of its client. */
export interface WatchContext {
  /** The API base URL, such as `http://127.0.0.1:8080/api/v1`. */
  baseUrl: string;
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  fetchOptions: Readonly<Record<string, unknown>> | undefined;
  /** The Authorization header to send now, if any. */
  authorization(): string | undefined;
  /** Trades the refresh token for a new pair; `false` when there is none to trade. */
  refresh(): Promise<boolean>;
  /** Longest wait for the answer's head, in ms. */
  timeoutMs: number;
  /** First backoff before a reconnection, in ms, doubled each failed attempt up to {@link MAX_BACKOFF_MS}. */
  retryDelayMs: number;
}

/** Longest wait between two reconnections, in ms. */
const MAX_BACKOFF_MS = 5_000;
const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

/** Why the watch itself aborted a connection. */
const IDLE = Symbol('memkv.watch.idle');
const TIMED_OUT = Symbol('memkv.watch.timeout');

/** One server-sent event as parsed: its type (`message` when none), data and id. */
interface SseEvent {
  type: string;
  data: string;
  /** The stream's last event id after this event. */
  id: string | undefined;
}

/** The watch as an async iterator of events; see {@link MemkvClient.watch}. */
export async function* watchEvents(context: WatchContext, options: WatchOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
  const { prefix = '', signal, idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS } = options;
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
  if (!(typeof idleTimeoutMs === 'number' && idleTimeoutMs > 0 && idleTimeoutMs <= 2_147_483_647)) {
    throw new TypeError(`idleTimeoutMs must be a number of milliseconds from 1 to 2147483647; got ${String(idleTimeoutMs)}`);
  }
  let lastId = options.from === undefined ? undefined : String(options.from);
  if (lastId !== undefined && !/^[0-9]{1,16}(\.[0-9]{1,10})?$/.test(lastId)) {
    throw new TypeError(`from must be an event id such as "42" or "42.1"; got ${JSON.stringify(lastId)}`);
  }
  let failures = 0;
  let refreshed = false;
  while (!aborted(signal)) {
    if (failures > 0) {
      const delayMs = Math.min(context.retryDelayMs * 2 ** (failures - 1), MAX_BACKOFF_MS);
      if (!(await pause(delayMs * (0.5 + Math.random() / 2), signal))) return;
    }
    const controller = new AbortController();
    const forwardAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', forwardAbort, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const watchIdle = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(IDLE), idleTimeoutMs);
    };
    try {
      const query = new URLSearchParams();
      if (prefix !== '') query.set('prefix', prefix);
      if (lastId !== undefined) query.set('from', lastId);
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      const authorization = context.authorization();
      if (authorization !== undefined) headers.authorization = authorization;
      const url = `${context.baseUrl}/db/watch${query.size === 0 ? '' : `?${query}`}`;
      const timer = setTimeout(() => controller.abort(TIMED_OUT), context.timeoutMs);
      let response: Response;
      try {
        response = await context.fetch(url, { ...context.fetchOptions, method: 'GET', headers, signal: controller.signal });
      } finally {
        clearTimeout(timer);
      }
      if (response.status !== 200) {
        const text = await response.text();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const error = errorFromAnswer(response.status, json, text);
        if (error instanceof UnauthorizedError && !refreshed && (await context.refresh())) {
          refreshed = true;
          continue;
        }
        // 502/503/504 (a server starting or behind a restarting proxy): try again; anything else is the answer.
        if (response.status === 502 || response.status === 503 || response.status === 504) {
          failures++;
          continue;
        }
        throw error;
      }
      refreshed = false;
      if (response.body === null) throw new ConnectionError('connection_failed', 'the watch answer has no body');
      watchIdle();
      for await (const event of readEvents(response.body, watchIdle)) {
        if (event.type === 'error') {
          const body = parseJson(event.data) as WatchErrorJson | undefined;
          // watch_overflow: this connection fell behind; the next one resumes from the last id.
          if (body?.code === 'watch_overflow') break;
          throw new MemkvClientError(body?.code ?? 'unexpected_response', body?.message ?? `the watch stream ended with an error: ${event.data}`, {
            status: 200,
          });
        }
        // The stream's opening `id:` (no data): where it began, the place to resume from until an event comes.
        if (event.data === '') {
          if (event.id !== undefined && event.id !== '') lastId = event.id;
          continue;
        }
        if (event.type !== 'message') continue;
        const json = parseJson(event.data) as WatchEventJson | undefined;
        if (json === undefined || typeof json.revision !== 'number' || typeof json.op !== 'string' || event.id === undefined) {
          throw new MemkvClientError('unexpected_response', `expected a watch event from memkv, got ${event.data.slice(0, 120)}`, { status: 200 });
        }
        lastId = event.id;
        failures = 0;
        yield { ...json, id: event.id } as WatchEvent;
      }
      // The stream ended (the server closed it, or cut this watcher off): resume after a pause.
      failures++;
    } catch (error) {
      if (aborted(signal)) return;
      // The server's answer (410 history_compacted, 403, 404 with watch off, ...): final.
      if (error instanceof MemkvClientError && !(error instanceof ConnectionError)) throw error;
      // A refused or broken connection, a timeout, an idle stream: reconnect.
      failures++;
    } finally {
      clearTimeout(idle);
      signal?.removeEventListener('abort', forwardAbort);
      // Ends the connection when the loop leaves early (a break in the caller's for-await, an error).
      controller.abort();
    }
  }
}

/** Parses the event stream of `body`; `onActivity` is called for every chunk received (heartbeats too). */
async function* readEvents(body: ReadableStream<Uint8Array>, onActivity: () => void): AsyncGenerator<SseEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let type = '';
  let data: string[] = [];
  let id: string | undefined;
  let idChanged = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onActivity();
      buffer += decoder.decode(value, { stream: true });
      // Lines end with CRLF, LF or CR; a CR at the very end may be the first half of a CRLF.
      const lines = buffer.split(/\r\n|\r(?!$)|\n/);
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line === '') {
          // An event, or (no data) only a new last event id.
          if (data.length > 0 || idChanged) yield { type: type === '' ? 'message' : type, data: data.join('\n'), id };
          type = '';
          data = [];
          idChanged = false;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let fieldValue = colon < 0 ? '' : line.slice(colon + 1);
        if (fieldValue.startsWith(' ')) fieldValue = fieldValue.slice(1);
        if (field === 'data') data.push(fieldValue);
        else if (field === 'event') type = fieldValue;
        else if (field === 'id' && !fieldValue.includes('\0')) {
          id = fieldValue;
          idChanged = true;
        }
        // `retry:` is for EventSource: this client keeps its own backoff.
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Waits `ms`; `false` when the signal aborted first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve(false);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
