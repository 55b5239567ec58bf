/**
 * Parsing of the human units memkv accepts: Go-style durations ("1h30m", "500ms") and byte sizes
 * ("512mb"). Pure functions; callers turn a `undefined` result into their own error.
 */

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** The number of a duration term: digits with an optional fraction, or a fraction alone. */
const DURATION_NUMBER = '[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+';
/** The units, longest first so that "ms" is not read as "m" then "s". */
const DURATION_UNITS = Object.keys(DURATION_UNIT_MS)
  .sort((a, b) => b.length - a.length)
  .join('|');

// One "<number><unit>" term; the whole string must be a sequence of them (Go's time.ParseDuration).
const DURATION_TERM = new RegExp(`(${DURATION_NUMBER})(${DURATION_UNITS})`, 'y');

/**
 * The duration grammar as a JSON Schema `pattern` (one or more terms, no sign, not `"0"`): the
 * same number and units {@link parseDurationMs} reads, so that a schema and the parser cannot drift.
 */
export const DURATION_PATTERN = `^(?:(?:${DURATION_NUMBER})(?:${DURATION_UNITS}))+$`;

/** Longest duration accepted, Go's own limit (about 292 years): keeps every expiry a valid Date. */
export const MAX_DURATION_MS = 9_223_372_036_854; // (2^63 - 1) ns

/**
 * Parses a Go-style duration string into milliseconds.
 *
 * Accepts `"0"` and sequences such as `"1h30m"`, `"1.5h"`, `"90s"`, `"500ms"`, `"2h45m10s"`.
 * Signs are not accepted (memkv has no use for negative durations).
 *
 * @returns the duration in milliseconds (possibly fractional), or `undefined` when the string is
 *   not a duration or exceeds {@link MAX_DURATION_MS}.
 */
export function parseDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length === 0 || text.length > 64) return undefined;
  DURATION_TERM.lastIndex = 0;
  let total = 0;
  while (DURATION_TERM.lastIndex < text.length) {
    const match = DURATION_TERM.exec(text);
    if (match === null) return undefined;
    total += Number(match[1]) * DURATION_UNIT_MS[match[2]!]!;
  }
  return total <= MAX_DURATION_MS ? total : undefined;
}

/** Formats milliseconds as a Go-style duration (`90061001` → `"25h1m1.001s"`). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  let out = '';
  if (h > 0) out += `${h}h`;
  if (m > 0) out += `${m}m`;
  if (s > 0) out += h === 0 && m === 0 && s < 1 ? `${rest}ms` : `${s}s`;
  return out;
}

const SIZE_UNIT_BYTES: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses a byte size: a whole number of bytes (`"1048576"`) or a number with a binary unit
 * (`"512kb"`, `"1mb"`, `"2gb"`; case-insensitive; units are powers of 1024, as Redis reads them).
 *
 * @returns whole bytes, or `undefined` when the text is not a size.
 */
export function parseBytes(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (match === null) return undefined;
  const unit = SIZE_UNIT_BYTES[match[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
