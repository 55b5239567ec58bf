import { describe, expect, it } from 'vitest';
import { CLI_DEFAULTS, loadCliSettings } from '../../src/config/cli-settings.js';
import { ConfigError } from '../../src/errors.js';

describe('loadCliSettings', () => {
  it('uses the defaults when nothing is set, ignoring blank variables', () => {
    expect(loadCliSettings({ env: { MEMKV_URL: '  ', MEMKV_TOKEN: '' } })).toEqual(CLI_DEFAULTS);
  });

  it('reads the environment, and flags win over it', () => {
    const env = { MEMKV_URL: 'http://db:1', MEMKV_API_VERSION: 'v2', MEMKV_TOKEN: 'env-token', MEMKV_TIMEOUT: '1.5s' };
    expect(loadCliSettings({ env })).toEqual({ url: 'http://db:1', apiVersion: 'v2', token: 'env-token', timeoutMs: 1500 });
    expect(loadCliSettings({ env, flags: { url: 'http://other:2', apiVersion: 'v3', token: 'flag-token', timeout: '250ms' } })).toEqual({
      url: 'http://other:2',
      apiVersion: 'v3',
      token: 'flag-token',
      timeoutMs: 250,
    });
  });

  it('names the flag or the variable that holds a bad timeout', () => {
    expect(() => loadCliSettings({ env: { MEMKV_TIMEOUT: '10' } })).toThrow(/^MEMKV_TIMEOUT: accepts a duration/);
    expect(() => loadCliSettings({ env: {}, flags: { timeout: '0s' } })).toThrow(ConfigError);
    expect(() => loadCliSettings({ env: {}, flags: { timeout: '1000h' } })).toThrow(/^--timeout: .*596h/);
  });
});
