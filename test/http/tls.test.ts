/**
 * HTTPS on the API port, in process: the raw front and the fast path answer inside the TLS
 * stream, plain HTTP to the TLS port is closed without harm, the client refuses certificates it
 * must not trust, mutual TLS (require and optional), and the health port with HEALTH_TLS.
 */
import type { FastifyInstance } from 'fastify';
import { connect, type AddressInfo } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient, ConnectionError } from '@memkv/client';
import { createStore, type Store } from '../../src/engine/store.js';
import { createApiServer } from '../../src/http/api-server.js';
import { buildApp, fastPathStats } from '../../src/http/app.js';
import { readTlsFiles, type TlsFiles } from '../../src/http/tls.js';
import { makeTestCertificates, type CertificatePair, type TestCertificates } from '../helpers/certificates.js';
import { countingFetch, startMemkv } from '../helpers/servers.js';
import { WireConnection } from '../helpers/wire.js';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { startServer } from '../../src/server.js';

let certificates: TestCertificates;
beforeAll(() => {
  certificates = makeTestCertificates();
});
afterAll(() => certificates?.remove());

interface TlsApp {
  app: FastifyInstance;
  store: Store;
  port: number;
  close(): Promise<void>;
}

const opened: TlsApp[] = [];
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close();
});

/** buildApp on an HTTPS API server listening on 127.0.0.1 (fast path and raw front on unless `fastPath` is false). */
async function startTlsApp(files: TlsFiles, fastPath = true): Promise<TlsApp> {
  const store = createStore();
  const api = createApiServer({ tls: readTlsFiles(files) });
  const app = await buildApp({ store, server: api, fastPath });
  await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
  const { port } = api.server.address() as AddressInfo;
  const running: TlsApp = {
    app,
    store,
    port,
    async close() {
      const drained = new Promise<void>((resolve) => api.server.close(() => resolve()));
      api.server.closeAllConnections();
      await app.close();
      await drained;
      store.close();
    },
  };
  opened.push(running);
  return running;
}

const serverFiles = (pair: CertificatePair = certificates.server): TlsFiles => ({ certFile: pair.certFile, keyFile: pair.keyFile });
const trusting = (ca: string, client?: CertificatePair): Agent =>
  new Agent({ connect: { ca, ...(client === undefined ? {} : { cert: client.cert, key: client.key }) } });

