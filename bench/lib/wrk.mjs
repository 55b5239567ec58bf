/** Runs wrk with the suite's Lua workload and parses its report. */
import { fileURLToPath } from 'node:url';
import { run } from './processes.mjs';
import { pinned } from './targets.mjs';

const script = fileURLToPath(new URL('../wrk/workload.lua', import.meta.url));

/**
 * One wrk run: `connections` keep-alive connections over 2 threads for `seconds`.
 * @returns { rps, p50Ms, p99Ms, errors } (errors: non-2xx answers plus socket errors)
 */
export async function runWrk({ port, target, op, keys, seconds, connections = 50, cpus }) {
  const [command, args] = pinned(cpus, 'wrk', [
    '-t2', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '5s',
    '-s', script, `http://127.0.0.1:${port}`,
  ]);
  const output = await run(command, args, {
    timeoutMs: (seconds + 30) * 1000,
    env: { ...process.env, BENCH_TARGET: target, BENCH_OP: op, BENCH_KEYS: String(keys) },
  });
  return parseWrk(output);
}

const UNIT_MS = { us: 1e-3, ms: 1, s: 1000, m: 60_000 };

function latencyMs(output, percentile) {
  const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
  return match === null ? NaN : Number(match[1]) * UNIT_MS[match[2]];
}

/** Parses wrk's text report. */
export function parseWrk(output) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  return { rps, p50Ms: latencyMs(output, 50), p99Ms: latencyMs(output, 99), errors: non2xx + socketErrors };
}
