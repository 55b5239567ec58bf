/**
 * What a key listing page costs over 1,000,000 keys, with and without `delimiter=`: the key
 * browser's tree must stay within the same bounded work per call as the plain listing. Walks
 * whole listings page by page through a real listening server (HTTP over TCP on 127.0.0.1) and
 * reports per-call latency (median, p99, max) and the answer's size.
 *
 *   npm run build && node --import tsx bench/keys-listing.ts      # or: npm run bench:listing
 *   KEYS=200000 PAGES=200 node --import tsx bench/keys-listing.ts
 */
import type { AddressInfo } from 'node:net';
import { createStore } from '../src/engine/store.js';
import { buildApp } from '../src/http/app.js';

const KEYS = Number(process.env.KEYS ?? 1_000_000);
/** Most pages timed per variant (a whole listing of 1,000,000 keys at 1,000 keys a page is 1,000). */
const PAGES = Number(process.env.PAGES ?? 1000);
const LIMIT = Number(process.env.LIMIT ?? 1000);

const store = createStore({ cleanupIntervalMs: 0 });
// 1,000 groups of 1,000 keys with two levels below (`t17:u3:k…`), interleaved so that every page spans many groups.
for (let i = 0; i < KEYS; i++) store.set(`t${i % 1000}:u${i % 7}:k${i}`, 'v');
const app = await buildApp({ store });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1/db/keys`;

interface Result {
  name: string;
  calls: number;
  keys: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  meanBytes: number;
}

async function walk(name: string, query: Record<string, string>): Promise<Result> {
  const times: number[] = [];
  let bytes = 0;
  let keys = 0;
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ ...query, limit: String(LIMIT) });
    if (cursor !== null) params.set('cursor', cursor);
    const start = performance.now();
    const response = await fetch(`${base}?${params}`);
    const text = await response.text();
    times.push(performance.now() - start);
    if (response.status !== 200) throw new Error(`${response.status}: ${text}`);
    const page = JSON.parse(text) as { keys: string[]; prefixes?: { keys: number }[]; cursor: string | null };
    keys += page.keys.length + (page.prefixes ?? []).reduce((sum, p) => sum + p.keys, 0);
    bytes += text.length;
    cursor = page.cursor;
  } while (cursor !== null && times.length < PAGES);
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { name, calls: times.length, keys, medianMs: at(0.5), p99Ms: at(0.99), maxMs: times[times.length - 1]!, meanBytes: Math.round(bytes / times.length) };
}

// One warm-up walk, then each variant.
await walk('warm-up', {});
const results = [
  await walk('plain listing', {}),
  await walk('delimiter=:', { delimiter: ':' }),
  await walk('prefix=t7: delimiter=:', { prefix: 't7:', delimiter: ':' }),
];
await app.close();
store.close();

console.log(`${KEYS.toLocaleString('en-US')} keys, limit=${LIMIT}, node ${process.version}`);
console.log('variant                     calls   keys seen   median ms   p99 ms   max ms   bytes/answer');
for (const r of results) {
  console.log(
    `${r.name.padEnd(26)} ${String(r.calls).padStart(6)} ${r.keys.toLocaleString('en-US').padStart(11)} ` +
      `${r.medianMs.toFixed(2).padStart(11)} ${r.p99Ms.toFixed(2).padStart(8)} ${r.maxMs.toFixed(2).padStart(8)} ${String(r.meanBytes).padStart(14)}`,
  );
}
