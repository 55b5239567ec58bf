/** TTLs as the API takes them: a positive Go-style duration, parsed once where a command starts. */
import { MemkvError } from '../errors.js';
import { DURATION_PATTERN, parseDurationMs } from '../units.js';

const DURATION = new RegExp(DURATION_PATTERN, 'u');

/** Longest duration text accepted (the schema's `maxLength`). */
export const MAX_TTL_CHARS = 64;

/** Parses an optional API duration into a TTL in ms; a zero duration is refused. */
export function parseTtl(ttl: string | undefined): number | undefined {
  if (ttl === undefined) return undefined;
  const ms = parseDurationMs(ttl);
  if (ms === undefined || ms <= 0) {
    throw new MemkvError('invalid_request', `ttl must be a positive duration such as "90s" or "1h30m", not ${JSON.stringify(ttl)}`);
  }
  return ms;
}

/** Whether `ttl` is a duration string the schema accepts (it may still be zero: see parseTtl). */
export function isDuration(ttl: unknown): ttl is string {
  return typeof ttl === 'string' && ttl.length <= MAX_TTL_CHARS && DURATION.test(ttl);
}
