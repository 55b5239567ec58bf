/**
 * The text of a watch event as it goes on the wire (server-sent events): its `id:` and its
 * `data:` JSON, built once per change and shared by every watcher that receives it.
 */
import type { WatchErrorJson, WatchEventJson } from '@memkv/client/protocol';
import { toMinimalRow, toRow } from '../commands/row.js';
import type { Change } from '../engine/change.js';

/**
 * The event id of a change: `N` for the only (or last) change of revision N, `N.i` for change i
 * of a revision with more after it (a transaction), so that an id names "after this change".
 */
export function eventId(change: Pick<Change, 'revision' | 'index' | 'count'>): string {
  return change.index >= change.count - 1 ? String(change.revision) : `${change.revision}.${change.index}`;
}

/** The `data:` JSON of a change (see {@link WatchEventJson}). */
export function eventJson(change: Change): WatchEventJson {
  const { revision, op, key, entry } = change;
  switch (op) {
    case 'flush':
      return { revision, op };
    case 'remove':
    case 'expire':
    case 'evict':
      return { revision, op, key };
    case 'push':
      return { revision, op, key, row: toMinimalRow(summaryOf(change)), values: [...(change.values ?? [])] };
    case 'pop':
      return { revision, op, key, row: toMinimalRow(summaryOf(change)), popped: change.popped ?? '' };
    default:
      if (entry === undefined || !('value' in entry)) throw new TypeError(`a ${op} change of ${JSON.stringify(key)} carries no entry`);
      return { revision, op, key, row: toRow(entry) };
  }
}

/** The whole SSE frame of a change: `id: …`, `data: …` and the blank line that ends it. */
export function eventFrame(change: Change): string {
  // JSON.stringify escapes every line break, so the data is one line.
  return `id: ${eventId(change)}\ndata: ${JSON.stringify(eventJson(change))}\n\n`;
}

/** The frame of the `event: error` that ends a stream. */
export function errorFrame(error: WatchErrorJson): string {
  return `event: error\ndata: ${JSON.stringify({ code: error.code, message: error.message })}\n\n`;
}

/** A list's summary from a push or pop change: the store hands a summary; a full entry is summed up. */
function summaryOf(change: Change) {
  const { entry, key } = change;
  if (entry === undefined) throw new TypeError(`a ${change.op} change of ${JSON.stringify(key)} carries no entry`);
  if ('length' in entry) return entry;
  if (entry.kind !== 'string_slice') throw new TypeError(`a ${change.op} change of ${JSON.stringify(key)} carries a string`);
  const { value, ...rest } = entry;
  return { ...rest, kind: 'string_slice' as const, length: value.length };
}
