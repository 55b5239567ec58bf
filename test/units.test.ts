import { describe, expect, it } from 'vitest';
import { formatDurationMs, MAX_DURATION_MS, parseBytes, parseDurationMs } from '../src/units.js';

describe('parseDurationMs', () => {
  it.each([
    ['0', 0],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['2h45m10s', 9_910_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['1m1m', 120_000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '1', '-1h', '+1h', '1d', '1 h', 'h', '1h ', '1.h.5', 'ms', '9999999999h'])('refuses %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it('accepts up to Go’s maximum', () => {
    expect(parseDurationMs('2562047h')).toBeLessThanOrEqual(MAX_DURATION_MS);
  });
});

describe('formatDurationMs', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [90_061_001, '25h1m1.001s'],
  ])('%d ms = %s', (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
    expect(parseDurationMs(text)).toBe(ms);
  });
});

describe('parseBytes', () => {
  it.each([
    ['1048576', 1_048_576],
    ['512kb', 524_288],
    ['1mb', 1_048_576],
    ['1MB', 1_048_576],
    ['2gb', 2 * 1024 ** 3],
    ['1.5k', 1536],
    ['64b', 64],
  ])('%s = %d bytes', (text, bytes) => {
    expect(parseBytes(text)).toBe(bytes);
  });

  it.each(['', 'mb', '-1mb', '1tb', '1 megabyte', '1e3'])('refuses %j', (text) => {
    expect(parseBytes(text)).toBeUndefined();
  });
});
