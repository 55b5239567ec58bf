// Client overhead: the same GET and SET loops through @memkv/client and through bare fetch, against
// a memkv server process. Run after a build: `npm run build && node bench/client.mjs [requests]`.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createClient } from '@memkv/client';

const REQUESTS = Number(process.argv[2] ?? 20_000);
const CONCURRENCY = 32;

const child = spawn(process.execPath, [new URL('../dist/main.js', import.meta.url).pathname], {
  env: { ...process.env, HOST: '127.0.0.1', PORT: '0', HEALTH_PORT: '0', VERBOSE: 'info' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let port;
for await (const line of createInterface({ input: child.stdout })) {
  port = JSON.parse(line).port;
  if (port !== undefined) break;
}
child.stdout.resume();
const url = `http://127.0.0.1:${port}`;
const client = createClient({ url });
await client.set('bench', 'x'.repeat(100));

const raw = {
  get: async (key) => (await fetch(`${url}/api/v1/${encodeURIComponent(key)}`)).json(),
  set: async (key, value) =>
    (await fetch(`${url}/api/v1/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, value }) })).json(),
};

async function run(name, call) {
  for (let i = 0; i < 1000; i++) await call(i); // warm-up
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) await call(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name.padEnd(22)} ${Math.round(REQUESTS / seconds).toString().padStart(7)} requests/s`);
}

console.log(`${REQUESTS} requests, ${CONCURRENCY} in flight, server pid ${child.pid}`);
await run('get  bare fetch', () => raw.get('bench'));
await run('get  @memkv/client', () => client.get('bench'));
await run('set  bare fetch', (i) => raw.set(`k${i % 1000}`, 'v'));
await run('set  @memkv/client', (i) => client.set(`k${i % 1000}`, 'v'));
child.kill('SIGTERM');
