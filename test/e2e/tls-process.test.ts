/**
 * TLS in the real server process: each kind of unusable certificate or key file stops the start
 * (exit code 2, a message naming the variable and the file), and SIGHUP rotates the certificate
 * for new connections while connections already open keep working.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, type TestCertificates } from '../helpers/certificates.js';
import { runToExit, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { useRedisServer } from '../helpers/redis.js';

let certificates: TestCertificates;
let server: ServerProcess | undefined;
beforeAll(() => {
  certificates = makeTestCertificates();
});
afterAll(() => certificates?.remove());
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

describe('a TLS file that cannot be used stops the start', () => {
  const cases: [string, () => Record<string, string>, RegExp][] = [
    ['a missing certificate', () => ({ TLS_CERT_FILE: join(certificates.dir, 'nope.pem'), TLS_KEY_FILE: certificates.server.keyFile }), /TLS_CERT_FILE: .*nope\.pem does not exist/],
    ['a missing key', () => ({ TLS_CERT_FILE: certificates.server.certFile, TLS_KEY_FILE: join(certificates.dir, 'nope.key') }), /TLS_KEY_FILE: .*nope\.key does not exist/],
    ['an unreadable certificate (a directory)', () => ({ TLS_CERT_FILE: certificates.dir, TLS_KEY_FILE: certificates.server.keyFile }), /TLS_CERT_FILE: .* is a directory/],
    ['a certificate file that is not PEM', () => ({ TLS_CERT_FILE: notPem(), TLS_KEY_FILE: certificates.server.keyFile }), /TLS_CERT_FILE: .*not-pem\.txt is not a PEM file/],
    ['a key given as the certificate', () => ({ TLS_CERT_FILE: certificates.server.keyFile, TLS_KEY_FILE: certificates.server.keyFile }), /TLS_CERT_FILE: .*server\.key is not a PEM certificate/],
    ['a certificate given as the key', () => ({ TLS_CERT_FILE: certificates.server.certFile, TLS_KEY_FILE: certificates.server.certFile }), /TLS_KEY_FILE: .*server\.pem is not a PEM private key/],
    [
      'a key that does not match the certificate',
      () => ({ TLS_CERT_FILE: certificates.server.certFile, TLS_KEY_FILE: certificates.otherKeyFile }),
      /TLS_KEY_FILE: .*other\.key is not the key of the certificate in TLS_CERT_FILE \(.*server\.pem\)/,
    ],
    [
      'a missing client CA',
      () => ({ TLS_CERT_FILE: certificates.server.certFile, TLS_KEY_FILE: certificates.server.keyFile, TLS_CA_FILE: join(certificates.dir, 'no-ca.pem'), TLS_CLIENT_AUTH: 'require' }),
      /TLS_CA_FILE: .*no-ca\.pem does not exist/,
    ],
    ['a certificate without its key', () => ({ TLS_CERT_FILE: certificates.server.certFile }), /TLS_KEY_FILE: HTTPS needs both TLS_CERT_FILE and TLS_KEY_FILE/],
  ];
  for (const [name, env, message] of cases) {
    it(name, async () => {
      const { code, stderr, stdout } = await runToExit(env());
      expect(code).toBe(2);
      expect(stderr).toMatch(/^memkv: invalid configuration: /);
      expect(stderr).toMatch(message);
      // Nothing listened.
      expect(stdout).not.toMatch(/listening/);
    });
  }

  function notPem(): string {
    const path = join(certificates.dir, 'not-pem.txt');
    writeFileSync(path, 'hello\n');
    return path;
  }
});

/** Connects over TLS trusting the test CA; resolves once the handshake is done. */
function connect(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ port, host: '127.0.0.1', servername: 'localhost', ca: certificates.ca.cert });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends one keep-alive request on `socket` and resolves with the answer's status line and body. */
function request(socket: TLSSocket, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? '0');
      if (text.length < headEnd + 4 + length) return;
      socket.removeListener('data', onData);
      resolve({ status: Number(text.split(' ')[1]), body: text.slice(headEnd + 4, headEnd + 4 + length) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET /api/v1${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
}

const commonName = (socket: TLSSocket): string | undefined => socket.getPeerCertificate().subject?.CN as string | undefined;

/** Resolves with the `times`-th log line of `process` that matches `test`, or rejects after `timeoutMs`. */
async function logged(process: ServerProcess, test: (entry: any) => boolean, times = 1, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = process.logs.filter((line) => typeof line === 'object' && line !== null && test(line));
    if (entries.length >= times) return entries[times - 1];
    if (Date.now() > deadline) throw new Error(`fewer than ${times} such log lines; logs: ${JSON.stringify(process.logs)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The test server certificate and key copied under `name`, as files a rotation replaces. */
function liveCertificate(name: string): { certFile: string; keyFile: string } {
  const dir = join(certificates.dir, name);
  mkdirSync(dir, { recursive: true });
  const files = { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
  copyFileSync(certificates.server.certFile, files.certFile);
  copyFileSync(certificates.server.keyFile, files.keyFile);
  return files;
}

describe('SIGHUP', () => {
  it('serves the new certificate to new connections, keeps old connections working, and keeps the old certificate when the new file is bad', async () => {
    const { certFile, keyFile } = liveCertificate('live');
    server = await startServerProcess({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });

    const old = await connect(server.port);
    expect(commonName(old)).toBe('memkv-server');
    expect((await request(old, '/db/size')).status).toBe(200);

    copyFileSync(certificates.rotated.certFile, certFile);
    copyFileSync(certificates.rotated.keyFile, keyFile);
    server.child.kill('SIGHUP');
    await logged(server, (entry) => typeof entry.msg === 'string' && entry.msg.startsWith('TLS: new connections get'));

    const fresh = await connect(server.port);
    expect(commonName(fresh)).toBe('memkv-rotated');
    expect(await request(fresh, '/db/size')).toEqual({ status: 200, body: '{"keys":0}' });
    // The connection opened before the rotation still works, with its certificate.
    expect(commonName(old)).toBe('memkv-server');
    expect(await request(old, '/db/size')).toEqual({ status: 200, body: '{"keys":0}' });
    fresh.destroy();

    // A key that does not match: logged, and the rotated certificate stays in use.
    copyFileSync(certificates.otherKeyFile, keyFile);
    server.child.kill('SIGHUP');
    const failure = await logged(server, (entry) => entry.level === 50 && typeof entry.msg === 'string' && entry.msg.includes('the certificate in use is kept'));
    expect(failure.msg).toContain('TLS_KEY_FILE');
    const after = await connect(server.port);
    expect(commonName(after)).toBe('memkv-rotated');
    expect((await request(after, '/db/size')).status).toBe(200);
    after.destroy();
    old.destroy();
    expect(server.child.exitCode).toBeNull();
    expect(await server.stop('SIGTERM')).toBe(0);
  });
});

describe('SIGHUP with WORKERS=2 (STORAGE=redis)', () => {
  const redis = useRedisServer();

  it('is passed on to every worker: each serves the new certificate to new connections', async () => {
    const { certFile, keyFile } = liveCertificate('live-workers');
    server = await startServerProcess({ STORAGE: 'redis', REDIS_URL: redis.current.url, WORKERS: '2', TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
    const started = server;
    await logged(started, (entry) => entry.healthPort !== undefined && entry.loading !== true, 2, 15_000);

    copyFileSync(certificates.rotated.certFile, certFile);
    copyFileSync(certificates.rotated.keyFile, keyFile);
    started.child.kill('SIGHUP');
    // Both workers read the files again.
    await logged(started, (entry) => typeof entry.msg === 'string' && entry.msg.startsWith('TLS: new connections get'), 2, 15_000);

    // Fresh connections go to the workers in turn: every one gets the new certificate.
    for (let i = 0; i < 10; i++) {
      const socket = await connect(started.port);
      expect(commonName(socket)).toBe('memkv-rotated');
      expect((await request(socket, '/db/size')).status).toBe(200);
      socket.destroy();
    }
    expect(started.child.exitCode).toBeNull();
    expect(await started.stop('SIGTERM')).toBe(0);
  }, 40_000);
});
