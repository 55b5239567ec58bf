/** Starts the real memkv server process (the built dist/main.js, what `npm start` runs) for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  healthPort: number;
  url: string;
  /** Every stdout line so far, parsed as JSON where possible. */
  logs: any[];
  stderr: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Environment for a test server: ephemeral ports, quiet logs, plus `env`. */
function testEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HEALTH_PORT: '0', ...env };
}

/** Spawns a command and collects its output; resolves once the server logs that it is ready (its dataset loaded). */
export async function startServerProcess(
  env: Record<string, string> = {},
  command: string[] = [process.execPath, MAIN],
  options: { detached?: boolean } = {},
): Promise<ServerProcess> {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: testEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  const logs: any[] = [];
  let stderr = '';
  let buffered = '';
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  const listening = new Promise<{ port: number; healthPort: number }>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let entry: any = line;
        try {
          entry = JSON.parse(line);
        } catch {
          // keep non-JSON lines (npm's banner) as text
        }
        logs.push(entry);
        // The line that says memkv is ready; those before it (`loading: true`) say that the API port,
        // then the health port, listen while it loads.
        if (typeof entry === 'object' && entry !== null && typeof entry.healthPort === 'number' && entry.loading !== true) resolve(entry);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
  const { port, healthPort } = await listening;
  return {
    child,
    port,
    healthPort,
    url: `http://127.0.0.1:${port}`,
    logs,
    stderr: () => stderr,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        if (options.detached) process.kill(-child.pid!, signal);
        else child.kill(signal);
      }
      return exited;
    },
  };
}

/** Runs a command to completion and returns its exit code and output. */
export function runToExit(env: Record<string, string>, command: string[] = [process.execPath, MAIN]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env: testEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
