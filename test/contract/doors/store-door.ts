/**
 * The engine as a front door: the store in-process, each operation answered as HTTP would (rows
 * from the API's row builder, a MemkvError as its status and `{code, message}`).
 */
import { deletePrefix, groupByDelimiter } from '../../../src/commands/prefix-ops.js';
import { toMinimalPopRow, toMinimalRow, toPopRow, toRangeRow, toRow, toTtl } from '../../../src/commands/row.js';
import { createStore } from '../../../src/engine/store.js';
import { itemNotFound, MemkvError } from '../../../src/errors.js';
import { parseDurationMs } from '../../../src/units.js';
import type { ContractOp, Door, Outcome } from '../suite.js';

const OK = { message: 'ok' } as const;

/**
 * A duration as the API takes it, in ms for the store. Text that is not a duration becomes NaN,
 * which the store refuses as `invalid_request` (as it refuses 0), so the store has the last word.
 */
function ttlMs(ttl: string | undefined): number | undefined {
  return ttl === undefined ? undefined : (parseDurationMs(ttl) ?? Number.NaN);
}

/** Opens a store with the system clock and default options, as `memkv serve` does. */
export async function openStoreDoor(): Promise<Door> {
  const store = createStore();

  const run = (op: ContractOp): unknown | Promise<unknown> => {
    switch (op.op) {
      case 'set':
        store.set(op.key, op.value as string, { ttlMs: ttlMs(op.ttl) });
        return OK;
      case 'get': {
        const entry = store.get(op.key);
        if (entry === undefined) throw itemNotFound(op.key);
        return toRow(entry);
      }
      case 'update':
        store.update(op.key, op.value as string, { ttlMs: ttlMs(op.ttl) });
        return OK;
      case 'remove':
        if (!store.remove(op.key)) throw itemNotFound(op.key);
        return OK;
      case 'push': {
        const options = { ttlMs: ttlMs(op.ttl) };
        const value = op.value as string | string[];
        return op.minimal === true ? toMinimalRow(store.pushSummary(op.key, value, options)) : toRow(store.push(op.key, value, options));
      }
      case 'pop':
        return op.minimal === true ? toMinimalPopRow(store.popSummary(op.key)) : toPopRow(store.pop(op.key));
      case 'range':
        return toRangeRow(store.range(op.key, op.start, op.stop));
      case 'getTtl': {
        const expiry = store.expiry(op.key);
        if (expiry === undefined) throw itemNotFound(op.key);
        return toTtl(expiry);
      }
      case 'setTtl': {
        const expiry = store.setTtl(op.key, op.ttl === null ? null : ttlMs(op.ttl)!);
        if (expiry === undefined) throw itemNotFound(op.key);
        return toTtl(expiry);
      }
      case 'size':
        return { keys: store.size };
      case 'flush':
        return { removed: store.flush() };
      case 'keys': {
        // The cursor is the slot to continue from (the HTTP layer signs it; nothing to sign here).
        const prefix = op.prefix ?? '';
        const page = store.scan(op.cursor === undefined ? 0 : Number(op.cursor), { prefix, limit: op.limit ?? 100 });
        const cursor = page.nextSlot === null ? null : String(page.nextSlot);
        if (op.delimiter === undefined) return { keys: page.keys, cursor };
        const grouped = groupByDelimiter(page.keys, prefix, op.delimiter);
        return { keys: grouped.keys, prefixes: grouped.prefixes, cursor };
      }
      case 'deletePrefix':
        // The schema's refusal of an empty prefix, which HTTP checks before the handler runs.
        if (op.prefix === '') throw new MemkvError('invalid_request', 'body/prefix must NOT have fewer than 1 characters');
        return deletePrefix<number>({
          prefix: op.prefix,
          dryRun: op.dryRun === true,
          scan: (from, prefix, limit) => {
            const page = store.scan(from ?? 0, { prefix, limit });
            return { keys: page.keys, next: page.nextSlot };
          },
          remove: (key) => store.remove(key),
        }).then((count) => (op.dryRun === true ? { matched: count } : { deleted: count }));
    }
  };

  return {
    async call(op): Promise<Outcome> {
      try {
        return { status: 200, body: await run(op) };
      } catch (error) {
        if (error instanceof MemkvError) return { status: error.status, body: { code: error.code, message: error.message } };
        throw error;
      }
    },
    async close() {
      store.close();
    },
  };
}
