/**
 * Small files replaced whole and atomically: a reader (or a restart after a crash) sees the old
 * content or the new one, never a mix. Write a temp file, fsync it, rename it over the old one,
 * fsync the directory so that the rename itself is durable.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces the file at `path` with `data`, creating its directory when missing.
 * @param mode permissions of a new file; default `0o600` (owner only).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, { mode = 0o600 }: { mode?: number } = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** Reads a UTF-8 file; `undefined` when it does not exist. */
export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Makes a rename or a file creation in `dir` durable, synchronously: for steps that must not
 * yield to the event loop (compaction's switch-over).
 */
export function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    if (!cannotSyncDirectories(error)) throw error;
  } finally {
    fs.closeSync(fd);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (!cannotSyncDirectories(error)) throw error;
  } finally {
    await handle.close();
  }
}

/** Some platforms and file systems cannot fsync a directory; the rename is done either way. */
function cannotSyncDirectories(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EINVAL' || code === 'EISDIR' || code === 'EPERM';
}
