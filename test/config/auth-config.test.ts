import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const ADMIN = { AUTH_ENABLED: 'true', ADMIN_USER: 'root', ADMIN_PASSWORD: 'root-password' };

function error(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('auth configuration', () => {
  it('is off by default, with 15 minute access and 7 day refresh tokens', () => {
    const config = loadConfig({ env: {} });
    expect(config.authEnabled).toBe(false);
    expect(config.accessTokenTtlMs).toBe(15 * 60_000);
    expect(config.refreshTokenTtlMs).toBe(7 * 24 * 3_600_000);
    expect(config.adminUser).toBeUndefined();
    expect(DEFAULTS.passwordHashCost).toBe(32768);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      env: {
        ...ADMIN,
        JWT_SECRET: ' a secret of more than thirty-two bytes ',
        ACCESS_TOKEN_TTL: '5m',
        REFRESH_TOKEN_TTL: '24h',
        AUTH_PROTECT_DOCS: 'true',
        LOGIN_RATE_LIMIT: '5',
        LOGIN_RATE_WINDOW: '30s',
        PASSWORD_HASH_COST: '16384',
      },
    });
    expect(config).toMatchObject({
      authEnabled: true,
      adminUser: 'root',
      adminPassword: 'root-password',
      jwtSecret: ' a secret of more than thirty-two bytes ',
      accessTokenTtlMs: 300_000,
      refreshTokenTtlMs: 86_400_000,
      authProtectDocs: true,
      loginRateLimit: 5,
      loginRateWindowMs: 30_000,
      passwordHashCost: 16384,
    });
  });

  it('refuses auth without an admin account, naming both variables', () => {
    expect(error({ AUTH_ENABLED: 'true' }).message).toMatch(/ADMIN_USER.*ADMIN_PASSWORD.*no default password/);
    expect(error({ AUTH_ENABLED: 'true', ADMIN_USER: 'root' }).option).toBe('ADMIN_PASSWORD');
  });

  it('refuses weak or malformed values without echoing secrets', () => {
    const weak = error({ ...ADMIN, ADMIN_PASSWORD: 'hunter2' });
    expect(weak.option).toBe('ADMIN_PASSWORD');
    expect(weak.message).not.toContain('hunter2');
    const short = error({ ...ADMIN, JWT_SECRET: 'too-short-secret' });
    expect(short.message).toMatch(/at least 32 bytes/);
    expect(short.message).not.toContain('too-short-secret');
    expect(error({ ...ADMIN, ADMIN_USER: 'no spaces' }).option).toBe('ADMIN_USER');
    expect(error({ ACCESS_TOKEN_TTL: '500ms' }).message).toMatch(/at least 1s/);
    expect(error({ ACCESS_TOKEN_TTL: '1h', REFRESH_TOKEN_TTL: '30m' }).option).toBe('REFRESH_TOKEN_TTL');
    expect(error({ PASSWORD_HASH_COST: '20000' }).message).toMatch(/power of two/);
    expect(error({ LOGIN_RATE_LIMIT: '0' }).option).toBe('LOGIN_RATE_LIMIT');
  });
});
