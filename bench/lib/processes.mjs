/**
 * Child processes of the suite: every process it starts is registered here and stopped at the
 * end, on Ctrl-C, on SIGTERM and on failure. Also free ports and a bounded wait for a port.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';

const children = new Set();
const tempDirs = new Set();
let interrupted = false;

/** Removes `dir` when the suite exits, however it exits. */
export function removeAtExit(dir) {
  tempDirs.add(dir);
}

/** True once Ctrl-C or a termination signal has started stopping everything. */
export function wasInterrupted() {
  return interrupted;
}

/** Spawns `command` and registers it for cleanup. Output is kept (last 64 KiB) for error reports. */
export function start(command, args, options = {}) {
  const { ipc = false, stdin = 'ignore', ...rest } = options;
  const child = spawn(command, args, { stdio: [stdin, 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])], ...rest });
  child.output = '';
  const keep = (chunk) => {
    child.output = (child.output + chunk).slice(-65536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Stops `child` (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
export async function stop(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Stops every child still running. */
export async function stopAll() {
  await Promise.all([...children].map((child) => stop(child)));
}

function killAllNow() {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

/** Installs the handlers that stop every child on exit, Ctrl-C, SIGTERM and uncaught failures. */
export function installCleanup() {
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      interrupted = true;
      process.stderr.write(`\nbench: ${signal}: stopping every process the suite started\n`);
      stopAll().finally(() => process.exit(130));
    });
  }
}

/** A TCP port on 127.0.0.1 that the OS reports free now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:`port` accepts connections; rejects after `timeoutMs`. */
export async function waitForPort(port, timeoutMs = 10_000, child) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child !== undefined && child.exitCode !== null) {
      throw new Error(`process exited with code ${child.exitCode} before listening on ${port}:\n${child.output}`);
    }
    const open = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until memkv on `port` has loaded: its port is open and a request is answered with
 * anything but `503` (memkv listens before it replays its log, answering `503 loading` meanwhile).
 */
export async function waitForMemkv(port, timeoutMs = 10_000, child) {
  const deadline = Date.now() + timeoutMs;
  await waitForPort(port, timeoutMs, child);
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/api/v1/db/size`).then(
      (response) => response.status,
      () => 0,
    );
    if (status !== 503 && status !== 0) return;
    if (Date.now() > deadline) throw new Error(`memkv on 127.0.0.1:${port} still loading after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** True when `command` is on the PATH. */
export function has(command) {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code === 0));
    child.on('error', () => resolve(false));
  });
}

/** Runs `command` to completion with a time limit; resolves with its stdout. */
export function run(command, args, { timeoutMs = 120_000, input, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = start(command, args, { env: env ?? process.env, stdin: input === undefined ? 'ignore' : 'pipe' });
    if (input !== undefined) {
      child.stdin?.end(input);
    }
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? code}):\n${child.output}`));
    });
  });
}
