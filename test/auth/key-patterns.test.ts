import { describe, expect, it } from 'vitest';
import { compileKeyPatterns, describeBadKeyPatterns } from '../../src/auth/key-patterns.js';

describe('key patterns', () => {
  it('"*" allows every key without a matcher', () => {
    expect(compileKeyPatterns(['cache:*', '*'])).toBeNull();
  });

  it('matches * and ? and nothing else as wildcards', () => {
    const match = compileKeyPatterns(['cache:*', 'user:?', 'a.b', 'x+(y)'])!;
    expect(match('cache:')).toBe(true);
    expect(match('cache:1/2 3')).toBe(true);
    expect(match('cache')).toBe(false);
    expect(match('xcache:1')).toBe(false);
    expect(match('user:1')).toBe(true);
    expect(match('user:12')).toBe(false);
    expect(match('user:é')).toBe(true);
    expect(match('user:😀')).toBe(true);
    expect(match('a.b')).toBe(true);
    expect(match('axb')).toBe(false);
    expect(match('x+(y)')).toBe(true);
    expect(match('line1\ncache:2')).toBe(false);
  });

  it('escapes with a backslash', () => {
    const match = compileKeyPatterns(['literal\\*star', 'q\\?'])!;
    expect(match('literal*star')).toBe(true);
    expect(match('literalXstar')).toBe(false);
    expect(match('q?')).toBe(true);
    expect(match('qq')).toBe(false);
  });

  it('reports bad pattern lists', () => {
    expect(describeBadKeyPatterns([])).toMatch(/1 to 32/);
    expect(describeBadKeyPatterns([''])).toMatch(/1 to 256/);
    expect(describeBadKeyPatterns(['ends\\'])).toMatch(/lone/);
    expect(describeBadKeyPatterns(['ok\\\\'])).toBeUndefined();
    expect(describeBadKeyPatterns(['cache:*'])).toBeUndefined();
  });

  it('covers a prefix (a watch) only through a pattern ending in * that matches the prefix itself', () => {
    const match = compileKeyPatterns(['cache:*', 'user:?:*', 'exact', 'star\\*', 'a*b'])!;
    expect(match.coversPrefix('cache:')).toBe(true);
    expect(match.coversPrefix('cache:x:')).toBe(true);
    expect(match.coversPrefix('cache')).toBe(false);
    expect(match.coversPrefix('')).toBe(false);
    expect(match.coversPrefix('user:1:')).toBe(true);
    expect(match.coversPrefix('user:1')).toBe(false);
    expect(match.coversPrefix('exact')).toBe(false);
    expect(match.coversPrefix('star')).toBe(false);
    expect(match.coversPrefix('a')).toBe(false);
    expect(compileKeyPatterns(['star\\\\*'])!.coversPrefix('star\\')).toBe(true);
  });
});
