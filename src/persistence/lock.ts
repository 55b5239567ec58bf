/**
 * The DB_PATH lock: one server per database directory. A lock file holds the owner's pid; a
 * lock whose process no longer exists (killed with SIGKILL, power cut) is stale and is taken over,
 * so a crash never blocks the restart. Liveness is checked with signal 0, so the lock guards
 * servers on one host (a directory shared over the network needs a lock of its own).
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { PersistenceError } from '../errors.js';

/** Name of the lock file inside the database directory. */
export const LOCK_FILE = 'memkv.lock';

/** Lock files this process holds, so that its own pid in a lock file is told apart from a stale one. */
const held = new Set<string>();

export interface DirLock {
  /** Path of the lock file. */
  readonly path: string;
  /** Pid of the dead process whose stale lock was taken over, if any. */
  readonly staleOwnerPid: number | undefined;
  /** Removes the lock file. Safe to call twice. */
  release(): void;
}

interface LockOwner {
  pid: number;
  startedAt?: string;
}

/**
 * Takes the lock of directory `dir` (which must exist).
 * @throws PersistenceError when a live process holds it, naming that process.
 */
export function acquireDirLock(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  let staleOwnerPid: number | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(path, 'wx', 0o644);
      try {
        fs.writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() } satisfies LockOwner) + '\n');
      } finally {
        fs.closeSync(fd);
      }
      held.add(path);
      let released = false;
      return {
        path,
        staleOwnerPid,
        release() {
          if (released) return;
          released = true;
          held.delete(path);
          fs.rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new PersistenceError(path, `cannot create the lock file ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
    const owner = readOwner(path);
    if (owner !== undefined && isAlive(owner.pid, path)) {
      throw new PersistenceError(
        path,
        `DB_PATH ${dir} is in use by another memkv server (pid ${owner.pid}` +
          `${owner.startedAt === undefined ? '' : `, started ${owner.startedAt}`}): ` +
          `stop it or choose another DB_PATH (if no such server runs, remove ${path})`,
      );
    }
    staleOwnerPid = owner?.pid;
    fs.rmSync(path, { force: true });
  }
  throw new PersistenceError(path, `cannot take the lock ${path}: another process keeps recreating it`);
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return Number.isSafeInteger(owner.pid) && owner.pid! > 0 ? (owner as LockOwner) : undefined;
  } catch {
    // Unreadable or half-written (the owner died while creating it): stale.
    return undefined;
  }
}

function isAlive(pid: number, path: string): boolean {
  // Our own pid in a lock we do not hold: left by an earlier life of this pid (a restarted container).
  if (pid === process.pid) return held.has(path);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
