/** The in-process benchmarks' keyspace: key and list names, and a fixed shuffled visiting order. */

/** The 32-byte value every benchmark writes (as bench/wrk/workload.lua). */
export const VALUE = 'v0123456789abcdef0123456789abcde';

/**
 * `keys` string key names (`key:i`), list names (`list:i`) and an order to visit them in: a
 * fixed shuffle, so that reads do not walk memory in insertion order.
 */
export function keyspace(keys) {
  const names = Array.from({ length: keys }, (_, i) => `key:${i}`);
  const lists = Array.from({ length: keys }, (_, i) => `list:${i}`);
  const order = new Uint32Array(keys).map((_, i) => i);
  for (let i = keys - 1; i > 0; i--) {
    const j = (Math.imul(i, 2654435761) >>> 0) % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return { names, lists, order };
}
