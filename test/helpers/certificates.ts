/**
 * Certificates for the TLS tests, made with the `openssl` CLI in a temporary directory: a CA, server
 * certificates for 127.0.0.1 and localhost (a second one for rotation), an expired one, one for
 * another host, a self-signed one, client certificates from the CA and from another CA, and a key
 * that matches no certificate. Elliptic-curve keys (P-256), so that the whole set takes well under a second.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, as files and as PEM text. */
export interface CertificatePair {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface TestCertificates {
  dir: string;
  /** The CA that signs the server and client certificates. */
  ca: CertificatePair;
  /** For 127.0.0.1 and localhost, from the CA (CN memkv-server). */
  server: CertificatePair;
  /** The same hosts and CA, another key and CN (memkv-rotated): what SIGHUP rotates to. */
  rotated: CertificatePair;
  /** For 127.0.0.1, from the CA, expired yesterday. */
  expired: CertificatePair;
  /** From the CA, for memkv.example.com only. */
  wrongHost: CertificatePair;
  /** For 127.0.0.1 and localhost, signed by its own key. */
  selfSigned: CertificatePair;
  /** A client certificate from the CA. */
  client: CertificatePair;
  /** A client certificate from another CA. */
  strangerClient: CertificatePair;
  /** A private key that belongs to no certificate here. */
  otherKeyFile: string;
  /** Removes the directory. */
  remove(): void;
}

const SERVER_HOSTS = 'subjectAltName=IP:127.0.0.1,DNS:localhost';

/** Runs `openssl` with `args`; fails saying what to install when it is missing. */
function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error("the TLS tests need the openssl CLI: install Debian's package (apt-get install openssl)");
    }
    throw new Error(`openssl ${args.join(' ')} failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
}

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Makes every certificate in a new temporary directory. */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'memkv-tls-'));
  const pair = (name: string): CertificatePair => {
    const certFile = join(dir, `${name}.pem`);
    const keyFile = join(dir, `${name}.key`);
    return {
      certFile,
      keyFile,
      get cert() {
        return readFileSync(certFile, 'utf8');
      },
      get key() {
        return readFileSync(keyFile, 'utf8');
      },
    };
  };
  const selfSigned = (name: string, subject: string, extension: string): CertificatePair => {
    openssl(['req', '-x509', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', subject, '-days', '2', '-addext', extension], dir);
    return pair(name);
  };
  const signed = (name: string, ca: string, subject: string, extension: string, days = '2'): CertificatePair => {
    openssl(['req', '-new', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
    writeFileSync(join(dir, `${name}.ext`), `${extension}\n`);
    // A negative -days puts the end of validity before the start: an expired certificate.
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', days, '-extfile', `${name}.ext`],
      dir,
    );
    return pair(name);
  };

  const ca = selfSigned('ca', '/CN=memkv test CA', 'basicConstraints=critical,CA:TRUE');
  selfSigned('stranger-ca', '/CN=another CA', 'basicConstraints=critical,CA:TRUE');
  const otherKey = join(dir, 'other.key');
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.key'], dir);
  return {
    dir,
    ca,
    server: signed('server', 'ca', '/CN=memkv-server', SERVER_HOSTS),
    rotated: signed('rotated', 'ca', '/CN=memkv-rotated', SERVER_HOSTS),
    expired: signed('expired', 'ca', '/CN=memkv-expired', SERVER_HOSTS, '-1'),
    wrongHost: signed('wrong-host', 'ca', '/CN=memkv.example.com', 'subjectAltName=DNS:memkv.example.com'),
    selfSigned: selfSigned('self-signed', '/CN=memkv-self-signed', SERVER_HOSTS),
    client: signed('client', 'ca', '/CN=memkv-client', 'extendedKeyUsage=clientAuth'),
    strangerClient: signed('stranger-client', 'stranger-ca', '/CN=stranger', 'extendedKeyUsage=clientAuth'),
    otherKeyFile: otherKey,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
