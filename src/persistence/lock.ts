/**
 * The DB_PATH lock: one server per database directory. The lock file names its owner by pid,
 * start time and boot id, so that a lock whose owner is gone (killed with SIGKILL and not yet
 * reaped, a power cut, a pid since reused by another process) is told apart from a live one and
 * taken over: a crash never blocks the restart. The lock guards servers on one host and in one pid
 * namespace (a directory shared over the network, or between containers, needs a lock of its own).
 *
 * On Linux the owner counts as alive only while `/proc/<pid>/stat` exists, shows a process that
 * has not exited (state Z or X, or exiting), and gives the start time recorded in the lock, and
 * the boot id (`/proc/sys/kernel/random/boot_id`) is the one recorded. A lock written before
 * memkv recorded start times (pid only) counts as alive while a process with that pid exists and
 * is not a zombie: a reused pid cannot be told from its owner there. Without /proc, a process
 * with that pid that answers signal 0 counts as the owner.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { join } from 'node:path';
import { PersistenceError } from '../errors.js';

/** Name of the lock file inside the database directory. */
export const LOCK_FILE = 'memkv.lock';

/** Files left beside the lock by a start that died while taking it (see `sweepLeftovers`) are removed once this old, in ms. */
const LEFTOVER_AGE_MS = 60_000;

/** Rounds of create, judge and take over before giving up on a lock that keeps changing. */
const MAX_ATTEMPTS = 5;

/** `PF_EXITING` in the kernel's task flags (/proc/<pid>/stat field 9): the process is inside exit() and never runs again. */
const PF_EXITING = 0x4;

/** Errors of `link()` on file systems without hard links. */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Lock files this process holds, so that its own pid in a lock file is told apart from a stale one. */
const held = new Set<string>();

export interface DirLock {
  /** Path of the lock file. */
  readonly path: string;
  /** Pid named by the stale lock that was taken over, if any (undefined too when the stale file was unreadable). */
  readonly staleOwnerPid: number | undefined;
  /** Why the lock that was taken over was judged stale, for the operator; undefined when the directory was free. */
  readonly staleReason: string | undefined;
  /** Removes the lock file, unless it is no longer the one this lock wrote. Safe to call twice. */
  release(): void;
}

/**
 * What a lock file holds, as one line of JSON. Locks written before memkv recorded start times
 * hold `pid` and `startedAt` only.
 */
interface LockOwner {
  pid: number;
  /** When the owner took the lock, ISO 8601, for the operator. */
  startedAt?: string;
  /** The owner's start time in clock ticks after boot (/proc/<pid>/stat field 22), in decimal. */
  startTimeTicks?: string;
  /** The kernel's boot id when the lock was taken. */
  bootId?: string;
}

/** A process as /proc/<pid>/stat shows it. */
interface ProcStat {
  /** Field 3: R, S, D, Z (zombie), X (dead), … */
  state: string;
  /** Field 9: the kernel's task flags. */
  flags: number;
  /** Field 22, in decimal: clock ticks after boot when the process started. */
  startTimeTicks: string;
}

/**
 * Test hatch: called after a lock has been judged stale and before it is taken over, so that a
 * test can let a second starter run in that window. Unset outside tests.
 */
export const lockTestHooks: { beforeTakeOver?: (path: string) => void } = {};

/**
 * Takes the lock of directory `dir` (which must exist). A stale lock is taken over; the returned
 * lock says whose it was and why it was judged stale, for the caller to log.
 *
 * Two servers starting at once never both get the lock: the lock file appears with its content
 * in one step (written beside it, then hard-linked, which fails when it exists), and a stale file
 * is first renamed aside and removed only if it is still the one judged stale.
 * @throws PersistenceError when a live process holds it, naming that process, or when the lock
 *   file cannot be read or created.
 */
