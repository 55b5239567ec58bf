/**
 * The CLI over HTTPS, as curl: --cacert to trust a private CA, --cert and --key for mutual TLS,
 * or MEMKV_CACERT, MEMKV_CERT and MEMKV_KEY; the built executable against a real memkv that
 * requires client certificates.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, type TestCertificates } from '../helpers/certificates.js';
import { startMemkv } from '../helpers/servers.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

function memkv(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MEMKV_') && name !== 'NODE_EXTRA_CA_CERTS'));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...inherited, ...env }, timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

let certificates: TestCertificates;
let server: Awaited<ReturnType<typeof startMemkv>>;
let url: string;

beforeAll(async () => {
  certificates = makeTestCertificates();
  server = await startMemkv({
    tlsCertFile: certificates.server.certFile,
    tlsKeyFile: certificates.server.keyFile,
    tlsCaFile: certificates.ca.certFile,
    tlsClientAuth: 'require',
  });
  url = `https://localhost:${server.port}`;
});
afterAll(async () => {
  await server?.close();
  certificates?.remove();
});

describe('memkv over HTTPS with mutual TLS', () => {
  it('works with --cacert, --cert and --key', async () => {
    const flags = ['--url', url, '--cacert', certificates.ca.certFile, '--cert', certificates.client.certFile, '--key', certificates.client.keyFile];
    expect(await memkv(['set', 'greeting', 'hello', ...flags])).toMatchObject({ code: 0 });
    expect(await memkv(['get', 'greeting', ...flags])).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
  });

  it('works with MEMKV_CACERT, MEMKV_CERT and MEMKV_KEY', async () => {
    const env = { MEMKV_URL: url, MEMKV_CACERT: certificates.ca.certFile, MEMKV_CERT: certificates.client.certFile, MEMKV_KEY: certificates.client.keyFile };
    expect(await memkv(['set', 'env-key', 'from-env'], env)).toMatchObject({ code: 0 });
    expect((await memkv(['get', 'env-key'], env)).stdout).toBe('from-env\n');
  });

  it('without --cacert, the server certificate is refused', async () => {
    const run = await memkv(['get', 'greeting', '--url', url, '--cert', certificates.client.certFile, '--key', certificates.client.keyFile]);
    expect(run.code).toBe(2);
    // The server sends its chain up to the CA of TLS_CA_FILE, which the system does not trust.
    expect(run.stderr).toMatch(/TLS certificate is refused: .*\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/);
  });

  it('without a client certificate, the server ends the connection', async () => {
    const run = await memkv(['get', 'greeting', '--url', url, '--cacert', certificates.ca.certFile, '--timeout', '5s']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^memkv: cannot reach memkv at https:\/\/localhost:\d+\/api\/v1: /);
  });

  it('--cert without --key, and a file that cannot be read, are usage errors naming the flag', async () => {
    const alone = await memkv(['get', 'k', '--url', url, '--cert', certificates.client.certFile]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--key (MEMKV_KEY): a client certificate needs both --cert and --key; only --cert was given');
    const missing = await memkv(['get', 'k', '--url', url, '--cacert', join(certificates.dir, 'nope.pem')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--cacert: cannot read .*nope\.pem \(ENOENT\)/);
  });
});
