import { describe, expect, it } from 'vitest';
import { prefersMinimal } from '../../src/http/prefer.js';

describe('prefersMinimal (the Prefer header, RFC 7240)', () => {
  it.each([
    'return=minimal',
    'Return=Minimal',
    'return =\tminimal',
    'return="minimal"',
    'return=minimal; foo=bar',
    'return=minimal;foo="a,b"',
    'respond-async, wait=100, return=minimal',
    'foo="x, return=representation", return=minimal',
    'foo="esc\\"aped, return=representation", return=minimal',
    ',, return=minimal ,',
    'return=minimal, return=representation',
  ])('true for %j', (header) => {
    expect(prefersMinimal(header)).toBe(true);
  });

  it.each([
    undefined,
    '',
    'return=representation',
    'return=representation, return=minimal',
    'return',
    'return=',
    'return=minimal-ish',
    'x-return=minimal',
    'minimal',
    'respond-async',
    'foo; return=minimal',
    'foo="return=minimal"',
  ])('false for %j', (header) => {
    expect(prefersMinimal(header)).toBe(false);
  });

  it('reads several header lines as one list', () => {
    expect(prefersMinimal(['respond-async', 'return=minimal'])).toBe(true);
    expect(prefersMinimal(['return=representation', 'return=minimal'])).toBe(false);
  });
});
