/**
 * Start-up times of the real process, as a user starts it: `npm start` (which checks that the
 * build is current, then runs dist/main.js) and `node dist/main.js` alone, on an empty database,
 * from the spawn to the log line that says the API port listens, and to the one that says it is
 * ready (the dataset loaded); and a misconfigured start (`PORT=abc`) from the spawn to its exit.
 * Prints one JSON object of medians (ms) over `--runs` runs; bench/run.mjs shows it in its table.
 *
 * Usage: node bench/startup.mjs [--runs 5]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './lib/stats.mjs';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs must be a whole number >= 1');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TIMEOUT_MS = 30_000;

/**
 * Spawns `command` with `env`; resolves with ms from the spawn to the listening line, the ready
 * line and the exit (each undefined when it did not happen), stopping the server once ready.
 */
function timeStart(command, commandArgs, env, timeoutMs = TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(command, commandArgs, { cwd: ROOT, env: { ...process.env, PORT: '0', HEALTH_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    // npm runs the server as its child: signals go to the whole process group.
    const kill = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const times = {};
    let buffered = '';
    const timer = setTimeout(() => {
      kill('SIGKILL');
      reject(new Error(`${command} ${commandArgs.join(' ')} neither became ready nor exited within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith('{')) continue; // npm's banner
        const entry = JSON.parse(line);
        if (typeof entry.port !== 'number') continue;
        const at = performance.now() - startedAt;
        // The first line says the API port listens (the next one, the health port).
        if (entry.loading === true) times.listeningMs ??= at;
        else {
          times.listeningMs ??= at;
          times.readyMs = at;
          kill('SIGTERM');
        }
      }
    });
    child.stderr.resume();
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ ...times, exitMs: performance.now() - startedAt, code });
    });
  });
}

async function measure(name, command, commandArgs, env, check) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const result = await timeStart(command, commandArgs, env);
    check(result, name);
    runs.push(result);
  }
  return runs;
}

const ready = (result, name) => {
  if (result.readyMs === undefined) throw new Error(`${name}: the server exited (${result.code}) before it was ready`);
};
const refused = (result, name) => {
  if (result.code !== 2) throw new Error(`${name}: expected exit code 2 for an invalid configuration, got ${result.code}`);
};

// One untimed `npm start` first: it builds when the build is stale, which is not what is measured.
await timeStart(NPM, ['start', '--silent'], {}, 10 * 60_000);
const npmStart = await measure('npm start', NPM, ['start', '--silent'], {}, ready);
const node = await measure('node dist/main.js', process.execPath, ['dist/main.js'], {}, ready);
const badConfig = await measure('npm start, PORT=abc', NPM, ['start', '--silent'], { PORT: 'abc' }, refused);
const badConfigNode = await measure('node dist/main.js, PORT=abc', process.execPath, ['dist/main.js'], { PORT: 'abc' }, refused);

const med = (runs, field) => median(runs.map((run) => run[field]));
process.stdout.write(
  JSON.stringify({
    runs: RUNS,
    npmStartListeningMs: med(npmStart, 'listeningMs'),
    npmStartReadyMs: med(npmStart, 'readyMs'),
    nodeListeningMs: med(node, 'listeningMs'),
    nodeReadyMs: med(node, 'readyMs'),
    npmBadConfigExitMs: med(badConfig, 'exitMs'),
    nodeBadConfigExitMs: med(badConfigNode, 'exitMs'),
  }) + '\n',
);
