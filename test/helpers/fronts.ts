/** Front processes (the real server, STORAGE=redis) for the end-to-end tests of several fronts on one Redis. */
import { afterAll, beforeAll } from 'vitest';
import { startServerProcess, type ServerProcess } from './process.js';

/** A request to a front's API; a body goes as JSON. */
export const api = (front: ServerProcess, path: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${front.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** Waits until the front's /ready answers 200 (connected to Redis). */
export async function whenReady(front: ServerProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await fetch(`http://127.0.0.1:${front.healthPort}/ready`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`front on port ${front.port} not ready: ${front.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Two fronts started with `env()` before the describe's tests (once they are ready) and stopped
 * after them. The array is filled in `beforeAll`.
 */
export function useTwoFronts(env: () => Record<string, string>): ServerProcess[] {
  const fronts: ServerProcess[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) fronts.push(await startServerProcess(env()));
    await Promise.all(fronts.map(whenReady));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(fronts.map((front) => front.stop()));
  });
  return fronts;
}
