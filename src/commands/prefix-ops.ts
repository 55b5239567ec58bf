/**
 * Operations over pages of a key scan, written once for every storage backend: grouping a page's
 * keys by a delimiter (the key browser's tree, like S3's common prefixes) and removing every key
 * under a prefix in bounded batches. They take the backend's "scan one page" and "remove one key"
 * as functions, so any backend that can list a page of keys gets them, and the engine stays as it is.
 */
import type { MaybePromise } from '../storage/storage.js';

/** A next-level prefix of a grouped page and the number of the page's keys under it. */
export interface PrefixCount {
  prefix: string;
  keys: number;
}

/** One page grouped by {@link groupByDelimiter}. */
export interface GroupedPage {
  /** The page's keys with no delimiter after the listed prefix, in scan order. */
  keys: string[];
  /** The next level's prefixes (each ends with the delimiter), in order of first appearance. */
  prefixes: PrefixCount[];
}

/**
 * Groups the keys of one scanned page (all starting with `prefix`) by the first `delimiter` after
 * `prefix`: `user:1:name` under prefix `user:` and delimiter `:` counts toward `user:1:`. Costs
 * O(page length); counts are this page's only, and a caller merges them across pages.
 */
export function groupByDelimiter(keys: readonly string[], prefix: string, delimiter: string): GroupedPage {
  const leaves: string[] = [];
  const counts = new Map<string, number>();
  for (const key of keys) {
    const at = key.indexOf(delimiter, prefix.length);
    if (at < 0) {
      leaves.push(key);
      continue;
    }
    const group = key.slice(0, at + delimiter.length);
    counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  return { keys: leaves, prefixes: Array.from(counts, ([group, count]) => ({ prefix: group, keys: count })) };
}

/** One page of a backend's scan: its keys (all under the prefix asked) and where to continue. */
export interface ScanStep<Cursor> {
  keys: readonly string[];
  /** Where the next page starts, or `null` when the scan is complete. */
  next: Cursor | null;
}

export interface DeletePrefixOptions<Cursor> {
  /** Must not be empty: removing every key is the flush's job. */
  prefix: string;
  /** Count the keys under `prefix` without removing any. */
  dryRun: boolean;
  /** The backend's scan: one bounded page of at most `limit` keys under `prefix`, from `cursor` (`undefined`: the start). */
  scan: (cursor: Cursor | undefined, prefix: string, limit: number) => MaybePromise<ScanStep<Cursor>>;
  /** The backend's normal remove (journaled and counted like any other): 0 when the key was already gone. */
  remove: (key: string) => MaybePromise<number>;
  /** Only keys this accepts are counted or removed (a user limited to key patterns); default all. */
  allowed?: ((key: string) => boolean) | undefined;
  /** Keys scanned per batch; between two batches the event loop serves other work. Default {@link DELETE_BATCH_KEYS}. */
  batchKeys?: number;
}

/** Keys removed (or counted) per turn of the event loop by {@link deletePrefix}. */
export const DELETE_BATCH_KEYS = 1000;

/**
 * Counts (`dryRun`) or removes every key under `prefix`, one scanned batch per turn of the event
 * loop, so that other requests keep being served meanwhile. Keys written under the prefix during
 * the run may or may not be removed, as a listing may or may not return them.
 * @returns the number of keys counted or removed.
 */
export async function deletePrefix<Cursor>(options: DeletePrefixOptions<Cursor>): Promise<number> {
  const { prefix, dryRun, scan, remove, allowed, batchKeys = DELETE_BATCH_KEYS } = options;
  if (prefix === '') throw new TypeError('prefix must not be empty');
  if (!Number.isSafeInteger(batchKeys) || batchKeys < 1) throw new TypeError('batchKeys must be an integer >= 1');
  let total = 0;
  let cursor: Cursor | undefined;
  for (;;) {
    const page = await scan(cursor, prefix, batchKeys);
    const keys = allowed === undefined ? page.keys : page.keys.filter(allowed);
    if (dryRun) total += keys.length;
    else {
      // A batch's removals all at once: a backend in another process (Redis) then has them in
      // flight together instead of one round trip after another; the embedded one answers at once.
      const removed = await Promise.all(keys.map(remove));
      for (const revision of removed) if (revision !== 0) total++;
    }
    if (page.next === null) return total;
    cursor = page.next;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
