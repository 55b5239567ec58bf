import fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordEncoder } from '../../src/persistence/aof-format.js';
import { replayAof } from '../../src/persistence/aof-replay.js';
import { tempDir } from './helpers.js';

describe('replay progress', () => {
  it('reports the bytes read and the size once per chunk, up to the whole file', async () => {
    const encoder = new RecordEncoder();
    encoder.header();
    for (let i = 0; i < 20_000; i++) encoder.mutation({ type: 'set', revision: 0, key: `key:${i}`, value: `value ${i}`, expiresAtMs: 0, atMs: 1 });
    const path = join(tempDir(), 'memkv.aof');
    fs.writeFileSync(path, encoder.bytes);
    const size = encoder.length;
    const chunkBytes = 64 * 1024;

    const seen: Array<[number, number]> = [];
    let records = 0;
    const result = await replayAof(path, () => records++, { chunkBytes, onProgress: (read, total) => seen.push([read, total]) });

    expect(result).toMatchObject({ outcome: 'clean', records: 20_000 });
    expect(seen[0]).toEqual([0, size]);
    expect(seen.at(-1)).toEqual([size, size]);
    expect(seen.every(([, total]) => total === size)).toBe(true);
    const reads = seen.map(([read]) => read);
    expect(reads).toEqual([...reads].sort((a, b) => a - b));
    // Once for the size, then at most once per chunk.
    expect(seen.length).toBeLessThanOrEqual(1 + Math.ceil(size / (chunkBytes / 2)));
    expect(seen.length).toBeGreaterThan(2);
  });

  it('says nothing for a missing log', async () => {
    const seen: number[] = [];
    const result = await replayAof(join(tempDir(), 'memkv.aof'), () => undefined, { onProgress: (read) => seen.push(read) });
    expect(result.outcome).toBe('missing');
    expect(seen).toEqual([]);
  });
});
