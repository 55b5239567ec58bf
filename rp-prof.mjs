import fs from 'node:fs';
import { RecordEncoder } from '/work/main/dist/persistence/aof-format.js';
import { replayAof } from '/work/main/dist/persistence/aof-replay.js';
import { createStore } from '/work/main/dist/engine/store.js';
const path = '/tmp/rp.aof';
if (!fs.existsSync(path)) {
  const fd = fs.openSync(path, 'w'); const e = new RecordEncoder(8 << 20); e.header();
  for (let i = 0; i < 1_000_000; i++) { e.mutation({ type: 'set', key: `key:${i}`, value: `value-${i}`, expiresAtMs: 0, atMs: Date.now() }); if (i % 100000 === 99999) { fs.writeSync(fd, e.bytes); e.reset(); } }
  fs.writeSync(fd, e.bytes); fs.closeSync(fd);
}
const profiling = process.argv[2] === 'prof';
let s;
if (profiling) { const { Session } = await import('node:inspector/promises'); s = new Session(); s.connect(); await s.post('Profiler.enable'); await s.post('Profiler.start'); }
const store = createStore({ cleanupIntervalMs: 0 });
const c = process.cpuUsage(); const t = performance.now();
await replayAof(path, (m) => store.apply(m));
const u = process.cpuUsage(c);
console.log('wall', (performance.now() - t).toFixed(0), 'cpu', ((u.user + u.system) / 1000).toFixed(0), store.size);
if (profiling) {
  const { profile } = await s.post('Profiler.stop');
  const byId = new Map(profile.nodes.map(n => [n.id, n])); const self = new Map();
  profile.samples.forEach((id, i) => { const n = byId.get(id); const k = n.callFrame.functionName + ' ' + n.callFrame.url.split('/').pop() + ':' + n.callFrame.lineNumber; self.set(k, (self.get(k) || 0) + (profile.timeDeltas[i] || 0)); });
  [...self].sort((a, b) => b[1] - a[1]).slice(0, 14).forEach(([k, t]) => console.log((t / 1000).toFixed(0).padStart(6), k));
}
