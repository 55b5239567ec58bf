import { connect, createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runToExit, startServerProcess, type ServerProcess } from '../helpers/process.js';

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

const json = { 'content-type': 'application/json' };

/** Sends raw bytes on a new TCP connection and returns everything the server answers until it closes. */
function rawExchange(port: number, data: string, waitMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.write(data);
    setTimeout(() => socket.destroy(), waitMs).unref();
  });
}

describe('the server process', () => {
  it('serves every route over TCP and reports healthy', async () => {
    server = await startServerProcess();
    const health = await fetch(`http://127.0.0.1:${server.healthPort}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ message: 'ok' });

    const base = `${server.url}/api/v1`;
    const set = await fetch(`${base}/set`, { method: 'POST', headers: json, body: JSON.stringify({ key: 'a/b c', value: ['x'], ttl: '1h' }) });
    expect(await set.json()).toEqual({ message: 'ok', version: 1 });
    const key = encodeURIComponent('a/b c');
    const pushed = await fetch(`${base}/${key}/push`, { method: 'PATCH', headers: json, body: JSON.stringify({ value: ['y', 'z'] }) });
    expect(((await pushed.json()) as { value: string[] }).value).toEqual(['x', 'y', 'z']);
    const popped = await (await fetch(`${base}/${key}/pop`, { method: 'PATCH' })).json();
    expect(popped).toMatchObject({ key: 'a/b c', value: ['x', 'y'], popped: 'z' });
    expect((await fetch(`${base}/${key}`, { method: 'PATCH', headers: json, body: '{"value":"s"}' })).status).toBe(200);
    const row = (await (await fetch(`${base}/${key}`)).json()) as { ttl: string; created_at: string };
    expect(row).toMatchObject({ kind: 'string', value: 's' });
    expect(Date.parse(row.ttl) - Date.parse(row.created_at)).toBe(3_600_000);
    expect((await fetch(`${base}/${key}`, { method: 'DELETE' })).status).toBe(200);
    const missing = await fetch(`${base}/${key}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'item_not_found' });

    expect(await server.stop('SIGTERM')).toBe(0);
  });

  it('listens on loopback by default', async () => {
    server = await startServerProcess();
    const listening = server.logs.find((entry) => entry.healthPort !== undefined);
    expect(listening.host).toBe('127.0.0.1');
  });

  it('answers 413 for a body over MAX_BODY_BYTES and keeps serving', async () => {
    server = await startServerProcess({ MAX_BODY_BYTES: '1kb' });
    const big = await fetch(`${server.url}/api/v1/set`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ key: 'big', value: 'x'.repeat(100_000) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ code: 'payload_too_large', message: 'the request body is larger than the limit of 1024 bytes' });
    expect((await fetch(`${server.url}/api/v1/big`)).status).toBe(404);
  });

  it('answers a malformed HTTP request with 400 and keeps serving', async () => {
    server = await startServerProcess();
    const answer = await rawExchange(server.port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    const badHeader = await rawExchange(server.port, 'GET /api/v1/k HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(badHeader).toMatch(/^HTTP\/1\.1 400/);
    const truncatedJson = await rawExchange(
      server.port,
      'POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{"key":"k',
    );
    expect(truncatedJson).toMatch(/^HTTP\/1\.1 400/);
    expect(truncatedJson).toContain('"code":"invalid_json"');
    expect((await fetch(`${server.url}/api/v1/anything`)).status).toBe(404);
    expect(server.child.exitCode).toBeNull();
  });

  it('finishes a request in flight on SIGTERM, then exits 0', async () => {
    server = await startServerProcess();
    const body = JSON.stringify({ key: 'late', value: 'v' });
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    // Headers and half the body now; the rest after the signal.
    socket.write(`POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.slice(0, 5));
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.child.exitCode).toBeNull();
    socket.write(body.slice(5));
    const code = await server.exited;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('{"message":"ok","version":1}');
    expect(code).toBe(0);
    expect(server.logs.some((entry) => entry.msg === 'memkv stopped')).toBe(true);
  });

  it('never answers /health while the API port refuses, during the drain on SIGTERM either', async () => {
    server = await startServerProcess();
    const { port, healthPort } = server;
    // A request in flight keeps the drain going: headers and part of the body only.
    const body = JSON.stringify({ key: 'slow', value: 'v' });
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.on('data', () => {});
    socket.write(`POST /api/v1/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.child.kill('SIGTERM');
    const opens = (at: number): Promise<boolean> =>
      new Promise((resolve) => {
        const probe = connect(at, '127.0.0.1');
        probe.once('connect', () => {
          probe.destroy();
          resolve(true);
        });
        probe.once('error', () => resolve(false));
      });
    // For half a second of the drain: whenever /health answers 200, the API port accepts.
    let healthAnswers = 0;
    const until = Date.now() + 500;
    while (Date.now() < until) {
      const health = await fetch(`http://127.0.0.1:${healthPort}/health`).then((r) => r.status, () => undefined);
      if (health !== 200) continue;
      healthAnswers++;
      expect(await opens(port), '/health answered 200 while the API port refused a connection').toBe(true);
    }
    expect(server.child.exitCode).toBeNull(); // still draining: the request is unfinished
    socket.write(body.slice(5));
    expect(await server.exited).toBe(0);
    // The health port closed when the drain began (its first answers may precede the signal's delivery).
    expect(healthAnswers).toBeLessThan(5);
  });

  it('exits with 2 and names the variable on a bad configuration', async () => {
    const result = await runToExit({ DEFAULT_TTL: 'forever' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/DEFAULT_TTL: accepts 0 \(never\) or a duration/);
  });

  it('exits with 1 and a clear message when the port is taken', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const result = await runToExit({ PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/a port is already in use/);
    } finally {
      blocker.close();
    }
  });
});
