import { describe, expect, it } from 'vitest';
import { SCRYPT_DEFAULTS, checkScryptParams, hashPassword, isPasswordHash, verifyPassword } from '../../src/auth/passwords.js';
import { FAST_SCRYPT } from '../helpers/auth-app.js';

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery', FAST_SCRYPT);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterz', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('salts every hash, and the hash carries its parameters', async () => {
    const a = await hashPassword('same password', FAST_SCRYPT);
    const b = await hashPassword('same password', FAST_SCRYPT);
    expect(a).not.toBe(b);
    expect(a.split('$').slice(0, 4)).toEqual(['scrypt', '1024', '8', '1']);
    expect(a).not.toContain('same password');
    // A hash made with other parameters still verifies: they are read from the hash.
    const stronger = await hashPassword('same password', { ...FAST_SCRYPT, cost: 2048, parallelization: 2 });
    expect(await verifyPassword('same password', stronger)).toBe(true);
  });

  it('treats equivalent Unicode spellings as the same password', async () => {
    const hash = await hashPassword('caf\u00e9-password', FAST_SCRYPT);
    expect(await verifyPassword('cafe\u0301-password', hash)).toBe(true);
  });

  it('never matches a malformed or foreign hash', async () => {
    const hash = await hashPassword('password1', FAST_SCRYPT);
    for (const bad of ['', 'plain', hash.replace('scrypt', 'bcrypt'), hash.slice(0, -4), hash.replace('$1024$', '$1000$'), hash.replace('$1024$', `$${2 ** 30}$`)]) {
      expect(isPasswordHash(bad)).toBe(false);
      expect(await verifyPassword('password1', bad)).toBe(false);
    }
    expect(isPasswordHash(hash)).toBe(true);
  });

  it('has strong defaults and checks parameters by name', () => {
    expect(SCRYPT_DEFAULTS.cost * SCRYPT_DEFAULTS.parallelization).toBeGreaterThanOrEqual(2 ** 16);
    expect(checkScryptParams()).toEqual(SCRYPT_DEFAULTS);
    expect(() => checkScryptParams({ cost: 1000 })).toThrow(/cost must be a power of two/);
    expect(() => checkScryptParams({ blockSize: 0 })).toThrow(/blockSize/);
    expect(() => checkScryptParams({ parallelization: 17 })).toThrow(/parallelization/);
  });
});
