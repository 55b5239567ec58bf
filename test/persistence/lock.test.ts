import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/engine/store.js';
import { PersistenceError } from '../../src/errors.js';
import { LOCK_FILE, acquireDirLock, lockTestHooks } from '../../src/persistence/lock.js';
import { openPersistence } from '../../src/persistence/persistence.js';
import { captureLogger, tempDir } from './helpers.js';

const LOCK_MODULE = fileURLToPath(new URL('../../src/persistence/lock.ts', import.meta.url));
/** The start time and boot id that identify a lock's owner come from /proc. */
const LINUX = process.platform === 'linux';
const BOOT_ID = LINUX ? fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : '';

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  delete lockTestHooks.beforeTakeOver;
});

/** Starts `command` as a child killed after the test; resolves with its pid once it runs. */
async function startChild(command: string, args: string[]): Promise<number> {
  const child = spawn(command, args, { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return child.pid!;
}

/**
 * A zombie: `sh -c 'sleep 0.1 & exec sleep 30'` leaves the short sleep as a child of the long
 * one, which never waits for it, so it stays a zombie once it exits. Resolves with its pid.
 */
async function startZombie(): Promise<number> {
  const parent = await startChild('sh', ['-c', 'sleep 0.1 & exec sleep 30']);
  let zombie: number | undefined;
  await until(() => {
    zombie = fs
      .readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .find((pid) => procStat(pid)?.ppid === parent && procStat(pid)?.state === 'Z');
    return zombie !== undefined;
  });
  return zombie!;
}

/** Fields of /proc/<pid>/stat, counted after the last ')' since the command name may hold spaces and parentheses. */
function procStat(pid: number): { state: string; ppid: number; startTimeTicks: string } | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]), startTimeTicks: rest[19]! };
  } catch {
    return undefined;
  }
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Writes a lock file as memkv writes it (`owner` without a start time and boot id: the older format). */
function writeLock(dir: string, owner: { pid: number; startTimeTicks?: string; bootId?: string }): void {
  fs.writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ startedAt: '2026-11-01T00:00:00.000Z', ...owner }) + '\n');
}

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

  it.runIf(LINUX)('takes over a lock naming a live process that is not its owner (a reused pid), with a warning saying why', async () => {
    const dir = tempDir();
    const pid = await startChild('sleep', ['30']);
    const { startTimeTicks } = procStat(pid)!;
    writeLock(dir, { pid, startTimeTicks, bootId: BOOT_ID });
    expect(() => acquireDirLock(dir)).toThrow(new RegExp(`in use by another memkv server \\(pid ${pid}, started 2026-11-01`));

    writeLock(dir, { pid, startTimeTicks: String(Number(startTimeTicks) - 1), bootId: BOOT_ID });
    const { logger, records } = captureLogger();
    const persistence = await openPersistence(createStore({ cleanupIntervalMs: 0 }), { dir, fsync: 'no', compactRatio: 0, logger });
    const warning = records.find((record) => record.level === 40 && /took over the lock/.test(record.msg));
    expect(warning).toMatchObject({ pid, reason: expect.stringMatching(/another process/) });
    expect(warning!.msg).toBe(`persistence: took over the lock left by process ${pid}: ${warning!.reason}`);
    expect(JSON.parse(fs.readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, bootId: BOOT_ID });
    await persistence.close();
    expect(fs.existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it.runIf(LINUX)('takes over a lock written before the machine restarted, even when its pid and start time match a live process', async () => {
    const dir = tempDir();
    const pid = await startChild('sleep', ['30']);
    writeLock(dir, { pid, startTimeTicks: procStat(pid)!.startTimeTicks, bootId: '00000000-0000-4000-8000-000000000000' });
    const lock = acquireDirLock(dir);
    expect(lock).toMatchObject({ staleOwnerPid: pid, staleReason: expect.stringMatching(/before the machine restarted/) });
    lock.release();
  });

  it.runIf(LINUX)('takes over the lock of an owner that exited but is not reaped yet (a zombie), in both formats', async () => {
    const zombie = await startZombie();
    for (const owner of [{ pid: zombie, startTimeTicks: procStat(zombie)!.startTimeTicks, bootId: BOOT_ID }, { pid: zombie }]) {
      const dir = tempDir();
      writeLock(dir, owner);
      const lock = acquireDirLock(dir);
      expect(lock).toMatchObject({ staleOwnerPid: zombie, staleReason: expect.stringMatching(/exited and is not yet reaped/) });
      lock.release();
    }
  });

  it('refuses a lock in the older format (pid only) naming a live process: it cannot be told from its owner', async () => {
    const dir = tempDir();
    const pid = await startChild('sleep', ['30']);
    writeLock(dir, { pid });
    expect(() => acquireDirLock(dir)).toThrow(new RegExp(`pid ${pid}`));
  });

  it.runIf(LINUX)('reads the start time of a process whose name holds spaces and parentheses', async () => {
    const dir = tempDir();
    const program = join(dir, 'x) (y z');
    fs.copyFileSync('/bin/sleep', program);
    fs.chmodSync(program, 0o755);
    const pid = await startChild(program, ['30']);
    expect(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')).toContain('(x) (y z)');
    writeLock(dir, { pid, startTimeTicks: procStat(pid)!.startTimeTicks, bootId: BOOT_ID });
    expect(() => acquireDirLock(dir)).toThrow(new RegExp(`pid ${pid}`));
  });

  it('lets only one of two starters that judged the same lock stale take it over', () => {
    const dir = tempDir();
    writeLock(dir, { pid: 2 ** 22 + 1 }); // above any pid_max: no such process
    let second: ReturnType<typeof acquireDirLock> | undefined;
    lockTestHooks.beforeTakeOver = () => {
      delete lockTestHooks.beforeTakeOver;
      // The second starter takes the stale lock over while the first is about to.
      second = acquireDirLock(dir);
    };
    expect(() => acquireDirLock(dir)).toThrow(/is in use by another memkv server/);
    expect(second).toMatchObject({ staleOwnerPid: 2 ** 22 + 1, staleReason: 'no process with that pid runs' });
    expect(fs.readdirSync(dir)).toEqual([LOCK_FILE]);
    second!.release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('leaves a lock file that is no longer its own on release', () => {
    const dir = tempDir();
    const lock = acquireDirLock(dir);
    writeLock(dir, { pid: 2 ** 22 + 1 });
    lock.release();
    expect(JSON.parse(fs.readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(2 ** 22 + 1);
  });
});
