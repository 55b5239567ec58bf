/**
 * Log byte fixtures: one mutation of every kind, and the encoder that turns mutations into a log
 * file. test/fixtures/aof/every-mutation.aof holds these bytes as committed (every-mutation-v1.aof
 * the same keys' mutations in format 1, before revisions); regenerate it (only for a deliberate
 * format change, with a new AOF_VERSION) with:
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
  { type: 'set', revision: 1, key: 'greeting', value: 'hello', expiresAtMs: 0, atMs: T0 },
  { type: 'set', revision: 2, key: 'list', value: ['a', 'b'], expiresAtMs: T0 + 3_600_000, atMs: T0 + 1 },
  { type: 'update', revision: 3, key: 'greeting', value: 'héllo wörld ✓ 😀', expiresAtMs: T0 + 60_000, atMs: T0 + 2 },
  { type: 'update', revision: 4, key: 'list', value: ['x', 'y', 'z'], expiresAtMs: T0 + 3_600_000, atMs: T0 + 3 },
  { type: 'push', revision: 5, key: 'list', values: ['p1', 'p2'], expiresAtMs: T0 + 7_200_000, atMs: T0 + 4 },
  { type: 'pop', revision: 6, key: 'list', atMs: T0 + 5 },
  { type: 'set', revision: 7, key: 'gone', value: 'bye', expiresAtMs: 0, atMs: T0 + 6 },
  { type: 'remove', revision: 8, key: 'gone' },
  { type: 'set', revision: 9, key: 'short', value: 'x'.repeat(300), expiresAtMs: T0 + 10, atMs: T0 + 7 },
  { type: 'expired', revision: 10, key: 'short' },
  { type: 'set', revision: 11, key: 'k'.repeat(200), value: '', expiresAtMs: 0, atMs: T0 + 8 },
  { type: 'ttl', revision: 12, key: 'greeting', expiresAtMs: 0, atMs: T0 + 9 },
  {
    type: 'txn',
    revision: 13,
    key: '',
    mutations: [
      { type: 'set', revision: 13, key: 't1', value: 'one', expiresAtMs: 0, atMs: T0 + 10 },
      { type: 'push', revision: 13, key: 't2', values: ['a'], expiresAtMs: T0 + 60_000, atMs: T0 + 10 },
      { type: 'pop', revision: 13, key: 't2', atMs: T0 + 10 },
      { type: 'remove', revision: 13, key: 'greeting' },
    ],
  },
  { type: 'flush', revision: 14, key: '' },
  { type: 'revision', revision: 20, key: '' },
];

/** The key mutations of {@link EVERY_MUTATION} as a log of format 1 holds them (no revisions): every-mutation-v1.aof. */
export const EVERY_MUTATION_V1: Mutation[] = EVERY_MUTATION.filter((m) => m.revision <= 12).map((m) => ({ ...m, revision: 0 }));

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
