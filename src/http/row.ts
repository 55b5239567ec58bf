/** Turns engine entries into the rows the API returns (RFC 3339 times, `null` for no expiry). */
import type { PopRowJson, RowJson } from '@memkv/client/protocol';
import type { Entry, PopResult } from '../engine/store.js';

/** The API row for `entry`. */
export function toRow(entry: Entry): RowJson {
  return {
    key: entry.key,
    kind: entry.kind,
    value: entry.value,
    ttl: entry.expiresAtMs === null ? null : new Date(entry.expiresAtMs).toISOString(),
    created_at: new Date(entry.createdAtMs).toISOString(),
    updated_at: new Date(entry.updatedAtMs).toISOString(),
  } as RowJson;
}

/** The API row after a pop: the list plus the removed element. */
export function toPopRow(result: PopResult): PopRowJson {
  return { ...toRow(result), popped: result.popped } as PopRowJson;
}
