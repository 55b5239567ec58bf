import fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Mutation } from '../../src/engine/mutation.js';
import { AOF_HEADER_BYTES, RecordEncoder, scanRecords } from '../../src/persistence/aof-format.js';
import { replayAof } from '../../src/persistence/aof-replay.js';
import { EVERY_MUTATION, EVERY_MUTATION_V1, T0, fixturePath, logBytes } from './fixtures.js';
import { tempDir } from './helpers.js';

function decodeAll(bytes: Buffer, start = AOF_HEADER_BYTES): { mutations: Mutation[]; stop: string; end: number } {
  const mutations: Mutation[] = [];
  const { stop, end } = scanRecords(bytes, start, bytes.length, (m) => mutations.push(m));
  return { mutations, stop, end };
}

describe('log record format', () => {
  it('encodes every kind of mutation to the committed byte fixture (the format is stable)', () => {
    const fixture = fs.readFileSync(fixturePath('every-mutation.aof'));
    expect(logBytes(EVERY_MUTATION).equals(fixture)).toBe(true);
  });

  it('decodes the fixture back to exactly the mutations written', () => {
    const { mutations, stop, end } = decodeAll(fs.readFileSync(fixturePath('every-mutation.aof')));
    expect(stop).toBe('done');
    expect(end).toBe(fs.statSync(fixturePath('every-mutation.aof')).size);
    expect(mutations).toEqual(EVERY_MUTATION);
  });

  it('still reads a log of format 1 (no revisions): the same key mutations, with revision 0 (counted at replay)', () => {
    const bytes = fs.readFileSync(fixturePath('every-mutation-v1.aof'));
    const mutations: Mutation[] = [];
    const { stop, end } = scanRecords(bytes, AOF_HEADER_BYTES, bytes.length, (m) => mutations.push(m), 1);
    expect(stop).toBe('done');
    expect(end).toBe(bytes.length);
    expect(mutations).toEqual(EVERY_MUTATION_V1);
  });

  it('turns a snapshot entry into a set at its creation time plus a ttl at its update time', () => {
    const encoder = new RecordEncoder(8);
    encoder.entry({ key: 'l', version: 7, kind: 'string_slice', value: ['a', 'ü'], expiresAtMs: T0 + 5000, createdAtMs: T0, updatedAtMs: T0 + 10 });
    encoder.entry({ key: 's', version: 3, kind: 'string', value: 'v', expiresAtMs: null, createdAtMs: T0, updatedAtMs: T0 });
    expect(decodeAll(Buffer.from(encoder.bytes), 0).mutations).toEqual([
      { type: 'set', revision: 7, key: 'l', value: ['a', 'ü'], expiresAtMs: T0 + 5000, atMs: T0 },
      { type: 'ttl', revision: 7, key: 'l', expiresAtMs: T0 + 5000, atMs: T0 + 10 },
      { type: 'set', revision: 3, key: 's', value: 'v', expiresAtMs: 0, atMs: T0 },
    ]);
  });

  it('round-trips long strings and lists whose lengths need several varint bytes', () => {
    const value = Array.from({ length: 300 }, (_, i) => 'é'.repeat(i));
    const mutation: Mutation = { type: 'set', revision: 0, key: 'x'.repeat(70_000), value, expiresAtMs: 0, atMs: T0 };
    expect(decodeAll(logBytes([mutation])).mutations).toEqual([mutation]);
  });

  it('detects any single damaged byte in a record', () => {
    const bytes = logBytes(EVERY_MUTATION.slice(0, 2));
    for (let i = AOF_HEADER_BYTES; i < bytes.length; i++) {
      const damaged = Buffer.from(bytes);
      damaged[i]! ^= 0x10;
      const { mutations, stop } = decodeAll(damaged);
      expect(stop, `byte ${i}`).not.toBe('done');
      expect(mutations.length).toBeLessThan(2);
    }
  });

  it('replays every prefix of a valid log without error, as a prefix of its records', async () => {
    const bytes = fs.readFileSync(fixturePath('every-mutation.aof'));
    const path = join(tempDir(), 'memkv.aof');
    for (let length = 0; length <= bytes.length; length++) {
      fs.writeFileSync(path, bytes.subarray(0, length));
      const mutations: Mutation[] = [];
      const result = await replayAof(path, (m) => mutations.push(m));
      expect(EVERY_MUTATION.slice(0, mutations.length)).toEqual(mutations);
      expect(result.validBytes + result.droppedBytes).toBe(length);
      expect(['clean', 'torn']).toContain(result.outcome);
      if (length === bytes.length) expect(result).toMatchObject({ outcome: 'clean', records: EVERY_MUTATION.length });
    }
  });
});
