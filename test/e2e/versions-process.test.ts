/**
 * Versions and transactions on a real server over TCP, and on a real child process killed with
 * SIGKILL: optimistic concurrency that counts every increment once, transactions that are all or
 * nothing under concurrency and across a crash.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, PreconditionFailedError, type MemkvClient } from '@memkv/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { startMemkv } from '../helpers/servers.js';

describe('read-modify-write with If-Match on a real server', () => {
  let server: Awaited<ReturnType<typeof startMemkv>>;
  beforeAll(async () => {
    server = await startMemkv();
  });
  afterAll(async () => {
    await server.close();
  });

  /** Adds 1 to the counter `rounds` times, each time reading, then writing only if nobody wrote meanwhile. */
  async function increment(client: MemkvClient, rounds: number): Promise<{ conflicts: number }> {
    let conflicts = 0;
    for (let done = 0; done < rounds; ) {
      const row = await client.get('counter');
      const value = Number(row!.value);
      try {
        await client.set('counter', String(value + 1), { ifVersion: row!.version });
        done++;
      } catch (error) {
        if (!(error instanceof PreconditionFailedError)) throw error;
        expect(error.version).toBeGreaterThan(row!.version);
        conflicts++;
      }
    }
    return { conflicts };
  }

  it('two clients racing 1,000 increments: every increment counted exactly once', async () => {
    await createClient({ url: server.url }).set('counter', '0');
    // Two clients, each with its own connections, interleaving on the event loop of the test.
    const [a, b] = [createClient({ url: server.url }), createClient({ url: server.url })];
    const [ra, rb] = await Promise.all([increment(a, 500), increment(b, 500)]);
    const row = await a.get('counter');
    expect(row!.value).toBe('1000');
    // Both raced: some writes found the counter changed and were refused, never lost.
    expect(ra.conflicts + rb.conflicts).toBeGreaterThan(0);
  }, 120_000);

  it('concurrent transfers by transaction keep the total: no transaction is seen or applied in part', async () => {
    const client = createClient({ url: server.url });
    const accounts = ['acct:a', 'acct:b', 'acct:c', 'acct:d'];
    for (const account of accounts) await client.set(account, '100');
    let applied = 0;
    let conflicts = 0;
    const transfer = async (seed: number): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        const from = accounts[(seed + i) % 4]!;
        const to = accounts[(seed + i * 3 + 1) % 4]!;
        if (from === to) continue;
        const [a, b] = [await client.get(from), await client.get(to)];
        try {
          await client.txn(
            [
              { op: 'set', key: from, value: String(Number(a!.value) - 1) },
              { op: 'set', key: to, value: String(Number(b!.value) + 1) },
            ],
            { checks: [{ key: from, version: a!.version }, { key: to, version: b!.version }] },
          );
          applied++;
        } catch (error) {
          expect((error as { code?: string }).code).toBe('txn_conflict');
          conflicts++;
        }
      }
    };
    const readers = async (): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        // Four reads are not one snapshot; checking their four versions in one transaction makes
        // them one: a view that passes the checks must add up to 400.
        const rows = await Promise.all(accounts.map((account) => client.get(account)));
        try {
          await client.txn([{ op: 'set', key: 'acct:audit', value: String(rows.reduce((sum, row) => sum + Number(row!.value), 0)) }], {
            checks: rows.map((row) => ({ key: row!.key, version: row!.version })),
          });
          expect(Number((await client.get('acct:audit'))!.value)).toBe(400);
        } catch (error) {
          expect((error as { code?: string }).code).toBe('txn_conflict');
        }
      }
    };
    await Promise.all([transfer(0), transfer(1), transfer(2), readers()]);
    const total = (await Promise.all(accounts.map((account) => client.get(account)))).reduce((sum, row) => sum + Number(row!.value), 0);
    expect(total).toBe(400);
    expect(applied).toBeGreaterThan(0);
    expect(applied + conflicts).toBeGreaterThan(100);
  }, 120_000);
});

describe('transactions across SIGKILL (PERSISTENCE_FSYNC=always)', () => {
  const running: ServerProcess[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const server of running.splice(0)) await server.stop('SIGKILL');
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every acknowledged transaction is whole after the restart, and none is there in part', async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'memkv-txn-'));
    dirs.push(dir);
    const env = { PERSISTENCE_ENABLED: 'true', DB_PATH: dir, PERSISTENCE_FSYNC: 'always' };
    const server = await startServerProcess(env);
    running.push(server);
    // Each transaction writes the same sequence number to 8 keys and pushes it onto a list, with
    // values large enough that a transaction's record spans many disk blocks.
    const KEYS = 8;
    const filler = 'x'.repeat(2000);
    let acknowledged = 0;
    let stop = false;
    const writer = async (lane: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        const seq = `${lane}:${n}`;
        const ops = Array.from({ length: KEYS }, (_, i) => ({ op: 'set' as const, key: `lane${lane}:k${i}`, value: `${seq}|${filler}` }));
        let response: Response;
        try {
          response = await fetch(`${server.url}/api/v1/db/txn`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ops: [...ops, { op: 'push', key: `lane${lane}:log`, value: seq }] }),
          });
        } catch {
          return; // killed
        }
        if (response.status !== 200) return;
        await response.arrayBuffer();
        acknowledged++;
        lastAcknowledged[lane] = n;
      }
    };
    const lastAcknowledged = [-1, -1, -1, -1];
    const lanes = [0, 1, 2, 3].map((lane) => writer(lane));
    // Kill in the middle of the stream: once some transactions are acknowledged, without waiting for a quiet moment.
    while (acknowledged < 200) await new Promise((resolve) => setTimeout(resolve, 5));
    process.kill(server.child.pid!, 'SIGKILL');
    stop = true;
    await Promise.all(lanes);
    await server.exited;
    running.splice(running.indexOf(server), 1);

    const restarted = await startServerProcess(env);
    running.push(restarted);
    const client = createClient({ url: restarted.url });
    for (let lane = 0; lane < 4; lane++) {
      const values = await Promise.all(Array.from({ length: KEYS }, (_, i) => client.get(`lane${lane}:k${i}`)));
      const seqs = new Set(values.map((row) => (row === null ? null : (row.value as string).split('|')[0])));
      // Whole: the 8 keys hold one transaction's values, never a mix of two.
      expect(seqs.size, `lane ${lane}: ${[...seqs].join(', ')}`).toBe(1);
      const [seq] = [...seqs];
      const log = await client.get(`lane${lane}:log`);
      if (lastAcknowledged[lane]! < 0) continue;
      // Every acknowledged transaction is there: the keys hold the last acknowledged one or a later one.
      const n = Number(seq!.split(':')[1]);
      expect(n).toBeGreaterThanOrEqual(lastAcknowledged[lane]!);
      // And the list holds each transaction once, in order, up to the same one.
      expect(log!.value).toEqual(Array.from({ length: n + 1 }, (_, i) => `${lane}:${i}`));
      expect(log!.version).toBe(values[0]!.version);
    }
  }, 120_000);
});
