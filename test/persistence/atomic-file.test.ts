import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileIfExists, writeFileAtomic } from '../../src/persistence/atomic-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memkv-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates missing directories, writes owner-only, and replaces the whole content', async () => {
    const path = join(dir, 'a', 'b', 'state.json');
    expect(await readFileIfExists(path)).toBeUndefined();
    await writeFileAtomic(path, 'first version, longer than the second');
    await writeFileAtomic(path, 'second');
    expect(await readFileIfExists(path)).toBe('second');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['state.json']);
  });

  it('leaves the old file and no temp file when the rename fails', async () => {
    const path = join(dir, 'taken');
    await mkdir(join(path, 'child'), { recursive: true }); // a non-empty directory: rename over it fails
    await expect(writeFileAtomic(path, 'data')).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['taken']);
  });

  it('reports read errors other than a missing file', async () => {
    await expect(readFileIfExists(dir)).rejects.toThrow(/EISDIR/);
  });
});
