import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PersistenceError } from '../../src/errors.js';
import { LOCK_FILE, acquireDirLock } from '../../src/persistence/lock.js';
import { tempDir } from './helpers.js';

const LOCK_MODULE = fileURLToPath(new URL('../../src/persistence/lock.ts', import.meta.url));

describe('DB_PATH lock', () => {
  it('refuses a second holder with a message naming the holder, and frees the directory on release', () => {
    const dir = tempDir();
    const lock = acquireDirLock(dir);
    expect(() => acquireDirLock(dir)).toThrow(PersistenceError);
    expect(() => acquireDirLock(dir)).toThrow(new RegExp(`DB_PATH ${dir} is in use by another memkv server \\(pid ${process.pid}`));
    lock.release();
    lock.release();
    expect(fs.existsSync(join(dir, LOCK_FILE))).toBe(false);
    acquireDirLock(dir).release();
  });

  it('takes over the lock of a process killed with SIGKILL, and is refused while it lives', async () => {
    const dir = tempDir();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `import('${LOCK_MODULE}').then((m) => { m.acquireDirLock(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000); })`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      void exited.then(() => reject(new Error('the child exited before locking')));
    });
    expect(() => acquireDirLock(dir)).toThrow(new RegExp(`pid ${child.pid}`));
    child.kill('SIGKILL');
    await exited;
    const lock = acquireDirLock(dir);
    expect(lock.staleOwnerPid).toBe(child.pid);
    expect(JSON.parse(fs.readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock file that is empty or unreadable (its owner died while writing it)', () => {
    const dir = tempDir();
    fs.writeFileSync(join(dir, LOCK_FILE), '');
    const lock = acquireDirLock(dir);
    expect(lock.staleOwnerPid).toBeUndefined();
    lock.release();
  });
});
