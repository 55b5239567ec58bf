/** Turns engine entries into the rows the API returns (RFC 3339 times, `null` for no expiry). */
import type { MinimalPopRowJson, MinimalRowJson, PopRowJson, RangeRowJson, RowJson, TtlJson } from '@memkv/client/protocol';
import type { Entry, KeyExpiry, ListSummary, PopResult, PopSummary, RangeResult } from '../storage/storage.js';

/** The API row for `entry`. */
export function toRow(entry: Entry): RowJson {
  return {
    key: entry.key,
    kind: entry.kind,
    value: entry.value,
    version: entry.version,
    ttl: entry.expiresAtMs === null ? null : isoTime(entry.expiresAtMs),
    created_at: isoTime(entry.createdAtMs),
    updated_at: isoTime(entry.updatedAtMs),
  } as RowJson;
}

/** The API row after a pop: the list plus the removed element. */
export function toPopRow(result: PopResult): PopRowJson {
  return { ...toRow(result), popped: result.popped } as PopRowJson;
}

/** The minimal row (`Prefer: return=minimal`) for a list summary: `length` in place of `value`. */
export function toMinimalRow(summary: ListSummary): MinimalRowJson {
  return {
    key: summary.key,
    kind: summary.kind,
    length: summary.length,
    version: summary.version,
    ttl: summary.expiresAtMs === null ? null : isoTime(summary.expiresAtMs),
    created_at: isoTime(summary.createdAtMs),
    updated_at: isoTime(summary.updatedAtMs),
  };
}

/** The minimal row after a pop: the list's length plus the removed element. */
export function toMinimalPopRow(result: PopSummary): MinimalPopRowJson {
  return { ...toMinimalRow(result), popped: result.popped };
}

/** The answer of `range`: the slice's elements and the whole list's `length`. */
export function toRangeRow(result: RangeResult): RangeRowJson {
  return {
    key: result.key,
    kind: result.kind,
    value: result.value,
    length: result.length,
    version: result.version,
    ttl: result.expiresAtMs === null ? null : isoTime(result.expiresAtMs),
    created_at: isoTime(result.createdAtMs),
    updated_at: isoTime(result.updatedAtMs),
  };
}

/** The answer of the TTL commands: the key's absolute expiry, `null` when it never expires. */
export function toTtl(expiry: KeyExpiry): TtlJson {
  return { key: expiry.key, ttl: expiry.expiresAtMs === null ? null : isoTime(expiry.expiresAtMs), version: expiry.version };
}

// ---- RFC 3339 formatting with a per-second cache ----

/** Epoch ms of 10000-01-01: beyond it `toISOString` writes a six-digit year. */
const YEAR_10000_MS = 253_402_300_800_000;
const CACHE_SIZE = 4;
const cachedSeconds = new Float64Array(CACHE_SIZE).fill(-1);
const cachedPrefixes: string[] = new Array<string>(CACHE_SIZE).fill('');

/**
 * `new Date(ms).toISOString()`, without a Date per call: the text up to the seconds is cached
 * for the last few seconds seen (rows written in the same second share it), only the
 * milliseconds are formatted. Same output as `toISOString` for every input.
 */
export function isoTime(ms: number): string {
  if (!(ms >= 0 && ms < YEAR_10000_MS)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  const index = second & (CACHE_SIZE - 1);
  let prefix = cachedPrefixes[index]!;
  if (cachedSeconds[index] !== second) {
    prefix = new Date(second * 1000).toISOString().slice(0, 20); // "2026-11-25T19:12:37."
    cachedPrefixes[index] = prefix;
    cachedSeconds[index] = second;
  }
  const milli = Math.floor(ms - second * 1000);
  return prefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}