export function acquireDirLock(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  const content = JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), ...ownIdentity() } satisfies LockOwner) + '\n';
  let stale: { pid: number | undefined; reason: string } | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (createLockFile(path, content)) {
      held.add(path);
      sweepLeftovers(dir);
      return lockHandle(path, content, stale);
    }
    const text = readLockFile(path);
    if (text === undefined) continue; // removed meanwhile: try again
    const owner = parseOwner(text);
    let reason = 'the lock file is empty or unreadable';
    if (owner !== undefined) {
      const whyStale = staleness(owner, path);
      if (whyStale === undefined) throw inUse(dir, path, owner);
      reason = whyStale;
    }
    lockTestHooks.beforeTakeOver?.(path);
    if (removeIfUnchanged(path, text)) stale = { pid: owner?.pid, reason };
  }
  throw new PersistenceError(path, `cannot take the lock ${path}: another process keeps recreating it`);
}

function inUse(dir: string, path: string, owner: LockOwner): PersistenceError {
  return new PersistenceError(
    path,
    `DB_PATH ${dir} is in use by another memkv server (pid ${owner.pid}` +
      `${owner.startedAt === undefined ? '' : `, started ${owner.startedAt}`}): ` +
      `stop it or choose another DB_PATH (if no such server runs, remove ${path})`,
  );
}

function lockHandle(path: string, content: string, stale: { pid: number | undefined; reason: string } | undefined): DirLock {
  let released = false;
  return {
    path,
    staleOwnerPid: stale?.pid,
    staleReason: stale?.reason,
    release() {
      if (released) return;
      released = true;
      held.delete(path);
      let current: string | undefined;
      try {
        current = fs.readFileSync(path, 'utf8');
      } catch {
        return;
      }
      // Removed by hand and taken by another server meanwhile: that lock is not ours to remove.
      if (current === content) fs.rmSync(path, { force: true });
    },
  };
}

// ---- Creating and removing the lock file ----

