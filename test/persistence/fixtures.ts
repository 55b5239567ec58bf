/**
 * Log byte fixtures: one mutation of every kind, and the encoder that turns mutations into a log
 * file. test/fixtures/aof/every-mutation.aof holds these bytes as committed; regenerate it (only
 * for a deliberate format change, with a new AOF_VERSION) with:
 *   node --import tsx -e "import('./test/persistence/fixtures.ts').then((f) => f.writeFixture())"
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mutation } from '../../src/engine/mutation.js';
import { RecordEncoder } from '../../src/persistence/aof-format.js';

/** 2025-01-01T00:00:00Z, the manual clock's default start. */
export const T0 = Date.UTC(2025, 0, 1);

/** One mutation of every kind, with absolute times around T0. */
export const EVERY_MUTATION: Mutation[] = [
  { type: 'set', key: 'greeting', value: 'hello', expiresAtMs: 0, atMs: T0 },
  { type: 'set', key: 'list', value: ['a', 'b'], expiresAtMs: T0 + 3_600_000, atMs: T0 + 1 },
  { type: 'update', key: 'greeting', value: 'héllo wörld ✓ 😀', expiresAtMs: T0 + 60_000, atMs: T0 + 2 },
  { type: 'update', key: 'list', value: ['x', 'y', 'z'], expiresAtMs: T0 + 3_600_000, atMs: T0 + 3 },
  { type: 'push', key: 'list', values: ['p1', 'p2'], expiresAtMs: T0 + 7_200_000, atMs: T0 + 4 },
  { type: 'pop', key: 'list', atMs: T0 + 5 },
  { type: 'set', key: 'gone', value: 'bye', expiresAtMs: 0, atMs: T0 + 6 },
  { type: 'remove', key: 'gone' },
  { type: 'set', key: 'short', value: 'x'.repeat(300), expiresAtMs: T0 + 10, atMs: T0 + 7 },
  { type: 'expired', key: 'short' },
  { type: 'set', key: 'k'.repeat(200), value: '', expiresAtMs: 0, atMs: T0 + 8 },
  { type: 'ttl', key: 'greeting', expiresAtMs: 0, atMs: T0 + 9 },
];

/** A whole log file (header + records) for `mutations`. */
export function logBytes(mutations: readonly Mutation[]): Buffer {
  const encoder = new RecordEncoder();
  encoder.header();
  for (const mutation of mutations) encoder.mutation(mutation);
  return Buffer.from(encoder.bytes);
}

/** Path of a committed byte fixture. */
export function fixturePath(name: string): string {
  return join(fileURLToPath(new URL('../fixtures/aof/', import.meta.url)), name);
}

/** Writes every-mutation.aof from {@link EVERY_MUTATION}. */
export function writeFixture(): void {
  fs.writeFileSync(fixturePath('every-mutation.aof'), logBytes(EVERY_MUTATION));
}
