/**
 * What auth costs: scrypt per password hash, token verification, authorize() with a known token,
 * and `GET /api/v1/:key` through Fastify with auth off and on. Prints numbers; asserts nothing.
 *
 *   node --import tsx bench/auth-overhead.ts            # or: npm run bench:auth
 */
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

/** Requests per second of `GET /api/v1/k` through Fastify (`inject`, no sockets). */
async function injectRate(app: Awaited<ReturnType<typeof buildApp>>, headers: Record<string, string>, requests: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < requests; i++) {
    const res = await app.inject({ method: 'GET', url: '/api/v1/k', headers });
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  }
  return requests / ((performance.now() - start) / 1000);
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

// Both apps in one process, measured in alternation, best of five rounds: load from other
// processes hits both alike.
const store = createStore({ cleanupIntervalMs: 0 });
store.set('k', 'v');
const appOff = await buildApp({ store });
const appOn = await buildApp({ store, auth });
const best = { off: 0, on: 0 };
await injectRate(appOff, {}, 2_000);
await injectRate(appOn, { authorization: header }, 2_000);
for (let round = 0; round < 5; round++) {
  best.off = Math.max(best.off, await injectRate(appOff, {}, 20_000));
  best.on = Math.max(best.on, await injectRate(appOn, { authorization: header }, 20_000));
}
await Promise.all([appOff.close(), appOn.close()]);
store.close();
const perRequestUs = (1 / best.on - 1 / best.off) * 1e6;
console.log(`GET /api/v1/k through Fastify (inject), auth off ${Math.round(best.off).toLocaleString('en').padStart(8)} req/s`);
console.log(`GET /api/v1/k through Fastify (inject), auth on  ${Math.round(best.on).toLocaleString('en').padStart(8)} req/s (${perRequestUs.toFixed(1)} µs more per request)`);