/** Creates the lock file holding `content`; false when it exists. */
function createLockFile(path: string, content: string): boolean {
  const pending = uniqueSibling(path, 'new');
  try {
    fs.writeFileSync(pending, content, { flag: 'wx', mode: 0o644 });
    try {
      fs.linkSync(pending, path);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code!;
      if (code === 'EEXIST') return false;
      if (!LINK_UNSUPPORTED.has(code)) throw error;
    } finally {
      fs.rmSync(pending, { force: true });
    }
    // No hard links here: create it in place. A starter that reads it before the write lands
    // sees an empty file and may judge it stale; such a file system narrows the guarantee.
    const fd = fs.openSync(path, 'wx', 0o644);
    try {
      fs.writeSync(fd, content);
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new PersistenceError(path, `cannot create the lock file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Removes the lock file if it still holds `judged`: renamed aside first, so that of two starters
 * that judged the same stale lock, the second moves away the first one's new lock, sees it is not
 * the file it judged, and puts it back (with link(), which never replaces a file) instead of
 * deleting it. True when the stale file was removed.
 */
function removeIfUnchanged(path: string, judged: string): boolean {
  const aside = uniqueSibling(path, 'stale');
  try {
    fs.renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new PersistenceError(path, `cannot take over the stale lock file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    if (readLockFile(aside) === judged) return true;
    try {
      fs.linkSync(aside, path);
    } catch (error) {
      if (LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code!)) fs.renameSync(aside, path);
      // EEXIST: a third starter created a lock in this instant; the one moved aside is lost.
    }
    return false;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

/** `memkv.lock.<pid>-<random>.<kind>`: unique among the processes that share the directory. */
function uniqueSibling(path: string, kind: 'new' | 'stale'): string {
  return `${path}.${process.pid}-${randomBytes(6).toString('hex')}.${kind}`;
}

/** Removes files that a start killed while taking the lock left beside it. */
function sweepLeftovers(dir: string): void {
  const pattern = new RegExp(`^${LOCK_FILE.replace('.', '\\.')}\\.\\d+-[0-9a-f]{12}\\.(?:new|stale)$`);
  try {
    for (const name of fs.readdirSync(dir)) {
      if (!pattern.test(name)) continue;
      const file = join(dir, name);
      const mtimeMs = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
      // A young one may belong to a starter taking the lock right now.
      if (mtimeMs !== undefined && Date.now() - mtimeMs > LEFTOVER_AGE_MS) fs.rmSync(file, { force: true });
    }
  } catch {
    // Tidying only: the lock is held either way.
  }
}

/** The lock file's text; undefined when it does not exist. */
function readLockFile(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PersistenceError(path, `cannot read the lock file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return Number.isSafeInteger(owner.pid) && owner.pid! > 0 ? (owner as LockOwner) : undefined;
  } catch {
    // Half-written (the owner died while creating it, or the machine lost power): stale.
    return undefined;
  }
}

// ---- Is the owner alive? ----

/** Why the lock of `owner` is stale, or undefined when its owner is alive (or cannot be told from a live one). */
function staleness(owner: LockOwner, path: string): string | undefined {
  // Our own pid in a lock we do not hold: left by an earlier life of this pid (a restarted container).
  if (owner.pid === process.pid) return held.has(path) ? undefined : "it names this process's own pid: an earlier process with that pid left it";
  if (!procAvailable()) return signalZero(owner.pid);
  const bootId = currentBootId();
  if (owner.bootId !== undefined && bootId !== undefined && owner.bootId !== bootId) {
    return 'it was written before the machine restarted (another boot id)';
  }
  const stat = readProcStat(owner.pid);
  // Not in /proc: gone, unless /proc hides other users' processes (hidepid), which signal 0 still sees.
  if (stat === undefined) return signalZero(owner.pid);
  if (stat.state === 'Z' || stat.state === 'X') return `the process has exited and is not yet reaped by its parent (state ${stat.state})`;
  if ((stat.flags & PF_EXITING) !== 0) return 'the process is exiting';
  if (owner.startTimeTicks !== undefined && owner.startTimeTicks !== stat.startTimeTicks) {
    return "that pid now belongs to another process (its start time is not the lock owner's)";
  }
  // A lock without a start time cannot tell a reused pid from its owner: a live process counts.
  return undefined;
}

/** Signal 0: undefined when a process with that pid exists, else why the lock is stale. */
function signalZero(pid: number): string | undefined {
  try {
    process.kill(pid, 0);
    return undefined;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? undefined : 'no process with that pid runs';
  }
}

let procReadable: boolean | undefined;

function procAvailable(): boolean {
  return (procReadable ??= process.platform === 'linux' && readProcStat(process.pid) !== undefined);
}

let bootIdRead: { value: string | undefined } | undefined;

/** The kernel's boot id, or undefined where there is none to read. */
function currentBootId(): string | undefined {
  if (bootIdRead === undefined) {
    let value: string | undefined;
    try {
      value = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      value = undefined;
    }
    bootIdRead = { value };
  }
  return bootIdRead.value;
}

/** What identifies this process beyond its pid, as far as the platform tells. */
function ownIdentity(): Pick<LockOwner, 'startTimeTicks' | 'bootId'> {
  if (!procAvailable()) return {};
  return { startTimeTicks: readProcStat(process.pid)?.startTimeTicks, bootId: currentBootId() };
}

/**
 * Reads /proc/<pid>/stat; undefined when there is no such entry. The command name (field 2) is
 * in parentheses and may itself hold spaces and parentheses, so fields are counted after the last ')'.
 */
function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 1).trim().split(' '); // fields[0] is field 3
  const [state, flags, startTimeTicks] = [fields[0], Number(fields[6]), fields[19]];
  if (state === undefined || startTimeTicks === undefined || !/^\d+$/.test(startTimeTicks) || !Number.isSafeInteger(flags)) return undefined;
  return { state, flags, startTimeTicks };
}
