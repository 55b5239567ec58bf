/**
 * What auth costs: scrypt per password hash, token verification, authorize() with a known token,
 * and GET requests over TCP with auth off and on. Prints numbers; asserts nothing.
 *
 *   npm run build && npx vite-node --config vitest.config.ts bench/auth-overhead.ts
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createAuthService } from '../src/auth/auth-service.js';
import { SCRYPT_DEFAULTS, hashPassword } from '../src/auth/passwords.js';
import { TokenSigner } from '../src/auth/tokens.js';
import { createStore } from '../src/engine/store.js';
import { buildApp } from '../src/http/app.js';

const SECRET = 'bench-secret-bench-secret-bench-secret';

async function timeIt(label: string, runs: number, fn: () => unknown): Promise<void> {
  await fn();
  const start = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  const ms = performance.now() - start;
  console.log(`${label.padEnd(48)} ${(ms / runs).toFixed(4).padStart(10)} ms/op ${Math.round((runs / ms) * 1000).toLocaleString('en').padStart(12)} op/s`);
}

async function httpRun(auth: ReturnType<typeof createAuthService> | undefined, headers: Record<string, string>): Promise<number> {
  const store = createStore({ cleanupIntervalMs: 0 });
  store.set('k', 'v');
  const app = await buildApp({ store, auth });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1/k`;
  const total = 20_000;
  const concurrency = 32;
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      const res = await fetch(url, { headers });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker)); // warm-up round
  sent = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const rate = total / ((performance.now() - start) / 1000);
  await app.close();
  store.close();
  return rate;
}

await timeIt(`scrypt hash, defaults (N=${SCRYPT_DEFAULTS.cost}, r=8, p=${SCRYPT_DEFAULTS.parallelization})`, 5, () => hashPassword('benchmark password'));

const signer = new TokenSigner({ secret: SECRET, accessTtlMs: 900_000, refreshTtlMs: 3_600_000 });
const signed = await signer.sign({ userId: 'u', sessionId: 's', username: 'bench', role: 'readwrite' }, 'access');
await timeIt('jose HS256 sign', 5_000, () => signer.sign({ userId: 'u', sessionId: 's', username: 'bench', role: 'readwrite' }, 'access'));
await timeIt('jose HS256 verify (a token seen for the first time)', 5_000, () => signer.verify(signed.token, 'access'));

const auth = createAuthService({ secret: SECRET, accessTokenTtlMs: 900_000, refreshTokenTtlMs: 3_600_000, scrypt: { cost: 1024, parallelization: 1 } });
await auth.register({ username: 'bench', password: 'bench-password', role: 'readwrite', keys: ['k*'] });
const { access_token } = await auth.login('bench', 'bench-password');
const header = `Bearer ${access_token}`;
await timeIt('authorize() with a known token and a key pattern', 200_000, () => auth.authorize(header, 'read', 'k'));

const off = await httpRun(undefined, {});
const on = await httpRun(auth, { authorization: header });
console.log(`GET /api/v1/k over TCP, 32 in flight, auth off ${Math.round(off).toLocaleString('en').padStart(8)} req/s`);
console.log(`GET /api/v1/k over TCP, 32 in flight, auth on  ${Math.round(on).toLocaleString('en').padStart(8)} req/s (${(((on - off) / off) * 100).toFixed(1)}% vs auth off)`);
