/**
 * The API's TLS material: the certificate, key and client CA files read and checked (a file that
 * is missing, unreadable, not PEM of the right kind, or a key that does not match the
 * certificate is a ConfigError naming the variable and the file), and the `node:tls` server
 * options built from them.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { TlsOptions } from 'node:tls';
import { ConfigError } from '../errors.js';

/** Where the files are and how client certificates are treated (the config's TLS slice). */
export interface TlsFiles {
  /** PEM certificate chain, the server's certificate first (TLS_CERT_FILE). */
  certFile: string;
  /** PEM private key of that certificate (TLS_KEY_FILE). */
  keyFile: string;
  /** PEM certificates of the CAs that sign client certificates (TLS_CA_FILE); needed unless `clientAuth` is `none`. */
  caFile?: string | undefined;
  /** `none` (default): none asked for; `optional`: asked for, checked when sent; `require`: a valid one needed. */
  clientAuth?: 'none' | 'optional' | 'require';
}

/** The files' contents, checked, with what the server needs to know of them. */
export interface TlsMaterial {
  /** Options for `https.createServer` / `tls.Server#setSecureContext`. */
  readonly options: TlsOptions;
  readonly clientAuth: 'none' | 'optional' | 'require';
  /** The server certificate's subject and end of validity, for the start-up log. */
  readonly subject: string;
  readonly validTo: Date;
}

/** TLS 1.2 is the oldest version served; Node's default cipher list is kept. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/**
 * Reads and checks the files of `files`, synchronously (at start, and on SIGHUP to rotate them).
 * @throws ConfigError naming the variable and the file: missing or unreadable, not a PEM
 *   certificate (or key), or a key that does not belong to the certificate
 */
export function readTlsFiles(files: TlsFiles): TlsMaterial {
  const { certFile, keyFile, caFile, clientAuth = 'none' } = files;
  if (clientAuth !== 'none' && caFile === undefined) throw new TypeError('a caFile is needed to check client certificates');
  const cert = readPem('TLS_CERT_FILE', certFile);
  const key = readPem('TLS_KEY_FILE', keyFile);
  const ca = caFile === undefined ? undefined : readPem('TLS_CA_FILE', caFile);

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new ConfigError('TLS_CERT_FILE', `${certFile} is not a PEM certificate (${(error as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new ConfigError('TLS_KEY_FILE', `${keyFile} is not a PEM private key, or is encrypted (${(error as Error).message})`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError('TLS_KEY_FILE', `${keyFile} is not the key of the certificate in TLS_CERT_FILE (${certFile})`);
  }
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch (error) {
      throw new ConfigError('TLS_CA_FILE', `${caFile} is not a PEM certificate (${(error as Error).message})`);
    }
  }
  return Object.freeze({
    options: Object.freeze({
      cert,
      key,
      minVersion: TLS_MIN_VERSION,
      ...(ca === undefined ? {} : { ca }),
      // `optional` asks for a certificate and lets the server refuse an invalid one itself (api-server.ts).
      ...(clientAuth === 'none' ? {} : { requestCert: true, rejectUnauthorized: clientAuth === 'require' }),
    }) as TlsOptions,
    clientAuth,
    subject: certificate.subject.replaceAll('\n', ', '),
    validTo: new Date(certificate.validTo),
  });
}

/**
 * The server options of `material` without client certificates: the health port's (HEALTH_TLS),
 * since probes seldom hold a client certificate.
 */
export function serverOnly(material: TlsMaterial): TlsOptions {
  const { cert, key, minVersion } = material.options;
  return { cert, key, minVersion };
}

function readPem(variable: string, path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? (error as Error).message})`;
    throw new ConfigError(variable, `${path} ${why}`);
  }
  if (!data.includes('-----BEGIN ')) throw new ConfigError(variable, `${path} is not a PEM file (no -----BEGIN line)`);
  return data;
}
