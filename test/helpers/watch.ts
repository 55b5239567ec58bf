/** Test helpers for watch: changes made by hand, an in-memory sink, and an SSE reader over TCP. */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Change, ChangeOp } from '../../src/engine/change.js';
import type { WatchSink } from '../../src/watch/watch-hub.js';

/** A change of one key (`count` changes in its revision), with a string entry for the ops that carry one. */
export function change(revision: number, key: string, op: ChangeOp = 'set', index = 0, count = 1, value = `v${revision}`): Change {
  const atMs = Date.UTC(2026, 10, 27);
  const base = { revision, index, count, op, key };
  switch (op) {
    case 'push':
      return { ...base, entry: { key, kind: 'string_slice', length: 1, expiresAtMs: null, createdAtMs: atMs, updatedAtMs: atMs, version: revision }, values: [value] };
    case 'pop':
      return { ...base, entry: { key, kind: 'string_slice', length: 0, expiresAtMs: null, createdAtMs: atMs, updatedAtMs: atMs, version: revision }, popped: value };
    case 'set':
    case 'update':
    case 'ttl':
      return { ...base, entry: { key, kind: 'string', value, expiresAtMs: null, createdAtMs: atMs, updatedAtMs: atMs, version: revision } } as Change;
    default:
      return { ...base, entry: undefined };
  }
}

/** One event as a reader parses it. */
export interface ParsedEvent {
  id: string | undefined;
  event: string | undefined;
  data: any;
}

/** Parses complete SSE frames out of `text`; answers them and the unparsed rest. */
export function parseFrames(text: string): { events: ParsedEvent[]; comments: string[]; rest: string } {
  const events: ParsedEvent[] = [];
  const comments: string[] = [];
  const frames = text.split('\n\n');
  const rest = frames.pop()!;
  for (const frame of frames) {
    let id: string | undefined;
    let event: string | undefined;
    let data: string | undefined;
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data = line.slice(6);
    }
    if (data !== undefined) events.push({ id, event, data: JSON.parse(data) });
  }
  return { events, comments, rest };
}

/** A sink that records what the hub writes; `reading = false` makes it hold everything, as a stalled socket. */
export class MemorySink extends EventEmitter implements WatchSink {
  text = '';
  /** What a stalled reader has not taken. */
  held = 0;
  reading = true;
  ended = false;
  finalText: string | undefined;
  readonly highWaterMark: number;

  constructor(highWaterMark = 16 * 1024) {
    super();
    this.highWaterMark = highWaterMark;
  }

  get writableLength(): number {
    return this.held;
  }

  write(text: string): boolean {
    this.text += text;
    if (this.reading) return true;
    this.held += text.length;
    return this.held < this.highWaterMark;
  }

  /** The reader takes everything held. */
  drain(): void {
    this.held = 0;
    this.reading = true;
    this.emit('drain');
  }

  end(text?: string): void {
    if (text !== undefined) this.text += text;
    this.finalText = text;
    this.ended = true;
  }

  /** Events and comments written so far. */
  parsed(): ReturnType<typeof parseFrames> {
    return parseFrames(this.text);
  }
}

/** A raw TCP watch request: the answer's head and the SSE text as it arrives (chunked framing removed). */
export class RawWatch {
  readonly socket: Socket;
  head = '';
  status = 0;
  /** The text received (unless `keepBody` is false: then only the counts below). */
  body = '';
  /** Events received (frames with data), and the id of the last one. */
  events = 0;
  lastId: string | undefined;
  readonly #keepBody: boolean;
  #frames = '';
  #raw = Buffer.alloc(0);
  #headDone = false;
  closed: Promise<void>;

  constructor(port: number, path: string, headers: Record<string, string> = {}, { keepBody = true }: { keepBody?: boolean } = {}) {
    this.#keepBody = keepBody;
    this.socket = connect(port, '127.0.0.1');
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: memkv\r\n${lines}\r\n`);
    this.socket.on('data', (chunk: Buffer) => this.#take(chunk));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  #take(chunk: Buffer): void {
    this.#raw = Buffer.concat([this.#raw, chunk]);
    if (!this.#headDone) {
      const end = this.#raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.head = this.#raw.subarray(0, end).toString('latin1');
      this.status = Number(/^HTTP\/1\.1 (\d+)/.exec(this.head)?.[1]);
      this.#raw = this.#raw.subarray(end + 4);
      this.#headDone = true;
    }
    const chunked = /^transfer-encoding: chunked/im.test(this.head);
    if (!chunked) {
      this.#text(this.#raw.toString('utf8'));
      this.#raw = Buffer.alloc(0);
      return;
    }
    for (;;) {
      const lineEnd = this.#raw.indexOf('\r\n');
      if (lineEnd < 0) return;
      const size = parseInt(this.#raw.subarray(0, lineEnd).toString('latin1'), 16);
      if (this.#raw.length < lineEnd + 2 + size + 2) return;
      this.#text(this.#raw.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8'));
      this.#raw = this.#raw.subarray(lineEnd + 2 + size + 2);
    }
  }

  #text(text: string): void {
    if (this.#keepBody) this.body += text;
    this.#frames += text;
    const frames = this.#frames.split('\n\n');
    this.#frames = frames.pop()!;
    for (const frame of frames) {
      const id = /^id: (.*)$/m.exec(frame)?.[1];
      if (id !== undefined && /^data: /m.test(frame)) {
        this.events++;
        this.lastId = id;
      }
    }
  }

  /** Waits until `test` holds for the body (polling), or fails after `timeoutMs`. */
  async until(test: (body: string) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test(this.body)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting; have ${JSON.stringify(this.body.slice(-300))} (head ${JSON.stringify(this.head)})`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
