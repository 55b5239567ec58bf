/** The TLS and CORS settings: what load.ts accepts, and the combinations it refuses with a message naming the variable. */
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';

const load = (env: Record<string, string>) => loadConfig({ env });
const TLS = { TLS_CERT_FILE: '/etc/memkv/cert.pem', TLS_KEY_FILE: '/etc/memkv/key.pem' };

describe('TLS settings', () => {
  it('default to plain HTTP, no client certificates, plain health port, no CORS, no trusted proxy', () => {
    expect(DEFAULTS).toMatchObject({
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      tlsCaFile: undefined,
      tlsClientAuth: 'none',
      healthTls: false,
      corsOrigins: [],
      trustProxy: false,
    });
  });

  it('take a certificate and key, a client CA with a client certificate mode, and HEALTH_TLS', () => {
    expect(load({ ...TLS, TLS_CA_FILE: '/etc/memkv/ca.pem', TLS_CLIENT_AUTH: 'Require', HEALTH_TLS: 'true' })).toMatchObject({
      tlsCertFile: '/etc/memkv/cert.pem',
      tlsKeyFile: '/etc/memkv/key.pem',
      tlsCaFile: '/etc/memkv/ca.pem',
      tlsClientAuth: 'require',
      healthTls: true,
    });
  });

  it.each([
    [{ TLS_CERT_FILE: '/c.pem' }, /^TLS_KEY_FILE: HTTPS needs both/],
    [{ TLS_KEY_FILE: '/k.pem' }, /^TLS_CERT_FILE: HTTPS needs both/],
    [{ TLS_CLIENT_AUTH: 'require', TLS_CA_FILE: '/ca.pem' }, /^TLS_CLIENT_AUTH: needs HTTPS/],
    [{ ...TLS, TLS_CLIENT_AUTH: 'optional' }, /^TLS_CA_FILE: TLS_CLIENT_AUTH=optional needs the CA certificates/],
    [{ ...TLS, TLS_CA_FILE: '/ca.pem' }, /^TLS_CA_FILE: is only used to check client certificates/],
    [{ ...TLS, TLS_CLIENT_AUTH: 'sometimes' }, /^TLS_CLIENT_AUTH: accepts none, optional, require/],
    [{ HEALTH_TLS: 'true' }, /^HEALTH_TLS: needs HTTPS on the API/],
  ])('refuse %j', (env, message) => {
    expect(() => load(env as Record<string, string>)).toThrow(message);
  });
});

describe('CORS_ORIGINS', () => {
  it('takes a comma-separated list of origins, or *', () => {
    expect(load({ CORS_ORIGINS: 'https://app.example.com, http://localhost:3000' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:3000',
    ]);
    expect(load({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
  });

  it.each(['https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'ftp://files.example.com', '*, https://a.example', 'https://APP.example.com'])(
    'refuses %j',
    (value) => {
      expect(() => load({ CORS_ORIGINS: value })).toThrow(/^CORS_ORIGINS: accepts/);
    },
  );
});
