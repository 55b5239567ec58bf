/**
 * Deterministic accounting of the bytes the keyspace holds, the figure MAX_MEMORY limits.
 *
 * A string counts one byte per UTF-16 code unit (its `length`: the UTF-8 size for ASCII), so the
 * figure is the same on every machine and costs no scan of the text. Each key adds a fixed
 * overhead for its bookkeeping (index entry, slot columns, string headers) and each list element
 * one for its array cell and string header. The process's resident memory is higher: V8's heap
 * keeps headroom for the garbage collector, and the process itself (code, buffers) takes tens
 * of megabytes before the first key.
 */
import type { Value } from '@memkv/client/protocol';

/** Bytes accounted per key on top of its text: index entry, slot columns, string and value headers. */
export const KEY_OVERHEAD_BYTES = 128;

/** Bytes accounted per list element on top of its text: array cell and string header. */
export const LIST_ITEM_OVERHEAD_BYTES = 24;

/** Accounted bytes of a whole entry: key, value and the per-key overhead. */
export function entryBytes(key: string, value: Value): number {
  return KEY_OVERHEAD_BYTES + key.length + valueBytes(value);
}

/** Accounted bytes of a value: its text, plus the per-element overhead for a list. */
export function valueBytes(value: Value): number {
  return typeof value === 'string' ? value.length : listBytes(value);
}

/** Accounted bytes of list elements. */
export function listBytes(items: readonly string[]): number {
  let bytes = items.length * LIST_ITEM_OVERHEAD_BYTES;
  for (let i = 0; i < items.length; i++) bytes += items[i]!.length;
  return bytes;
}
