/**
 * Raw HTTP/1.1 over TCP for pipelining tests: exact writes (split where the test says, with the
 * server proven to have read the first part before the second is sent) and the answers parsed
 * as they arrive.
 *
 * The split check needs the server in this process (startMemkv): the 'net.server.socket'
 * diagnostics channel hands over each accepted socket, whose `bytesRead` counts what the server
 * has read from the kernel, whoever consumes it (the raw front, or llhttp through the handle).
 */
import { subscribe } from 'node:diagnostics_channel';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** One HTTP answer. */
export interface WireAnswer {
  status: number;
  /** Status line and header lines, without `Date`, joined by `\n`. */
  head: string;
  /** The body, decoded from chunked when it was sent so, as UTF-8. */
  body: string;
}

/** Server-side sockets accepted in this process, by the client's port. */
const accepted = new Map<number, Socket>();
subscribe('net.server.socket', (message) => {
  const { socket } = message as { socket: Socket };
  const port = socket.remotePort;
  if (port === undefined) return;
  accepted.set(port, socket);
  socket.once('close', () => {
    if (accepted.get(port) === socket) accepted.delete(port);
  });
});

/** Whether `answer` says that the server closes the connection after it. */
export const announcesClose = (answer: WireAnswer): boolean => /^connection:\s*close\s*$/im.test(answer.head);

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Parses the answer that starts at `start` of `data`.
 * @returns the answer and the offset past it, or undefined while it is incomplete
 */
export function parseAnswer(data: Buffer, start: number): { answer: WireAnswer; end: number } | undefined {
  const headEnd = data.indexOf('\r\n\r\n', start);
  if (headEnd < 0) return undefined;
  const lines = data.toString('latin1', start, headEnd).split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  let length = 0;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') length = Number(value);
    else if (name === 'transfer-encoding') chunked = value.toLowerCase().split(',').pop()!.trim() === 'chunked';
  }
  const head = lines.filter((line) => !/^date:/i.test(line)).join('\n');
  let p = headEnd + 4;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) length = 0;
  if (!chunked) {
    if (data.length < p + length) return undefined;
    return { answer: { status, head, body: data.toString('utf8', p, p + length) }, end: p + length };
  }
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = data.indexOf('\r\n', p);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.toString('latin1', p, lineEnd).split(';')[0]!, 16);
    p = lineEnd + 2;
    if (size === 0) {
      // Trailer lines, then the blank line.
      for (;;) {
        const trailerEnd = data.indexOf('\r\n', p);
        if (trailerEnd < 0) return undefined;
        const empty = trailerEnd === p;
        p = trailerEnd + 2;
        if (empty) return { answer: { status, head, body: Buffer.concat(parts).toString('utf8') }, end: p };
      }
    }
    if (data.length < p + size + 2) return undefined;
    parts.push(data.subarray(p, p + size));
    p += size + 2;
  }
}

/** A client connection that writes exactly the bytes it is given and collects the answers. */
export class WireConnection {
  readonly #socket: Socket;
  #data: Buffer = Buffer.alloc(0);
  #parsed = 0;
  readonly #answers: WireAnswer[] = [];
  #closed = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#data = this.#data.length === 0 ? chunk : Buffer.concat([this.#data, chunk]);
      for (;;) {
        const parsed = parseAnswer(this.#data, this.#parsed);
        if (parsed === undefined) break;
        this.#answers.push(parsed.answer);
        this.#parsed = parsed.end;
      }
      this.#wake?.();
    });
    const closed = (): void => {
      this.#closed = true;
      this.#wake?.();
    };
    socket.on('error', closed);
    socket.on('end', closed);
    socket.on('close', closed);
  }

  /**
   * Connects to `port` on 127.0.0.1, with Nagle off so that each write leaves at once; with
   * `tls`, over TLS trusting the CA certificate `tls.ca` (the bytes written are then the
   * plaintext inside the TLS stream).
   */
  static open(port: number, tls?: { ca: string }): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket =
        tls === undefined ? connect({ port, host: '127.0.0.1', noDelay: true }) : connectTls({ port, host: '127.0.0.1', ca: tls.ca }).setNoDelay(true);
      socket.once('error', reject);
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        socket.removeListener('error', reject);
        resolve(new WireConnection(socket));
      });
    });
  }

  /** Whether the server closed the connection (or it failed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The answers so far, in the order they arrived. */
  get answers(): readonly WireAnswer[] {
    return this.#answers;
  }

  /** Writes `bytes`; resolves once they were handed to the kernel. */
  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.#socket.write(bytes, (error) => (error ? reject(error) : resolve())));
  }

  /**
   * Resolves true once the server (in this process) has read at least `bytes` bytes of this
   * connection, false if it closed the connection first or `timeoutMs` passed. Waiting a fixed
   * number of event-loop turns is not enough: Node accepts one pending connection per turn, so
   * with many connections opening at once the server may not even have accepted this one yet.
   */
  async serverHasRead(bytes: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const server = accepted.get(this.#socket.localPort!);
      if (server !== undefined && server.bytesRead >= bytes) return true;
      if (this.#closed || Date.now() > deadline) return false;
      await nextTurn();
    }
  }

  /**
   * Resolves once `count` answers arrived in all, the server closed the connection or
   * `timeoutMs` passed, with the answers so far.
   */
  async waitForAnswers(count: number, timeoutMs: number): Promise<readonly WireAnswer[]> {
    if (this.#answers.length >= count || this.#closed) return this.#answers;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const wake = (): void => {
        if (this.#answers.length >= count || this.#closed) done();
      };
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = wake;
    });
    this.#wake = undefined;
    return this.#answers;
  }

  /** Resolves true once the server closed the connection, false after `timeoutMs`. */
  async waitForClose(timeoutMs: number): Promise<boolean> {
    if (!this.#closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        this.#wake = () => {
          if (this.#closed) done();
        };
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
      });
      this.#wake = undefined;
    }
    return this.#closed;
  }

  /** Ends the connection at once. */
  close(): void {
    this.#socket.destroy();
  }
}