/** Opens a TLS connection; resolves with the socket once the handshake is done, rejects with its error. */
function handshake(port: number, options: { ca: string; cert?: string; key?: string; servername?: string }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ port, host: '127.0.0.1', ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('HTTPS through the raw front and the fast path', () => {
  it('answers pipelined hot requests inside the TLS stream without handing the connection over', async () => {
    const { app, port } = await startTlsApp(serverFiles());
    const connection = await WireConnection.open(port, { ca: certificates.ca.cert });
    const body = '{"key":"k","value":"v"}';
    const host = `Host: 127.0.0.1:${port}\r\n`;
    await connection.write(
      Buffer.from(
        `POST /api/v1/set HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
          `GET /api/v1/k HTTP/1.1\r\n${host}\r\n` +
          `GET /api/v1/k HTTP/1.1\r\n${host}\r\n`,
      ),
    );
    const answers = await connection.waitForAnswers(3, 5000);
    connection.close();
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(JSON.parse(answers[2]!.body)).toMatchObject({ key: 'k', value: 'v' });
    const stats = fastPathStats(app)!;
    expect(stats.answered).toBe(3);
    expect(stats.handedOver).toBe(0);
  });

  it('hands a request it does not serve to Fastify on the same TLS connection', async () => {
    const { app, port } = await startTlsApp(serverFiles());
    const connection = await WireConnection.open(port, { ca: certificates.ca.cert });
    const host = `Host: 127.0.0.1:${port}\r\n`;
    await connection.write(Buffer.from(`GET /api/v1/db/size HTTP/1.1\r\n${host}\r\nGET /api/v1/missing HTTP/1.1\r\n${host}\r\n`));
    const answers = await connection.waitForAnswers(2, 5000);
    connection.close();
    expect(answers.map((answer) => [answer.status, JSON.parse(answer.body)])).toEqual([
      [200, { keys: 0 }],
      [404, { code: 'item_not_found', message: expect.any(String) }],
    ]);
    expect(fastPathStats(app)!.handedOver).toBe(1);
  });
});

describe('HTTPS with auth on', () => {
  it('serves login, the data routes with the token, user management and the API document', async () => {
    const server = await startMemkv({
      tlsCertFile: certificates.server.certFile,
      tlsKeyFile: certificates.server.keyFile,
      authEnabled: 'true',
      adminUser: 'admin',
      adminPassword: 'admin-password',
      passwordHashCost: '1024',
    });
    try {
      const dispatcher = trusting(certificates.ca.cert);
      const client = createClient({ url: `https://localhost:${server.port}`, fetchOptions: { dispatcher } });
      const tokens = await client.login('admin', 'admin-password');
      await client.set('secret', 'v');
      expect((await client.get('secret'))?.value).toBe('v');
      const users = await fetch(`https://localhost:${server.port}/api/v1/auth/users`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
        dispatcher,
      } as unknown as RequestInit);
      expect(await users.json()).toMatchObject({ users: [{ username: 'admin', role: 'admin' }] });
      await client.logout();
      await expect(createClient({ url: `https://localhost:${server.port}`, fetchOptions: { dispatcher } }).size()).rejects.toThrow(/token/i);
      const document = await fetch(`https://localhost:${server.port}/api/v1/docs/swagger.json`, { dispatcher } as unknown as RequestInit);
      expect(((await document.json()) as { openapi: string }).openapi).toBe('3.0.3');
    } finally {
      await server.close();
    }
  });
});

describe('plain HTTP to the TLS port', () => {
  it('closes the connection without an answer in the clear, and the server keeps serving HTTPS', async () => {
    const { port } = await startTlsApp(serverFiles());
    const received = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      socket.write(`GET /api/v1/db/size HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    });
    // Whatever TLS alert came back, it is no HTTP answer.
    expect(received).not.toMatch(/HTTP\/1\.1/);
    const client = createClient({ url: `https://127.0.0.1:${port}`, fetchOptions: { dispatcher: trusting(certificates.ca.cert) } });
    expect(await client.size()).toBe(0);
  });
});

describe('failed handshakes', () => {
  it('are logged at debug level with the reason, and the server keeps serving', async () => {
    const lines: any[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')));
        done();
      },
    });
    const config = loadConfig({
      env: {},
      overrides: { host: '127.0.0.1', port: '0', healthPort: '0', tlsCertFile: certificates.server.certFile, tlsKeyFile: certificates.server.keyFile },
    });
    const server = await startServer(config, pino({ level: 'debug' }, destination));
    try {
      await new Promise<void>((resolve) => {
        const socket = connect(server.port, '127.0.0.1');
        socket.on('error', () => {});
        socket.on('close', () => resolve());
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      const logged = lines.find((line) => typeof line.msg === 'string' && line.msg.startsWith('TLS handshake failed'));
      expect(logged).toMatchObject({ level: 20, address: '127.0.0.1' });
      expect(lines.find((line) => typeof line.msg === 'string' && line.msg.startsWith('TLS: serving'))).toMatchObject({ subject: expect.stringContaining('CN=memkv-server') });
    } finally {
      await server.close();
    }
  });
});

describe('the client refuses a certificate it must not trust', () => {
  const refusal = async (pair: CertificatePair, url: (port: number) => string, code: string): Promise<void> => {
    const { port } = await startTlsApp(serverFiles(pair));
    const counted = countingFetch();
    const client = createClient({ url: url(port), retries: 2, fetch: counted.fetch, fetchOptions: { dispatcher: trusting(certificates.ca.cert) } });
    const error = await client.size().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toContain(`(${code})`);
    expect(((error as ConnectionError).cause as { cause?: { code?: string } }).cause?.code).toBe(code);
    // Refused again on every attempt: not retried, although size() is idempotent.
    expect(counted.calls()).toBe(1);
  };

  it('an expired certificate', () => refusal(certificates.expired, (port) => `https://127.0.0.1:${port}`, 'CERT_HAS_EXPIRED'));
  it('a certificate for another host', () => refusal(certificates.wrongHost, (port) => `https://localhost:${port}`, 'ERR_TLS_CERT_ALTNAME_INVALID'));
  it('a self-signed certificate it was not told to trust', () =>
    refusal(certificates.selfSigned, (port) => `https://127.0.0.1:${port}`, 'DEPTH_ZERO_SELF_SIGNED_CERT'));

  it('without a CA given, the platform trust store refuses the test CA too', async () => {
    const { port } = await startTlsApp(serverFiles());
    const client = createClient({ url: `https://localhost:${port}`, retries: 0 });
    await expect(client.size()).rejects.toThrow(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  it('accepts the server certificate by host name and by address once its CA is trusted', async () => {
    const { port } = await startTlsApp(serverFiles());
    for (const host of ['localhost', '127.0.0.1']) {
      const client = createClient({ url: `https://${host}:${port}`, fetchOptions: { dispatcher: trusting(certificates.ca.cert) } });
      await client.set(`key-${host}`, 'v');
      expect((await client.get(`key-${host}`))?.value).toBe('v');
    }
  });
});

describe('mutual TLS', () => {
  const mutual = (clientAuth: 'require' | 'optional'): TlsFiles => ({ ...serverFiles(), caFile: certificates.ca.certFile, clientAuth });

  it('TLS_CLIENT_AUTH=require refuses a client without a certificate or with another CA\'s, and serves one with a valid certificate', async () => {
    const { port } = await startTlsApp(mutual('require'));
    const url = `https://localhost:${port}`;
    const without = createClient({ url, retries: 0, fetchOptions: { dispatcher: trusting(certificates.ca.cert) } });
    await expect(without.size()).rejects.toBeInstanceOf(ConnectionError);
    const stranger = createClient({ url, retries: 0, fetchOptions: { dispatcher: trusting(certificates.ca.cert, certificates.strangerClient) } });
    await expect(stranger.size()).rejects.toBeInstanceOf(ConnectionError);
    const valid = createClient({ url, fetchOptions: { dispatcher: trusting(certificates.ca.cert, certificates.client) } });
    await valid.set('k', 'v');
    expect(await valid.size()).toBe(1);
  });

  it('TLS_CLIENT_AUTH=optional serves a client without a certificate, and ends the connection of one whose certificate does not verify', async () => {
    const { port } = await startTlsApp(mutual('optional'));
    const url = `https://localhost:${port}`;
    const without = createClient({ url, fetchOptions: { dispatcher: trusting(certificates.ca.cert) } });
    expect(await without.size()).toBe(0);
    const valid = createClient({ url, fetchOptions: { dispatcher: trusting(certificates.ca.cert, certificates.client) } });
    expect(await valid.size()).toBe(0);
    const stranger = createClient({ url, retries: 0, fetchOptions: { dispatcher: trusting(certificates.ca.cert, certificates.strangerClient) } });
    await expect(stranger.size()).rejects.toBeInstanceOf(ConnectionError);
    // A request the raw front would answer itself is refused too: the check comes before the front.
    await expect(stranger.get('k')).rejects.toBeInstanceOf(ConnectionError);
    await expect(stranger.set('k', 'v')).rejects.toBeInstanceOf(ConnectionError);
    expect(await valid.get('k')).toBeNull();
  });

  it('the server asks for a certificate during the handshake', async () => {
    const { port } = await startTlsApp(mutual('optional'));
    const socket = await handshake(port, { ca: certificates.ca.cert, cert: certificates.client.cert, key: certificates.client.key, servername: 'localhost' });
    expect(socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    socket.destroy();
  });
});

describe('TLS versions', () => {
  it('refuses TLS 1.1 and below', async () => {
    const { port } = await startTlsApp(serverFiles());
    const failure = await new Promise<Error>((resolve, reject) => {
      const socket = connectTls({ port, host: '127.0.0.1', ca: certificates.ca.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
      socket.once('secureConnect', () => reject(new Error('a TLS 1.1 handshake succeeded')));
      socket.once('error', resolve);
    });
    expect(failure.message).toMatch(/version|protocol/i);
  });
});

describe('the health port', () => {
  it('stays plain HTTP with TLS on the API, and serves HTTPS with HEALTH_TLS=true', async () => {
    const files = { tlsCertFile: certificates.server.certFile, tlsKeyFile: certificates.server.keyFile };
    const plain = await startMemkv(files);
    try {
      expect((await fetch(`http://127.0.0.1:${plain.healthPort}/health`)).status).toBe(200);
    } finally {
      await plain.close();
    }
    const secure = await startMemkv({ ...files, healthTls: 'true' });
    try {
      const dispatcher = trusting(certificates.ca.cert);
      const health = await fetch(`https://localhost:${secure.healthPort}/health`, { dispatcher } as unknown as RequestInit);
      expect(health.status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${secure.healthPort}/health`)).rejects.toThrow();
    } finally {
      await secure.close();
    }
  });

  it('with HEALTH_TLS and TLS_CLIENT_AUTH=require, asks probes for no client certificate', async () => {
    const server = await startMemkv({
      tlsCertFile: certificates.server.certFile,
      tlsKeyFile: certificates.server.keyFile,
      tlsCaFile: certificates.ca.certFile,
      tlsClientAuth: 'require',
      healthTls: 'true',
    });
    try {
      const dispatcher = trusting(certificates.ca.cert);
      expect((await fetch(`https://localhost:${server.healthPort}/ready`, { dispatcher } as unknown as RequestInit)).status).toBe(200);
      await expect(createClient({ url: `https://localhost:${server.port}`, retries: 0, fetchOptions: { dispatcher } }).size()).rejects.toBeInstanceOf(ConnectionError);
    } finally {
      await server.close();
    }
  });
});
