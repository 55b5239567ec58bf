/** Helpers of the persistence tests: temp directories removed after each test. */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { afterEach, vi } from 'vitest';

const dirs: string[] = [];

/** A fresh directory under the OS temp dir, removed after the test. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(join(tmpdir(), 'memkv-test-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A pino logger that keeps its records in memory, for asserting on what the operator is told. */
export function captureLogger(): { logger: Logger; records: Array<{ level: number; msg: string; [field: string]: unknown }> } {
  const records: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line)) });
  return { logger, records };
}

/**
 * Makes `fs.writeSync` to the file at `path` behave as a full disk while `failing()` holds: a
 * write of more than 4 bytes gets 4 of them into the file, the next one fails with ENOSPC.
 * Restored by `vi.restoreAllMocks()`.
 */
export function refuseWrites(path: string, failing: () => boolean) {
  const inode = fs.statSync(path).ino;
  const realWrite = fs.writeSync;
  return vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buffer: Buffer, offset: number, length: number, position?: number) => {
    if (failing() && fs.fstatSync(fd).ino === inode) {
      if (length > 4) return realWrite(fd, buffer, offset, 4, position); // part of the record reaches the file…
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }); // …then the disk is full
    }
    return realWrite(fd, buffer, offset, length, position);
  }) as typeof fs.writeSync);
}
