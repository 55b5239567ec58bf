/**
 * Crash safety of the real server process: concurrent clients write, the process is killed with
 * SIGKILL at a random moment (in one round during a compaction, in another just after a
 * compaction that ran under those writes), restarted, and every acknowledged write must be
 * there, and nothing that was never sent. With PERSISTENCE_FSYNC=always, and with everysec too:
 * a write is answered only once it is in the file, so the death of the process alone (the
 * kernel keeps the file) loses nothing acknowledged.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordEncoder } from '../../src/persistence/aof-format.js';
import { AOF_FILE } from '../../src/persistence/persistence.js';
import { REWRITE_SUFFIX } from '../../src/persistence/compaction.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { tempDir } from './helpers.js';

const CLIENTS = 8;
const BULK_KEYS = 150_000;
const started: ServerProcess[] = [];

afterEach(async () => {
  for (const server of started.splice(0)) await server.stop('SIGKILL');
});

interface ClientModel {
  /** Values of `list-c` as confirmed by the last restart, then every push attempted since. */
  attempted: string[];
  /** How many of `attempted` are known to be on disk (confirmed, or acknowledged). */
  durable: number;
  /** Keys set and acknowledged, with their values. */
  acked: Map<string, string>;
  /** Keys set but not acknowledged (in flight at the kill). */
  inFlight: Map<string, string>;
  next: number;
}

async function boot(dir: string, fsync: 'always' | 'everysec'): Promise<ServerProcess> {
  const server = await startServerProcess({
    PERSISTENCE_ENABLED: 'true',
    PERSISTENCE_FSYNC: fsync,
    PERSISTENCE_COMPACT_RATIO: '0',
    DB_PATH: dir,
  });
  started.push(server);
  return server;
}

async function drive(server: ServerProcess, client: number, model: ClientModel, stopped: () => boolean): Promise<void> {
  const base = `${server.url}/api/v1`;
  const headers = { 'content-type': 'application/json' };
  while (!stopped()) {
    const i = model.next++;
    try {
      if (i % 2 === 0) {
        const key = `c${client}-k${i}`;
        const value = `v${i}-${'x'.repeat(i % 40)}`;
        model.inFlight.set(key, value);
        const response = await fetch(`${base}/set`, { method: 'POST', headers, body: JSON.stringify({ key, value }) });
        if (response.status !== 200) throw new Error(`set answered ${response.status}`);
        model.inFlight.delete(key);
        model.acked.set(key, value);
      } else {
        const value = String(i);
        model.attempted.push(value);
        const response = await fetch(`${base}/list-${client}/push`, { method: 'PATCH', headers, body: JSON.stringify({ value }) });
        if (response.status !== 200) throw new Error(`push answered ${response.status}`);
        model.durable = model.attempted.length;
      }
    } catch {
      return; // the server is gone: what was in flight may or may not be on disk
    }
  }
}

async function verify(server: ServerProcess, models: ClientModel[], round: string): Promise<void> {
  const base = `${server.url}/api/v1`;
  for (const [client, model] of models.entries()) {
    for (const [key, value] of model.acked) {
      const response = await fetch(`${base}/${key}`);
      expect(response.status, `${round}: acknowledged ${key}`).toBe(200);
      expect(((await response.json()) as { value: string }).value).toBe(value);
    }
    for (const [key, value] of model.inFlight) {
      const response = await fetch(`${base}/${key}`);
      if (response.status === 200) {
        expect(((await response.json()) as { value: string }).value, `${round}: in-flight ${key}`).toBe(value);
        model.acked.set(key, value);
      } else expect(response.status).toBe(404);
    }
    model.inFlight.clear();
    expect((await fetch(`${base}/c${client}-k${model.next + 1}`)).status, `${round}: a key never sent`).toBe(404);
    const response = await fetch(`${base}/list-${client}`);
    const list = response.status === 200 ? ((await response.json()) as { value: string[] }).value : [];
    // Every acknowledged push, in order, and beyond them only pushes that were sent.
    expect(list.length, `${round}: list-${client}`).toBeGreaterThanOrEqual(model.durable);
    expect(list, `${round}: list-${client}`).toEqual(model.attempted.slice(0, list.length));
    model.attempted = list;
    model.durable = list.length;
  }
}

describe.each(['always', 'everysec'] as const)('crash safety (real process, SIGKILL, PERSISTENCE_FSYNC=%s)', (fsync) => {
  it('keeps every acknowledged write through kills at random moments, including during compactions', { timeout: 90_000 }, async () => {
    const dir = tempDir();
    const encoder = new RecordEncoder();
    encoder.header();
    for (let i = 0; i < BULK_KEYS; i++) encoder.mutation({ type: 'set', revision: 0, key: `bulk:${i}`, value: `bulk value ${i}`, expiresAtMs: 0, atMs: Date.now() });
    fs.writeFileSync(join(dir, AOF_FILE), encoder.bytes);
    const models: ClientModel[] = Array.from({ length: CLIENTS }, () => ({ attempted: [], durable: 0, acked: new Map(), inFlight: new Map(), next: 0 }));

    const rounds = ['plain', 'plain', 'during compaction', 'after compaction'] as const;
    let server = await boot(dir, fsync);
    for (const [index, kind] of rounds.entries()) {
      let stopped = false;
      const clients = models.map((model, client) => drive(server, client, model, () => stopped));
      if (kind !== 'plain') {
        const answer = await fetch(`${server.url}/api/v1/db/compact`, { method: 'POST' });
        expect(answer.status).toBe(202);
        const temp = join(dir, AOF_FILE + REWRITE_SUFFIX);
        for (let polls = 0; !fs.existsSync(temp) && polls < 5000; polls++) await new Promise((r) => setTimeout(r, 1));
        // The temp file is renamed over the log when the compaction ends.
        if (kind === 'after compaction') for (let polls = 0; fs.existsSync(temp) && polls < 20_000; polls++) await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => setTimeout(r, kind === 'during compaction' ? Math.random() * 200 : 50 + Math.random() * 250));
      await server.stop('SIGKILL');
      started.splice(started.indexOf(server), 1);
      stopped = true;
      await Promise.all(clients);

      server = await boot(dir, fsync);
      const round = `round ${index} (${kind})`;
      await verify(server, models, round);
      for (const i of [0, BULK_KEYS - 1]) {
        const bulk = await fetch(`${server.url}/api/v1/bulk:${i}`);
        expect(bulk.status, `${round}: bulk:${i}`).toBe(200);
      }
    }
    const acknowledged = models.reduce((sum, model) => sum + model.acked.size + model.durable, 0);
    expect(acknowledged).toBeGreaterThan(CLIENTS * rounds.length);
  });
});
