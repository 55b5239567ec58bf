/**
 * Profiles memkv under one HTTP workload: starts the server with `--cpu-prof`, runs wrk, stops
 * the server and prints the functions with the most self time. The .cpuprofile file stays in
 * the output directory for a flame graph (Chrome DevTools, speedscope).
 *
 * Usage: node bench/profile.mjs get|set|push|pop [--seconds 5] [--out /tmp/memkv-profile]
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installCleanup, stopAll } from './lib/processes.mjs';
import { startMemkv } from './lib/targets.mjs';
import { runWrk } from './lib/wrk.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '5' }, out: { type: 'string', default: '/tmp/memkv-profile' } },
});
const op = positionals[0] ?? 'get';
const keys = 100_000;
installCleanup();
try {
  await mkdir(values.out, { recursive: true });
  const before = new Set(await readdir(values.out));
  const memkv = await startMemkv({ nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${values.out}`] });
  await memkv.call('fillStrings', { count: keys, prefix: 's' });
  await memkv.call('fillLists', { count: keys, length: 10, prefix: 'l' });
  await memkv.call('fillLists', { count: keys, length: 1, prefix: 'p' });
  const result = await runWrk({ port: memkv.port, target: 'memkv', op, keys, seconds: Number(values.seconds) });
  await memkv.stop();
  const file = (await readdir(values.out)).find((name) => !before.has(name) && name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('the server wrote no profile');
  console.log(`${op}: ${Math.round(result.rps)} req/s, p99 ${result.p99Ms} ms, ${result.errors} errors; profile ${join(values.out, file)}`);
  printSelfTime(JSON.parse(await readFile(join(values.out, file), 'utf8')));
} finally {
  await stopAll();
}

function printSelfTime(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  for (const id of profile.samples) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const name = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + 1);
  }
  const total = profile.samples.length;
  for (const [name, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${((100 * count) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
}
